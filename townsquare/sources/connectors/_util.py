"""Small helpers shared by the archive parsers."""

from __future__ import annotations

import codecs
import gzip
import html
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any
from zlib import error as zlib_error

import nh3
from django.conf import settings
from markdown_it import MarkdownIt

from townsquare.core.errors import TownsquareError

_SPACES = re.compile(r"[ \t]+\n")
_md = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table").enable("strikethrough")


def open_binary(path: Path) -> IO[bytes]:
    """Open a file, transparently gunzipping ``*.gz``."""
    if path.suffix == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


# What a record of an unexpected shape raises while a parser reads it (a list where an object was, a number
# where text was, a timestamp out of range): the record becomes a RecordError, never the end of the import.
BAD_RECORD: tuple[type[Exception], ...] = (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError)


def guarded(records: Iterator[Any], *, record: str) -> Iterator[Any]:
    """``records``, or after a record of an unexpected shape, one RecordError naming ``record`` (a file, a member).

    A safety net around one unit: the records it yielded before are kept, and the import goes on with the next.
    """
    from townsquare.sources.connectors.base import RecordError

    try:
        yield from records
    except BAD_RECORD as exc:
        yield RecordError(
            record=record, reason=f"unexpected structure, the rest of it not read: {type(exc).__name__}: {exc}"
        )


class Unreadable(Exception):
    """One file or archive member that cannot be read; the connector yields a RecordError naming it with this reason.

    The import goes on with the next member, so one hostile member never ends the run (nor every re-run).
    """


def member_limit() -> int:
    return int(settings.IMPORT_MAX_MEMBER_MB) * 1024**2


def read_limited(handle: IO[bytes], *, declared: int | None = None) -> bytes:
    """All of ``handle``, or Unreadable past ``TOWNSQUARE_IMPORT_MAX_MEMBER_MB`` uncompressed.

    Memory stays bounded by the limit: a zip bomb's member is refused from its declared size (which zipfile
    enforces) or after reading one byte more than the limit, never inflated whole.
    """
    limit = member_limit()
    if declared is not None and declared > limit:
        raise Unreadable(read_limited_reason())
    data = handle.read(limit + 1)
    if len(data) > limit:
        raise Unreadable(read_limited_reason())
    return data


def parse_json(data: bytes) -> Any:
    """JSON from bytes in any encoding ``decode`` reads; Unreadable for invalid or too deeply nested JSON."""
    try:
        # UTF-16 and UTF-32 are legal JSON encodings (found from the zero bytes); anything else goes through decode.
        encoding = json.detect_encoding(data)
        return json.loads(data.decode(encoding) if encoding.startswith(("utf-16", "utf-32")) else decode(data))
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not valid {encoding} text: {exc.reason} at byte {exc.start}") from exc
    except RecursionError:
        raise Unreadable("JSON nested too deeply to read (more than about 1,000 levels)") from None
    except ValueError as exc:  # JSONDecodeError, or a number too long to convert
        raise Unreadable(f"not valid JSON: {exc}") from exc


def load_json_file(path: Path) -> Any:
    """A JSON file (gzipped or not), within the member limit; Unreadable when it is not."""
    try:
        with open_binary(path) as handle:
            return parse_json(read_limited(handle, declared=None if path.suffix == ".gz" else path.stat().st_size))
    except (EOFError, OSError, zlib_error) as exc:
        raise Unreadable(f"cannot read it: {type(exc).__name__}: {exc}") from exc


def load_json_member(archive: zipfile.ZipFile, name: str) -> Any:
    """A zip member's JSON within the member limit. KeyError when absent; BadZipFile/zlib errors pass through."""
    info = archive.getinfo(name)
    with archive.open(info) as handle:
        return parse_json(read_limited(handle, declared=info.file_size))


def read_limited_reason() -> str:
    return f"larger than {settings.IMPORT_MAX_MEMBER_MB} MB uncompressed (TOWNSQUARE_IMPORT_MAX_MEMBER_MB)"


def check_archive_size(name: str, sizes: Iterable[int]) -> None:
    """Refuse an archive whose members add up to more than ``TOWNSQUARE_IMPORT_MAX_ARCHIVE_MB`` uncompressed."""
    total = sum(sizes)
    if total > int(settings.IMPORT_MAX_ARCHIVE_MB) * 1024**2:
        raise TownsquareError(
            f"the archive holds {total // 1024**2:,} MB uncompressed, more than "
            f"TOWNSQUARE_IMPORT_MAX_ARCHIVE_MB ({settings.IMPORT_MAX_ARCHIVE_MB:,} MB): refused unread",
            record=name,
        )


def read_text(path: Path) -> str:
    with open_binary(path) as handle:
        return decode(handle.read())


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM); anything else falls back to Windows-1252/Latin-1, never fails."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


_CHARSET = re.compile(rb"(?im)^content-type:[^\n]*?charset=\"?([\w.:-]+)")


def _single_byte(charset: str) -> str:
    """The declared charset when it is a known single-byte one (where UTF-8 can hide), else cp1252."""
    try:
        name = codecs.lookup(charset).name
    except LookupError:
        return "cp1252"
    return name if name in _SINGLE_BYTE else "cp1252"


_SINGLE_BYTE = frozenset({"cp1252", "latin-1", "iso8859-1", "iso8859-15", "iso8859-2", "cp1250", "ascii"})


def decode_mail(raw: bytes) -> str:
    """A whole mail as text when its lines mix encodings (a Windows-1252 reply quoting UTF-8 text).

    Each line is UTF-8 when it is valid UTF-8, otherwise the declared single-byte charset (else
    Windows-1252): decoding the whole mail with one charset turned the other part into mojibake.
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _CHARSET.search(raw)
    fallback = _single_byte(declared.group(1).decode("ascii", "replace")) if declared else "cp1252"
    return "".join(_line(line, fallback) for line in raw.splitlines(keepends=True))


def _line(line: bytes, fallback: str) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode(fallback, errors="replace")


def repair_utf8_lines(text: str, charset: str) -> str:
    """Undo a single-byte decoding of lines that were UTF-8 (mail parts decoded by their label only).

    A line changes only when it is non-ASCII, encodes back to bytes in ``charset`` and those bytes are
    valid UTF-8: real Windows-1252 text almost never is.
    """
    codec = _single_byte(charset) if charset else ""
    if not codec or text.isascii():
        return text
    out = []
    for line in text.splitlines(keepends=True):
        if not line.isascii():
            try:
                line = line.encode(codec).decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                pass
        out.append(line)
    return "".join(out)


def text_lines(path: Path) -> Iterator[str]:
    with open_binary(path) as raw:
        for line in raw:
            yield decode(line).rstrip("\r\n")


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (tags dropped, entities decoded, blocks on their own lines)."""
    if not fragment:
        return ""
    fragment = re.sub(r"(?i)<br\s*/?>|</(p|div|li|pre|h\d|tr|blockquote)>", "\n", fragment)
    text = html.unescape(nh3.clean(fragment, tags=set(), strip_comments=True))
    return _SPACES.sub("\n", text).strip()


def markdown_to_html(text: str) -> str:
    """Render Markdown (GitHub, Discourse raw, Zulip, Discord) to HTML; the service sanitises it."""
    if not text:
        return ""
    return _md.render(text)


def files_under(path: Path, *suffixes: str) -> list[Path]:
    """``path`` itself if it is a file, else its files ending with one of ``suffixes``, sorted."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(suffixes))


def get(data: Any, *keys: str, default: Any = None) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return default
        data = data.get(key)
    return default if data is None else data
