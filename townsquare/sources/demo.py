"""The Listen demo: real, openly licensed community archives that ship in ``demo_data/``, and Acme Cloud.

Acme Cloud (``demo_data/acme/community.txt``) is a small fictional product community written for the
demo. Its messages are dated in days before the first load, so the demo always has recent, cross-channel
feedback: on the first load the dates are anchored on that day (the anchor is kept in the sources'
config), and the sample is written out in each channel's native export format (a github-metadata-backup
folder, Discourse topic JSON, a Slack export zip, a Stack Exchange dump) and imported through the same
connectors as any upload.

Loading twice changes nothing (sources are found by name, messages upserted).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from townsquare.people.models import Identity, MergeSuggestion
from townsquare.people.services import merge_suggestion_accept
from townsquare.sources import services
from townsquare.sources.connectors._util import markdown_to_html
from townsquare.sources.models import Source, SyncRun

DEMO_DATA = Path(__file__).resolve().parent / "demo_data"
ACME_SAMPLE = DEMO_DATA / "acme" / "community.txt"

DEMO_SOURCES = [
    # (name, kind, path under demo_data, config)
    (
        "Houston DataVis Slack (demo)",
        "slack_export",
        "slack/houstondatavis-slack-export-2016-07-31.zip",
        {"workspace_url": "https://houstondatavis.slack.com"},
    ),
    ("PyScript Discord (demo)", "discord_export", "discord-html", {}),
    ("Infrahub Discord forum (demo)", "discord_export", "discord-api/data.zip", {}),
    (
        "Ubuntu IRC #ubuntu (demo)",
        "irc_log",
        "irc-ubuntu",
        {
            "channel": "#ubuntu",
            "network": "libera.chat",
            "url_template": "https://irclogs.ubuntu.com/{year}/{month}/{day}/%23{channel}.txt",
        },
    ),
    (
        "Data Science Meta Stack Exchange (demo)",
        "stackexchange_dump",
        "stackexchange/datascience.meta.stackexchange.com",
        {"site": "datascience.meta.stackexchange.com"},
    ),
]

ACME_FORUM = "https://community.acme-cloud.dev"
ACME_QA_SITE = "ask.acme-cloud.dev"
ACME_SLACK_TEAM = "T07ACME01"
ACME_CATEGORIES = {"Announcements": 4, "Help": 5, "Feature requests": 6, "Show and tell": 7, "Events": 8, "Billing": 9}
ACME_SOURCES: list[tuple[str, str, str, dict[str, Any]]] = [
    # (name, kind, the channel in community.txt, config)
    ("Acme Cloud GitHub issues (demo)", "github_archive", "github", {}),
    (
        "Acme Cloud community forum (demo)",
        "discourse_archive",
        "discourse",
        {"url": ACME_FORUM, "categories": {str(v): k for k, v in ACME_CATEGORIES.items()}},
    ),
    ("Acme Cloud Slack (demo)", "slack_export", "slack", {"workspace_url": "https://acme-community.slack.com"}),
    ("Acme Cloud Q&A (demo)", "stackexchange_dump", "stackexchange", {"site": ACME_QA_SITE}),
]


def sources_demo_load() -> dict[str, int]:
    """Create the demo sources and import their archives; returns new messages per source name."""
    result: dict[str, int] = {}
    for name, kind, relative, config in DEMO_SOURCES:
        source = _demo_source(name, kind, {**config, "path": str(DEMO_DATA / relative)})
        result[name] = 0 if source is None else services.archive_import(source=source, path=DEMO_DATA / relative).new
    result.update(acme_demo_load())
    return result


def _demo_source(name: str, kind: str, config: dict[str, Any]) -> Source | None:
    """The source to import into, or None when it was imported already (the demo adds no second run)."""
    source = Source.objects.filter(name=name).first()
    if source is None:
        return services.source_create(kind=kind, name=name, config=config)
    if source.runs.filter(status__in=[SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL]).exists():
        return None
    return source


# ---------------------------------------------------------------- Acme Cloud


def acme_demo_load() -> dict[str, int]:
    """Import the Acme Cloud sample, dated back from the first load; then merge the same people across channels."""
    anchor = acme_anchor()
    todo = [
        (s, channel)
        for name, kind, channel, config in ACME_SOURCES
        if (s := _demo_source(name, kind, {**config, "demo_anchor": anchor.isoformat()})) is not None
    ]
    result = {name: 0 for name, *_ in ACME_SOURCES}
    if todo:
        sample = acme_sample()
        folder = Path(settings.DATA_DIR) / "demo"
        folder.mkdir(parents=True, exist_ok=True)
        # A fresh folder per load: the sources remember their archive's path, and runs never share files.
        root = Path(tempfile.mkdtemp(prefix="acme-", dir=folder))
        for source, channel in todo:
            path = WRITERS[channel](sample, anchor, root / channel)
            result[source.name] = services.archive_import(source=source, path=path).new
    result[ACME_MERGES_KEY] = acme_merge_same_people()
    return result


def acme_anchor() -> dt.date:
    """The day the sample's day offsets count back from: the first load's day, kept in the sources' config."""
    for config in Source.objects.filter(name__in=[name for name, *_ in ACME_SOURCES]).values_list("config", flat=True):
        if (config or {}).get("demo_anchor"):
            return dt.date.fromisoformat(config["demo_anchor"])
    return timezone.now().astimezone(dt.UTC).date()


# Same handle is only a suggestion (README, Listen): the demo plays its curator, dana, deciding Acme's pairs.
ACME_MERGES_KEY = "Acme Cloud same-handle suggestions accepted as curator dana"


def acme_merge_same_people() -> int:
    """Accept the same-handle merge suggestions between Acme Cloud authors, as the demo's DevRel lead would.

    Only GitHub, Discourse and Stack Exchange identities lack an email; the sample gives each person one
    handle everywhere, so these suggestions are right. Returns how many merges were made.
    """
    acme = [name for name, *_ in ACME_SOURCES]
    authors = Identity.objects.filter(messages__source__name__in=acme).values("member_id")
    by = get_user_model().objects.filter(username="dana").first()
    merged = 0
    while True:
        suggestion = (
            MergeSuggestion.objects.filter(status=MergeSuggestion.Status.OPEN)
            .filter(Q(member_a_id__in=authors) & Q(member_b_id__in=authors))
            .order_by("pk")
            .first()
        )
        if suggestion is None:
            return merged
        merge_suggestion_accept(suggestion=suggestion, by=by)
        merged += 1


@dataclass
class Person:
    handle: str
    name: str
    email: str
    index: int

    @property
    def is_bot(self) -> bool:
        return self.email == "bot"


@dataclass
class Post:
    days: int
    time: str
    handle: str
    text: str
    comment: bool = False

    def at(self, anchor: dt.date) -> dt.datetime:
        hour, minute = (int(part) for part in self.time.split(":"))
        day = anchor - dt.timedelta(days=self.days)
        return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC)


@dataclass
class Thread:
    channel: str  # github, discourse, slack, stackexchange
    where: str  # owner/repo#number, a forum category, a #slack-channel [flat], Q&A tags
    title: str
    posts: list[Post] = field(default_factory=list)


@dataclass
class Sample:
    people: dict[str, Person]
    threads: list[Thread]

    def of(self, channel: str) -> list[Thread]:
        return [t for t in self.threads if t.channel == channel]


_THREAD = re.compile(r"^=== (\w+)(?: ([^|]*?))?(?: \| (.*))?$")
_POST = re.compile(r"^@(\d+) (\d\d:\d\d) (\S+)( comment)?$")


def acme_sample(path: Path = ACME_SAMPLE) -> Sample:
    """Parse ``community.txt`` (its header says how it is written)."""
    people: dict[str, Person] = {}
    threads: list[Thread] = []
    section = ""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("%"):
            continue
        if (match := _THREAD.match(line)) is not None:
            section = match.group(1)
            if section != "people":
                threads.append(Thread(section, match.group(2) or "", (match.group(3) or "").strip()))
        elif section == "people" and line.strip():
            handle, name, email = (part.strip() for part in line.split("|"))
            people[handle] = Person(handle, name, email, len(people) + 1)
        elif (match := _POST.match(line)) is not None:
            if match.group(3) not in people:
                raise ValueError(f"{path.name}:{number}: unknown person {match.group(3)!r}")
            threads[-1].posts.append(
                Post(int(match.group(1)), match.group(2), match.group(3), "", bool(match.group(4)))
            )
        elif threads and threads[-1].posts:
            post = threads[-1].posts[-1]
            post.text = f"{post.text}\n{line}" if post.text else line
    for thread in threads:
        for post in thread.posts:
            post.text = post.text.strip()
    return Sample(people, threads)


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")


def acme_github(sample: Sample, anchor: dt.date, root: Path) -> Path:
    """A github-metadata-backup folder: issues/<number>.json = {type, issue, events}."""

    def user(handle: str) -> dict[str, Any]:
        person = sample.people[handle]
        return {
            "login": handle,
            "id": 7_100_000 + person.index,
            "type": "User",
            "site_admin": False,
            "html_url": f"https://github.com/{handle}",
            "name": person.name,
        }

    comment_id = 2_400_000_000
    for thread in sample.of("github"):
        repo, _, number = thread.where.partition("#")
        opening, *comments = thread.posts
        html_url = f"https://github.com/{repo}/issues/{number}"
        events = []
        for post in comments:
            comment_id += 1
            events.append(
                {
                    "event": "commented",
                    "id": comment_id,
                    "actor": user(post.handle),
                    "user": user(post.handle),
                    "created_at": _iso(post.at(anchor)),
                    "updated_at": _iso(post.at(anchor)),
                    "body": post.text,
                    "html_url": f"{html_url}#issuecomment-{comment_id}",
                    "url": f"https://api.github.com/repos/{repo}/issues/comments/{comment_id}",
                    "author_association": "MEMBER"
                    if sample.people[post.handle].email.endswith("@example.com")
                    else "NONE",
                }
            )
        last = thread.posts[-1].at(anchor)
        issue = {
            "id": 1_900_000_000 + int(number),
            "number": int(number),
            "title": thread.title,
            "body": opening.text,
            "user": user(opening.handle),
            "state": "open",
            "labels": [],
            "comments": len(comments),
            "url": f"https://api.github.com/repos/{repo}/issues/{number}",
            "repository_url": f"https://api.github.com/repos/{repo}",
            "html_url": html_url,
            "created_at": _iso(opening.at(anchor)),
            "updated_at": _iso(last),
            "closed_at": None,
            "author_association": "NONE",
        }
        target = root / "issues" / f"{number}.json"
        if target.exists():
            raise ValueError(f"two Acme GitHub issues are numbered {number}")
        _write_json(target, {"type": "issue", "issue": issue, "events": events})
    _write_json(root / "state.json", {"last_updated": _iso(dt.datetime.combine(anchor, dt.time(), dt.UTC))})
    return root


def acme_discourse(sample: Sample, anchor: dt.date, root: Path) -> Path:
    """Discourse topic JSON, one ``GET /t/{slug}/{id}.json`` response per file."""
    post_id = 5000
    for number, thread in enumerate(sample.of("discourse"), start=1):
        topic_id, slug = 600 + number, slugify(thread.title) or "topic"
        posts = []
        for position, post in enumerate(thread.posts, start=1):
            post_id += 1
            person = sample.people[post.handle]
            moment = _iso(post.at(anchor))
            posts.append(
                {
                    "id": post_id,
                    "name": person.name,
                    "username": post.handle,
                    "user_id": 100 + person.index,
                    "created_at": moment,
                    "updated_at": moment,
                    "cooked": markdown_to_html(post.text),
                    "post_number": position,
                    "post_type": 1,
                    "reply_to_post_number": None,
                    "topic_id": topic_id,
                    "topic_slug": slug,
                    "moderator": person.email.endswith("@example.com"),
                }
            )
        _write_json(
            root / "t" / f"{slug}.{topic_id}.json",
            {
                "id": topic_id,
                "title": thread.title,
                "fancy_title": thread.title,
                "slug": slug,
                "category_id": ACME_CATEGORIES[thread.where],
                "posts_count": len(posts),
                "created_at": posts[0]["created_at"],
                "last_posted_at": posts[-1]["created_at"],
                "archetype": "regular",
                "post_stream": {"posts": posts, "stream": [p["id"] for p in posts]},
            },
        )
    return root / "t"


def _slack_text(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"https?://\S+", lambda m: f"<{m.group(0)}>", text)


def acme_slack(sample: Sample, anchor: dt.date, root: Path) -> Path:
    """A Slack workspace export zip: users.json, channels.json, <channel>/<day>.json."""

    def user_id(handle: str) -> str:
        return f"U07ACME{sample.people[handle].index:03d}"

    days: dict[tuple[str, str], list[dict[str, Any]]] = {}
    counter = 0
    for thread in sample.of("slack"):
        channel, _, flat = thread.where.partition(" ")
        parent_ts = ""
        for position, post in enumerate(thread.posts):
            counter += 1
            moment = post.at(anchor)
            ts = f"{int(moment.timestamp())}.{counter:06d}"
            message: dict[str, Any] = {
                "type": "message",
                "user": user_id(post.handle),
                "text": _slack_text(post.text),
                "ts": ts,
                "team": ACME_SLACK_TEAM,
            }
            if not flat and len(thread.posts) > 1:
                if position == 0:
                    parent_ts = ts
                    message.update(
                        thread_ts=ts,
                        reply_count=len(thread.posts) - 1,
                        replies=[{"user": user_id(p.handle)} for p in thread.posts[1:]],
                    )
                else:
                    message.update(thread_ts=parent_ts, parent_user_id=user_id(thread.posts[0].handle))
            days.setdefault((channel.lstrip("#"), moment.date().isoformat()), []).append(message)
    users = [
        {
            "id": user_id(p.handle),
            "team_id": ACME_SLACK_TEAM,
            "name": p.handle,
            "real_name": p.name,
            "deleted": False,
            "is_bot": p.is_bot,
            "profile": {
                "real_name": p.name,
                "display_name": p.handle,
                **({"email": p.email} if not p.is_bot else {"bot_id": f"B07ACME{p.index:03d}"}),
            },
        }
        for p in sample.people.values()
    ]
    names = sorted({channel for channel, _ in days})
    channels = [
        {
            "id": f"C07ACME{i:03d}",
            "name": name,
            "created": 1_700_000_000,
            "creator": user_id("dana-okafor"),
            "is_archived": False,
            "is_general": name == "general",
            "members": [u["id"] for u in users],
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }
        for i, name in enumerate(names, start=1)
    ]
    root.mkdir(parents=True, exist_ok=True)
    path = root / "acme-community-slack-export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("users.json", json.dumps(users, indent=1, ensure_ascii=False))
        archive.writestr("channels.json", json.dumps(channels, indent=1, ensure_ascii=False))
        for (channel, day), messages in sorted(days.items()):
            messages.sort(key=lambda m: float(m["ts"]))
            archive.writestr(f"{channel}/{day}.json", json.dumps(messages, indent=1, ensure_ascii=False))
    return path


def acme_stackexchange(sample: Sample, anchor: dt.date, root: Path) -> Path:
    """A Stack Exchange data dump: Users.xml, Posts.xml, Comments.xml."""

    def moment(post: Post) -> str:
        return post.at(anchor).strftime("%Y-%m-%dT%H:%M:%S.000")

    def uid(handle: str) -> str:
        return str(1000 + sample.people[handle].index)

    posts, comments = ET.Element("posts"), ET.Element("comments")
    authors: dict[str, str] = {}
    post_id = comment_id = 0
    for thread in sample.of("stackexchange"):
        question, *replies = thread.posts
        post_id += 1
        question_id = post_id
        answers = [p for p in replies if not p.comment]
        row = {
            "Id": str(question_id),
            "PostTypeId": "1",
            "CreationDate": moment(question),
            "Score": "3",
            "Body": markdown_to_html(question.text),
            "OwnerUserId": uid(question.handle),
            "LastActivityDate": moment(thread.posts[-1]),
            "Title": thread.title,
            "Tags": "".join(f"<{tag}>" for tag in thread.where.split(";")),
            "AnswerCount": str(len(answers)),
            "CommentCount": str(len(replies) - len(answers)),
            "ContentLicense": "CC BY-SA 4.0",
        }
        ET.SubElement(posts, "row", row)
        authors[question.handle] = moment(question)
        for reply in replies:
            authors.setdefault(reply.handle, moment(reply))
            if reply.comment:
                comment_id += 1
                ET.SubElement(
                    comments,
                    "row",
                    {
                        "Id": str(comment_id),
                        "PostId": str(question_id),
                        "Score": "0",
                        "Text": reply.text,
                        "CreationDate": moment(reply),
                        "UserId": uid(reply.handle),
                        "ContentLicense": "CC BY-SA 4.0",
                    },
                )
            else:
                post_id += 1
                ET.SubElement(
                    posts,
                    "row",
                    {
                        "Id": str(post_id),
                        "PostTypeId": "2",
                        "ParentId": str(question_id),
                        "CreationDate": moment(reply),
                        "Score": "2",
                        "Body": markdown_to_html(reply.text),
                        "OwnerUserId": uid(reply.handle),
                        "LastActivityDate": moment(reply),
                        "CommentCount": "0",
                        "ContentLicense": "CC BY-SA 4.0",
                    },
                )
    users = ET.Element("users")
    for handle, first in sorted(authors.items(), key=lambda item: int(uid(item[0]))):
        ET.SubElement(
            users,
            "row",
            {
                "Id": uid(handle),
                "Reputation": "101",
                "CreationDate": first,
                "DisplayName": handle,
                "LastAccessDate": first,
            },
        )
    root.mkdir(parents=True, exist_ok=True)
    for name, element in (("Users.xml", users), ("Posts.xml", posts), ("Comments.xml", comments)):
        ET.ElementTree(element).write(root / name, encoding="utf-8", xml_declaration=True)
    return root


WRITERS: dict[str, Callable[[Sample, dt.date, Path], Path]] = {
    "github": acme_github,
    "discourse": acme_discourse,
    "slack": acme_slack,
    "stackexchange": acme_stackexchange,
}
