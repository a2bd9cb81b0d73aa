"""The ledger: every unit of work and every external side effect, with its state.

A *unit* is one lead, one dialog result, one deal, one order (or a campaign batch, or a
person's revenue): ``pending`` → ``claimed`` (by one runner) → ``done`` | ``failed`` |
``skipped`` | ``uncertain``. An *effect* is one call to a platform that changes something
(a campaign created, a call added, a tag put): ``intended`` is committed before the call
and ``done`` after it, so after a crash the ledger tells what may have happened.

Claiming is safe with several runners: on PostgreSQL ``SELECT … FOR UPDATE SKIP LOCKED``
picks rows nobody else is claiming; on SQLite a guarded ``UPDATE … WHERE state =
'pending'`` does (SQLite serialises writers). A runner holds a liveness lock for its
lifetime (a PostgreSQL advisory lock, or an ``flock`` on a file beside the SQLite ledger);
the kernel or the server drops it when the process dies, even by SIGKILL, and the units
the dead runner had claimed go back to ``pending`` for the next run, which consults their
effects before doing anything again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, ClassVar, Literal, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Connection,
    CursorResult,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    case,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import PoolProxiedConnection, StaticPool

from leadbridge.flows import migrations

UnitState = Literal["pending", "claimed", "done", "failed", "skipped", "uncertain"]
EffectState = Literal["intended", "done", "failed", "uncertain"]
UNIT_STATES: tuple[UnitState, ...] = ("pending", "claimed", "done", "failed", "skipped", "uncertain")
Id = BigInteger().with_variant(Integer, "sqlite")
READ_ONLY = "leadbridge_read_only"
# A failed unit is claimed again by later runs until it has been claimed this many times.
MAX_ATTEMPTS = 5
# Ids in one statement's IN list.
ID_BATCH = 500


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, datetime: DateTime()}


class UnitRow(Base):
    __tablename__ = "lb_unit"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    flow: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(200))
    # A second identity that must also be unique (a lead's E.164 phone: never called twice).
    dedupe: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # A unit whose dedupe another unit already held: that unit's key (the unit itself is skipped).
    duplicate_of: Mapped[str | None] = mapped_column(String(200), nullable=True)
    parent_id: Mapped[int | None] = mapped_column(Id, nullable=True, index=True)
    state: Mapped[str] = mapped_column(String(20))
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("flow", "kind", "key", name="uq_lb_unit_key"),
        UniqueConstraint("flow", "kind", "dedupe", name="uq_lb_unit_dedupe"),
        Index("ix_lb_unit_claim", "flow", "kind", "state", "id"),
    )


# The units' table itself, for statements on many rows that need none of the ORM's bookkeeping.
UNIT_TABLE = cast(Table, UnitRow.__table__)


class EffectRow(Base):
    __tablename__ = "lb_effect"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("lb_unit.id"))
    name: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("unit_id", "name", name="uq_lb_effect"),)


class RunnerRow(Base):
    """Who holds claims: one row per runner alive (or killed before it could remove its row)."""

    __tablename__ = "lb_runner"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    # The process's start in the kernel's clock ticks since boot (Linux), so a pid reused by
    # another process after a reboot or a wrap-around is not taken for the runner.
    process_start: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    started_at: Mapped[datetime]
    seen_at: Mapped[datetime]  # the heartbeat: renewed with each claim


@dataclass
class RunnerInfo:
    """A runner holding claims, as ``flows status`` shows it."""

    id: str
    host: str | None
    pid: int | None
    started_at: datetime | None
    seen_at: datetime | None
    alive: bool
    claims: dict[tuple[str, str], int]


class LedgerError(Exception):
    """The ledger cannot be opened (bad URL, database unreachable, missing driver, no permission)."""


class RunRow(Base):
    """One run of flows (``flows run``, a ``watch`` round, the demo): when, what, counts and how it ended."""

    __tablename__ = "lb_run"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    runner: Mapped[str] = mapped_column(String(64))
    flows: Mapped[str] = mapped_column(String(200))  # comma-separated, in the order run
    dry_run: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # flow → what → count
    exit: Mapped[str | None] = mapped_column(String(40), nullable=True)  # ok | stopped by an error | interrupted


@dataclass
class Run:
    id: int
    flows: list[str]
    dry_run: bool
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, dict[str, int]]
    exit: str | None
    runner: str


@dataclass
class Unit:
    id: int
    flow: str
    kind: str
    key: str
    state: str
    payload: dict[str, Any]
    parent_id: int | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    attempts: int = 0
    updated_at: datetime | None = None
    duplicate_of: str | None = None  # the key of the unit that holds this one's dedupe

    @classmethod
    def of(cls, row: UnitRow | Row[Any]) -> Unit:
        return cls(row.id, row.flow, row.kind, row.key, row.state, dict(row.payload or {}), row.parent_id,
                   row.result, row.error, row.attempts, row.updated_at, row.duplicate_of)


@dataclass
class Effect:
    name: str
    state: str
    detail: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    updated_at: datetime | None = None  # when the effect reached its state (UTC)


@dataclass
class NewUnit:
    key: str
    payload: dict[str, Any]
    dedupe: str | None = None
    state: UnitState = "pending"
    error: str | None = None
    parent_id: int | None = None
    duplicate_of: str | None = None  # set by Ledger.add_units: the key of the unit holding ``dedupe``


@dataclass
class AddResult:
    added: list[NewUnit] = field(default_factory=list)
    known: int = 0

    @property
    def duplicates(self) -> list[NewUnit]:
        """The units recorded as skipped because another unit holds their ``dedupe``."""
        return [unit for unit in self.added if unit.duplicate_of is not None]


@dataclass(frozen=True)
class RetryRule:
    """What ``Ledger.resolve(…, "retry")`` does to a unit of one flow's kind, beyond the plain retry.

    The plain retry forgets the unit's unsettled effects and puts it back to ``pending``. A
    flow whose units are gathered into batches says here how its batches are retried.
    """

    # The unit is a batch that is not made again itself: it is ``failed``, its units queued again.
    requeues_children: bool = False
    # Such a batch's error, for a person to read (in the flow's words: "its leads are queued again").
    requeued_note: str = "not made; its units are queued again"
    # The unit leaves its batch when retried, to be gathered into a new one.
    leaves_batch: bool = False


# (flow, kind) → its rule; each flow's module registers its own (see ``retry_rule``).
RETRY_RULES: dict[tuple[str, str], RetryRule] = {}


def retry_rule(flow: str, kind: str, rule: RetryRule) -> None:
    """Declare how a person's ``retry`` applies to the units of ``flow``'s ``kind``."""
    RETRY_RULES[(flow, kind)] = rule


def _process_start(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot (Linux ``/proc``), or None if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count fields after its last ")".
    fields = stat[stat.rfind(")") + 2:].split()
    return int(fields[19]) if len(fields) > 19 and fields[19].isdigit() else None


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


HOST = socket.gethostname()[:255]
# A runner on another machine, on a SQLite ledger (no server-side lock to ask), is taken for
# gone once its heartbeat is this old. (SQLite ledgers are meant for one machine.)
SQLITE_REMOTE_LEASE_SECONDS = 3600


def _describe_open_error(exc: BaseException) -> str:
    """One line: why the database could not be opened (the driver's first line, no SQL, no traceback)."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()
    return (text[0] if text else type(original).__name__)[:300]


def _in_memory(engine: Engine) -> bool:
    """An in-memory SQLite database: one connection, shared by every thread, gone with the process."""
    return engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")


def make_ledger_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    memory = url in ("sqlite://", "sqlite:///:memory:")
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60},
                           poolclass=StaticPool if memory else None)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own BEGIN handling is switched off so a claim starts with BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # Writers take the write lock up front (no deadlock upgrading a read lock); readers do not wait.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")

    return engine


class DriverStatement:
    """A statement compiled once for the ledger's database and run on the driver's own cursor.

    Every step of every unit writes an effect's state, and every unit its settlement. Through
    SQLAlchemy each of those took about 150 µs of its per-execution work around 10 µs of
    SQLite's (py-spy of bench/flows.py), and the flows' workers share one interpreter. These
    two are compiled once, with the columns' own bind processors (JSON, dates as SQLAlchemy
    stores them), and run on the driver; everything else in the ledger stays on SQLAlchemy.
    """

    def __init__(self, statement: Any, engine: Engine, columns: Sequence[str]) -> None:
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect, column_keys=list(columns))
        self.sql: str = compiled.string
        # The parameters' names in order for a positional style (SQLite's "?"); None for named ones.
        self.positions: Sequence[str] | None = compiled.positiontup
        self.processors = {name: processor for name, bind in compiled.binds.items()
                           if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None}

    def params(self, values: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        processors = self.processors
        ready = {name: processors[name](value) if name in processors else value for name, value in values.items()}
        return ready if self.positions is None else tuple(ready[name] for name in self.positions)


Record = tuple[DriverStatement, "tuple[Any, ...] | dict[str, Any]"]


class _Liveness:
    """Tells whether the runner that claimed a unit is still alive."""

    def hold(self, runner: str) -> None: ...

    def release(self) -> None: ...

    def alive(self, runner: str) -> bool:
        raise NotImplementedError


class _ProcessLiveness(_Liveness):
    """An in-memory ledger lives in one process: only runners registered here exist."""

    _held: ClassVar[set[str]] = set()

    def __init__(self) -> None:
        self.runner: str | None = None

    def hold(self, runner: str) -> None:
        self.runner = runner
        self._held.add(runner)

    def release(self) -> None:
        if self.runner:
            self._held.discard(self.runner)

    def alive(self, runner: str) -> bool:
        return runner in self._held


class _FileLiveness(_Liveness):
    """An exclusive ``flock`` on ``<ledger>.runners/<runner>.lock``; the kernel drops it at death."""

    def __init__(self, database: str) -> None:
        self.directory = Path(database + ".runners")
        self.handle: IO[str] | None = None
        self.path: Path | None = None

    def hold(self, runner: str) -> None:
        import fcntl

        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / f"{runner}.lock"
        self.handle = self.path.open("w")
        fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def release(self) -> None:
        if self.handle:
            self.handle.close()
            self.handle = None
        if self.path:
            self.path.unlink(missing_ok=True)

    def alive(self, runner: str) -> bool:
        import fcntl

        path = self.directory / f"{runner}.lock"
        try:
            handle = path.open("a")
        except FileNotFoundError:
            return False
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            path.unlink(missing_ok=True)
            return False


class _AdvisoryLiveness(_Liveness):
    """A session-level PostgreSQL advisory lock held on a dedicated connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connection: Connection | None = None

    @staticmethod
    def key(runner: str) -> int:
        return int.from_bytes(hashlib.sha256(runner.encode()).digest()[:8], "big", signed=True)

    def hold(self, runner: str) -> None:
        self.connection = self.engine.connect()
        self.connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": self.key(runner)})
        self.connection.commit()

    def release(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                self.connection.close()
            self.connection = None

    def alive(self, runner: str) -> bool:
        with self.engine.connect() as conn:
            free = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key(runner)}).scalar()
            if free:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key(runner)})
            conn.commit()
            return not free


class Ledger:
    """The flows' record of work. Every method is one short transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine = make_ledger_engine(url)
        except Exception as exc:  # a URL SQLAlchemy cannot parse, an unknown dialect, a missing driver
            raise LedgerError(f"ledger.url: not a usable database URL ({_describe_open_error(exc)})") from None
        self.dialect = self.engine.dialect.name
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.runner = f"{HOST[:20]}-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        try:
            self._open_schema()
            database = self.engine.url.database
            if self.dialect == "postgresql":
                self.liveness: _Liveness = _AdvisoryLiveness(self.engine)
            elif self.single_connection or not database:
                self.liveness = _ProcessLiveness()
            else:
                self.liveness = _FileLiveness(database)
            self.liveness.hold(self.runner)
            self._register_runner()
        except (SQLAlchemyError, OSError) as exc:
            self.engine.dispose()
            where = self.engine.url.render_as_string(hide_password=True)
            raise LedgerError(f"ledger.url: cannot open the ledger {where}: {_describe_open_error(exc)}") from None
        self._lock = threading.Lock()
        # Set when the runner is asked to stop (SIGTERM): no new unit is claimed, work in flight ends.
        self.stopping = threading.Event()
        self._mutexes: dict[str, threading.Lock] = {}
        self._deferred = threading.local()
        # SQLite has one writer at a time and its busy handler sleeps in steps of milliseconds:
        # this process's threads queue on a lock instead (other processes still use the handler).
        self._write_lock: contextlib.AbstractContextManager[Any] = (
            threading.Lock() if self.dialect == "sqlite" else contextlib.nullcontext())
        upsert = self.insert(EffectRow.__table__)
        self._mark_statement = DriverStatement(upsert.on_conflict_do_update(
            index_elements=["unit_id", "name"],
            set_={"state": upsert.excluded.state, "detail": upsert.excluded.detail, "error": upsert.excluded.error,
                  "updated_at": upsert.excluded.updated_at}),
            self.engine, ["unit_id", "name", "state", "detail", "error", "updated_at"])
        self._settle_statements: dict[tuple[str, ...], DriverStatement] = {}
        self._kept_writer: PoolProxiedConnection | None = None

    @property
    def single_connection(self) -> bool:
        """Whether the ledger is one connection shared by every thread (in-memory SQLite).

        Such a ledger lives in this process only, and its work is done one thread at a time.
        """
        return _in_memory(self.engine)

    def _open_schema(self) -> None:
        """Create the ledger, or bring an older one up to this release's schema (Alembic)."""
        with self.engine.begin() as conn:
            if self.single_connection:
                Base.metadata.create_all(conn)
                return
            if self.dialect == "postgresql":  # runners starting together must not race on the schema
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AdvisoryLiveness.key("schema")})
            if migrations.current_revision(conn) != migrations.HEAD:
                migrations.upgrade(conn)

    def _register_runner(self) -> None:
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(insert(RunnerRow).values(
                id=self.runner, host=HOST, pid=os.getpid(), process_start=_process_start(os.getpid()),
                started_at=now, seen_at=now))

    def close(self) -> None:
        if self._kept_writer is not None:
            self._kept_writer.close()
            self._kept_writer = None
        with contextlib.suppress(SQLAlchemyError), self.engine.begin() as conn:
            conn.execute(delete(RunnerRow).where(RunnerRow.id == self.runner))
        self.liveness.release()
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction; this thread's deferred records are committed with it, first."""
        with self._write_lock, self.sessions() as session, session.begin():
            self._flush(session.connection())
            yield session

    @contextlib.contextmanager
    def _writing(self) -> Iterator[Connection]:
        with self._write_lock, self.engine.begin() as conn:
            self._flush(conn)
            yield conn

    def flush(self) -> None:
        """Commit this thread's deferred records now (a worker thread does before it ends)."""
        if self._deferred.__dict__.get("records"):
            self._commit(None)

    def _flush(self, conn: Connection) -> None:
        pending: list[Record] | None = self._deferred.__dict__.get("records")
        while pending:
            statement, params = pending.pop(0)
            conn.exec_driver_sql(statement.sql, params)

    def _defer(self, record: Record) -> None:
        self._deferred.__dict__.setdefault("records", []).append(record)

    def _commit(self, record: Record | None) -> None:
        """This thread's deferred records and ``record``, in one transaction on the driver's connection.

        A driver error comes out as SQLAlchemy's, as from any other write of the ledger.
        """
        pending: list[Record] = self._deferred.__dict__.setdefault("records", [])
        if record is not None:
            pending.append(record)
        driver_error = self.engine.dialect.loaded_dbapi.Error
        with self._write_lock:
            connection, self._kept_writer = self._kept_writer or self.engine.raw_connection(), None
            statement: str | None = None
            try:
                cursor = connection.cursor()
                if self.dialect == "sqlite":  # pysqlite's own transaction handling is off (make_ledger_engine)
                    statement = "BEGIN IMMEDIATE"
                    cursor.execute(statement)
                while pending:
                    driver_statement, params = pending.pop(0)
                    statement = driver_statement.sql
                    cursor.execute(statement, params)
                statement = "COMMIT"
                connection.commit()
            except BaseException as exc:
                try:
                    connection.rollback()
                finally:
                    connection.close()
                if isinstance(exc, driver_error):
                    raise DBAPIError.instance(statement, None, exc, driver_error, hide_parameters=True) from exc
                raise
            if self.dialect == "sqlite":  # one write at a time (the write lock): one connection kept for them
                self._kept_writer = connection
            else:
                connection.close()

    def insert(self, table: Any) -> Any:
        """An INSERT of this ledger's database, which takes ``ON CONFLICT`` clauses."""
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        return dialect.insert(table)

    @contextlib.contextmanager
    def mutex(self, name: str) -> Iterator[None]:
        """Mutual exclusion on ``name`` among this runner's threads and, on PostgreSQL, all runners."""
        with self._lock:
            local = self._mutexes.setdefault(name, threading.Lock())
        with local:
            if self.dialect != "postgresql":
                yield
                return
            key = _AdvisoryLiveness.key("mutex:" + name)
            with self.engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
                conn.commit()
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()

    # --- units ------------------------------------------------------------------------

    def add_units(self, flow: str, kind: str, units: Sequence[NewUnit]) -> AddResult:
        """Record new units; keys already known are counted, not changed.

        A unit whose ``dedupe`` another unit already holds is recorded as ``skipped``, with
        the other's key as its ``duplicate_of`` (so it is reported once, not lost).
        """
        result = AddResult()
        if not units:
            return result
        now = utcnow()
        with self.transaction() as session:
            keys = [u.key for u in units]
            known = set(session.scalars(select(UnitRow.key).where(
                UnitRow.flow == flow, UnitRow.kind == kind, UnitRow.key.in_(keys))))
            dedupes = [u.dedupe for u in units if u.dedupe and u.key not in known]
            holders = dict(session.execute(select(UnitRow.dedupe, UnitRow.key).where(
                UnitRow.flow == flow, UnitRow.kind == kind, UnitRow.dedupe.in_(dedupes))).all()) \
                if dedupes else {}
            rows = []
            for unit in units:
                if unit.key in known:
                    result.known += 1
                    continue
                known.add(unit.key)
                dedupe = unit.dedupe
                if dedupe is not None and dedupe in holders:
                    holder = holders[dedupe]
                    unit = NewUnit(unit.key, unit.payload, dedupe, "skipped", f"duplicate of {holder} (same {dedupe})",
                                   unit.parent_id, duplicate_of=holder)
                elif dedupe is not None:
                    holders[dedupe] = unit.key
                result.added.append(unit)
                # A duplicate's dedupe stays out of the column that must be unique (it names the holder).
                rows.append({"flow": flow, "kind": kind, "key": unit.key,
                             "dedupe": None if unit.duplicate_of else unit.dedupe,
                             "duplicate_of": unit.duplicate_of,
                             "parent_id": unit.parent_id, "state": unit.state, "owner": None, "attempts": 0,
                             "payload": unit.payload, "result": None, "error": unit.error,
                             "created_at": now, "updated_at": now})
            if rows:
                # A runner racing on the same keys loses quietly; the next discovery sees the winner.
                # The table's INSERT, not the ORM's: an executemany without building objects per row.
                session.execute(self.insert(UNIT_TABLE).on_conflict_do_nothing(), rows)
        return result

    def known_keys(self, flow: str, kind: str, keys: Sequence[str]) -> dict[str, str]:
        """key → state of the given keys that the ledger already holds."""
        if not keys:
            return {}
        with self.sessions() as session:
            return dict(session.execute(select(UnitRow.key, UnitRow.state).where(
                UnitRow.flow == flow, UnitRow.kind == kind, UnitRow.key.in_(keys))).all())

    def claim(self, flow: str, kind: str, limit: int, *, parent: Literal["any", "none", "some"] = "any",
              states: Sequence[str] = ("pending",)) -> list[Unit]:
        """Take up to ``limit`` units for this runner; no other runner gets them (none once stopping)."""
        if self.stopping.is_set():
            return []
        conditions = [UnitRow.flow == flow, UnitRow.kind == kind, UnitRow.state.in_(states)]
        if parent == "none":
            conditions.append(UnitRow.parent_id.is_(None))
        elif parent == "some":
            conditions.append(UnitRow.parent_id.is_not(None))
        now = utcnow()
        with self.transaction() as session:
            if self.dialect == "postgresql":
                ids = list(session.scalars(select(UnitRow.id).where(*conditions).order_by(UnitRow.id)
                                           .limit(limit).with_for_update(skip_locked=True)))
                if not ids:
                    return []
                session.execute(update(UNIT_TABLE).where(UnitRow.id.in_(ids))
                                .values(state="claimed", owner=self.runner, updated_at=now,
                                        attempts=UnitRow.attempts + 1))
            else:
                picked = select(UnitRow.id).where(*conditions).order_by(UnitRow.id).limit(limit).scalar_subquery()
                ids = list(session.scalars(
                    # The table's UPDATE: the ORM's would look for each claimed row in the session.
                    update(UNIT_TABLE).where(UnitRow.id.in_(picked), UnitRow.state.in_(states))
                    .values(state="claimed", owner=self.runner, updated_at=now, attempts=UnitRow.attempts + 1)
                    .returning(UnitRow.id)))
                if not ids:
                    return []
            session.execute(update(RunnerRow).where(RunnerRow.id == self.runner).values(seen_at=now))
            # Rows of the table, not ORM objects: a claim of thousands builds no identity map.
            rows = session.execute(select(UNIT_TABLE).where(UnitRow.id.in_(ids)).order_by(UnitRow.id))
            return [Unit.of(row) for row in rows]

    def create_claimed(self, flow: str, kind: str, key: str, payload: dict[str, Any],
                       children: Sequence[int] = (), effect: str | None = None) -> Unit:
        """A new unit already claimed by this runner, adopting ``children`` (and its first effect intended)."""
        now = utcnow()
        with self.transaction() as session:
            row = UnitRow(flow=flow, kind=kind, key=key, dedupe=None, duplicate_of=None, parent_id=None,
                          state="claimed", owner=self.runner, attempts=1, payload=payload, result=None, error=None,
                          created_at=now, updated_at=now)
            session.add(row)
            session.flush()
            if children:
                session.execute(update(UnitRow).where(UnitRow.id.in_(children), UnitRow.owner == self.runner)
                                .values(parent_id=row.id, updated_at=now))
            if effect:
                session.add(EffectRow(unit_id=row.id, name=effect, state="intended", detail={}, updated_at=now))
            return Unit.of(row)

    def finish(self, unit_id: int | Sequence[int], state: UnitState, *, result: dict[str, Any] | None = None,
               error: str | None = None, defer: bool = False, detach: bool = False) -> None:
        """Settle claimed units (only this runner's claims); ``detach``: and take them out of their batch.

        ``defer`` lets a single unit's record ride with this thread's next write: if the runner
        dies first, the unit is claimed again and, its effects all ``done``, settled at once.
        """
        ids = [unit_id] if isinstance(unit_id, int) else list(unit_id)
        if not ids:
            return
        values: dict[str, Any] = {"state": state, "updated_at": utcnow(), "error": error}
        if state == "pending":
            values["owner"] = None
        if detach:
            values["parent_id"] = None
        if result is not None:
            values["result"] = result
        if len(ids) == 1:
            record = self._settle_record(ids[0], values)
            if defer:
                self._defer(record)
            else:
                self._commit(record)
            return
        with self._writing() as conn:
            for start in range(0, len(ids), ID_BATCH):
                conn.execute(update(UnitRow).where(UnitRow.id.in_(ids[start:start + ID_BATCH]),
                                                   UnitRow.owner == self.runner).values(**values))

    def _settle_record(self, unit_id: int, values: dict[str, Any]) -> Record:
        """The driver statement that settles one of this runner's claims with ``values``."""
        columns = tuple(values)
        statement = self._settle_statements.get(columns)
        if statement is None:
            statement = self._settle_statements[columns] = DriverStatement(
                update(UnitRow).where(UnitRow.id == bindparam("unit_id"), UnitRow.owner == bindparam("runner")),
                self.engine, columns)
        return statement, statement.params({**values, "unit_id": unit_id, "runner": self.runner})

    def set_payloads(self, payloads: dict[int, dict[str, Any]]) -> None:
        """Replace the payloads of units this runner has claimed (built again from the current configuration)."""
        if not payloads:
            return
        now = utcnow()
        with self._writing() as conn:
            for unit_id, payload in payloads.items():
                conn.execute(update(UnitRow).where(UnitRow.id == unit_id, UnitRow.owner == self.runner,
                                                   UnitRow.state == "claimed").values(payload=payload, updated_at=now))

    def release(self, unit_ids: Sequence[int], *, detach: bool = False) -> None:
        """Hand this runner's claims back to ``pending`` (``detach``: and out of their batch)."""
        values: dict[str, Any] = {"state": "pending", "owner": None, "updated_at": utcnow()}
        if detach:
            values["parent_id"] = None
        with self.transaction() as session:
            for start in range(0, len(unit_ids), ID_BATCH):
                session.execute(update(UnitRow).where(UnitRow.id.in_(unit_ids[start:start + ID_BATCH]),
                                                      UnitRow.owner == self.runner).values(**values))

    def release_claims(self, runner: str | None = None) -> int:
        """Put every unit ``runner`` (default: this runner) has claimed back to ``pending``.

        For a runner stopping on purpose (SIGTERM, Ctrl-C): the next run takes the units up
        at once instead of waiting to find the runner gone. Their effects stay recorded, so
        nothing made is made twice. Returns how many units went back.

        Call it once the signal has unwound the run (from a ``finally``), not inside a signal
        handler: the handler may interrupt this thread while it holds the ledger's write lock.
        A worker still finishing a released unit changes nothing (it no longer owns it).
        """
        owner = runner or self.runner
        with self.transaction() as session:
            result = session.execute(update(UnitRow).where(UnitRow.owner == owner, UnitRow.state == "claimed")
                                     .values(state="pending", owner=None, updated_at=utcnow()))
            return cast(CursorResult[Any], result).rowcount or 0

    def retry_failed(self, flow: str, kind: str, max_attempts: int = MAX_ATTEMPTS) -> int:
        """Failed units go back to ``pending`` once per run, until ``max_attempts`` claims."""
        with self.transaction() as session:
            result = session.execute(update(UnitRow).where(
                UnitRow.flow == flow, UnitRow.kind == kind, UnitRow.state == "failed",
                UnitRow.attempts < max_attempts).values(state="pending", owner=None, updated_at=utcnow()))
            return cast(CursorResult[Any], result).rowcount or 0

    def reopen(self, flow: str, kind: str, key: str, payload: dict[str, Any]) -> bool:
        """Put a settled unit back to pending with a new payload (its effects are forgotten)."""
        with self.transaction() as session:
            row = session.scalar(select(UnitRow).where(UnitRow.flow == flow, UnitRow.kind == kind,
                                                       UnitRow.key == key).with_for_update())
            if row is None or row.state == "claimed" or row.payload == payload:
                return False
            if row.state == "pending":
                row.payload, row.updated_at = payload, utcnow()
                return False
            row.payload, row.state, row.error, row.owner, row.updated_at = payload, "pending", None, None, utcnow()
            session.execute(delete(EffectRow).where(EffectRow.unit_id == row.id))
            return True

    def get(self, unit_id: int) -> Unit | None:
        with self.sessions() as session:
            row = session.get(UnitRow, unit_id)
            return Unit.of(row) if row else None

    def owner(self, unit_id: int) -> str | None:
        """The runner holding ``unit_id`` (None when nobody does)."""
        with self.sessions() as session:
            return session.scalar(select(UnitRow.owner).where(UnitRow.id == unit_id))

    def children(self, parent_id: int) -> list[Unit]:
        with self.sessions() as session:
            return [Unit.of(r) for r in session.scalars(select(UnitRow).where(UnitRow.parent_id == parent_id))]

    def units(self, flow: str, kind: str, states: Sequence[str] | None = None) -> Iterator[Unit]:
        """Stream units (in id order, in pages, so a large ledger is never held at once)."""
        last = 0
        while True:
            with self.sessions() as session:
                query = select(UnitRow).where(UnitRow.flow == flow, UnitRow.kind == kind, UnitRow.id > last)
                if states is not None:
                    query = query.where(UnitRow.state.in_(states))
                rows = session.scalars(query.order_by(UnitRow.id).limit(1000)).all()
            if not rows:
                return
            for row in rows:
                yield Unit.of(row)
            last = rows[-1].id

    def runner_alive(self, runner: str) -> bool:
        """Whether the runner that claimed units is still running.

        On the runner's own machine its recorded pid settles it (not running, or running but
        started at another moment: the pid was reused). Otherwise the runner's liveness lock
        does: a PostgreSQL advisory lock, which the server drops when the runner's connection
        ends, wherever it ran; on SQLite an ``flock`` beside the ledger file, or, for a runner
        on another machine, a heartbeat older than ``SQLITE_REMOTE_LEASE_SECONDS``.
        """
        if runner == self.runner:
            return True
        with self.sessions() as session:
            row = session.get(RunnerRow, runner)
        if row is not None and row.host == HOST and not self.single_connection:
            if not _pid_running(row.pid):
                return False
            started = _process_start(row.pid)
            if row.process_start is not None and started is not None and started != row.process_start:
                return False
        if row is not None and row.host != HOST and self.dialect == "sqlite":
            return (utcnow() - row.seen_at).total_seconds() < SQLITE_REMOTE_LEASE_SECONDS
        return self.liveness.alive(runner)

    def runners(self) -> list[RunnerInfo]:
        """The runners holding claims, with what they hold and whether they are still running."""
        with self.sessions() as session:
            rows = session.execute(select(UnitRow.owner, UnitRow.flow, UnitRow.kind, func.count())
                                   .where(UnitRow.state == "claimed", UnitRow.owner.is_not(None))
                                   .group_by(UnitRow.owner, UnitRow.flow, UnitRow.kind)).all()
            claims: dict[str, dict[tuple[str, str], int]] = {}
            for owner, flow, kind, count in rows:
                if owner is not None:
                    claims.setdefault(owner, {})[(flow, kind)] = count
            known = {r.id: r for r in session.scalars(select(RunnerRow).where(RunnerRow.id.in_(list(claims))))}
        infos = []
        for owner, held in sorted(claims.items()):
            row = known.get(owner)
            infos.append(RunnerInfo(owner, row.host if row else None, row.pid if row else None,
                                    row.started_at if row else None, row.seen_at if row else None,
                                    self.runner_alive(owner), held))
        return infos

    def claimed_by(self, runner: str, limit: int = 20) -> list[Unit]:
        with self.sessions() as session:
            rows = session.scalars(select(UnitRow).where(UnitRow.owner == runner, UnitRow.state == "claimed")
                                   .order_by(UnitRow.id).limit(limit)).all()
        return [Unit.of(row) for row in rows]

    def reclaim_stale(self, flow: str) -> int:
        """Return the claims of dead runners to ``pending``; their effects stay recorded."""
        with self.sessions() as session:
            owners = set(session.scalars(select(UnitRow.owner).where(
                UnitRow.flow == flow, UnitRow.state == "claimed", UnitRow.owner.is_not(None)).distinct()))
        reclaimed = 0
        for owner in owners:
            if owner is None or self.runner_alive(owner):
                continue
            with self.transaction() as session:
                result = session.execute(
                    update(UnitRow).where(UnitRow.flow == flow, UnitRow.owner == owner, UnitRow.state == "claimed")
                    .values(state="pending", owner=None, updated_at=utcnow()))
                reclaimed += cast(CursorResult[Any], result).rowcount or 0
                still_holds = session.scalar(select(UnitRow.id).where(UnitRow.owner == owner,
                                                                      UnitRow.state == "claimed").limit(1))
                if still_holds is None:
                    session.execute(delete(RunnerRow).where(RunnerRow.id == owner))
        return reclaimed

    def resolve(self, unit_id: int, action: Literal["done", "retry", "skip"]) -> str:
        """A person's verdict on a unit that needs one, after checking the platform by hand.

        ``done``: it happened, never make it; ``retry``: it did not happen, make it again on
        the next run (with a fresh allowance of attempts); ``skip``: never make it, and say
        so. Any state short of settled can be resolved: ``uncertain``, ``failed``,
        ``pending`` (a unit waiting on a cause a person must fix) and ``claimed`` by a
        runner that is gone. A unit claimed by a running runner is refused.
        """
        now = utcnow()
        unit = self.get(unit_id)
        if unit is None:
            raise KeyError(f"no unit #{unit_id} in the ledger")
        owner = self.owner(unit_id) if unit.state == "claimed" else None
        if owner and self.runner_alive(owner):
            raise ValueError(f"unit #{unit_id} is being processed by the running runner {owner}; "
                             "wait for it to finish (or stop it) first")
        with self.transaction() as session:
            row = session.get(UnitRow, unit_id, with_for_update=True)
            if row is None:
                raise KeyError(f"no unit #{unit_id} in the ledger")
            if row.state not in ("uncertain", "failed", "pending", "claimed"):
                raise ValueError(f"unit #{unit_id} is {row.state}; only uncertain, failed, pending or claimed "
                                 "units are resolved")
            # A batch's units still waiting on it (uncertain; or claimed, when its runner died mid-call).
            children = update(UnitRow).where(UnitRow.parent_id == row.id,
                                             UnitRow.state.in_(["uncertain", "claimed", "pending"])).values(owner=None)
            # Kept at 1 once claimed (not 0): a unit with attempts > 1 has its recorded effects consulted.
            fresh_attempts = case((UnitRow.attempts > 1, 1), else_=UnitRow.attempts)
            if action == "done":
                session.execute(update(EffectRow).where(EffectRow.unit_id == row.id,
                                                        EffectRow.state.in_(["uncertain", "intended"]))
                                .values(state="done", error="resolved by hand", updated_at=now))
                row.state, row.error = "done", "resolved by hand: done"
                session.execute(children.values(state="done", error="resolved by hand: done", updated_at=now))
            elif action == "skip":
                row.state, row.error = "skipped", "resolved by hand: skipped"
                session.execute(children.values(state="skipped", error="resolved by hand: skipped",
                                                updated_at=now))
            elif (rule := RETRY_RULES.get((row.flow, row.kind), RetryRule())).requeues_children:
                row.state, row.error = "failed", f"resolved by hand: {rule.requeued_note}"
                session.execute(children.values(state="pending", parent_id=None, owner=None, error=None,
                                                attempts=fresh_attempts, updated_at=now))
            else:
                session.execute(delete(EffectRow).where(EffectRow.unit_id == row.id,
                                                        EffectRow.state.in_(["uncertain", "intended", "failed"])))
                row.state, row.error = "pending", None
                if rule.leaves_batch:
                    row.parent_id = None
                session.execute(update(UnitRow).where(UnitRow.id == row.id).values(attempts=fresh_attempts))
            row.owner, row.updated_at = None, now
            return f"unit #{row.id} {row.flow}/{row.kind} {row.key}: {row.state}"

    # --- effects ----------------------------------------------------------------------

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        """A read-only connection: on SQLite it takes no write lock, so runners are never held up."""
        with self.engine.connect() as conn:
            yield conn.execution_options(**{READ_ONLY: True})

    def effects(self, unit_id: int) -> dict[str, Effect]:
        effect = EffectRow.__table__.c
        with self.reading() as conn:
            rows = conn.execute(select(effect.name, effect.state, effect.detail, effect.error, effect.updated_at)
                                .where(effect.unit_id == unit_id).order_by(effect.updated_at, effect.id)).all()
        return {name: Effect(name, state, dict(detail or {}), error, at) for name, state, detail, error, at in rows}

    def mark(self, unit_id: int, name: str, state: EffectState, detail: dict[str, Any] | None = None,
             error: str | None = None, *, defer: bool = False) -> None:
        """Record an effect's state, committed before this returns.

        ``defer`` (for ``done`` only) lets the record ride with this thread's next ledger write,
        which always comes before the next side effect: one commit fewer per step, and a crash
        in between leaves the effect ``intended``, exactly as a crash just before the commit would.
        """
        statement = self._mark_statement
        record = statement, statement.params({"unit_id": unit_id, "name": name, "state": state,
                                              "detail": detail or {}, "error": error, "updated_at": utcnow()})
        if defer:
            self._defer(record)
        else:
            self._commit(record)

    # --- reporting --------------------------------------------------------------------

    def counts(self) -> dict[tuple[str, str], dict[str, int]]:
        """(flow, kind) → state → number of units."""
        with self.sessions() as session:
            rows = session.execute(select(UnitRow.flow, UnitRow.kind, UnitRow.state, func.count())
                                   .group_by(UnitRow.flow, UnitRow.kind, UnitRow.state)).all()
        table: dict[tuple[str, str], dict[str, int]] = {}
        for flow, kind, state, count in rows:
            table.setdefault((flow, kind), {})[state] = count
        return table

    def attention(self, limit: int = 50) -> list[Unit]:
        """Units a person should look at: uncertain first, then failed, then skipped."""
        order = {"uncertain": 0, "failed": 1}
        with self.sessions() as session:
            rows = session.scalars(select(UnitRow).where(UnitRow.state.in_(list(order)))
                                   .order_by(UnitRow.updated_at.desc()).limit(limit)).all()
        return sorted((Unit.of(r) for r in rows), key=lambda u: order[u.state])

    # --- the history of runs ----------------------------------------------------------

    def start_run(self, flows: Sequence[str], *, dry_run: bool = False) -> int:
        with self.transaction() as session:
            row = RunRow(runner=self.runner, flows=",".join(flows), dry_run=dry_run, started_at=utcnow(), counts={})
            session.add(row)
            session.flush()
            return row.id

    def finish_run(self, run_id: int, counts: dict[str, dict[str, int]], exit: str) -> None:
        with self.transaction() as session:
            session.execute(update(RunRow).where(RunRow.id == run_id)
                            .values(finished_at=utcnow(), counts=counts, exit=exit))

    def runs(self, limit: int = 50) -> list[Run]:
        """The latest runs, newest first; a run without ``finished_at`` is going on (or its runner died)."""
        with self.sessions() as session:
            rows = session.scalars(select(RunRow).order_by(RunRow.id.desc()).limit(limit)).all()
        return [Run(r.id, r.flows.split(",") if r.flows else [], r.dry_run, r.started_at, r.finished_at,
                    dict(r.counts or {}), r.exit, r.runner) for r in rows]
