"""Syncs: a connector's records streamed into messages through the batched ingest (``ingest.py``).

A run reads records one at a time (memory stays flat) and commits every ``batch_size`` records
with the cursor, so an interrupted run resumes from the last committed batch and never
duplicates: API connectors resume from their last checkpoint, archives skip the records a
previous attempt on the same file already committed. Also: sources, schedules and uploads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError
from django.db.models import F
from django.utils import timezone

from townsquare.core.errors import TownsquareError
from townsquare.sources.connectors import archive_kinds, connector_for
from townsquare.sources.connectors.base import Checkpoint, Connector, MessageDeleted, UnitDone, UnitSkipped
from townsquare.sources.ingest import Batch, Ingest, Progress, batch_add
from townsquare.sources.liveness import process_started, run_alive, this_host
from townsquare.sources.member_data import members_activity_refresh
from townsquare.sources.models import Message, Source, SyncRun
from townsquare.sources.paths import path_confined

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
HEARTBEAT_EVERY = 5.0  # seconds between heartbeats of a reading run; well under TOWNSQUARE_SYNC_STALE_SECONDS
UPLOAD_RETENTION = dt.timedelta(days=7)  # uploads no unfinished run reads are deleted after this
FINGERPRINT_VERSION = 1  # bump when normalisation changes, so unchanged archive units are read again


# ---------------------------------------------------------------- archive signatures


def archive_signature(path: Path) -> str:
    """Identifies an archive cheaply (size, head and tail), so a resumed import knows it is the same file."""
    path = Path(path)
    digest = hashlib.sha256()
    size = path.stat().st_size if path.is_file() else 0
    digest.update(str(size).encode())
    if path.is_file():
        with path.open("rb") as handle:
            digest.update(handle.read(65536))
            if size > 65536:
                handle.seek(max(0, size - 65536))
                digest.update(handle.read(65536))
    else:
        for child in sorted(path.rglob("*"))[:10_000]:
            if child.is_file():
                digest.update(f"{child.relative_to(path)}:{child.stat().st_size}".encode())
    return digest.hexdigest()[:32]


# ---------------------------------------------------------------- runs


def run_start(*, source: Source, status: str = SyncRun.Status.RUNNING, upload: str | Path = "") -> SyncRun:
    """Create a run row; refuse while another run of the source is alive; mark dead ones interrupted.

    A run is alive while its process is (``liveness.run_alive``): a killed import is taken over at once
    on the same host, and after ``TOWNSQUARE_SYNC_STALE_SECONDS`` of silence from another host; the new
    run resumes from the source's cursor. ``upload`` is an uploaded archive the run will read: it is kept
    until a run has read it whole.
    """
    now = timezone.now()
    others = SyncRun.objects.filter(source=source, status__in=[SyncRun.Status.RUNNING, SyncRun.Status.QUEUED])
    dead = []
    for other in others:
        if run_alive(other, now=now):
            raise TownsquareError(f"a sync is already running (run {other.pk})", record=source.name, permanent=False)
        dead.append(other.pk)
    if dead:
        SyncRun.objects.filter(pk__in=dead, status__in=[SyncRun.Status.RUNNING, SyncRun.Status.QUEUED]).update(
            status=SyncRun.Status.FAILED,
            finished_at=now,
            error="interrupted: the process stopped before the run finished; the next run resumed from its cursor",
        )
    owner = _owner() if status == SyncRun.Status.RUNNING else {}
    return SyncRun.objects.create(
        source=source,
        status=status,
        cursor_before=source.cursor or {},
        heartbeat_at=now,
        upload=str(Path(upload).resolve()) if upload else "",
        **owner,
    )


def _owner() -> dict[str, Any]:
    """This process, as a run records it."""
    pid = os.getpid()
    return {"host": this_host(), "pid": pid, "pid_started": process_started(pid)}


def source_sync(
    *,
    source: Source,
    path: str | Path | None = None,
    run: SyncRun | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> SyncRun:
    """Sync one source now. Never raises for a failing source: the run says why it failed.

    ``path`` overrides the archive in ``source.config['path']``. ``run`` is a queued run to carry on.
    """
    try:
        run = _run_open(source=source, run=run)
    except TownsquareError as exc:
        # Refused (another run is alive): said to the caller, not stored, so retries leave no failed runs behind.
        return SyncRun(
            source=source,
            status=SyncRun.Status.FAILED,
            error=str(exc),
            finished_at=timezone.now(),
            cursor_before=source.cursor or {},
        )
    logger.info("source %s: run %s started", source.pk, run.pk)
    sync = _Sync(source=source, run=run, batch_size=batch_size, progress=progress)
    sync.read(path)
    return sync.close()


def _run_open(*, source: Source, run: SyncRun | None) -> SyncRun:
    """The run this sync writes to: the queued ``run``, now running, or a new one (``run_start``'s rules)."""
    if run is None:
        return run_start(source=source)
    owner = _owner()
    SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.RUNNING, heartbeat_at=timezone.now(), **owner)
    run.status = SyncRun.Status.RUNNING
    for name, value in owner.items():
        setattr(run, name, value)
    return run


class _Sync:
    """One run through a connector's records: where it resumed, the batch not yet committed, why it stopped.

    Every committed batch carries the cursor (and, for an archive, the position in it) that lets the
    next run resume after it; what a failure leaves uncommitted is committed too, since each record is
    upserted on its key and a repeat costs nothing.
    """

    def __init__(self, *, source: Source, run: SyncRun, batch_size: int, progress: Progress | None) -> None:
        self.source = source
        self.run = run
        self.batch_size = batch_size
        self.ingest = Ingest(source=source, run=run, batch_size=batch_size, progress=progress)
        self.cursor: dict[str, Any] = dict(source.cursor or {})
        self.batch = Batch()
        self.signature = ""  # the archive's, when the connector reads one
        self.position = 0  # records read so far in this archive (or feed), counting skipped ones
        self.skip = 0  # records a previous attempt on the same archive committed
        self.units: dict[str, list[Any]] = {}  # archive unit -> [fingerprint, records], for the next run
        self.failure = ""
        self.deleted: set[str] = set()  # external ids deleted upstream, applied once their batch is committed
        self.beaten = time.monotonic()

    def read(self, path: str | Path | None) -> None:
        """Resume, then read every record; a failing connector ends the read with ``failure`` set."""
        try:
            configured = (self.source.config or {}).get("path")
            if path is None and configured:
                # config.path was typed in a form: checked again here, since the folder or its links may have changed
                path = path_confined(configured, record=self.source.name)
            connector = connector_for(self.source, path=path)
            self._resume(connector)
            self._fetch(connector)
        except TownsquareError as exc:
            self.failure = str(exc)
            # The run's error list names the page or record that stopped it, next to the rejected ones.
            self.batch.failures.append((str(exc.record or self.source.name), exc.message))
            logger.warning("source %s: run %s failed: %s", self.source.pk, self.run.pk, type(exc).__name__)
        except Exception as exc:  # a connector bug must not take other sources down
            self.failure = f"internal error: {type(exc).__name__}: {exc}"
            logger.exception("source %s: run %s crashed", self.source.pk, self.run.pk)
        if self.failure:
            self._save_before_failure()

    def _resume(self, connector: Connector) -> None:
        if connector.is_archive:
            self._resume_archive(connector)
        previous = self.cursor.get("fingerprints") or {}
        if previous.get("layout") == _layout(connector):
            connector.fingerprints = previous.get("units") or {}

    def _resume_archive(self, connector: Connector) -> None:
        """Keep an uploaded archive for this run; skip what an earlier attempt on the same file committed."""
        archive = connector.require_path()
        run = self.run
        if _upload_folder(archive) is not None and run.upload != str(archive.resolve()):
            run.upload = str(archive.resolve())
            SyncRun.objects.filter(pk=run.pk).update(upload=run.upload)
        self.signature = archive_signature(archive)
        previous = self.cursor.get("archive") or {}
        if previous.get("signature") == self.signature and previous.get("position"):
            self.skip = int(previous["position"])
            logger.info("source %s: resuming archive at record %s", self.source.pk, self.skip)

    def _fetch(self, connector: Connector) -> None:
        for item in connector.fetch(dict(self.cursor)):
            self._beat()
            if self._marker(connector, item):
                continue
            self.position += 1
            if self.position <= self.skip:
                continue
            batch_add(self.batch, item)
            if len(self.batch) >= self.batch_size:
                self._commit(connector, self._cursor_at(self.position))
        if self.units:
            # Unit fingerprints are trusted only after a complete import of an archive with this layout.
            self.cursor = {**self.cursor, "fingerprints": {"layout": _layout(connector), "units": self.units}}
        self._commit(connector, self._cursor_at(0))  # read whole: the next run starts the archive afresh

    def _beat(self) -> None:
        """Refresh the heartbeat between batches too (a slow API, a large member), at most every few seconds."""
        now = time.monotonic()
        if now - self.beaten < HEARTBEAT_EVERY:
            return
        self.beaten = now
        SyncRun.objects.filter(pk=self.run.pk).update(heartbeat_at=timezone.now())

    def _marker(self, connector: Connector, item: Any) -> bool:
        """Take in a checkpoint or an archive unit's marker; False for a record (or a rejected one)."""
        if isinstance(item, Checkpoint):
            self.cursor = {**self.cursor, **item.cursor}
        elif isinstance(item, UnitSkipped):
            self.batch.duplicates += item.count
            self.units[item.key] = connector.fingerprints[item.key]
        elif isinstance(item, UnitDone):
            self.units[item.key] = [item.fingerprint, item.count]
        elif isinstance(item, MessageDeleted):
            self.deleted.add(item.external_id)
        else:
            return False
        return True

    def _cursor_at(self, position: int) -> dict[str, Any]:
        if not self.signature:
            return self.cursor
        return {**self.cursor, "archive": {"signature": self.signature, "position": position}}

    def _commit(self, connector: Connector, cursor: dict[str, Any]) -> None:
        self.ingest.commit(self.batch, cursor)
        self.batch = Batch()
        self._apply_deletions()
        _report(self.ingest, connector)

    def _apply_deletions(self) -> None:
        """Deletions go after the batch that may hold the deleted message's own row (an export has both)."""
        if self.deleted:
            messages_mark_deleted(source=self.source, external_ids=sorted(self.deleted))
            self.deleted = set()

    def _save_before_failure(self) -> None:
        """Keep the good records the connector yielded before the failure, and its list of what failed."""
        try:
            self.ingest.commit(self.batch, self._cursor_at(self.position))
            self._apply_deletions()
        except Exception:  # the run must still be closed and reported
            logger.exception("source %s: could not save the last batch of run %s", self.source.pk, self.run.pk)

    def close(self) -> SyncRun:
        """Refresh the authors' activity, set the run's status, and release an upload read whole."""
        source, run = self.source, self.run
        try:
            self.ingest.settle_aliases()
        except DatabaseError:
            logger.exception("source %s: could not suggest merges for renames in run %s", source.pk, run.pk)
        if self.ingest.touched_members:
            try:
                members_activity_refresh(member_ids=self.ingest.touched_members)
            except DatabaseError:
                logger.exception("source %s: could not refresh member activity after run %s", source.pk, run.pk)
        run.refresh_from_db()
        run.finished_at = timezone.now()
        if self.failure:
            run.status = SyncRun.Status.FAILED
            run.error = self.failure[:5000]
        else:
            run.status = SyncRun.Status.PARTIAL if run.rejected else SyncRun.Status.SUCCEEDED
        run.save(update_fields=["finished_at", "status", "error"])
        if not self.failure:
            Source.objects.filter(pk=source.pk).update(last_synced_at=run.finished_at)
            if run.upload:
                upload_release(run=run)
        source.refresh_from_db()
        logger.info(
            "source %s: run %s %s (new=%s updated=%s unchanged=%s rejected=%s)",
            source.pk,
            run.pk,
            run.status,
            run.new,
            run.updated,
            run.unchanged,
            run.rejected,
        )
        if self.ingest.progress is not None:
            self.ingest.progress(run)
        return run


def messages_mark_deleted(*, source: Source, external_ids: list[str]) -> int:
    """Remove the text of messages deleted upstream and mark them; returns how many changed.

    The row stays (replies keep their parent, counts their history) but nothing it said is shown or
    processed again: the version is bumped, so feedback sees its new, empty text.
    """
    now = timezone.now()
    changed = 0
    for start in range(0, len(external_ids), 500):
        changed += (
            Message.objects.filter(source=source, external_id__in=external_ids[start : start + 500])
            .exclude(content_hash="deleted")
            .update(title="", body="", body_html="", deleted_at=now, content_hash="deleted", version=F("version") + 1)
        )
    if changed:
        logger.info("source %s: %s message(s) deleted upstream", source.pk, changed)
    return changed


def _layout(connector: Connector) -> str:
    """Fingerprints are valid for one connector version and configuration."""
    settings = sorted((k, str(v)) for k, v in connector.config.items() if k != "path")
    return hashlib.sha256(f"{connector.kind}:{FINGERPRINT_VERSION}:{settings}".encode()).hexdigest()[:16]


def _report(ingest: Ingest, connector: Connector) -> None:
    done, total = connector.progress
    run = ingest.run
    if (done, total) != (run.progress_done, run.progress_total):
        run.progress_done, run.progress_total = done, total
        SyncRun.objects.filter(pk=run.pk).update(progress_done=done, progress_total=total)
    if ingest.progress is not None:
        ingest.progress(run)


def archive_import(
    *,
    source: Source,
    path: str | Path,
    run: SyncRun | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> SyncRun:
    """Import an archive file into ``source`` and remember it as the source's archive.

    ``path`` comes from the operator (``townsquare import``) or from our own upload view, so it is read
    wherever it is; it is remembered for later syncs only inside the folders a source may read
    (``paths.path_confined``), otherwise the source forgets its old path rather than reading a stale one.
    """
    path = Path(path)
    if not path.exists():
        raise TownsquareError(f"archive {path} does not exist", record=source.name)
    config = {key: value for key, value in (source.config or {}).items() if key != "path"}
    try:
        path_confined(path, record=source.name)
    except TownsquareError:
        logger.info("source %s: archive outside the import folders is read for this run only", source.pk)
    else:
        config["path"] = str(path)
    if config != (source.config or {}):
        source.config = config
        Source.objects.filter(pk=source.pk).update(config=source.config)
    return source_sync(source=source, path=path, run=run, batch_size=batch_size, progress=progress)


def source_create(
    *,
    kind: str,
    name: str,
    config: dict[str, Any] | None = None,
    secrets: str = "",
    schedule: str = "",
    enabled: bool = True,
) -> Source:
    if kind not in Source.Kind.values:
        raise TownsquareError(f"unknown source kind {kind!r}", record=name)
    if schedule:
        _check_cron(schedule, name)
    _check_path(config, name)
    return Source.objects.create(
        kind=kind, name=name, config=config or {}, secrets=secrets, schedule=schedule, enabled=enabled
    )


def source_update(
    *, source: Source, name: str, config: dict[str, Any], schedule: str, enabled: bool, secrets: str | None = None
) -> Source:
    if schedule:
        _check_cron(schedule, name)
    _check_path(config, name)
    source.name = name
    source.config = config
    source.schedule = schedule
    source.enabled = enabled
    fields = ["name", "config", "schedule", "enabled"]
    if secrets is not None:
        source.secrets = secrets
        fields.append("secrets")
    source.save(update_fields=fields)
    return source


def source_get_or_create(*, kind: str, name: str) -> tuple[Source, bool]:
    source = Source.objects.filter(name=name).first()
    if source is not None:
        if source.kind != kind:
            raise TownsquareError(f"source {name!r} exists with kind {source.kind}, not {kind}", record=name)
        return source, False
    return source_create(kind=kind, name=name), True


def source_check(*, source: Source) -> str:
    """The connection test: what the connector found, or a TownsquareError saying why not."""
    _check_path(source.config, source.name)
    return connector_for(source).check()


def _check_path(config: dict[str, Any] | None, name: str) -> None:
    if (config or {}).get("path"):
        path_confined(str(config["path"]), record=name)  # type: ignore[index]


def _check_cron(schedule: str, name: str) -> None:
    from croniter import croniter

    if not croniter.is_valid(schedule):
        raise TownsquareError(f"invalid cron expression {schedule!r}", record=name)


def source_can_sync(*, source: Source) -> bool:
    """Whether a sync has something to read: an API, a live URL, or an archive path on this server.

    An archive source whose upload was imported whole (and deleted) has nothing until the next upload.
    """
    if source.kind not in set(archive_kinds()) or (source.config or {}).get("path"):
        return True
    return not connector_for(source).is_archive  # a Pipermail or RSS source given a URL reads it live


def sources_to_sync(*, names: list[str] | None = None) -> list[Source]:
    """The named sources, or every enabled one that has something to read.

    An archive source whose upload was imported whole and deleted has nothing until the next
    upload: it is left out rather than failing every run with "no archive given".
    """
    if names:
        return list(Source.objects.filter(name__in=names))
    return [s for s in Source.objects.filter(enabled=True) if source_can_sync(source=s)]


def sources_due(*, now: dt.datetime | None = None) -> list[Source]:
    """Enabled sources with a schedule whose next occurrence after the last run has come."""
    from townsquare.core.scheduling import next_run

    now = now or timezone.now()
    due = []
    for source in sources_to_sync():
        if not source.schedule:
            continue
        last = source.runs.order_by("-started_at").values_list("started_at", flat=True).first()
        if last is None or next_run(source.schedule, last) <= now:
            due.append(source)
    return due


def sources_sync_all(*, names: list[str] | None = None, progress: Progress | None = None) -> list[SyncRun]:
    """Sync every enabled source (or the named ones); one failing never stops the others."""
    runs = []
    for source in sources_to_sync(names=names):
        try:
            runs.append(source_sync(source=source, progress=progress))
        except (DatabaseError, IntegrityError):
            logger.exception("source %s: sync could not record its run", source.pk)
    return runs


# ---------------------------------------------------------------- uploaded archives


def uploads_root() -> Path:
    return Path(settings.DATA_DIR) / "uploads"


def _upload_folder(path: str | Path) -> Path | None:
    """The ``uploads/<id>`` folder that holds ``path``, or None when ``path`` is not an upload."""
    root = uploads_root().resolve()
    try:
        relative = Path(path).resolve().relative_to(root)
    except (ValueError, OSError):
        return None
    return root / relative.parts[0] if relative.parts else None


def upload_release(*, run: SyncRun) -> bool:
    """Delete the uploaded archive ``run`` read whole; keep it after a failed or interrupted run (a resume needs it).

    Returns whether it was deleted. The source forgets the path: it has nothing more to read
    until the next upload.
    """
    folder = _upload_folder(run.upload) if run.upload else None
    if folder is None or run.status not in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL):
        return False
    if _busy_uploads(exclude=run.pk) & {folder}:
        return False
    _forget_upload(folder)
    logger.info("run %s: deleted its upload %s after reading it whole", run.pk, folder.name)
    return True


def uploads_cleanup(*, older_than: dt.timedelta = UPLOAD_RETENTION, now: dt.datetime | None = None) -> list[str]:
    """Delete uploads older than ``older_than`` that no queued or running run will read; returns their folder names.

    This catches what :func:`upload_release` keeps: an import that failed and was never resumed,
    or an upload whose run never started. A run silent for longer than ``older_than`` counts as dead.
    """
    root = uploads_root()
    if not root.is_dir():
        return []
    now = now or timezone.now()
    cutoff = (now - older_than).timestamp()
    busy = _busy_uploads(alive_since=now - older_than)
    removed = []
    for folder in sorted(p.resolve() for p in root.iterdir() if p.is_dir()):
        if folder in busy:
            continue
        newest = max([folder.stat().st_mtime, *(child.stat().st_mtime for child in folder.iterdir())])
        if newest > cutoff:
            continue
        _forget_upload(folder)
        removed.append(folder.name)
    if removed:
        logger.info("deleted %s upload(s) older than %s days", len(removed), older_than.days)
    return removed


def _busy_uploads(*, exclude: int | None = None, alive_since: dt.datetime | None = None) -> set[Path]:
    runs = SyncRun.objects.filter(status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING]).exclude(upload="")
    if exclude is not None:
        runs = runs.exclude(pk=exclude)
    if alive_since is not None:
        runs = runs.filter(heartbeat_at__gte=alive_since)
    return {folder for path in runs.values_list("upload", flat=True) if (folder := _upload_folder(path)) is not None}


def _forget_upload(folder: Path) -> None:
    for source in Source.objects.filter(config__has_key="path"):
        if _upload_folder(source.config["path"]) == folder:
            config = {key: value for key, value in source.config.items() if key != "path"}
            Source.objects.filter(pk=source.pk).update(config=config)
    shutil.rmtree(folder, ignore_errors=True)
