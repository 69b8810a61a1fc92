"""Mail: threads found by walking up the parent chain, and text whose lines mix encodings."""

from __future__ import annotations

from pathlib import Path

import pytest

from townsquare.sources import services
from townsquare.sources.connectors._util import decode_mail, repair_utf8_lines
from townsquare.sources.models import Message
from townsquare.sources.tests.factories import SourceFactory
from townsquare.sources.tests.helpers import read


def mail(message_id: str, when: str, *, in_reply_to: str = "", references: str = "") -> str:
    headers = [
        f"From ana at example.org  {when}",
        "From: ana at example.org (Ana)",
        f"Date: {when}",
        "Subject: Re: build fails on arm64",
        f"Message-ID: <{message_id}>",
    ]
    if in_reply_to:
        headers.append(f"In-Reply-To: <{in_reply_to}>")
    if references:
        headers.append("References: " + " ".join(f"<{r}>" for r in references.split()))
    return "\n".join(headers) + "\n\nbody\n\n"


@pytest.mark.parametrize(("kind", "name"), [("pipermail", "2025-April.txt"), ("mbox", "list.mbox")])
def test_a_reply_with_only_in_reply_to_or_shortened_references_joins_the_roots_thread(
    tmp_path: Path, kind: str, name: str
) -> None:
    (tmp_path / name).write_text(
        mail("a@x", "Tue Apr  1 10:00:00 2025")
        + mail("b@x", "Tue Apr  1 11:00:00 2025", in_reply_to="a@x", references="a@x")
        # Only In-Reply-To: References[0] would be missing, and the parent was taken as the root.
        + mail("c@x", "Tue Apr  1 12:00:00 2025", in_reply_to="b@x")
        # References shortened by the client to the last message only.
        + mail("d@x", "Tue Apr  1 13:00:00 2025", in_reply_to="c@x", references="c@x")
    )
    records, errors = read(kind, tmp_path)
    assert errors == []
    assert {r.external_id: r.thread_external_id for r in records} == {
        "a@x": "a@x",
        "b@x": "a@x",
        "c@x": "a@x",
        "d@x": "a@x",
    }


@pytest.mark.django_db
def test_a_later_import_finds_the_root_of_a_parent_stored_by_an_earlier_one(tmp_path: Path) -> None:
    source = SourceFactory(kind="pipermail")
    april = tmp_path / "2025-April.txt"
    april.write_text(
        mail("a@x", "Tue Apr  1 10:00:00 2025")
        + mail("b@x", "Tue Apr  1 11:00:00 2025", in_reply_to="a@x", references="a@x")
    )
    assert services.archive_import(source=source, path=april).new == 2
    may = tmp_path / "2025-May.txt"
    may.write_text(mail("c@x", "Thu May  1 10:00:00 2025", in_reply_to="b@x", references="b@x"))
    assert services.archive_import(source=source, path=may).new == 1
    assert Message.objects.get(source=source, external_id="c@x").thread_external_id == "a@x"


CP1252_ANSWER = "Caf\u00e9 na\u00efve \u2014 answer\n".encode("cp1252")
UTF8_QUOTE = "> Zo\u00eb wrote: r\u00e9sum\u00e9 \u2713 \u00fcber\n".encode()


@pytest.mark.parametrize(("kind", "from_line"), [("pipermail", "ana at example.org"), ("mbox", "ana@example.org")])
def test_a_windows_1252_reply_quoting_utf8_text_reads_both_parts_right(
    tmp_path: Path, kind: str, from_line: str
) -> None:
    head = (
        f"From {from_line}  Tue Apr  1 10:00:00 2025\n"
        "From: ana at example.org (Ana)\nDate: Tue Apr  1 10:00:00 2025\nSubject: mixed\n"
        "Message-ID: <m1@x>\nContent-Type: text/plain; charset=windows-1252\n\n"
    )
    (tmp_path / ("2025-April.txt" if kind == "pipermail" else "list.mbox")).write_bytes(
        head.encode() + CP1252_ANSWER + UTF8_QUOTE + b"\n"
    )
    records, errors = read(kind, tmp_path)
    assert errors == []
    assert records[0].body.splitlines() == [
        "Caf\u00e9 na\u00efve \u2014 answer",
        "> Zo\u00eb wrote: r\u00e9sum\u00e9 \u2713 \u00fcber",
    ]


def test_real_windows_1252_text_is_never_re_read_as_utf8() -> None:
    # Accented capitals followed by symbols: the shapes that could pass for UTF-8 lead and trail bytes.
    text = "\u00c0 bient\u00f4t \u2014 \u00c9t\u00e9 \u00a9 \u00ab citation \u00bb\n"
    assert repair_utf8_lines(text, "windows-1252") == text
    assert decode_mail(text.encode("cp1252")) == text
