"""Theme titles read like a person's summary: the headline of the theme's most representative message."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from townsquare.feedback import services
from townsquare.feedback.models import Theme
from townsquare.feedback.pipeline import embed, titles
from townsquare.feedback.tests.factories import ChannelFactory, MessageFactory


@pytest.mark.parametrize(
    ("title", "body", "expected"),
    [
        ("Re: [acme-users] #31 SAML: login loop with Okta", "", "SAML: login loop with Okta"),
        (
            "#90 ERR_REQUIRE_ESM when importing the SDK from CommonJS",
            "",
            "ERR_REQUIRE_ESM when importing the SDK from CommonJS",
        ),
        (
            "",
            "Hi all,\nquick question. How do I force fsck to run on boot after an upgrade?",
            "How do I force fsck to run on boot after an upgrade?",
        ),
        (
            "",
            "> an old quote\n```\ntraceback here\n```\nhey guys!! **Dark mode** for the [dashboard](https://x.y) would be *great* :smile:",
            "Dark mode for the dashboard would be great",
        ),
        (
            "",
            "ioria_: it's part of the multiverse repo you should enable",
            "It's part of the multiverse repo you should enable",
        ),
        (
            "",
            "Thanks for the report, Marta. The next cursor is computed from the clamped page size.",
            "The next cursor is computed from the clamped page size",
        ),
        ("", "Agreed, the new CLI is a joy", "The new CLI is a joy"),
        ("", "Hey <@1239650554>, the CLI hangs on login. Thanks!", "The CLI hangs on login"),
        (
            "",
            "Hi @ana, upload fails on big files: https://github.com/acme/sdk/issues/12 (see www.acme.io/docs)",
            "Upload fails on big files",
        ),
        ("ERR_REQUIRE_ESM when importing @acme/sdk 5.0", "", "ERR_REQUIRE_ESM when importing @acme/sdk 5.0"),
        ("", "Friday deploy, wish me luck :sweat_smile:", "Friday deploy, wish me luck"),
        ("", "Python, Node and Go SDKs all fail with 429 here", "Python, Node and Go SDKs all fail with 429 here"),
        ("", "thanks!", ""),
        ("", "+1", ""),
    ],
)
def test_a_headline_drops_greetings_markup_quotes_and_code(title: str, body: str, expected: str) -> None:
    assert titles.headline(title, body) == expected


def test_a_long_headline_is_cut_at_a_word_boundary() -> None:
    line = titles.headline(
        "",
        "We iterate over all deployments in our org with a large page size and consistently get fewer results than the total count says",
    )
    assert line == "We iterate over all deployments in our org with a large page size and\u2026"
    assert len(line) <= titles.TITLE_CHARS


def test_the_title_is_the_most_central_thread_starters_title() -> None:
    texts = [
        (
            "Paginator silently skips records when page_size is above 100",
            "We list deployments with page_size=250 and get fewer results than total_count.",
            True,
        ),
        ("", "Same bug with events.list(page_size=500): the paginator skips items on every page.", False),
        ("", "Workaround until the fix lands: leave page_size at the default.", False),
        ("", "Thanks for the detailed report. I can reproduce it.", False),
    ]
    vectors = embed.embed([f"{t}. {b}" if t else b for t, b, _ in texts])
    sources = [titles.TitleSource(title=t, body=b, starts_thread=s, vector=v) for (t, b, s), v in zip(texts, vectors)]
    assert (
        titles.group_title(sources, ["page_size", "paginator"])
        == "Paginator silently skips records when page_size is above 100"
    )


def test_a_titled_thread_starter_beyond_the_most_central_still_competes_and_duplicates_are_fine() -> None:
    """Ten replies are more central than the starter (cosine about 1.0 vs 0.97); within the bonus, the starter wins."""
    centre, side = np.eye(2, 384, dtype=np.float32)

    def unit(v: np.ndarray) -> np.ndarray:
        return v / np.linalg.norm(v)

    replies = [
        titles.TitleSource(
            title="",
            body=f"The export drops rows again on project {n}",
            starts_thread=False,
            vector=unit(centre + 0.01 * n * side),
        )
        for n in range(10)
    ]
    starter = titles.TitleSource(
        title="CSV export drops quoted rows",
        body="Rows with commas are missing.",
        starts_thread=True,
        vector=unit(centre + 0.35 * side),
    )
    assert titles.group_title([*replies, starter, starter], ["csv export"]) == "CSV export drops quoted rows"


def test_without_a_usable_line_the_title_comes_from_key_phrases() -> None:
    sources = [titles.TitleSource(title="", body=body, starts_thread=False, vector=None) for body in ("+1", "thanks!")]
    assert titles.group_title(sources, ["csv export", "comma"]) == "Csv export, comma"


@pytest.mark.django_db
def test_refresh_titles_a_theme_from_its_messages_but_keeps_a_curators_title(make_user: Any) -> None:
    channel = ChannelFactory(source__name="GitHub")
    bodies = [
        "Hi team, exporting to CSV loses every row with a comma inside quotes.",
        "The CSV export is missing rows when a field has a comma",
        "Rows with commas disappear from the CSV export",
    ]
    messages = [MessageFactory(body=b, channel=channel) for b in bodies]
    services.messages_process(message_ids=[m.pk for m in messages])
    theme = messages[0].feedback_assignment.theme
    theme.refresh_from_db()
    assert theme.title in {"Exporting to CSV loses every row with a comma inside quotes", *bodies[1:]}
    assert "csv" in " ".join(theme.key_phrases)

    services.theme_rename(theme=theme, title="CSV export drops quoted commas", by=make_user("devrel_member"))
    services.theme_refresh(theme_ids=[theme.pk])
    assert Theme.objects.get(pk=theme.pk).title == "CSV export drops quoted commas"


@pytest.mark.parametrize(
    "line",
    [
        "For the second part, indeed that seems to be a bug",
        "This is the issue you're describing: github.com",
        "This is the issue you're describing: https://github.com/acme/cli/issues/4",
        "Thank you both",
        "Short answer: there is no native flag for this today",
        "The fix and the migration will be available in the next release",
        "Sounds like a bug to me I'm opening an issue for it",
        "You can set ACME_TOKEN in the workflow's secrets",
        "ah UI thing works then but no luck with sdk",
        "And cache invalidation",
        "Thanks in advance!",
        "Have you tried clearing the cache?",
        "Yes same issue even after a reboot",
        "So we already have an issue for that as Wim mentioned earlier",
    ],
)
def test_reply_fragments_are_never_a_headline(line: str) -> None:
    assert titles.headline("", line) == ""


@pytest.mark.parametrize(
    "body",
    [
        "",
        "\x00\x00\x00",
        "https://example.com/" + "a" * 5000,
        "> only a quote\n> and more quote",
        "```\nonly code\n```",
        "@a @b @c @d",
        "\u202eevil right-to-left text that still fails hard\u202c " * 400,
        "word " * 50_000,
        "<script>alert(1)</script>" * 100,
    ],
)
def test_hostile_bodies_give_a_short_clean_line_or_nothing(body: str) -> None:
    line = titles.headline("", body)
    assert len(line) <= titles.TITLE_CHARS
    assert "<script" not in line and "http" not in line and "\x00" not in line


def _sources(items: list[tuple[str, str, bool]]) -> list[titles.TitleSource]:
    vectors = embed.embed([f"{t}. {b}" if t else b for t, b, _ in items])
    return [titles.TitleSource(title=t, body=b, starts_thread=s, vector=v) for (t, b, s), v in zip(items, vectors)]


def test_among_untitled_messages_the_sentence_stating_the_problem_wins_over_answers() -> None:
    sources = _sources(
        [
            ("", "Thank you both, that makes sense now.", False),
            ("", "Short answer: there is no native flag for this today, but the CLI reads ACME_TOKEN.", False),
            ("", "Hi all! The CLI login fails in GitHub Actions with a 401 because there is no browser. Thanks!", True),
            ("", "You can set ACME_TOKEN in the workflow secrets and the CLI will pick it up.", False),
            ("", "This is the issue you're describing: https://github.com/acme/cli/issues/88", False),
        ]
    )
    assert titles.group_title(sources, ["cli login", "github actions"]) == (
        "The CLI login fails in GitHub Actions with a 401 because there is no browser"
    )


def test_a_group_of_only_answers_falls_back_to_its_key_phrases() -> None:
    sources = _sources(
        [
            ("", "Sounds like a bug to me I'm opening an issue for it", False),
            ("", "For the second part, indeed that seems to be a bug. I will create an issue for this.", False),
            ("", "Agreed, fixed in 2.0.3.", False),
        ]
    )
    assert titles.group_title(sources, ["webhook retries", "signature"]) == "Webhook retries, signature"


def test_a_far_away_titled_thread_does_not_title_the_theme() -> None:
    centre, side = np.eye(2, 384, dtype=np.float32)
    near = [
        titles.TitleSource(
            title="", body="The dashboard export fails with a 500 error", starts_thread=True, vector=centre
        )
        for _ in range(5)
    ]
    far = titles.TitleSource(title="Unrelated: billing page is slow", body="", starts_thread=True, vector=side)
    assert titles.group_title([*near, far], []) == "The dashboard export fails with a 500 error"


def test_a_reply_brings_its_threads_title_rather_than_an_answer_sentence() -> None:
    centre = np.eye(1, 384, dtype=np.float32)[0]
    replies = [
        titles.TitleSource(
            title="",
            body=body,
            starts_thread=False,
            vector=centre,
            thread_title="Schema examples for network devices",
        )
        for body in (
            "This repository contains an extensive collection of schema that you can copy.",
            "Created a feature request for use-case described above",
        )
    ]
    assert titles.group_title(replies, []) == "Schema examples for network devices"


@pytest.mark.parametrize(
    "line", ["This is perhaps a bug?", "How might I fix this?", "Is this a driver issue?", "I have a question"]
)
def test_a_line_naming_no_subject_is_vague(line: str) -> None:
    assert titles.vague(line) is True


@pytest.mark.parametrize(
    "line",
    ["Android compile fails", "UX portal on top of IH?", "Custom Infrahub Docker Image Error", "Official Go SDK"],
)
def test_a_line_naming_its_subject_is_not_vague(line: str) -> None:
    assert titles.vague(line) is False


def test_a_vague_title_gives_way_to_a_sentence_that_names_the_problem() -> None:
    centre = np.eye(1, 384, dtype=np.float32)[0]
    sources = [
        titles.TitleSource(title="This is perhaps a bug?", body="", starts_thread=True, vector=centre),
        titles.TitleSource(
            title="", body="The wallet GUI freezes when the fee estimate is empty.", starts_thread=True, vector=centre
        ),
    ]
    assert titles.group_title(sources, []) == "The wallet GUI freezes when the fee estimate is empty"
    assert titles.group_title(sources[:1], []) == "This is perhaps a bug?"  # better than nothing


@pytest.mark.parametrize(
    "body",
    [
        "nick: run sudo apt update first",
        "@ana try the new version",
        "Short answer: there is no native flag for this today",
        "Thank you both, that worked for me",
        "Saw a bird on my balcony trying to get into my office. Even the pigeons want to ship code.",
        "Friday deploy, wish me luck :sweat_smile:",
        "What's everyone's favourite coffee setup for long debugging sessions? I'm on team moka pot.",
    ],
)
def test_answers_and_small_talk_never_seed_a_theme(body: str) -> None:
    assert titles.may_seed(body) is False


@pytest.mark.parametrize(
    "body",
    [
        "nick: how do I fix this?",
        "Thanks! Also, the uploader crashes on big files",
        "Is anyone else getting 429 errors from the bulk upload endpoint?",
        "I wish the CLI had a dry-run flag",
        "Hi all, the CLI crashes on start",
    ],
)
def test_a_problem_a_wish_or_a_question_of_ones_own_may_seed_a_theme(body: str) -> None:
    assert titles.may_seed(body) is True
