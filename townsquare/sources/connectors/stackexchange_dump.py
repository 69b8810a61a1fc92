"""Stack Exchange data dumps: Users.xml, Posts.xml, Comments.xml (optionally .gz), streamed with iterparse."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from townsquare.core.errors import TownsquareError
from townsquare.people.refs import IdentityRef
from townsquare.sources.connectors._util import html_to_text, open_binary
from townsquare.sources.connectors.base import ChannelRef, Connector, MessageRecord, Record, RecordError

KINDS = {"1": "question", "2": "answer"}


def _time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with open_binary(path) as handle:
        try:
            for index, (_, element) in enumerate(ET.iterparse(handle, events=("end",))):
                if element.tag == "row":
                    yield index, dict(element.attrib)
                    element.clear()
        except ET.ParseError as exc:
            raise TownsquareError(f"malformed XML ({exc}); the rows before it were kept", record=path.name) from exc


class StackExchangeDumpConnector(Connector):
    kind = "stackexchange_dump"
    is_archive = True

    def _file(self, root: Path, name: str) -> Path | None:
        for candidate in (root / name, root / f"{name}.gz"):
            if candidate.exists():
                return candidate
        return None

    def fetch(self, cursor: dict[str, Any]) -> Iterator[Record]:
        root = self.require_path()
        if root.is_file():
            root = root.parent
        site = self.config.get("site") or self.folder_name(root)
        realm = self.config.get("realm") or f"stackexchange:{site}"
        base = f"https://{site}" if "." in site else ""
        channel = ChannelRef(external_id=site, name=site, url=base)
        users_file, posts_file, comments_file = (
            self._file(root, n) for n in ("Users.xml", "Posts.xml", "Comments.xml")
        )
        if not (posts_file or comments_file):
            raise TownsquareError("no Posts.xml or Comments.xml in the dump", record=root.name)
        names: dict[str, str] = {}
        if users_file:
            for _, row in _rows(users_file):
                if row.get("Id"):
                    names[row["Id"]] = row.get("DisplayName", "")
        questions: dict[str, str] = {}  # answer id -> question id, for comments' threads
        total = sum(p.stat().st_size for p in (posts_file, comments_file) if p)
        done = 0

        def author(user_id: str | None, display: str | None) -> IdentityRef | None:
            if user_id and user_id != "-1":
                return IdentityRef(
                    realm=realm,
                    external_id=user_id,
                    display_name=names.get(user_id) or display or "",
                    handle=names.get(user_id) or display or "",
                )
            if user_id == "-1":
                return IdentityRef(
                    realm=realm, external_id="-1", handle="Community", display_name="Community", is_bot=True
                )
            if display:
                return IdentityRef(realm=realm, external_id=f"name:{display}", handle=display, display_name=display)
            return None

        if posts_file:
            for index, row in _rows(posts_file):
                kind = KINDS.get(row.get("PostTypeId", ""))
                if kind is None:
                    continue  # tag wikis, wiki placeholders, moderator nominations
                try:
                    post_id = row["Id"]
                    thread = post_id if kind == "question" else row["ParentId"]
                    if kind == "answer":
                        questions[post_id] = thread
                    body_html = row.get("Body", "")
                    yield MessageRecord(
                        external_id=f"post:{post_id}",
                        kind=kind,
                        created_at=_time(row["CreationDate"]),
                        updated_at=_time(row["LastActivityDate"]) if row.get("LastActivityDate") else None,
                        channel=channel,
                        author=author(row.get("OwnerUserId"), row.get("OwnerDisplayName")),
                        title=row.get("Title", ""),
                        body=html_to_text(body_html),
                        body_html=body_html,
                        url=f"{base}/{'q' if kind == 'question' else 'a'}/{post_id}" if base else "",
                        thread_external_id=f"post:{thread}",
                        parent_external_id="" if kind == "question" else f"post:{thread}",
                    )
                except (KeyError, ValueError) as exc:
                    yield RecordError(
                        record=f"{posts_file.name} row {index} (Id {row.get('Id', '?')})",
                        reason=f"{type(exc).__name__}: {exc}",
                    )
            done += posts_file.stat().st_size
            self.progress = (done, total)
        if comments_file:
            for index, row in _rows(comments_file):
                try:
                    post_id = row["PostId"]
                    thread = questions.get(post_id, post_id)
                    yield MessageRecord(
                        external_id=f"comment:{row['Id']}",
                        kind="comment",
                        created_at=_time(row["CreationDate"]),
                        channel=channel,
                        author=author(row.get("UserId"), row.get("UserDisplayName")),
                        body=row.get("Text", ""),
                        url=f"{base}/posts/comments/{row['Id']}" if base else "",
                        thread_external_id=f"post:{thread}",
                        parent_external_id=f"post:{post_id}",
                    )
                except (KeyError, ValueError) as exc:
                    yield RecordError(
                        record=f"{comments_file.name} row {index} (Id {row.get('Id', '?')})",
                        reason=f"{type(exc).__name__}: {exc}",
                    )
            done += comments_file.stat().st_size
            self.progress = (done, total)
