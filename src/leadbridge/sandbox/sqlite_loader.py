"""Seeded rows written into a SQLite file by a process of its own, while the seeding process
draws the next ones.

Drawing a row (Python) and inserting it (the ``sqlite3`` module binding each value, then
SQLite) each take about half of seeding a SQLite file, and both hold the interpreter's lock
nearly all the time, so a thread would not run them side by side; a second process does.
:class:`Loader` starts this file as that process (``python -I sqlite_loader.py FILE CACHE_KIB``,
run by path, so it imports the standard library only and is ready in a few milliseconds) and
sends it frames on its standard input: an 8-byte length, then a ``marshal``-ed ``(sql, rows)``
(the rows of an INSERT of one row of values, which it runs as statements of
:data:`ROWS_PER_STATEMENT` rows) or ``None`` (commit the rows sent so far). Both ends are the
same interpreter, which is what ``marshal`` needs.

The process writes as the seeding connection would (:func:`leadbridge.sandbox.seed._bulk_loading`):
foreign keys unchecked, nothing synced, a rollback journal unless the database stays in WAL
mode. Rows it was sent but not told to commit are rolled back when it ends: on a stop the
seeding process kills it, and the database keeps the seeding mark, so the next start seeds
again.
"""

from __future__ import annotations

import marshal
import os
import queue
import sqlite3
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import suppress
from itertools import chain
from typing import IO, Any

try:
    import fcntl
except ImportError:  # not on Windows
    fcntl = None  # type: ignore[assignment]

_LENGTH = struct.Struct("<Q")
PIPE_BYTES = 1024 * 1024
# Frames queued for the pipe at most: about two batches of seed.FLUSH_ROWS rows.
FRAMES_AHEAD = 16
# Rows inserted by one statement (fewer where SQLite takes fewer values in one statement).
ROWS_PER_STATEMENT = 200
COMMIT = None  # the frame that commits what came before it


class LoaderFailed(RuntimeError):
    """The loader process stopped before it was told to: its error output is the message."""


class Loader:
    """The seeding side: starts the loader process on a SQLite file and sends it the rows."""

    # This file, run by path (absent when the package is imported from an archive).
    script = os.path.abspath(__file__)

    def __init__(self, path: str, cache_kib: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-I", self.script, path, str(cache_kib)],
            stdin=subprocess.PIPE, stderr=subprocess.PIPE,
            # Its own session: a Ctrl-C reaches the seeding process alone, which then stops this one.
            start_new_session=True,
        )
        assert self.process.stdin is not None
        self.pipe: IO[bytes] = self.process.stdin
        _widen(self.pipe)
        # The frames go down the pipe from a thread of their own (writing to a pipe lets go of the
        # interpreter's lock), so drawing goes on while the loader is still reading the last batch,
        # which is larger than the pipe holds; the queue bounds what waits.
        self.frames: queue.Queue[bytes | None] = queue.Queue(maxsize=FRAMES_AHEAD)
        self.broken = False
        self.sender = threading.Thread(target=self._send_frames, name="sqlite-loader-pipe", daemon=True)
        self.sender.start()

    def insert(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self._send(marshal.dumps((sql, rows)))

    def commit(self) -> None:
        self._send(marshal.dumps(COMMIT))

    def _send(self, frame: bytes) -> None:
        if self.broken:
            raise self._failure()
        self.frames.put(frame)

    def _send_frames(self) -> None:
        """The sending thread: write each queued frame until the end (None); once the process
        has gone, only take them off the queue."""
        while (frame := self.frames.get()) is not None:
            if self.broken:
                continue
            try:
                self.pipe.write(_LENGTH.pack(len(frame)))
                self.pipe.write(frame)
            except (BrokenPipeError, ValueError):  # the process ended, or stop() closed the pipe
                self.broken = True

    def finish(self) -> None:
        """Wait until every row sent is written (what was committed stays committed)."""
        self.frames.put(None)
        self.sender.join()
        with suppress(BrokenPipeError):
            self.pipe.close()
        if self.process.wait() != 0:
            raise self._failure()

    def stop(self) -> None:
        """End the process at once, whatever it was writing (its open transaction is rolled back)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        with suppress(queue.Empty):  # what still waits is not sent; this thread alone puts frames
            while True:
                self.frames.get_nowait()
        self.frames.put(None)
        self.sender.join()
        for stream in (self.process.stdin, self.process.stderr):
            if stream is not None:
                with suppress(BrokenPipeError):
                    stream.close()

    def _failure(self) -> LoaderFailed:
        self.process.wait()
        assert self.process.stderr is not None
        reason = self.process.stderr.read().decode(errors="replace").strip()
        return LoaderFailed(f"the SQLite loader ended with {self.process.returncode}: {reason}")


def _widen(pipe: IO[bytes]) -> None:
    """Let the pipe hold a megabyte (Linux), not 64 KiB: a frame then passes in a few writes,
    each process waiting for the other less often."""
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if set_size is not None:
        with suppress(OSError):  # above this system's limit for the user
            fcntl.fcntl(pipe.fileno(), set_size, PIPE_BYTES)


def _frames(stream: IO[bytes]) -> Iterator[Any]:
    """The frames read from ``stream`` until it ends (a buffered read returns less only at its end)."""
    while header := stream.read(_LENGTH.size):
        (size,) = _LENGTH.unpack(header)  # a short header is an error: the sender stopped mid-frame
        frame = stream.read(size)
        if len(frame) != size:
            raise EOFError("the seeding process stopped in the middle of a frame")
        yield marshal.loads(frame)


def _insert(connection: sqlite3.Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """``executemany`` of ``sql`` (an INSERT of one row of values), as statements of many rows each:
    the ``sqlite3`` module's cost is mostly per statement run, not per value bound."""
    width = sql.count("?")
    per_statement = max(1, min(ROWS_PER_STATEMENT,
                               connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // max(1, width)))
    whole = len(rows) - len(rows) % per_statement
    if per_statement > 1 and whole:
        values = sql[sql.rindex("("):]
        statement = sql + (", " + values) * (per_statement - 1)
        execute, flat = connection.execute, chain.from_iterable
        for start in range(0, whole, per_statement):
            execute(statement, tuple(flat(rows[start:start + per_statement])))
        rows = rows[whole:]
    connection.executemany(sql, rows)


def load(path: str, cache_kib: int, stream: IO[bytes]) -> None:
    """The loader process: write the frames read from ``stream`` into the SQLite file at ``path``."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("foreign_keys = 0", "synchronous = 0", f"cache_size = -{cache_kib}"):
            connection.execute(f"PRAGMA {pragma}")
        if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            connection.execute("PRAGMA journal_mode = truncate")
        connection.execute("BEGIN")
        for frame in _frames(stream):
            if frame is COMMIT:
                connection.execute("COMMIT")
                connection.execute("BEGIN")
            else:
                sql, rows = frame
                _insert(connection, sql, rows)
    finally:
        connection.close()  # rows not committed are rolled back


if __name__ == "__main__":
    load(sys.argv[1], int(sys.argv[2]), sys.stdin.buffer)
