"""Text preparation: what of a message the feedback pipeline embeds, classifies and clusters.

It lives in ``sources`` because it is a fact about one message (``Message.text()``), and feedback
sits above sources in the import graph.

Title and body are joined; fenced and indented code, stack traces, quoted replies, e-mail signatures,
HTML tags and long URLs are removed or shortened because they make unrelated messages look alike
(two different bugs that both paste a Python traceback) or bury the sentence that says what the
message is about. The result is capped in characters well above what the model reads (it reads the
first 128 word pieces), so an enormous message costs no more than a long one.
"""

from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 2000

_FENCED = re.compile(r"```.*?(```|$)|~~~.*?(~~~|$)", re.DOTALL)
_INLINE_CODE = re.compile(r"`([^`\n]{1,60})`")
_LONG_INLINE_CODE = re.compile(r"`[^`\n]{61,}`")
_HTML_TAG = re.compile(r"<[^>\n]{1,200}>")
_URL = re.compile(r"https?://([^/\s]+)\S*")
_WROTE = re.compile(r"^\s*On .{0,200}wrote:\s*$", re.MULTILINE | re.IGNORECASE)
_SIG_DELIM = re.compile(r"^-- ?$", re.MULTILINE)
_SIGNOFF = re.compile(
    r"^\s*(thanks|thank you|cheers|best|regards|best regards|kind regards|sent from my \w+)[\s,.!]*$", re.IGNORECASE
)
_TRACE_LINE = re.compile(
    r"^\s*(File \".*\", line \d+|at [\w$.<>]+\(.*\)|Traceback \(most recent call last\):|\.\.\. \d+ more|#\d+ 0x[0-9a-f]+)",
)
_WS = re.compile(r"\s+")


def _strip_lines(body: str) -> str:
    lines = body.splitlines()
    kept: list[str] = []
    for line in lines:
        if _SIG_DELIM.match(line):
            break  # everything after "-- " is a signature
        stripped = line.strip()
        if stripped.startswith(">"):
            continue  # quoted reply
        if line.startswith(("    ", "\t")) and stripped:
            continue  # indented code block (Markdown)
        if _TRACE_LINE.match(line):
            continue
        if _SIGNOFF.match(line) and len(kept) > 0 and len(lines) - len(kept) <= 4:
            break  # "Thanks,\nAlice" at the end
        kept.append(line)
    return "\n".join(kept)


def clean_body(body: str) -> str:
    if not body:
        return ""
    body = body.replace("\x00", " ")
    body = body[: MAX_CHARS * 10]  # bound the regex work on enormous inputs
    body = _FENCED.sub(" ", body)
    wrote = _WROTE.search(body)
    if wrote:
        body = body[: wrote.start()]  # the rest is the quoted previous message
    body = _LONG_INLINE_CODE.sub(" ", body)
    body = _INLINE_CODE.sub(r"\1", body)
    body = _HTML_TAG.sub(" ", body)
    body = _URL.sub(r"\1", body)
    return _strip_lines(body)


def prepare(title: str | None, body: str | None, *, max_chars: int = MAX_CHARS) -> str:
    """The text we embed for one message: cleaned ``title. body``, whitespace collapsed, capped."""
    title = _WS.sub(" ", (title or "").replace("\x00", " ")).strip()
    text = clean_body(body or "")
    text = _WS.sub(" ", text).strip()
    if title and text:
        joined = title if text.startswith(title) else f"{title}. {text}"
    else:
        joined = title or text
    if not joined.isprintable():  # rare: most texts hold no control or format characters (checked in C)
        joined = "".join(ch for ch in joined if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    return joined[:max_chars].strip()


def looks_usable(text: str) -> bool:
    """False for texts the pipeline should not group: empty, binary-looking or with almost no words.

    Non-Latin scripts are usable (the model has seen some), but text that is mostly symbols, digits,
    control or replacement characters is not: it would pull unrelated noise together into a theme.
    """
    if not text or len(text.strip()) < 3:
        return False
    sample = text[:4000]
    if sample.isprintable():  # no control characters at all: only replacement characters can be bad
        bad = sample.count("\ufffd")
    else:
        bad = sum(1 for ch in sample if ch == "\ufffd" or (unicodedata.category(ch)[0] == "C" and ch not in "\n\r\t"))
    if bad / len(sample) > 0.02:
        return False
    tokens = sample.split()
    wordlike = [t for t in tokens if len(t) <= 30 and (t.isalpha() or sum(ch.isalpha() for ch in t) >= 0.7 * len(t))]
    return len(wordlike) >= 2 and len(wordlike) >= 0.5 * len(tokens)
