"""Every archive parser under hypothesis: whatever the bytes, no uncaught exception, only per-record errors.

Each example is a small real archive (recorded fixtures and slices of the archives in shared/data) with
random changes: JSON members get random values in random places (with the keys the format uses), text
members get random lines and bytes. Reading must end normally (or with a TownsquareError naming the
archive, for a whole-archive problem such as a zip that is not one), yield only the connector interface's
records, and every message must go through the ingest's normalisation without crashing. No database: the
parsers and the normalisation are pure. Examples are few and derandomised so the suite stays fast and the
same on every run.
"""

from __future__ import annotations

import gzip
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from townsquare.core.errors import TownsquareError
from townsquare.sources.connectors import archive_kinds, connector_for
from townsquare.sources.connectors.base import (
    Checkpoint,
    IdentityAlias,
    MessageDeleted,
    MessageRecord,
    RecordError,
    UnitDone,
    UnitSkipped,
)
from townsquare.sources.ingest import Batch, batch_add
from townsquare.sources.models import Source
from townsquare.sources.tests.helpers import DATA, FIXTURES

EXAMPLES = 25
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate),  # no shrinking: a failure prints its draws (file, where, what)
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)


def _head(path: Path, lines: int) -> str:
    opener: Callable[..., Any] = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        return "".join(line for _, line in zip(range(lines), handle, strict=False))


def _json(path: Path) -> Any:
    opener: Callable[..., Any] = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def _small_discourse_topic() -> Any:
    topic = _json(next(iter(sorted((DATA / "discourse/urho3d/t").glob("*.json.gz")))))
    posts = topic.get("post_stream", {}).get("posts", [])[:3]
    topic["post_stream"] = {"posts": posts, "stream": [p.get("id") for p in posts]}
    return topic


def _small_github_issue() -> Any:
    issue = _json(DATA / "github/bitcoin-core-gui-metadata-backup/issues/41.json.gz")
    if isinstance(issue, dict):
        for key, value in list(issue.items()):
            if isinstance(value, list):
                issue[key] = value[:3]
    return issue


SLACK_USERS = [{"id": "U1", "team_id": "T1", "name": "ana", "real_name": "Ana", "profile": {"email": "a@x.org"}}]
SLACK_DAY = [
    {"type": "message", "user": "U1", "text": "hi <@U1> see <https://x.org|x>", "ts": "1704067200.000100"},
    {"type": "message", "user": "U1", "text": "reply", "ts": "1704067300.000100", "thread_ts": "1704067200.000100"},
]
STACKEXCHANGE_POSTS = (
    _head(DATA / "stackexchange/datascience.meta.stackexchange.com/Posts.xml", 12).rstrip() + "\n</posts>\n"
)

# kind -> {file name in the archive folder: seed content (JSON value or text)}
SEEDS: dict[str, dict[str, Any]] = {
    "discord_export": {"general.json": _json(FIXTURES / "discord_export/general__dce.json")},
    "matrix_export": {"room.json": _json(FIXTURES / "matrix_export/room__element.json")},
    "github_discussions": {"page.json": _json(FIXTURES / "github_discussions/discussions__page1.json")},
    "zulip_export": {
        "realm.json": _json(FIXTURES / "zulip_export/export/realm.json"),
        "messages-000001.json": _json(FIXTURES / "zulip_export/export/messages-000001.json"),
    },
    "discourse_archive": {"topic.1.json": _small_discourse_topic()},
    "github_archive": {"issues/41.json": _small_github_issue()},
    "slack_export": {
        "users.json": SLACK_USERS,
        "channels.json": [{"id": "C1", "name": "general"}],
        "general/2024-01-01.json": SLACK_DAY,
    },
    "irc_log": {"#townsquare.log": (FIXTURES / "irc_log/irssi__townsquare.log").read_text(errors="replace")},
    "supybot": {
        "#fluid-work.2019-03-01.log": _head(
            DATA / "irc/limnoria-channellogger/#fluid-work/#fluid-work.2019-03-01.log", 40
        )
    },
    "pipermail": {"2025-April.txt": _head(DATA / "mailing-lists/pipermail/r-devel/2025-April.txt", 120)},
    "mbox": {"list.mbox": _head(FIXTURES / "hyperkitty/export__2025-09.mbox", 120)},
    "rss": {"feed.xml": _head(DATA / "rss/blog.couchbase.com-2016-12.rss.xml", 80)},
    "stackexchange_dump": {"Posts.xml": STACKEXCHANGE_POSTS},
}
ZIPPED = {"slack_export"}  # read as one zip of the seed files
CONFIG = {"discourse_archive": {"url": "https://discourse.example.org"}, "irc_log": {"channel": "#townsquare"}}


def test_every_archive_kind_is_fuzzed() -> None:
    assert set(SEEDS) == set(archive_kinds())


# ---------------------------------------------------------------- mutations

KEYS = st.sampled_from(
    [
        "id",
        "type",
        "ts",
        "user",
        "text",
        "body",
        "content",
        "author",
        "timestamp",
        "sender",
        "messages",
        "posts",
        "created_at",
        "title",
        "name",
        "thread_ts",
        "replies",
        "event_id",
        "origin_server_ts",
        "url",
    ]
)
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["", "0", "-1", "1e999", "2024-13-45T99:99:99Z", "9" * 40, "\x00", "<script>", "@a:b"])
)
JSON_VALUES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS | st.text(max_size=6), inner, max_size=4),
    max_leaves=10,
)


def _slots(value: Any, limit: int = 400) -> list[tuple[Any, Any]]:
    """(container, key) of every value in the document, breadth first, up to ``limit``."""
    slots: list[tuple[Any, Any]] = []
    queue = [value]
    while queue and len(slots) < limit:
        node = queue.pop(0)
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
        for key, child in items:
            slots.append((node, key))
            queue.append(child)
    return slots


def mutate_json(data: st.DataObject, seed: Any) -> Any:
    doc = json.loads(json.dumps(seed))
    for _ in range(data.draw(st.integers(1, 4), label="changes")):
        slots = _slots(doc)
        if not slots:
            return data.draw(JSON_VALUES, label="document")
        container, key = data.draw(st.sampled_from(slots), label="where")
        action = data.draw(st.sampled_from(["replace", "delete", "insert"]), label="action")
        if action == "delete":
            del container[key]
        elif action == "insert" and isinstance(container, dict):
            container[data.draw(KEYS, label="key")] = data.draw(JSON_VALUES, label="value")
        elif action == "insert":
            container.insert(key, data.draw(JSON_VALUES, label="value"))
        else:
            container[key] = data.draw(JSON_VALUES, label="value")
    return doc


def mutate_text(data: st.DataObject, seed: str) -> bytes:
    lines = seed.encode("utf-8").splitlines(keepends=True) or [b""]
    for _ in range(data.draw(st.integers(1, 4), label="changes")):
        where = data.draw(st.integers(0, len(lines)), label="line")
        action = data.draw(st.sampled_from(["insert", "delete", "garble", "copy"]), label="action")
        if action == "delete" and where < len(lines):
            del lines[where]
        elif action == "garble" and where < len(lines):
            line = lines[where]
            cut = data.draw(st.integers(0, len(line)), label="cut")
            lines[where] = line[:cut] + data.draw(st.binary(max_size=12), label="bytes") + line[cut:]
        elif action == "copy" and lines:
            lines.insert(where, lines[data.draw(st.integers(0, len(lines) - 1), label="which")])
        else:
            text = data.draw(st.text(max_size=60), label="text")
            lines.insert(where, text.encode("utf-8", "surrogatepass") + b"\n")
    return b"".join(lines)


def write_archive(root: Path, kind: str, data: st.DataObject) -> Path:
    files = SEEDS[kind]
    target = data.draw(st.sampled_from(sorted(files)), label="file")
    contents: dict[str, bytes] = {}
    for name, seed in files.items():
        if name != target:
            contents[name] = (json.dumps(seed) if not isinstance(seed, str) else seed).encode()
        elif isinstance(seed, str):
            contents[name] = mutate_text(data, seed)
        else:
            mutated = mutate_json(data, seed)
            contents[name] = json.dumps(mutated, allow_nan=True).encode()
    folder = root / kind
    if kind in ZIPPED:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "export.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for name, content in contents.items():
                archive.writestr(name, content)
        return path
    for name, content in contents.items():
        file = folder / name
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(content)
    return folder


# ---------------------------------------------------------------- the property


def read_all(kind: str, path: Path) -> list[Any]:
    source = Source(kind=kind, name=f"fuzz {kind}", config=CONFIG.get(kind, {}))
    items = []
    try:
        for item in connector_for(source, path=path).fetch({}):
            assert isinstance(
                item, (MessageRecord, MessageDeleted, RecordError, Checkpoint, UnitDone, UnitSkipped, IdentityAlias)
            )
            items.append(item)
    except TownsquareError as exc:  # the whole archive is unreadable: said, naming it
        assert exc.record and exc.message
    return items


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_a_damaged_archive_is_read_to_the_end_with_per_record_errors(kind: str, tmp_path_factory: Any) -> None:
    @FUZZ
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        root = tmp_path_factory.mktemp(kind)
        items = read_all(kind, write_archive(root, kind, data))
        batch = Batch()
        for item in items:
            if isinstance(item, RecordError):
                assert item.record and item.reason  # names the record and says why
            if isinstance(item, (MessageRecord, RecordError, IdentityAlias)):
                batch_add(batch, item)  # normalisation rejects with a reason, never crashes

    check()


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_the_unchanged_seed_archive_reads_records(kind: str, tmp_path: Path) -> None:
    """The seeds are real archives: without changes each yields messages and no errors (the fuzzing starts valid)."""
    folder = tmp_path / kind
    contents = {n: (json.dumps(s) if not isinstance(s, str) else s).encode() for n, s in SEEDS[kind].items()}
    if kind in ZIPPED:
        folder.mkdir()
        path = folder / "export.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for name, content in contents.items():
                archive.writestr(name, content)
    else:
        for name, content in contents.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(content)
        path = folder
    items = read_all(kind, path)
    assert any(isinstance(item, MessageRecord) for item in items), items[:5]
