from __future__ import annotations

from django.template import Context, Template

from townsquare.core.sanitize import sanitize_html, strip_control


def test_it_removes_scripts_event_handlers_and_javascript_links() -> None:
    dirty = '<p onclick="steal()">hi<script>alert(1)</script><a href="javascript:alert(2)">x</a><img src=x onerror=alert(3)></p>'
    clean = sanitize_html(dirty)
    assert "<script" not in clean
    assert "onclick" not in clean and "onerror" not in clean
    assert "javascript:" not in clean
    assert clean.startswith("<p>hi")


def test_it_keeps_formatting_and_marks_links_nofollow() -> None:
    clean = sanitize_html(
        '<p><strong>bold</strong> <a href="https://example.com/x">link</a></p><pre><code>x = 1</code></pre>'
    )
    assert "<strong>bold</strong>" in clean
    assert 'href="https://example.com/x"' in clean
    assert 'rel="noopener noreferrer nofollow"' in clean
    assert "<pre><code>x = 1</code></pre>" in clean


def test_it_drops_style_iframes_and_forms() -> None:
    clean = sanitize_html('<style>body{}</style><iframe src="https://evil"></iframe><form action="/x"><input></form>ok')
    assert clean == "ok"


def test_it_strips_control_characters_but_keeps_newlines() -> None:
    assert strip_control("a\x00b\x07c\nd\te\x1b") == "abc\nd\te"


def test_the_rich_text_filter_sanitises_at_render_time() -> None:
    rendered = Template("{{ body|rich_text }}").render(Context({"body": "<b>ok</b><script>x()</script>"}))
    assert rendered == "<b>ok</b>"


def test_plain_variables_stay_autoescaped() -> None:
    rendered = Template("{{ body }}").render(Context({"body": "<script>x()</script>"}))
    assert rendered == "&lt;script&gt;x()&lt;/script&gt;"
