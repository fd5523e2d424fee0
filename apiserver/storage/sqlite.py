"""Embedded storage on SQLite, designed like k3s's kine: an append-only log whose
AUTOINCREMENT id is the revision.

Every write appends a row (`name`, `created`, `deleted`, `create_revision`,
`prev_revision`, `value`, `old_value`); the newest row of a name is its current state.
A UNIQUE (name, prev_revision) constraint makes two writers racing on one key collide in
the database itself, so compare-and-swap needs no lock outside it. Watches replay rows
above a revision and then follow in-process notifications. Compaction deletes rows that
are neither the newest of their key nor within the newest `keep_revisions`.

All SQLite calls run on one dedicated writer thread and one reader thread, never on the
event loop. WAL mode with synchronous=NORMAL: a killed process loses nothing that was
acknowledged (a power cut could lose the last transactions, which SQLite documents).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from apiserver.storage.interface import (
    CompactedError,
    ConflictError,
    Event,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    ListResult,
    Storage,
    decode_continue,
    encode_continue,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS kine (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    create_revision INTEGER NOT NULL,
    prev_revision INTEGER NOT NULL,
    value BLOB,
    old_value BLOB
);
CREATE UNIQUE INDEX IF NOT EXISTS kine_name_prev_revision ON kine (name, prev_revision);
CREATE INDEX IF NOT EXISTS kine_name_id ON kine (name, id);
CREATE TABLE IF NOT EXISTS compaction (id INTEGER PRIMARY KEY CHECK (id = 1), revision INTEGER NOT NULL);
INSERT OR IGNORE INTO compaction (id, revision) VALUES (1, 0);
"""

LATEST = """
SELECT k.id, k.name, k.created, k.deleted, k.create_revision, k.prev_revision, k.value, k.old_value
FROM kine k JOIN (SELECT name, MAX(id) AS id FROM kine WHERE name >= ? AND name < ? AND id <= ? GROUP BY name) m
ON k.id = m.id WHERE k.deleted = 0 ORDER BY k.name
"""


def prefix_end(prefix: str) -> str:
    return prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else "\U0010ffff"


class SQLiteStorage(Storage):
    def __init__(self, path: str, *, compact_interval: float = 300.0, keep_revisions: int = 1000) -> None:
        self.path = path
        self.compact_interval = compact_interval
        self.keep_revisions = keep_revisions
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-reader")
        self._wconn: sqlite3.Connection | None = None
        self._rconn: sqlite3.Connection | None = None
        self._watchers: dict[asyncio.Queue[Event | None], str] = {}  # queue → the prefix it watches
        self._compactor: asyncio.Task[None] | None = None
        self._revision = 0
        self._closed = False

    # ---- plumbing ------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        assert self._wconn is not None, "open() first"
        conn = self._wconn
        return await asyncio.get_running_loop().run_in_executor(self._writer, fn, conn)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        assert self._rconn is not None, "open() first"
        conn = self._rconn
        return await asyncio.get_running_loop().run_in_executor(self._reader, fn, conn)

    async def open(self) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        self._wconn = await loop.run_in_executor(self._writer, self._connect)
        self._rconn = await loop.run_in_executor(self._reader, self._connect)
        await self._write(lambda c: c.executescript(SCHEMA))
        self._revision = await self._read(lambda c: c.execute("SELECT COALESCE(MAX(id), 0) FROM kine").fetchone()[0])
        if self.compact_interval > 0:
            self._compactor = asyncio.create_task(self._compact_loop())

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._compactor is not None:
            self._compactor.cancel()
            await asyncio.gather(self._compactor, return_exceptions=True)
        for queue in list(self._watchers):
            queue.put_nowait(None)
        loop = asyncio.get_running_loop()
        if self._wconn is not None:
            await loop.run_in_executor(self._writer, self._wconn.close)
        if self._rconn is not None:
            await loop.run_in_executor(self._reader, self._rconn.close)
        self._writer.shutdown(wait=False)
        self._reader.shutdown(wait=False)

    def _publish(self, event: Event) -> None:
        self._revision = max(self._revision, event.revision)
        for queue, prefix in self._watchers.items():
            if event.key.startswith(prefix):  # each resource's watch sees only its own keys
                queue.put_nowait(event)

    # ---- reads ---------------------------------------------------------------------

    async def current_revision(self) -> int:
        return self._revision

    async def compacted_revision(self) -> int:
        return await self._read(lambda c: c.execute("SELECT revision FROM compaction WHERE id = 1").fetchone()[0])

    async def _check_revision(self, revision: int) -> None:
        if revision:
            compacted = await self.compacted_revision()
            if revision <= compacted:
                raise CompactedError(revision, compacted)

    async def get(self, key: str, revision: int = 0) -> KeyValue | None:
        await self._check_revision(revision)
        upto = revision or (1 << 62)

        def query(c: sqlite3.Connection) -> Any:
            return c.execute("SELECT id, deleted, create_revision, value FROM kine WHERE name = ? AND id <= ? "
                             "ORDER BY id DESC LIMIT 1", (key, upto)).fetchone()

        row = await self._read(query)
        if row is None or row[1]:
            return None
        return KeyValue(key, row[3], row[0], row[2])

    async def list(self, prefix: str, limit: int = 0, continue_token: str = "", revision: int = 0) -> ListResult:
        start = prefix
        if continue_token:
            revision, start = decode_continue(continue_token, prefix)
        await self._check_revision(revision)
        at = revision or self._revision

        def query(c: sqlite3.Connection) -> list[Any]:
            return c.execute(LATEST, (start, prefix_end(prefix), at)).fetchall()

        rows = await self._read(query)
        items = [KeyValue(r[1], r[6], r[0], r[4]) for r in rows]
        if limit and len(items) > limit:
            remaining = len(items) - limit
            items = items[:limit]
            return ListResult(items, at, encode_continue(at, items[-1].key, prefix), remaining)
        return ListResult(items, at)

    # ---- writes --------------------------------------------------------------------

    def _insert(self, c: sqlite3.Connection, key: str, created: int, deleted: int, create_rev: int, prev_rev: int,
                value: bytes | None, old: bytes | None) -> int:
        cur = c.execute("INSERT INTO kine (name, created, deleted, create_revision, prev_revision, value, old_value) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)", (key, created, deleted, create_rev, prev_rev, value, old))
        revision = int(cur.lastrowid or 0)
        if created:
            c.execute("UPDATE kine SET create_revision = ? WHERE id = ?", (revision, revision))
        return revision

    @staticmethod
    def _latest(c: sqlite3.Connection, key: str) -> Any:
        return c.execute("SELECT id, deleted, create_revision, value FROM kine WHERE name = ? ORDER BY id DESC LIMIT 1",
                         (key,)).fetchone()

    async def create(self, key: str, value: bytes) -> int:
        def tx(c: sqlite3.Connection) -> tuple[int, int] | None:
            c.execute("BEGIN IMMEDIATE")
            try:
                latest = self._latest(c, key)
                if latest is not None and not latest[1]:
                    c.execute("ROLLBACK")
                    return None
                prev = latest[0] if latest is not None else 0
                revision = self._insert(c, key, 1, 0, 0, prev, value, None)
                c.execute("COMMIT")
                return revision, prev
            except sqlite3.IntegrityError:
                c.execute("ROLLBACK")
                return None
            except BaseException:
                c.execute("ROLLBACK")
                raise

        result = await self._write(tx)
        if result is None:
            raise KeyExistsError(key)
        self._publish(Event("PUT", key, value, None, result[0], result[0], 0))
        return result[0]

    async def update(self, key: str, value: bytes, expected_revision: int) -> int:
        def tx(c: sqlite3.Connection) -> tuple[int, int, bytes] | tuple[None, Any]:
            c.execute("BEGIN IMMEDIATE")
            try:
                latest = self._latest(c, key)
                if latest is None or latest[1] or latest[0] != expected_revision:
                    c.execute("ROLLBACK")
                    return None, latest
                revision = self._insert(c, key, 0, 0, latest[2], latest[0], value, latest[3])
                c.execute("COMMIT")
                return revision, latest[2], latest[3]
            except sqlite3.IntegrityError:
                c.execute("ROLLBACK")
                return None, self._latest(c, key)
            except BaseException:
                c.execute("ROLLBACK")
                raise

        result = await self._write(tx)
        if result[0] is None:
            latest = result[1]
            current = None if latest is None or latest[1] else KeyValue(key, latest[3], latest[0], latest[2])
            raise ConflictError(key, current)
        revision, create_rev, old = result  # type: ignore[misc]
        self._publish(Event("PUT", key, value, old, revision, create_rev, expected_revision))
        return revision

    async def delete(self, key: str, expected_revision: int | None = None) -> tuple[int, KeyValue]:
        def tx(c: sqlite3.Connection) -> tuple[str, Any]:
            c.execute("BEGIN IMMEDIATE")
            try:
                latest = self._latest(c, key)
                if latest is None or latest[1]:
                    c.execute("ROLLBACK")
                    return "missing", None
                if expected_revision is not None and latest[0] != expected_revision:
                    c.execute("ROLLBACK")
                    return "conflict", latest
                revision = self._insert(c, key, 0, 1, latest[2], latest[0], None, latest[3])
                c.execute("COMMIT")
                return "ok", (revision, latest)
            except sqlite3.IntegrityError:
                c.execute("ROLLBACK")
                return "conflict", self._latest(c, key)
            except BaseException:
                c.execute("ROLLBACK")
                raise

        outcome, data = await self._write(tx)
        if outcome == "missing":
            raise KeyNotFoundError(key)
        if outcome == "conflict":
            current = None if data is None or data[1] else KeyValue(key, data[3], data[0], data[2])
            raise ConflictError(key, current)
        revision, latest = data
        last = KeyValue(key, latest[3], latest[0], latest[2])
        self._publish(Event("DELETE", key, None, latest[3], revision, latest[2], latest[0]))
        return revision, last

    # ---- watch ---------------------------------------------------------------------

    async def watch(self, prefix: str, from_revision: int) -> AsyncIterator[Event]:
        if from_revision:
            compacted = await self.compacted_revision()
            if from_revision <= compacted:
                raise CompactedError(from_revision, compacted)
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self._watchers[queue] = prefix
        try:
            last = self._revision
            if from_revision:
                rows = await self._read(lambda c: c.execute(
                    "SELECT id, name, created, deleted, create_revision, prev_revision, value, old_value FROM kine "
                    "WHERE id >= ? AND name >= ? AND name < ? ORDER BY id", (from_revision, prefix,
                                                                           prefix_end(prefix))).fetchall())
                for row in rows:
                    yield self._row_event(row)
                last = max([r[0] for r in rows], default=last)
            while True:
                event = await queue.get()
                if event is None:
                    return
                if event.revision <= last or not event.key.startswith(prefix):
                    continue
                last = event.revision
                yield event
        finally:
            self._watchers.pop(queue, None)

    @staticmethod
    def _row_event(row: Any) -> Event:
        rid, name, _created, deleted, create_rev, prev_rev, value, old = row
        if deleted:
            return Event("DELETE", name, None, old, rid, create_rev, prev_rev)
        return Event("PUT", name, value, old, rid, create_rev if create_rev else rid, prev_rev if old else 0)

    # ---- compaction ----------------------------------------------------------------

    async def compact(self, revision: int) -> None:
        def tx(c: sqlite3.Connection) -> None:
            c.execute("BEGIN IMMEDIATE")
            try:
                c.execute("DELETE FROM kine WHERE id <= ? AND (deleted = 1 OR id < "
                          "(SELECT MAX(id) FROM kine k2 WHERE k2.name = kine.name))", (revision,))
                c.execute("UPDATE compaction SET revision = MAX(revision, ?) WHERE id = 1", (revision,))
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise

        await self._write(tx)

    async def _compact_loop(self) -> None:
        while True:
            await asyncio.sleep(self.compact_interval)
            target = self._revision - self.keep_revisions
            if target > 0:
                with contextlib.suppress(sqlite3.Error):
                    await self.compact(target)
