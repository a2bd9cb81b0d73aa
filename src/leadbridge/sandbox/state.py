"""The running sandbox: database, clock, request log, faults and small caches.

One :class:`Sandbox` lives on ``app.state.sandbox``. Route handlers run on the event
loop and use the database synchronously: requests are served one at a time, so every
write is a single short transaction and the sandbox needs no locking of its own.

Several processes may serve one database (``leadbridge sandbox --workers N``): each has its
own :class:`Sandbox` built with ``shared=True``. The database is then where they meet: the
clock offset and the injected faults live in ``sandbox_state`` and every request starts by
reading them (:meth:`Sandbox.refresh`, one small query), and the caches of data (but for
what only seeding writes, ``cache.SEEDED_ONLY``) last one request, so a write answered by one
process is read by the next request to any other. The
request log and each fault's random draws stay per process; realistic mode (whose counts
would be per process) needs a single one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker
from sqlalchemy.pool import StaticPool

from leadbridge.sandbox import schema
from leadbridge.sandbox.cache import Caches, Change, CompanyCache
from leadbridge.sandbox.wire import ApiError, api_of, iso

MEMORY_URL = "sqlite://"
REQUEST_LOG_SIZE = 100_000  # entries
REQUEST_LOG_BYTES = 32 * 1024 * 1024  # bodies kept in all, oldest dropped first
LOGGED_BODY_BYTES = 1024 * 1024  # of one body (a 10,000-number campaign fits); the rest is cut and marked
Progress = Callable[[str, int, int], None]
_NAMED_PARAMETER = re.compile(r"(?<!:):(\w+)")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False},
            poolclass=StaticPool if memory else None,
            # Every session ends in its own commit or rollback; the pool's extra rollback on
            # return would only cost time on each request.
            pool_reset_on_return=None,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if memory:
                # An in-memory database keeps every page in SQLite's page cache, and each commit
                # drops the cached pages past the end of the database. Once pages freed by a
                # write (the search index's merges) are reused, that drop scans the cache's whole
                # hash table, a few milliseconds at 100,000 people, on a good share of commits.
                # With auto_vacuum the database never keeps free pages, and the commits stay
                # microseconds. Set before the first table, so it holds for the schema made here.
                cursor.execute("PRAGMA auto_vacuum=FULL")
            else:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url)
    _ping_when_idle(engine)
    if "synchronous_commit" not in url:

        @event.listens_for(engine, "connect")
        def _asynchronous_commit(dbapi_connection: Any, _record: Any) -> None:
            # A commit returns once its WAL is written, not flushed to disk (as SQLite's
            # synchronous=NORMAL above): each request waiting on the disk's flush
            # (milliseconds) made the writes' throughput that of the disk. A crash of the
            # PostgreSQL server (not of the sandbox) may lose the last fraction of a second
            # of writes, never part of one; a URL naming synchronous_commit
            # (options=-csynchronous_commit=on) keeps its own choice.
            dbapi_connection.execute("SET synchronous_commit TO off")
            dbapi_connection.commit()

    return engine


PING_AFTER_IDLE_SECONDS = 1.0
_IDLE_SINCE = "leadbridge_idle_since"  # in a pooled connection's record.info


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it has been idle a while.

    A connection the server dropped (a restart, an idle timeout) is replaced before a request
    uses it, as ``pool_pre_ping`` would, without a round trip before each of a busy
    sandbox's requests: a connection checked in a moment ago is alive.
    """

    @event.listens_for(engine, "checkin")
    def _note_idle(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the database dropped an idle connection") from exc  # the pool opens another


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_sql_for_driver: dict[tuple[str, str], str] = {}
_WRITTEN_TABLE = re.compile(r"\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)
_writes_of_sql: dict[str, tuple[str, str] | None] = {}
CHANGE = "sandbox_change"  # the Change of a write session, in its .info


# Called with (driver SQL, parameters) before each hand-written statement runs; empty but for
# whoever watches the statements (tests/sandbox/test_query_plans.py explains each one).
statement_watchers: list[Callable[[str, dict[str, Any]], None]] = []


@dataclass
class RawTransaction:
    """A transaction of hand-written SQL on the driver connection itself (see :meth:`Sandbox.raw_write`).

    ``events`` holds the webhook events its statements caused (``webhooks.emit``), queued for
    delivery once it has committed: a rolled-back write sends nothing.
    """

    driver: Any
    dialect: str
    # Whether a company listens for an event type (``Webhooks.wants``): an event nobody
    # listens for is never built.
    listens: Callable[[str, str], bool]
    change: Change = field(default_factory=Change)
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def read(self, sql: str, params: dict[str, Any]) -> list[Any]:
        """:func:`run_sql` in this transaction (a :data:`Reader`)."""
        return run_sql(self, sql, params)


def _record_sql(change: Change | None, sql: str) -> None:
    """Note in ``change`` the table a hand-written INSERT, UPDATE or DELETE writes."""
    if change is None:
        return
    written = _writes_of_sql.get(sql, ())
    if written == ():
        match = _WRITTEN_TABLE.match(sql)
        written = _writes_of_sql[sql] = None if match is None else (match[1].split()[0].upper(), match[2])
    if written is not None:
        change.add(*written)  # type: ignore[misc]


def note_added(target: Session | RawTransaction, table: str, row_id: str) -> None:
    """Name a row the write just inserted (one INSERT of one row) into ``table``, so that the
    values kept across such rows take it in (cache.Change.note_added)."""
    change: Change | None = target.change if isinstance(target, RawTransaction) else target.info.get(CHANGE)
    if change is not None:
        change.note_added(table, row_id)


def _record_statement(state: ORMExecuteState) -> None:
    """Session event: note the table of an INSERT, UPDATE or DELETE run through the session."""
    change: Change | None = state.session.info.get(CHANGE)
    if change is None or not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name is not None:
        change.add("UPDATE" if state.is_update else "INSERT", name)


def _record_flush(session: Session, _context: Any, _instances: Any) -> None:
    """Session event: note the tables of the objects a flush writes (session.add and friends)."""
    change: Change | None = session.info.get(CHANGE)
    if change is None:
        return
    for verb, objects in (("INSERT", session.new), ("DELETE", session.deleted), ("UPDATE", session.dirty)):
        for obj in objects:
            change.add(verb, obj.__table__.name)


# Runs a hand-written statement (``:name`` parameters) and returns its rows: ``Sandbox.query``
# for a read on its own, or ``run_sql`` bound to a write's transaction.
Reader = Callable[[str, dict[str, Any]], list[Any]]


def run_sql(target: Session | RawTransaction, sql: str, params: dict[str, Any]) -> list[Any]:
    """Run ``sql`` (``:name`` parameters) straight through the driver, in a session's
    transaction or a :class:`RawTransaction`.

    For the few hottest queries only: SQLAlchemy's statement layer costs more than SQLite's
    own work there. Datetimes come back as stored (read them with :func:`wire.iso_stored`)
    and go in through :func:`db_time`.
    """
    if isinstance(target, RawTransaction):
        _record_sql(target.change, sql)
        return _execute(target.driver, target.dialect, sql, params)
    _record_sql(target.info.get(CHANGE), sql)
    connection = target.connection()
    return _execute(connection.connection.driver_connection, connection.dialect.name, sql, params)


def run_sql_many(target: RawTransaction, sql: str, rows: list[dict[str, Any]]) -> None:
    """Run ``sql`` once for each of ``rows`` in one call of the driver (``executemany``): many rows
    inserted at the cost of one statement's round of Python."""
    _record_sql(target.change, sql)
    text = _driver_sql(target.dialect, sql)
    cursor = target.driver.cursor()
    try:
        cursor.executemany(text, rows)
    finally:
        cursor.close()


def _driver_sql(dialect: str, sql: str) -> str:
    """``sql`` in the driver's parameter style (``:name`` on SQLite, ``%(name)s`` for psycopg), made once."""
    text = _sql_for_driver.get((dialect, sql))
    if text is None:
        text = sql if dialect == "sqlite" else _NAMED_PARAMETER.sub(r"%(\1)s", sql)
        _sql_for_driver[dialect, sql] = text
    return text


def _execute(driver_connection: Any, dialect: str, sql: str, params: dict[str, Any]) -> list[Any]:
    text = sql if dialect == "sqlite" else _driver_sql(dialect, sql)
    for watch in statement_watchers:
        watch(text, params)
    # The connection's own execute (sqlite3's and psycopg's): its cursor is made in C, and freed
    # with the last reference to it as this returns.
    cursor = driver_connection.execute(text, params)
    return cursor.fetchall() if cursor.description else []


def db_time(target: Session | RawTransaction, value: datetime) -> Any:
    """A naive UTC datetime as the database stores it (SQLAlchemy's text format on SQLite)."""
    dialect = target.dialect if isinstance(target, RawTransaction) else target.connection().dialect.name
    return _stored_text(value) if dialect == "sqlite" else value


@lru_cache(maxsize=8)
def _stored_text(value: datetime) -> str:
    # A write stores its one moment in several rows: the text is made once.
    return value.isoformat(" ", "microseconds")


_EPOCH = datetime(1970, 1, 1)


def db_optional_time(target: RawTransaction, value: datetime | None) -> Any:
    """:func:`db_time` of a nullable column."""
    return None if value is None else db_time(target, value)


def db_json(target: RawTransaction, value: Any) -> Any:
    """A value of a JSON column as the driver takes it: text on SQLite (as SQLAlchemy stores it),
    psycopg's JSON adapter on PostgreSQL."""
    if target.dialect == "sqlite":
        # orjson: a tenth of json.dumps' time (a campaign stores one value a number); the text
        # differs (compact, UTF-8), which every reader, json.loads included, takes alike.
        return orjson.dumps(value).decode()
    from psycopg.types.json import Json

    return Json(value)


def from_db_json(value: Any) -> Any:
    """A JSON column's value as read by hand-written SQL: SQLite returns its text, psycopg the value."""
    return json.loads(value) if isinstance(value, str) else value


@dataclass
class Fault:
    """A misbehaviour injected on paths matching ``pattern``: a regular expression in RE2's
    syntax, matched in linear time, so no pattern can stall the server."""

    pattern: str
    latency_ms: float = 0.0
    error_rate: float = 0.0
    error_status: int = 503
    rate_limit_rate: float = 0.0
    retry_after: int = 1
    methods: list[str] | None = None
    # "api": requests to the vendor APIs; "webhooks": outgoing webhook deliveries, whose
    # event type the pattern is searched in (see webhooks.py).
    target: str = "api"
    drop_rate: float = 0.0  # webhooks: share of events never delivered
    duplicate_rate: float = 0.0  # webhooks: share of events delivered twice
    compiled: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.compiled = compile_pattern(self.pattern)

    def matches(self, method: str, path: str) -> bool:
        if self.target != "api":
            return False
        if self.methods and method.upper() not in self.methods:
            return False
        return self.compiled.search(path) is not None

    def as_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}


CLOCK_KEY = "clock_offset_seconds"  # sandbox_state rows
FAULTS_KEY = "faults"
WEBHOOKS_KEY = "webhooks_version"  # changed by each change of any company's webhook settings
_SHARED_STATE_SQL = (f"SELECT key, value FROM sandbox_state "
                     f"WHERE key IN ('{CLOCK_KEY}', '{FAULTS_KEY}', '{WEBHOOKS_KEY}')")
REALISTIC_NEEDS_ONE_PROCESS = ("realistic mode counts each token's requests in one process: serve the sandbox "
                               "with a single worker to use it")
ACTIVITY_NEEDS_ONE_PROCESS = ("the world's activity is drawn by one process: serve the sandbox with a single "
                              "worker to use it")

LEELOO_RATE_LIMIT = 300  # requests per token per window (the vendor's wiki)
LEELOO_RATE_WINDOW_SECONDS = 60.0
RATE_LIMIT_MESSAGE = "Too many requests, please try again later."  # express-rate-limit's default text
RATE_LIMIT_KEYS = 10_000  # tokens tracked at once; beyond this the expired windows are dropped


@dataclass
class RateLimit:
    """Leeloo's rate limit in realistic mode: ``limit`` requests per token in fixed windows.

    As express-rate-limit's memory store counts: a token's window opens at its first request
    and lasts ``window_seconds`` of real (monotonic) time, whatever the sandbox clock says.
    """

    limit: int = LEELOO_RATE_LIMIT
    window_seconds: float = LEELOO_RATE_WINDOW_SECONDS
    # token -> [window start, requests counted]; never shown (the keys are tokens).
    windows: dict[str, list[float]] = field(default_factory=dict, repr=False)

    def retry_after(self, token: str, now: float) -> int | None:
        """Count one request of ``token``; the seconds to wait if it is over the limit, else None."""
        window = self.windows.get(token)
        if window is None or now - window[0] >= self.window_seconds:
            if window is None and len(self.windows) >= RATE_LIMIT_KEYS:
                self.windows = {key: w for key, w in self.windows.items() if now - w[0] < self.window_seconds}
                if len(self.windows) >= RATE_LIMIT_KEYS:
                    token = ""  # a flood of distinct tokens shares one window rather than growing the table
                    window = self.windows.get(token)
                    if window is not None and now - window[0] < self.window_seconds:
                        return self._count(window, now)
            self.windows[token] = [now, 1.0]
            return None
        return self._count(window, now)

    def _count(self, window: list[float], now: float) -> int | None:
        if window[1] >= self.limit:
            return max(1, math.ceil(window[0] + self.window_seconds - now))
        window[1] += 1
        return None


MAX_PATTERN = 500


def compile_pattern(pattern: str) -> Any:
    """A fault pattern compiled by RE2, whose matching time is linear in the path's length
    (Python's ``re`` backtracks: ``^/api/(a+)+$`` could hold the event loop for seconds).
    Raises ValueError naming what is wrong."""
    import re2

    if len(pattern) > MAX_PATTERN:
        raise ValueError(f"is longer than {MAX_PATTERN} characters")
    options = re2.Options()
    options.log_errors = False
    options.max_mem = 1 << 20
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else ""
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(f"is not a valid RE2 regular expression: {reason}") from None


@dataclass
class LoggedRequest:
    id: int
    at: datetime
    method: str
    path: str
    query: str
    api: str
    company_id: str | None
    status: int
    body: bytes  # at most LOGGED_BODY_BYTES of it; body_size tells how much was sent
    fault: str | None = None
    body_size: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": iso(self.at),
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "api": self.api,
            "company_id": self.company_id,
            "status": self.status,
            "body": self.body,
            "body_size": self.body_size,
            "body_truncated": self.body_size > len(self.body),
            "fault": self.fault,
        }


# One request as the log keeps it: a plain tuple, built in a few hundred nanoseconds and not
# followed by the garbage collector once it is old. A LoggedRequest object for each of the
# 100,000 entries kept (with its datetime and decoded query) cost the cached people page a
# quarter of its throughput under load: the log is written on every API request and read
# rarely, so the objects are built when read.
_Row = tuple[int, float, timedelta, str, str, bytes, "str | None", int, bytes, "str | None", int]


def _logged(row: _Row) -> LoggedRequest:
    entry_id, wall, offset, method, path, query, company_id, status, body, fault, body_size = row
    return LoggedRequest(id=entry_id, at=datetime.fromtimestamp(wall, UTC).replace(tzinfo=None) + offset,
                         method=method, path=path, query=query.decode("latin-1"), api=api_of(path),
                         company_id=company_id, status=status, body=body, fault=fault, body_size=body_size)


class RequestLog:
    """The request log: the newest entries, bounded in number and in the bytes of their bodies.

    Bodies arrive already cut to :data:`LOGGED_BODY_BYTES` (``guard.Front``), so
    the log holds at most :data:`REQUEST_LOG_BYTES` of bodies however large the requests.
    Entries are numbered from 1 (``last_id``: the newest entry's, kept across :meth:`clear`).
    """

    def __init__(self, max_entries: int = REQUEST_LOG_SIZE, max_bytes: int = REQUEST_LOG_BYTES) -> None:
        self._rows: deque[_Row] = deque()
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.stored_bytes = 0
        self.last_id = 0

    def record(self, method: str, path: str, query: bytes, company_id: str | None, status: int, body: bytes,
               fault: str | None, body_size: int, clock_offset: timedelta) -> None:
        """Log a request answered now (the sandbox clock: wall-clock UTC shifted by ``clock_offset``)."""
        self.last_id += 1
        rows = self._rows
        rows.append((self.last_id, time.time(), clock_offset, method, path, query, company_id, status, body,
                     fault, body_size))
        if body:
            self.stored_bytes += len(body)
        while len(rows) > self.max_entries or self.stored_bytes > self.max_bytes:
            self.stored_bytes -= len(rows.popleft()[8])

    def after(self, entry_id: int) -> Iterator[LoggedRequest]:
        """The entries numbered above ``entry_id``, oldest first (numbers run on without gaps)."""
        rows = list(self._rows)
        skip = entry_id - rows[0][0] + 1 if rows else 0
        return map(_logged, rows[max(skip, 0):])

    def recent(self, count: int, *, after: int = 0) -> list[LoggedRequest]:
        """The newest ``count`` entries (at most), oldest first; only those numbered above ``after``."""
        newest: list[LoggedRequest] = []
        for row in reversed(self._rows):
            if len(newest) >= count or row[0] <= after:
                break
            newest.append(_logged(row))
        newest.reverse()
        return newest

    def clear(self) -> None:
        self._rows.clear()
        self.stored_bytes = 0

    def __iter__(self) -> Iterator[LoggedRequest]:
        return map(_logged, list(self._rows))

    def __reversed__(self) -> Iterator[LoggedRequest]:
        return map(_logged, list(reversed(self._rows)))

    def __len__(self) -> int:
        return len(self._rows)


class Sandbox:
    def __init__(self, db_url: str = MEMORY_URL, *, seed: int = 1, people: int = 1000,
                 realistic: bool = False, activity: str | float | None = None,
                 webhook_url: str | None = None, shared: bool = False) -> None:
        from leadbridge.sandbox.activity import Activity
        from leadbridge.sandbox.webhooks import SESSION_KEY, Webhooks

        if shared and db_url == MEMORY_URL:
            raise ValueError("an in-memory database belongs to one process: it cannot be shared")
        if shared and realistic:
            raise ValueError(REALISTIC_NEEDS_ONE_PROCESS)
        if shared and activity is not None:
            raise ValueError(ACTIVITY_NEEDS_ONE_PROCESS)
        self.db_url = db_url
        # Served by several processes at once: see the module's notes and refresh().
        self.shared = shared
        self._shared_seen: dict[str, str] = {}
        self.seed = seed
        self.people = people
        self.engine = make_engine(db_url)
        self.webhooks = Webhooks(self)
        # Sessions carry the webhooks, so the state code can emit events (webhooks.emit).
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info={SESSION_KEY: self.webhooks})
        # Every write reports what it changed, so the caches drop only what that made stale.
        event.listen(self.sessions, "do_orm_execute", _record_statement)
        event.listen(self.sessions, "before_flush", _record_flush)
        self.clock_offset = timedelta(0)
        self.requests = RequestLog()
        # When set, the control API answers only requests carrying it (see control.py):
        # needed once the sandbox listens beyond loopback.
        self.control_token: str | None = None
        self.faults: list[Fault] = []
        # Counts, anchors, rendered pages and tokens: see cache.py.
        self.caches = Caches()
        self._reader: Any = None  # see query()
        # Realistic mode: Leeloo's rate limit is enforced (off by default so tests stay fast).
        self.rate_limit: RateLimit | None = RateLimit() if realistic else None
        # The demo tenant's webhook, set at start (leadbridge sandbox --webhook URL).
        self.webhook_url = webhook_url
        # The world moving on its own (leadbridge sandbox --activity), or None.
        self.activity: Activity | None = Activity(self, activity) if activity is not None else None

    @property
    def request_counter(self) -> int:
        """The number of the newest request logged (0 before the first)."""
        return self.requests.last_id

    @property
    def realistic(self) -> bool:
        return self.rate_limit is not None

    def set_realistic(self, enabled: bool, *, limit: int = LEELOO_RATE_LIMIT,
                      window_seconds: float = LEELOO_RATE_WINDOW_SECONDS) -> None:
        """Switch realistic mode; switching it (on again, too) starts every token's count afresh."""
        if enabled and self.shared:
            raise ApiError(409, REALISTIC_NEEDS_ONE_PROCESS, field="enabled")
        self.rate_limit = RateLimit(limit, window_seconds) if enabled else None

    # --- lifecycle ---------------------------------------------------------------------

    def start(self, *, reset: bool = False, progress: Progress | None = None) -> None:
        """Create or migrate the schema, then seed demo data if the database is empty.

        ``progress(tenant, people drawn, people wanted)`` is called as seeding goes.
        """
        from leadbridge.sandbox import seed as seeding
        from leadbridge.sandbox.migrations import upgrade

        if reset:
            self._drop_all()
        memory = self.db_url == MEMORY_URL
        if not (memory and seeding.copy_image(self.engine, seed=self.seed, people=self.people)):
            upgrade(self.engine, memory=memory)
            with self.engine.connect() as conn:
                interrupted = seeding.seeding_interrupted(conn)
            if interrupted:  # a seeding stopped half-way: start it again from nothing
                self._drop_all()
                upgrade(self.engine, memory=memory)
        with self.sessions() as session:
            empty = session.execute(select(schema.Company.id).limit(1)).first() is None
            offset = session.get(schema.SandboxState, CLOCK_KEY)
        if empty:
            seeding.seed_all(self.engine, seed=self.seed, people=self.people, progress=progress)
            if memory:
                seeding.keep_image(self.engine, seed=self.seed, people=self.people)
        self.clock_offset = timedelta(seconds=float(offset.value)) if offset else timedelta(0)
        self.invalidate()
        self.webhooks.load()
        if self.webhook_url:
            from leadbridge.contract.leeloo import WEBHOOK_EVENTS as EVENT_TYPES
            from leadbridge.sandbox.seed import TENANTS

            self.webhooks.configure(TENANTS[0].company_id, enabled=True, url=self.webhook_url,
                                    events=list(EVENT_TYPES))
        if self.activity is not None:
            self.activity.begin()

    def reset(self) -> None:
        self.requests.clear()
        self.faults.clear()
        self.webhooks.clear()
        if self.rate_limit is not None:
            self.rate_limit.windows.clear()
        self.start(reset=True)  # sandbox_state is dropped too: no process keeps a fault or a clock offset

    def close(self) -> None:
        """Stop the webhook deliveries and release the database connections (the sandbox can
        be started again)."""
        self.webhooks.stop()
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self.engine.dispose()

    def _drop_all(self) -> None:
        from leadbridge.sandbox import search

        with self.engine.begin() as conn:
            search.drop_index(conn)
        schema.Base.metadata.drop_all(self.engine)
        with self.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))

    def cache(self, company_id: str) -> CompanyCache:
        """The company's derived values and rendered pages (see cache.py)."""
        return self.caches.of(company_id)

    def invalidate(self, company_id: str | None = None, change: Change | None = None) -> None:
        """Drop what ``change`` made stale in the company's cache (its whole cache when None;
        with no company, every cache and the tokens)."""
        self.caches.invalidate(company_id, change)

    # --- transactions ------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    def query(self, sql: str, params: dict[str, Any]) -> list[Any]:
        """A hand-written read (``:name`` parameters) on a connection kept open for reads.

        For the hottest reads: no session and no transaction to begin and roll back. The
        connection runs outside any transaction (autocommit), so it sees every committed
        write and holds no locks between requests.
        """
        return _execute(self._kept_connection(), self.engine.dialect.name, sql, params)

    def _kept_connection(self) -> Any:
        """The driver connection kept open for query() and raw_write(), in autocommit mode."""
        if self._reader is None:
            self._reader = self.engine.raw_connection()
            if self.engine.dialect.name == "postgresql":
                self._reader.driver_connection.autocommit = True
        return self._reader.driver_connection

    @contextmanager
    def raw_write(self, company_id: str) -> Iterator[RawTransaction]:
        """One transaction of hand-written SQL (:func:`run_sql`) on the kept-open connection,
        committed whole or rolled back whole: the write path of every vendor API's write.

        A session's set-up, pool check-out, unit of work and tear-down cost more than the few
        statements of a write themselves. After the commit the company's cache drops what the
        statements changed and the webhook events they caused are queued.
        """
        driver = self._kept_connection()
        dialect = self.engine.dialect.name
        transaction = RawTransaction(driver, dialect, self.webhooks.wants)
        if dialect == "postgresql":
            with driver.transaction():
                yield transaction
        else:
            # IMMEDIATE: the write lock is taken before the first lookup, so a file database
            # served by several processes makes a concurrent write wait (busy timeout) instead of
            # failing when this transaction's reads turn into its writes.
            driver.execute("BEGIN IMMEDIATE")
            try:
                yield transaction
            except BaseException:
                driver.rollback()
                raise
            driver.commit()
        self.invalidate(company_id, transaction.change)
        for event_company, event_type, data in transaction.events:
            self.webhooks.enqueue(event_company, event_type, data)

    @contextmanager
    def write(self, company_id: str | None = None) -> Iterator[Session]:
        """One transaction: committed whole or rolled back whole."""
        change = Change()
        with self.sessions() as session, session.begin():
            session.info[CHANGE] = change
            yield session
        self.caches.invalidate(company_id or None, change)

    # --- state shared by the processes of one sandbox --------------------------------

    def refresh(self) -> None:
        """Take up what the other processes of a shared sandbox changed (nothing if not shared).

        Called as each request starts. The caches of data are dropped (another process may
        have written since), but for what only seeding writes (``cache.SEEDED_ONLY``), and the
        clock offset and the faults are read again from
        ``sandbox_state``, in one query of at most three rows; a change of the webhook settings
        (``WEBHOOKS_KEY``) reloads them.
        """
        if not self.shared:
            return
        self.caches.drop_derived()
        rows = dict(self.query(_SHARED_STATE_SQL, {}))
        if rows == self._shared_seen:
            return
        if rows.get(WEBHOOKS_KEY) != self._shared_seen.get(WEBHOOKS_KEY):
            self.webhooks.load()
        self._shared_seen = rows
        offset = rows.get(CLOCK_KEY)
        self.clock_offset = timedelta(seconds=float(offset)) if offset else timedelta(0)
        self.faults = [Fault(**spec) for spec in json.loads(rows.get(FAULTS_KEY) or "[]")]

    def add_fault(self, fault: Fault) -> None:
        self.faults.append(fault)
        self._publish_faults()

    def clear_faults(self) -> None:
        self.faults.clear()
        self._publish_faults()

    def _publish_faults(self) -> None:
        if self.shared:
            with self.write() as session:
                session.merge(schema.SandboxState(key=FAULTS_KEY, value=json.dumps([f.as_json() for f in self.faults])))

    # --- clock -------------------------------------------------------------------------

    def now(self) -> datetime:
        """The sandbox clock: wall-clock UTC shifted by every ``/_sandbox/clock/advance``."""
        # The epoch plus the system clock's microseconds: a naive UTC datetime in half the time
        # of datetime.now(UTC).replace(tzinfo=None), and every write asks.
        return _EPOCH + timedelta(microseconds=time.time_ns() // 1000) + self.clock_offset

    def advance_clock(self, seconds: float) -> datetime:
        self.refresh()  # from the offset the other processes see, not this one's last
        self.clock_offset += timedelta(seconds=seconds)
        with self.write() as session:
            session.merge(schema.SandboxState(key=CLOCK_KEY, value=str(self.clock_offset.total_seconds())))
        return self.now()

    # --- auth --------------------------------------------------------------------------

    def leeloo_company(self, token: str | None) -> str:
        if not token:
            # As observed: FORMAT_ERROR with the field authToken REQUIRED.
            raise ApiError(401, "auth token is missing: send the X-Leeloo-AuthToken header or the authToken "
                           "query parameter", field="authToken", field_code="REQUIRED", error_code="FORMAT_ERROR")
        company_id = self.caches.tokens.get("leeloo:" + token)
        if company_id is None:
            with self.read() as session:
                company_id = session.scalar(
                    select(schema.Company.id).where(schema.Company.leeloo_token == token)
                )
            if company_id is None:
                raise ApiError(401, "Invalid auth token", field="authToken", field_code="INVALID")
            self.caches.tokens["leeloo:" + token] = company_id
        return company_id

    def bearer_company(self, authorization: str | None, table: type[schema.NeirosToken | schema.DialogToken]) -> str:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise ApiError(401, "Unauthenticated.")
        token = authorization[7:].strip()
        key = f"{table.__tablename__}:{token_hash(token)}"
        company_id = self.caches.tokens.get(key)
        if company_id is None:
            with self.read() as session:
                company_id = session.scalar(
                    select(table.company_id).where(table.token_hash == token_hash(token))
                )
            if company_id is None:
                raise ApiError(401, "Unauthenticated.")
            self.caches.tokens[key] = company_id
        return company_id

    def issue_token(self, table: type[schema.NeirosToken | schema.DialogToken], company_id: str) -> str:
        """A Sanctum-style ``<id>|<secret>`` token; only its hash is stored."""
        secret = secrets.token_urlsafe(30).replace("-", "x").replace("_", "y")[:40]
        with self.write() as session:
            row = table(company_id=company_id, token_hash="pending", created_at=self.now())
            session.add(row)
            session.flush()
            token = f"{row.id}|{secret}"
            row.token_hash = token_hash(token)
        return token
