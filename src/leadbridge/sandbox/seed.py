"""Demo data: the same for the same seed, realistic (ru_RU), and fast to generate.

Faker's ru_RU word lists are read once and combined with a seeded ``random.Random``:
calling Faker per field would cost tens of microseconds a value and make a million
people take minutes. Rows are written in batches of bounded size as they are drawn (see
:meth:`DemoData.checkpoint`), each batch committed as it goes, so a million people never sit
in memory at once. Batches go straight to the driver as tuples (:class:`Layout`):
``executemany`` on SQLite, ``COPY`` on PostgreSQL (the SQLAlchemy statement layer would
cost more per row than drawing the row itself). People are drawn oldest first, so new ids
land at the end of the primary keys' indexes, and while the rows go in the database does
the least it can (:func:`_bulk_loading`); secondary and search indexes are built at the end.
A large SQLite file is written by a loader process (:mod:`leadbridge.sandbox.sqlite_loader`)
while this one draws the next batch.

Seeding can be stopped at any point (Ctrl-C stops it between two batches). The database
then carries the :data:`SEEDING_MARK` row, and the next start drops what was written and
seeds again from the start: the same seed gives the same data, so this restart is clean.

Objects whose ids appear in the documents' examples (and that no documented call can
list or create) are seeded with exactly those ids, so the examples run verbatim against
the demo tenant; see :data:`DOC_IDS`.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import sys
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import permutations
from typing import Any

from faker.providers.internet.ru_RU import Provider as InternetProvider
from faker.providers.person.ru_RU import Provider as PersonProvider
from sqlalchemy import JSON, Boolean, Connection, DateTime, Engine, Table, delete, insert, select

from leadbridge.sandbox import schema, search, tunnel_stats
from leadbridge.sandbox.search import normalise, person_search_text
from leadbridge.sandbox.sqlite_loader import Loader

# Demo data is anchored to a fixed instant, not to "now", so one seed gives one data set.
ANCHOR = datetime(2026, 11, 1)
MESSENGERS = ["TELEGRAM", "VKONTAKTE", "FACEBOOK", "VIBER", "WHATSAPP", "INSTAGRAM"]
CONNECTION_TYPES = {
    "TELEGRAM": "telegram",
    "VKONTAKTE": "vkontakte",
    "FACEBOOK": "facebook",
    "VIBER": "viber",
    "WHATSAPP": "whatsapp",
    "INSTAGRAM": "instagram",
    "SMS": "sms",
    "EMAIL": "sendGrid",
}
LEADGENTOOL_TYPES = ["LINK", "QR", "WIDGET", "POPUP", "FORM", "FB_AD", "DEFAULT"]
CURRENCIES = ["RUB", "USD", "EUR", "UAH"]
# Leeloo orders: manual ones (first) move OPENED -> RESOLVED | REJECTED, payment-system ones
# follow the payment; both status sets are documented.
PAYMENT_SYSTEMS = [("MANUAL", "Ручная оплата"), ("WAYFORPAY", "WayForPay"), ("YANDEX_MONEY", "ЮMoney"),
                   ("ASSET_PAYMENT", "AssetPayment")]
ORDER_STATUSES = {
    True: ("OPENED", "RESOLVED", "RESOLVED", "REJECTED"),
    False: ("ORDER", "PENDING", "FAILED", "SUCCESS", "SUCCESS", "REFUNDED"),
}
NEIROS_CHANNELS = [
    ("Google", "google"),
    ("Яндекс.Директ", "yandex"),
    ("Органический поиск", "organic"),
    ("Прямые заходы", "direct"),
    ("ВКонтакте", "vk.com"),
    ("Telegram", "t.me"),
]
# Site names of the document's GET /sites example; the deals example uses site 100.
NEIROS_SITE_NAMES = {100: "demo-shop.ru", 19: "wistis.ru", 53: "autokovrik.ru", 167: "yandex.ru",
                     174: "plugin.wistis.ru", 200: "second-shop.ru", 201: "blog.second-shop.ru"}
NEIROS_DOC_DEALS = (1, 8, 100)
NEIROS_DOC_WINDOW_END = datetime(2023, 1, 1)
DIALOG_FIRST_CAMPAIGN_ID = 12345
DIALOG_CAMPAIGN_BASE_KEY = "dialog_campaign_base:"
NEIROS_STAGES = ["Неразобранное", "В работе", "Переговоры", "Успешно реализовано", "Закрыто и не реализовано"]
CUSTOMER_LINES = [
    "Здравствуйте! Сколько стоит доставка?",
    "Добрый день, хочу записаться на консультацию",
    "Подскажите, есть ли скидки?",
    "Спасибо, всё понятно",
    "А можно оплатить картой?",
    "Когда будет следующий вебинар?",
]
BOT_LINES = [
    "Здравствуйте, {name}! Чем можем помочь?",
    "Спасибо за обращение! Менеджер свяжется с вами в ближайшее время.",
    "Вот наш каталог: https://example.com/catalog",
    "Напоминаем о вебинаре завтра в 19:00 (МСК).",
]


@dataclass(frozen=True)
class Tenant:
    company_id: str
    name: str
    leeloo_token: str
    neiros_email: str
    neiros_password: str
    neiros_user_id: int
    dialog_login: str
    dialog_password: str
    people_share: float  # of --people
    site_ids: tuple[int, ...]
    dialog_project_id: int
    dialog_scenario_id: int
    dialog_start_block_id: int
    dialog_phone_id: int


# The demo tenant owns every id the documents' examples use; the others prove isolation.
TENANTS = (
    Tenant(
        "5b9f63e3d244d2000e27692f", "Demo company", "demo-leeloo-token",
        "demo@neiros.local", "demo", 176, "demo", "demo",
        1.0, (100, 19, 53, 167, 174), 1, 951, 10, 5,
    ),
    Tenant(
        "6a0f63e3d244d2000e270001", "Second company", "second-leeloo-token",
        "second@neiros.local", "second", 177, "second", "second",
        0.05, (200, 201), 2, 952, 20, 6,
    ),
)

# Ids taken from the documents' examples, seeded into the demo tenant.
DOC_IDS = {
    "payment_credits": "5e3c3533f04b1f000c27b534",
    "offer": "5e3c357bf04b1f000c27b83a",
    "order_person": "5e1c4676b70fb2001279c268",
    "order_manager": "5e1c1236b70fb3331279c444",
    # The documents use this id as the placeholder of every path parameter.
    "placeholder": "5b3f543bb2737000133d25b0",
    "owner": "5b9f63e3d244d2000e276957",  # created_by of the documents' comment and traffic source
    "template": "5e42be758d4fff000cafe6ef",
    "template_account": "5e42be688d4fff000cafe5cc",
    "person_leadgentool": "609290d3e060416cdea6823e",
    "person_user": "609290d3e060416cdea68444",
    "sms_connection": "5dbfe6c5fb73e101720b3dc7",
    "sms_leadgentool": "5e1f119d6c384804b31e945e",
    "sms_tag": "5cf7a18586236d000b1256b2",
    "call_user": "5b0d313b307879002915b3cc",
    "call_account": "6b0d313b307879002915b3c1",
    "user": "632af797bd3cc466fe1af584",
    "contacted_user": "60509800acc5ae000d74ce21",
    "v1_account": "59bbc641b1223300210cdf2f",
    "v1_user": "58be00d668aaeaded60aa186",
}


_TRANSLITERATION = str.maketrans(dict(InternetProvider.replacements))
EPOCH = datetime(1970, 1, 1)
SECOND = timedelta(seconds=1)
# Offsets the people's rows are drawn with, made once: building a timedelta per row costs more
# than the rest of the row.
MINUTES = tuple(timedelta(minutes=n) for n in range(3000))
DAYS = tuple(timedelta(days=n) for n in range(20))


def _email_local(name: str) -> str:
    """The part of an email address a name gives (the number after it is drawn apart)."""
    latin = name.lower().translate(_TRANSLITERATION)
    latin = "".join(ch for ch in latin if ch.isascii() and (ch.isalnum() or ch == " "))
    return latin.replace(" ", ".")


def _oid(seconds: int, bits: int) -> str:
    """An ObjectId of an instant (whole seconds since the epoch) and 64 drawn bits."""
    return f"{seconds & 0xFFFFFFFF:08x}{bits:016x}"


def _seconds(at: datetime) -> int:
    """Whole seconds since the epoch of a naive UTC instant."""
    return (at - EPOCH) // SECOND


def _iso(at: datetime) -> str:
    # SQLAlchemy's SQLite storage format, which PostgreSQL's COPY reads as a timestamp too.
    return at.isoformat(" ", "microseconds")


# Rows drawn before they are written out and committed; small enough to bound memory at any
# --people, and a batch takes a fraction of a second, so Ctrl-C is answered at once.
FLUSH_ROWS = 50_000
Progress = Callable[[str, int, int], None]
# SQLite's page cache while seeding (KiB): the tables' last pages stay in memory; a larger one
# only adds memory (the indexes are built as fast with this one).
SEEDING_CACHE_KIB = 32 * 1024
REBUILD_INDEXES_FROM = 20_000  # people
# Helper threads of SQLite's sorter while it builds those indexes (SQLite caps them, at 8 by
# default): a large index is sorted in parts side by side (1,000,000 people: the indexes take
# about a quarter less time, for a fifth more CPU).
SORTER_THREADS = os.cpu_count() or 1
# From this many people a SQLite file is written by a loader process of its own while the rows
# are drawn (sqlite_loader.py); below it seeding takes under a second, and the process gains nothing.
LOADER_FROM = 5_000  # people
# In sandbox_state while seeding runs: its presence at start means seeding was interrupted.
SEEDING_MARK = "seeding_incomplete"
Row = tuple[Any, ...]


class Layout:
    """The columns a table's seeded rows are written with, in order, and a row given by column
    key made into a tuple of them, as SQLAlchemy would bind it: a missing column gets its
    Python default, datetimes become SQLAlchemy's SQLite text (which PostgreSQL's ``COPY``
    reads too), JSON its text, booleans 1 or 0. An autoincrement id is left to the database.

    ``unset`` names nullable columns that every seeded row leaves NULL: they are left out of
    the INSERT (and of the tuples), as binding None costs the ``sqlite3`` module a search for
    an adapter for each value, and booleans are 1 and 0 for the same reason (an exact int is
    bound directly, a bool is not).
    """

    def __init__(self, model: type[schema.Base], keys: str | None = None, unset: str = "") -> None:
        table = model.__table__
        assert isinstance(table, Table)
        columns = {column.key: column for column in table.columns
                   if not (column.primary_key and column.autoincrement is True)}
        order = tuple(keys.split()) if keys else tuple(key for key in columns if key not in unset.split())
        self.unset = tuple(unset.split())
        if sorted(order + self.unset) != sorted(columns):
            raise ValueError(f"{table.name}: rows are drawn as {order} with {self.unset} unset, "
                             f"the table has {tuple(columns)}")
        for key in self.unset:
            if not columns[key].nullable or columns[key].default is not None:
                raise ValueError(f"{table.name}.{key} cannot be left unset: it is not null or has a default")
        self.table = table
        self.keys = order
        names = ", ".join(f'"{columns[key].name}"' for key in order)
        self.insert_sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" * len(order))})'
        self.copy_sql = f'COPY "{table.name}" ({names}) FROM STDIN'
        self._columns = [(key, columns[key].default, _converter(columns[key])) for key in order]

    def row(self, values: dict[str, Any]) -> Row:
        for key in self.unset:
            if values.get(key) is not None:
                raise ValueError(f"{self.table.name}.{key} is left unset in seeded rows, not {values[key]!r}")
        out = []
        for key, default, convert in self._columns:
            if key in values:
                value = values[key]
            elif default is None:
                value = None
            else:
                value = default.arg if default.is_scalar else default.arg(None)  # type: ignore[attr-defined]
            out.append(value if convert is None or value is None else convert(value))
        return tuple(out)


def _converter(column: Any) -> Callable[[Any], Any] | None:
    if isinstance(column.type, DateTime):
        return _iso
    if isinstance(column.type, JSON):
        return json.dumps
    if isinstance(column.type, Boolean):
        return int
    return None


# The hot tables' rows are built as tuples in these orders (checked against the tables here).
PERSON_ROW = Layout(schema.Person, "id company_id name phone email gender locale profile_image custom_fields "
                                   "last_message_time created_at updated_at search_text")
ACCOUNT_ROW = Layout(schema.Account, "id company_id person_id connection_id messenger name bot_status "
                                     "connection_status utm_marks last_message_time created_at updated_at")
MESSAGE_ROW = Layout(schema.Message, "id company_id account_id text type read created_by created_at updated_at",
                     unset="template_id")
PERSON_TAG_ROW = Layout(schema.PersonTag, "person_id tag_id")
CONTACTED_ROW = Layout(schema.ContactedUser, "person_id user_id")
SUBSCRIPTION_ROW = Layout(schema.Subscription, "company_id person_id account_id tunnel_id leadgentool_id "
                                               "traffic_source_id created_at", unset="tunnel_block_id")
ORDER_ROW = Layout(schema.Order, "id company_id person_id offer_id tunnel_id title description price currency "
                                 "status payment_method payment_credits_id email phone is_notify_account "
                                 "transaction_date payment_date created_at updated_at",
                   unset="manager_id user_comments")
DEAL_ROW = Layout(schema.Deal, "id company_id site_id neiros_visit neiros_id created_at phone duration record "
                               "canal traffic summ status")
_LAYOUTS = {layout.table: layout for layout in (PERSON_ROW, ACCOUNT_ROW, MESSAGE_ROW, PERSON_TAG_ROW,
                                                CONTACTED_ROW, SUBSCRIPTION_ROW, ORDER_ROW, DEAL_ROW)}


def _layout(model: type[schema.Base]) -> Layout:
    table = model.__table__
    assert isinstance(table, Table)
    layout = _LAYOUTS.get(table)
    if layout is None:
        layout = _LAYOUTS[table] = Layout(model)
    return layout


class DemoData:
    """Draws one tenant's rows and hands them to a :class:`RowWriter` in chunks.

    Kept as a class so the helper RNG and clock are shared. Rows wait in ``rows`` (as tuples
    of their table's :class:`Layout`) until :meth:`checkpoint` finds enough of them; builders
    call it at points where every pending row's references are pending too or already
    written (between two people).
    """

    def __init__(self, tenant: Tenant, rng: random.Random, writer: RowWriter | None = None) -> None:
        self.tenant = tenant
        self.rng = rng
        self.writer = writer
        self.rows: dict[Table, list[Row]] = {}
        self.pending = 0

    def rows_of(self, layout: Layout) -> list[Row]:
        """The pending rows of a table; the list stays the same object across flushes."""
        rows = self.rows.get(layout.table)
        if rows is None:
            rows = self.rows[layout.table] = []
        return rows

    def add(self, model: type[schema.Base], **row: Any) -> dict[str, Any]:
        if model is schema.Person:
            row["search_text"] = person_search_text(row["name"], row.get("email"), row.get("phone"))
        layout = _layout(model)
        self.rows_of(layout).append(layout.row(row))
        self.pending += 1
        return row

    def checkpoint(self) -> None:
        if self.writer is not None and self.pending >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        """Write every pending row, parents before children (the metadata's table order)."""
        if self.writer is None:
            return
        for table in schema.Base.metadata.sorted_tables:
            rows = self.rows.get(table)
            if rows:
                self.writer.insert(_LAYOUTS[table], rows)
                rows.clear()
        self.writer.commit()
        self.pending = 0

    def past(self, days: float) -> datetime:
        """A random instant within ``days`` before the anchor, at millisecond precision."""
        return _before_anchor(self.rng.random(), days)

    def oid(self, at: datetime | None = None) -> str:
        return _oid(_seconds(at or self.past(720)), self.rng.getrandbits(64))

    def person_name(self) -> tuple[str, str]:
        if self.rng.random() < 0.5:
            return f"{self.rng.choice(MALE_FIRST)} {self.rng.choice(MALE_LAST)}", "MALE"
        return f"{self.rng.choice(FEMALE_FIRST)} {self.rng.choice(FEMALE_LAST)}", "FEMALE"


def _before_anchor(share: float, days: float) -> datetime:
    """The instant ``share`` of ``days`` before the anchor, at millisecond precision."""
    moment = ANCHOR - timedelta(seconds=share * days * 86400)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _largest_first(random: Callable[[], float], count: int) -> Iterator[float]:
    """``count`` uniform draws from [0, 1), drawn largest first, one at a time: the largest of
    m uniform draws is U ** (1/m), and the others lie uniformly below it."""
    share = 1.0
    for left in range(count, 0, -1):
        share *= random() ** (1 / left)
        yield share


MALE_FIRST: Sequence[str] = PersonProvider.first_names_male
MALE_LAST: Sequence[str] = PersonProvider.last_names_male
FEMALE_FIRST: Sequence[str] = PersonProvider.first_names_female
FEMALE_LAST: Sequence[str] = PersonProvider.last_names_female


def seed_all(engine: Engine, *, seed: int, people: int, progress: Progress | None = None) -> None:
    """Seed every tenant; ``progress(tenant name, people drawn, people wanted)`` after each batch.

    Each batch is committed as it is written; :data:`SEEDING_MARK` stays in the database
    until the last one is, so an interrupted seeding is seen (and redone) at the next start.
    """
    # Secondary indexes and the people's search index are built once at the end: sorting a
    # column once costs far less than keeping an index in order through a million inserts in
    # random key order. (Below REBUILD_INDEXES_FROM people the rebuild costs more than it saves.)
    indexes = [index for table in schema.Base.metadata.sorted_tables for index in table.indexes
               ] if people >= REBUILD_INDEXES_FROM else []
    with engine.connect() as conn:
        conn.execute(insert(schema.SandboxState).values(key=SEEDING_MARK, value="1"))
        for index in indexes:
            index.drop(conn)
        search_index = search.suspend_index(conn)
        conn.commit()
        with _bulk_loading(conn):
            with _loader_for(conn, people) as loader:
                for number, tenant in enumerate(TENANTS):
                    rng = random.Random(f"{seed}:{number}")
                    count = people if number == 0 else max(10, int(people * tenant.people_share))
                    writer = RowWriter(conn, tenant.name, count, progress, loader)
                    data = DemoData(tenant, rng, writer)
                    build_tenant(data, count, demo=number == 0)
                    data.flush()
                    writer.report(count)
            for index in indexes:
                index.create(conn)
            if search_index:
                search.resume_index(conn)
            tunnel_stats.recount(conn)  # the rows went in without the writes that keep them
            conn.commit()
        conn.execute(delete(schema.SandboxState).where(schema.SandboxState.key == SEEDING_MARK))
        conn.commit()


@contextmanager
def _bulk_loading(conn: Connection) -> Iterator[None]:
    """Settings of the seeding connection while the rows go in, restored after.

    SQLite: foreign keys are not checked (the rows are drawn consistent, and checking costs a
    lookup a reference), nothing is synced to disk before the end (an interrupted seeding is
    redone from the start anyway), a larger page cache keeps the tables' last pages in memory,
    the sorts that build the indexes at the end use every core (:data:`SORTER_THREADS`), and a
    database in WAL mode takes a rollback journal meanwhile (:func:`_leave_wal`).
    PostgreSQL: commits do not wait for the disk.
    """
    driver = conn.connection.driver_connection
    assert driver is not None
    if conn.dialect.name == "sqlite":
        # PRAGMA foreign_keys is ignored inside a transaction: end the driver's one first.
        driver.commit()
        seeding = {"foreign_keys": 0, "synchronous": 0, "cache_size": -SEEDING_CACHE_KIB, "threads": SORTER_THREADS}
        before = {pragma: driver.execute(f"PRAGMA {pragma}").fetchone()[0] for pragma in seeding}
        for pragma, value in seeding.items():
            driver.execute(f"PRAGMA {pragma} = {value}")
        wal = _leave_wal(driver)
        try:
            yield
        finally:
            driver.rollback()  # nothing uncommitted may survive an interruption
            for pragma, value in before.items():
                driver.execute(f"PRAGMA {pragma} = {value}")
            if wal:
                _return_to_wal(driver)
    else:
        conn.exec_driver_sql("SET synchronous_commit TO off")
        conn.commit()
        try:
            yield
        finally:
            driver.rollback()
            conn.exec_driver_sql("RESET synchronous_commit")
            conn.commit()


@contextmanager
def _loader_for(conn: Connection, people: int) -> Iterator[Loader | None]:
    """A loader process writing this seeding's rows, when the database is a SQLite file and the
    seeding large enough (see :data:`LOADER_FROM`); None otherwise, and the rows are written on
    ``conn``. Once the block ends every row sent is written; if it raises, the process is
    stopped and what it had not committed is rolled back."""
    url = conn.engine.url
    usable = (conn.dialect.name == "sqlite" and people >= LOADER_FROM and url.database not in (None, "", ":memory:")
              and not url.query and bool(sys.executable) and os.path.isfile(Loader.script))
    if not usable:
        yield None
        return
    assert url.database is not None
    loader = Loader(url.database, SEEDING_CACHE_KIB)
    try:
        yield loader
    except BaseException:
        loader.stop()
        raise
    loader.finish()


def _leave_wal(driver: Any) -> bool:
    """Use a rollback journal instead of the write-ahead log, if the database is in WAL mode and
    no other connection has it open; whether it was switched.

    Pages added at the end of the file are not journaled, so the rows are written once, where
    the WAL would take them and the checkpoint write them again.
    """
    if driver.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        return False
    try:
        return bool(driver.execute("PRAGMA journal_mode = truncate").fetchone()[0] == "truncate")
    except sqlite3.OperationalError:  # another connection is reading it: stay in WAL mode
        return False


def _return_to_wal(driver: Any) -> None:
    # Should another connection be reading it now, the next connection made switches it back
    # (state.make_engine).
    with suppress(sqlite3.OperationalError):
        driver.execute("PRAGMA journal_mode = wal")


# Seeded in-memory databases of this process, by (seed, people), as SQLite's serialized
# image: a new in-memory sandbox of a seed and size seen before starts from a copy instead of
# drawing its data again (test suites start one per test). Small ones only, a few at a time.
_SEEDED_IMAGES: OrderedDict[tuple[int, int], bytes] = OrderedDict()
IMAGES_KEPT = 4
IMAGE_PEOPLE_AT_MOST = 5_000


def keep_image(engine: Engine, *, seed: int, people: int) -> None:
    """Keep the image of a freshly seeded in-memory database (see :func:`copy_image`)."""
    if people > IMAGE_PEOPLE_AT_MOST:
        return
    with engine.connect() as conn:
        serialize = getattr(conn.connection.driver_connection, "serialize", None)
        if serialize is None:  # a SQLite built without it
            return
        _SEEDED_IMAGES[(seed, people)] = serialize()
    while len(_SEEDED_IMAGES) > IMAGES_KEPT:
        _SEEDED_IMAGES.popitem(last=False)


def forget_images() -> None:
    """Drop the kept images: the next in-memory sandbox of any seed and size draws its data."""
    _SEEDED_IMAGES.clear()


def copy_image(engine: Engine, *, seed: int, people: int) -> bool:
    """Fill an empty in-memory database with the kept image of this seed and size, if there is
    one: the same schema and rows that seeding it would make, in a fraction of the time."""
    image = _SEEDED_IMAGES.get((seed, people))
    if image is None:
        return False
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        if driver.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            return False
        driver.commit()
        driver.deserialize(image)
    _SEEDED_IMAGES.move_to_end((seed, people))
    return True


def seeding_interrupted(conn: Connection) -> bool:
    """Whether the database holds a seeding that never finished."""
    state = schema.SandboxState
    return conn.execute(select(state.key).where(state.key == SEEDING_MARK)).first() is not None


class RowWriter:
    """Bulk inserts of :class:`Layout` tuples, each batch its own transaction: ``executemany`` on
    SQLite, ``COPY`` on PostgreSQL (the SQLAlchemy statement layer would cost more per row than
    drawing the row itself), or, given a :class:`Loader`, sent to that process, which inserts
    them into the SQLite file while the next rows are drawn."""

    def __init__(self, conn: Connection, label: str = "", total: int = 0, progress: Progress | None = None,
                 loader: Loader | None = None) -> None:
        if conn.dialect.name not in ("sqlite", "postgresql"):
            raise ValueError(f"demo data is written to SQLite or PostgreSQL, not {conn.dialect.name}")
        self.driver: Any = conn.connection.driver_connection
        self.sqlite = conn.dialect.name == "sqlite"
        self.loader = loader
        self.label = label
        self.total = total
        self.progress = progress
        self.people = 0
        self.reported = -1

    def insert(self, layout: Layout, rows: list[Row]) -> None:
        if self.loader is not None:
            self.loader.insert(layout.insert_sql, rows)
        else:
            cursor = self.driver.cursor()
            try:
                if self.sqlite:
                    cursor.executemany(layout.insert_sql, rows)
                else:
                    with cursor.copy(layout.copy_sql) as copy:
                        for row in rows:
                            copy.write_row(row)
            finally:
                cursor.close()
        if layout is PERSON_ROW:
            self.people += len(rows)
            self.report(self.people)

    def commit(self) -> None:
        """Commit the batch written so far (on the driver's connection, which the rows went through,
        or in the loader process)."""
        if self.loader is not None:
            self.loader.commit()
        else:
            self.driver.commit()

    def report(self, people: int) -> None:
        if self.progress is not None and people != self.reported:
            self.reported = people
            self.progress(self.label, people, self.total)


def build_tenant(data: DemoData, people: int, *, demo: bool) -> None:
    t = data.tenant
    rng = data.rng
    data.add(
        schema.Company,
        id=t.company_id, name=t.name, leeloo_token=t.leeloo_token,
        neiros_email=t.neiros_email, neiros_password=t.neiros_password,
        neiros_user_id=t.neiros_user_id, neiros_user_name="Тест" if demo else t.name,
        dialog_login=t.dialog_login, dialog_password=t.dialog_password,
    )
    cid = t.company_id
    ctx: dict[str, Any] = {"company_id": cid}

    users = []
    for _ in range(6):
        created = data.past(900)
        name = data.person_name()[0].split()[0]
        users.append(data.add(schema.User, id=data.oid(created), company_id=cid, name=name,
                              created_at=created, updated_at=data.past(30)))
    ctx["users"] = users

    connections = {}
    for messenger, kind in CONNECTION_TYPES.items():
        connections[messenger] = data.add(
            schema.Connection, id=data.oid(), company_id=cid, type=kind,
            name=f"{kind.capitalize()} bot", messenger=messenger,
        )
    ctx["connections"] = connections

    tag_names = ["vip", "tag2", "tag3", "Mentor", "Professional", "холодный", "горячий", "оплатил", "webinar"]
    tags = [data.add(schema.Tag, id=data.oid(), company_id=cid, name=n) for n in tag_names]
    ctx["tags"] = tags

    tunnels, leadgentools, sources, blocks = [], [], [], []
    for name in ["Default tunnel", "Вебинар: маркетинг в мессенджерах", "Акция -20%", "Онбординг"]:
        created = data.past(700)
        tunnel = data.add(schema.Tunnel, id=data.oid(created), company_id=cid, name=name,
                          created_at=created, updated_at=created)
        tunnels.append(tunnel)
        for b in range(3):
            blocks.append(data.add(schema.TunnelBlock, id=data.oid(created), company_id=cid,
                                   tunnel_id=tunnel["id"], name=f"Блок {b + 1}", text=rng.choice(BOT_LINES)))
        for lgt_type in rng.sample(LEADGENTOOL_TYPES, 2):
            lgt = data.add(schema.Leadgentool, id=data.oid(created), company_id=cid, tunnel_id=tunnel["id"],
                           name=f"{lgt_type.title()} {name[:20]}", type=lgt_type)
            leadgentools.append(lgt)
            visits = rng.randrange(100, 5000)
            shows = rng.randrange(visits, visits * 3)
            sources.append(data.add(
                schema.TrafficSource, id=data.oid(created), company_id=cid, leadgentool_id=lgt["id"],
                tunnel_id=tunnel["id"], name="Default traffic source", description=None, type="normal",
                hash=f"{rng.getrandbits(24):06x}", resubscribe_button_id=data.oid(created),
                created_by=users[0]["id"], visits=visits, uniq_visits=visits * 2 // 3, shows=shows,
                uniq_shows=shows // 2, expenses=float(rng.randrange(0, 500)), created_at=created,
                updated_at=created,
            ))
    ctx.update(tunnels=tunnels, leadgentools=leadgentools, sources=sources, blocks=blocks)

    offers = []
    for title, price in [("Консультация", 1500), ("Курс «Маркетинг в мессенджерах»", 12900), ("Подписка", 990)]:
        currency = rng.choice(CURRENCIES)
        offers.append(data.add(schema.Offer, id=data.oid(), company_id=cid, tunnel_id=rng.choice(tunnels)["id"],
                               title=title, description="", price=float(price), currency=currency))
    credits = [data.add(schema.PaymentCredits, id=data.oid(), company_id=cid, name=name, payment_method=method)
               for method, name in PAYMENT_SYSTEMS]
    ctx.update(offers=offers, credits=credits)

    categories = []
    for cat_name in ["Приветствия", "Напоминания"]:
        category = data.add(schema.TemplateCategory, id=data.oid(), company_id=cid, name=cat_name)
        categories.append(category)
        for i, line in enumerate(BOT_LINES[:2]):
            data.add(schema.Template, id=data.oid(), company_id=cid, category_id=category["id"],
                     message_name=f"{cat_name} {i + 1}", text=line)
    ctx["categories"] = categories

    ctx["phones"] = _add_people(data, ctx, people)

    _build_neiros(data, ctx)
    _build_dialog(data)
    if demo:
        _build_document_examples(data, ctx)


def _oid_time(oid: str) -> datetime:
    """The creation instant an ObjectId carries in its first four bytes."""
    return datetime.fromtimestamp(int(oid[:8], 16), UTC).replace(tzinfo=None)


def _build_document_examples(data: DemoData, ctx: dict[str, Any]) -> None:
    """Objects with the ids the documents' examples use (see DOC_IDS), so each example request
    runs verbatim. The documents use one id (DOC_IDS["placeholder"]) for every path parameter,
    so it names a category, an account, a person, a leadgentool, an order, a tunnel, a block,
    a tag and a user at once (they live in different tables)."""
    cid = ctx["company_id"]
    ph = DOC_IDS["placeholder"]
    tag_by_name = {tag["name"]: tag["id"] for tag in ctx["tags"]}

    # The owner is the company's oldest user: API writes (comments, messages) are made as them.
    # Users the documents show keep the documents' dates; the others date from their ids.
    documented_dates = {
        DOC_IDS["owner"]: (datetime(2016, 12, 1, 9, 0), datetime(2018, 9, 17, 8, 20, 51)),
        DOC_IDS["v1_user"]: (datetime(2017, 1, 25, 13, 6, 47, 652000), datetime(2017, 8, 16, 9, 11, 23, 2000)),
        DOC_IDS["contacted_user"]: (datetime(2021, 3, 16, 11, 35, 28, 644000),
                                    datetime(2024, 2, 19, 12, 59, 4, 460000)),
        DOC_IDS["user"]: (datetime(2022, 9, 21, 11, 37, 59, 353000), datetime(2022, 9, 27, 12, 26, 12, 786000)),
    }
    for user_id, name in [(DOC_IDS["owner"], "Владелец"), (DOC_IDS["order_manager"], "Manager"),
                          (DOC_IDS["person_user"], "Оператор"), (DOC_IDS["call_user"], "Оператор колл-центра"),
                          (DOC_IDS["user"], "John Mack"), (DOC_IDS["v1_user"], "Robert"),
                          (DOC_IDS["contacted_user"], "Max"), (ph, "Igor")]:
        created = _oid_time(user_id)
        created, updated = documented_dates.get(user_id, (created, created + timedelta(days=6)))
        data.add(schema.User, id=user_id, company_id=cid, name=name, created_at=created, updated_at=updated)
    data.add(schema.Connection, id=DOC_IDS["sms_connection"], company_id=cid, type="sms", name="SMS bot",
             messenger="SMS")
    for tag_id, name in [(ph, "Tag #1"), (DOC_IDS["sms_tag"], "sms"), (data.oid(), "68187")]:
        tag_by_name[name] = data.add(schema.Tag, id=tag_id, company_id=cid, name=name)["id"]

    for category_id, name in [(ph, "API templates"), ("5e3bf3fdb70492000f72cd6c", "Category 1"),
                              ("5e18a2a3ed0b7a000d6c948f", "Category 2")]:
        data.add(schema.TemplateCategory, id=category_id, company_id=cid, name=name)
    data.add(schema.Template, id=DOC_IDS["template"], company_id=cid, category_id=ph,
             message_name="test template 2", text="Здравствуйте, {key1}! Ваш промокод: {key2}")
    data.add(schema.Template, id="5e42be688d4fff000cafe5cc", company_id=cid, category_id=ph,
             message_name="test template 1", text="Test API v.1 message template")

    created = datetime(2020, 1, 16, 9, 0)
    data.add(schema.Tunnel, id=ph, company_id=cid, name="My tunnel", created_at=created, updated_at=created)
    data.add(schema.TunnelBlock, id=ph, company_id=cid, tunnel_id=ph, name="Приветствие",
             text="Добро пожаловать! Здесь мы рассказываем о наших акциях.")
    data.add(schema.TunnelBlock, id=data.oid(created), company_id=cid, tunnel_id=ph, name="Оффер",
             text="Только сегодня: скидка 20% на консультацию.")
    sources = {}
    for lgt_id, name, kind in [(ph, "LGT1", "LINK"), (DOC_IDS["person_leadgentool"], "Форма на сайте", "FORM"),
                               (DOC_IDS["sms_leadgentool"], "SMS-рассылка", "DEFAULT")]:
        data.add(schema.Leadgentool, id=lgt_id, company_id=cid, tunnel_id=ph, name=name, type=kind)
        sources[lgt_id] = data.add(
            schema.TrafficSource, id=data.oid(created), company_id=cid, leadgentool_id=lgt_id, tunnel_id=ph,
            name="Default traffic source", description=None, type="normal", hash=f"{data.rng.getrandbits(24):06x}",
            resubscribe_button_id=data.oid(created), created_by=DOC_IDS["owner"], visits=140, uniq_visits=50,
            shows=50, uniq_shows=30, expenses=100.0, created_at=created, updated_at=created,
        )
    data.add(schema.PaymentCredits, id=DOC_IDS["payment_credits"], company_id=cid, name="Ручная оплата",
             payment_method="MANUAL")
    data.add(schema.Offer, id=DOC_IDS["offer"], company_id=cid, tunnel_id=ph,
             title="Ручной оффер", description="", price=100.0, currency="USD")

    placeholder_person = _add_doc_person(
        data, ctx, person_id=ph, account_id=ph, name="Mark Spenser", messenger="TELEGRAM",
        created=datetime(2022, 4, 15, 10, 20, 13, 546000), phone="+380977451111", email="Ray37@hotmail.com",
        tags=[tag_by_name["Mentor"]], source=sources[ph],
        custom_fields=[{"type": "PHONE", "name": "phone", "value": "+48881644207"}],
        contacted=[DOC_IDS["contacted_user"]],
        messages=[("SYSTEM_MESSAGE", ""), ("BOT_MESSAGE", "Здравствуйте, {name}! Чем можем помочь?"),
                  ("FRIEND_MESSAGE", "Хочу оформить заказ"), ("YOUR_MESSAGE", "API message"),
                  ("YOUR_MESSAGE", "Test API v.1 message template")],
    )
    _add_doc_order(data, cid, ph, placeholder_person, "for API", 100.0, "USD", "OPENED", "MANUAL",
                   datetime(2024, 2, 16, 12, 44, 42, 569000), ctx)
    _add_doc_person(
        data, ctx, person_id=DOC_IDS["order_person"], account_id=data.oid(datetime(2020, 1, 13)), name="Feliks",
        messenger="TELEGRAM", created=datetime(2020, 1, 13, 14, 0), phone="+380966565556",
        email="feliks@gmail.com", tags=[tag_by_name["Mentor"], tag_by_name["Professional"]],
        source=sources[ph], utm={"utm_source": "test_UTM_mark"}, first_message=datetime(2020, 3, 2, 9, 15),
        messages=[("FRIEND_MESSAGE", "Добрый день, хочу записаться на консультацию"),
                  ("BOT_MESSAGE", "Спасибо за обращение! Менеджер свяжется с вами в ближайшее время.")],
    )
    _add_doc_person(
        data, ctx, account_id=DOC_IDS["template_account"], name="TIIIIK", messenger="TELEGRAM",
        created=datetime(2020, 2, 11, 12, 0), tags=[], source=sources[ph],
        messages=[("FRIEND_MESSAGE", "Здравствуйте! Сколько стоит доставка?")],
    )
    _add_doc_person(
        data, ctx, account_id=DOC_IDS["call_account"], name="Adolf Shtangencirkul", messenger="VKONTAKTE",
        created=datetime(2020, 4, 23, 11, 10, 48, 337000), phone="+380663332222", tags=[], source=sources[ph],
        messages=[("FRIEND_MESSAGE", "Перезвоните мне, пожалуйста")],
    )
    kurt = _add_doc_person(
        data, ctx, account_id=DOC_IDS["v1_account"], name="Kurt Bowie", messenger="FACEBOOK",
        created=datetime(2017, 9, 15, 12, 23, 29, 23000), gender="FEMALE", locale="en_US",
        tags=[tag_by_name["tag2"], tag_by_name["tag3"]], source=sources[ph], contacted=[DOC_IDS["v1_user"]],
        first_message=datetime(2017, 11, 3, 8, 31, 23, 321000),
        messages=[("SYSTEM_MESSAGE", ""), ("BOT_MESSAGE", "Good morning, {name}! \n\nTest message content"),
                  ("FRIEND_MESSAGE", "Good morning!"), ("YOUR_MESSAGE", "Pre last message"),
                  ("BOT_MESSAGE", "Last message")],
        author=DOC_IDS["v1_user"],
    )
    for order_id, method, moment in [
        ("59f2e2425bb695001a3f6388", "ASSET_PAYMENT", datetime(2017, 10, 27, 7, 39, 19, 363000)),
        ("59edb72dbed51e00152c1c1f", "YANDEX_MONEY", datetime(2017, 10, 23, 9, 33, 5, 403000)),
        ("59edb6e5da15a0001be1261f", "YANDEX_MONEY", datetime(2017, 10, 23, 9, 32, 20, 164000)),
    ]:
        _add_doc_order(data, cid, order_id, kurt, "Консультация", 1.0, "UAH", "SUCCESS", method, moment, ctx)
    _add_doc_person(
        data, ctx, account_id="5899afd15c97121f006c8b48", name="Weend Vidente", messenger="TELEGRAM",
        created=datetime(2017, 2, 7, 11, 30, 25, 324000), tags=[tag_by_name["68187"], tag_by_name["tag3"]],
        source=sources[ph], first_message=datetime(2017, 9, 7, 14, 30, 58, 798000),
        messages=[("FRIEND_MESSAGE", "Hello!")],
    )


def _add_doc_person(data: DemoData, ctx: dict[str, Any], *, account_id: str, name: str, messenger: str,
                    created: datetime, tags: list[str], source: dict[str, Any],
                    messages: list[tuple[str, str]], person_id: str | None = None, phone: str | None = None,
                    email: str | None = None, gender: str = "MALE", locale: str = "ru_RU",
                    custom_fields: list[dict[str, Any]] | None = None, contacted: Sequence[str] = (),
                    utm: dict[str, str] | None = None, first_message: datetime | None = None,
                    author: str | None = None) -> str:
    """A person with one account and a short chat (messages a few minutes apart)."""
    cid = ctx["company_id"]
    person_id = person_id or data.oid(created)
    moment = first_message or created + timedelta(minutes=5)
    for index, (kind, text) in enumerate(messages):
        at = moment + timedelta(minutes=3 * index)
        data.add(schema.Message, id=data.oid(at), company_id=cid, account_id=account_id,
                 text=text, type=kind, read=True,
                 created_by=(author or DOC_IDS["owner"]) if kind == "YOUR_MESSAGE" else None, template_id=None,
                 created_at=at, updated_at=at)
    last = moment + timedelta(minutes=3 * (len(messages) - 1))
    data.add(schema.Account, id=account_id, company_id=cid, person_id=person_id,
             connection_id=ctx["connections"][messenger]["id"], messenger=messenger, name=name, bot_status="BOT",
             connection_status="OK", utm_marks=utm or {}, last_message_time=last, created_at=created,
             updated_at=last)
    data.add(schema.Person, id=person_id, company_id=cid, name=name, phone=phone, email=email, gender=gender,
             locale=locale, profile_image="NOT_DEFINED", custom_fields=custom_fields or [],
             last_message_time=last, created_at=created, updated_at=last)
    for tag_id in tags:
        data.add(schema.PersonTag, person_id=person_id, tag_id=tag_id)
    for user_id in contacted:
        data.add(schema.ContactedUser, person_id=person_id, user_id=user_id)
    data.add(schema.Subscription, company_id=cid, person_id=person_id, account_id=account_id,
             tunnel_id=source["tunnel_id"], leadgentool_id=source["leadgentool_id"],
             traffic_source_id=source["id"], tunnel_block_id=None, created_at=created)
    return person_id


def _add_doc_order(data: DemoData, cid: str, order_id: str, person_id: str, title: str, price: float,
                   currency: str, status: str, method: str, moment: datetime, ctx: dict[str, Any]) -> None:
    credits = next(c for c in ctx["credits"] if c["payment_method"] == method)
    paid = status in ("RESOLVED", "SUCCESS")
    data.add(schema.Order, id=order_id, company_id=cid, person_id=person_id, offer_id=DOC_IDS["offer"],
             tunnel_id=DOC_IDS["placeholder"], title=title, description="", price=price, currency=currency,
             status=status, payment_method=method, payment_credits_id=credits["id"], manager_id=None,
             email=None, phone=None, is_notify_account=False, transaction_date=moment,
             payment_date=moment if paid else None, user_comments=None, created_at=moment, updated_at=moment)


def _add_people(data: DemoData, ctx: dict[str, Any], count: int) -> list[str]:
    """``count`` people, each with one to three accounts and their chats, tags, a subscription
    and now and then an order; returns the phones drawn (Neiros' deals call some of them).

    The hottest loop of seeding, about ten rows a person: rows are made as tuples of their
    layouts straight away, an ObjectId's seconds are counted along with its instant, a pick
    from n things is ``int(random() * n)`` (one call, where ``Random.choice`` makes several),
    instants are written as :func:`_iso` writes them, without the call, booleans are 1 and 0
    and the columns a layout leaves unset are not in its tuples (see :class:`Layout`),
    and what depends on a name only is worked out once per name.
    """
    random, getrandbits = data.rng.random, data.rng.getrandbits
    cid = ctx["company_id"]
    owner_id = ctx["users"][0]["id"]
    user_ids = [user["id"] for user in ctx["users"]]
    connection_ids = {messenger: ctx["connections"][messenger]["id"] for messenger in MESSENGERS}
    sources = [(source["tunnel_id"], source["leadgentool_id"], source["id"]) for source in ctx["sources"]]
    offers = [(offer["id"], offer["tunnel_id"], offer["title"], offer["price"], offer["currency"])
              for offer in ctx["offers"]]
    credits = [(paying["id"], paying["payment_method"], ORDER_STATUSES[paying["payment_method"] == "MANUAL"])
               for paying in ctx["credits"]]
    domains = InternetProvider.free_email_domains
    utm_marks = [json.dumps({"utm_source": source}) for source in ("google", "yandex", "vk")]
    # A person's messengers and tags: every ordered pick of 1-3 messengers (0-2 tags), so one
    # draw takes a pick as Random.sample would.
    messenger_picks = [list(permutations(MESSENGERS, size)) for size in (1, 1, 1, 2, 2, 3)]
    tag_picks = [list(permutations([tag["id"] for tag in ctx["tags"]], size)) for size in (0, 0, 1, 1, 2)]
    # Each message's (type, text, author) in one draw: a quarter the customer's lines, half the
    # bot's, a quarter the owner's (with the bot's lines), each line of a kind as likely.
    chat_lines = ([("FRIEND_MESSAGE", line, None) for line in CUSTOMER_LINES for _ in range(2)]
                  + [("BOT_MESSAGE", line, None) for line in BOT_LINES for _ in range(6)]
                  + [("YOUR_MESSAGE", line, owner_id) for line in BOT_LINES for _ in range(3)])
    chats: dict[str, list[tuple[str, str, str | None]]] = {}  # by first name, the {name} filled in
    emails: dict[str, str] = {}  # a name part's email form
    searched: dict[str, str] = {}  # a name part's search form
    persons, accounts, messages = data.rows_of(PERSON_ROW), data.rows_of(ACCOUNT_ROW), data.rows_of(MESSAGE_ROW)
    person_tags, contacted = data.rows_of(PERSON_TAG_ROW), data.rows_of(CONTACTED_ROW)
    subscriptions, orders = data.rows_of(SUBSCRIPTION_ROW), data.rows_of(ORDER_ROW)
    phones: list[str] = []
    # People come oldest first, as a real database fills: each id (its instant first) then
    # lands next to the last ones in the primary keys' indexes, which stay in the page cache
    # and take appends, where ids in random order would touch pages all over them.
    for share in _largest_first(random, count):
        created = _before_anchor(share, 720)
        created_s = _seconds(created)
        if random() < 0.5:
            first, last, gender = MALE_FIRST[int(random() * len(MALE_FIRST))], MALE_LAST[
                int(random() * len(MALE_LAST))], "MALE"
        else:
            first, last, gender = FEMALE_FIRST[int(random() * len(FEMALE_FIRST))], FEMALE_LAST[
                int(random() * len(FEMALE_LAST))], "FEMALE"
        name = f"{first} {last}"
        for part in (first, last):
            if part not in emails:
                emails[part], searched[part] = _email_local(part), normalise(part)
        search_text = f"{searched[first]} {searched[last]}"
        phone = f"+79{int(random() * 10**9):09d}" if random() < 0.8 else None
        email = None
        if random() < 0.6:
            email = (f"{emails[first]}.{emails[last]}{10 + int(random() * 9989)}"
                     f"@{domains[int(random() * len(domains))]}")
            search_text = f"{search_text} {email}"
        if phone:
            phones.append(phone)
            search_text = f"{search_text} {phone[1:]}"
        person_id = f"{created_s:08x}{getrandbits(64):016x}"
        chat = chats.get(first)
        if chat is None:
            greeting = name.split()[0]
            chat = chats[first] = [(kind, line.replace("{name}", greeting), author)
                                   for kind, line, author in chat_lines]
        rows = 2  # the person and the subscription
        last_message, last_at, first_account = created, "", ("", "")
        pick = messenger_picks[int(random() * 6)]
        for messenger in pick[int(random() * len(pick))]:
            minutes = int(random() * 600)
            account_created = created + MINUTES[minutes]
            moment_s = created_s + 60 * minutes
            account_id = f"{moment_s:08x}{getrandbits(64):016x}"
            moment = account_created
            for _ in range(1 + int(random() * 4)):
                minutes = 1 + int(random() * 2999)
                moment += MINUTES[minutes]
                moment_s += 60 * minutes
                kind, text, author = chat[int(random() * 48)]
                at = moment.isoformat(" ", "microseconds")
                messages.append((f"{moment_s:08x}{getrandbits(64):016x}", cid, account_id, text, kind, 1, author,
                                 at, at))
                rows += 1
            bot_status = "BOT" if random() < 0.9 else "ADMIN"
            utm = utm_marks[int(random() * 3)] if random() < 0.3 else "{}"
            created_at = account_created.isoformat(" ", "microseconds")
            accounts.append((account_id, cid, person_id, connection_ids[messenger], messenger, name, bot_status, "OK",
                             utm, at, created_at, at))
            rows += 1
            if moment > last_message:
                last_message, last_at = moment, at
            if not first_account[0]:
                first_account = (account_id, created_at)
        persons.append((person_id, cid, name, phone, email, gender, "ru_RU", "NOT_DEFINED", "[]", last_at,
                        created.isoformat(" ", "microseconds"), last_at, search_text))
        pick = tag_picks[int(random() * 5)]
        for tag_id in pick[int(random() * len(pick))]:
            person_tags.append((person_id, tag_id))
            rows += 1
        if random() < 0.3:
            contacted.append((person_id, user_ids[int(random() * len(user_ids))]))
            rows += 1
        tunnel_id, leadgentool_id, source_id = sources[int(random() * len(sources))]
        subscriptions.append((cid, person_id, first_account[0], tunnel_id, leadgentool_id, source_id,
                              first_account[1]))
        if random() < 0.15:
            offer_id, offer_tunnel_id, title, price, currency = offers[int(random() * len(offers))]
            days = int(random() * 20)
            at = (created + DAYS[days]).isoformat(" ", "microseconds")
            credits_id, method, statuses = credits[int(random() * len(credits))]
            status = statuses[int(random() * len(statuses))]
            orders.append((f"{created_s + 86400 * days:08x}{getrandbits(64):016x}", cid, person_id, offer_id,
                           offer_tunnel_id, title, "", price, currency, status, method, credits_id, email, phone, 0,
                           at, at if status in ("RESOLVED", "SUCCESS") else None, at, at))
            rows += 1
        data.pending += rows
        data.checkpoint()
    return phones


def _build_neiros(data: DemoData, ctx: dict[str, Any]) -> None:
    """Sites and deals; about a third of deal phones belong to Leeloo people.

    The demo tenant's first site (100) holds its first 200 deals, and the deals the
    document's curl examples name (1, 8, 100) fall inside the example's window
    (2020-01-01..2023-01-01), so those examples answer with data.
    """
    t = data.tenant
    demo = t.people_share == 1.0
    for site_id in t.site_ids:
        data.add(schema.Site, id=site_id, company_id=t.company_id,
                 name=NEIROS_SITE_NAMES.get(site_id, f"site{site_id}.example.ru"))
    phones = ctx["phones"]
    deal_count = max(NEIROS_DOC_DEALS[-1] if demo else 20, len(phones) // 2)
    start = datetime(2020, 1, 1)
    span = (ANCHOR - start).total_seconds()
    doc_span = (NEIROS_DOC_WINDOW_END - start).total_seconds()
    base_id = 1 if demo else 10_000_000
    random, getrandbits = data.rng.random, data.rng.getrandbits
    deals = data.rows_of(DEAL_ROW)
    sites = t.site_ids
    for n in range(deal_count):
        deal_id = base_id + n
        site_id = sites[0] if n < 200 or random() < 0.6 else sites[int(random() * len(sites))]
        in_doc_window = demo and deal_id in NEIROS_DOC_DEALS
        created = start + timedelta(0, int(random() * (doc_span if in_doc_window else span)))
        if phones and random() < 0.35:
            phone: str | None = phones[int(random() * len(phones))].lstrip("+")
        elif random() < 0.9:
            phone = f"79{int(random() * 10**9):09d}"
        else:
            phone = None  # a web lead with no phone: flows must cope
        canal, traffic = NEIROS_CHANNELS[int(random() * len(NEIROS_CHANNELS))]
        duration = 5 + int(random() * 595) if phone else 0
        record = f"https://audio.neiros.ru/{getrandbits(128):032x}.mp3" if duration else None
        deals.append((deal_id, t.company_id, site_id, f"{getrandbits(96):024x}", str(10**6 + int(random() * 9 * 10**6)),
                      _iso(created), phone, duration, record, canal, traffic, 0.0,
                      NEIROS_STAGES[int(random() * len(NEIROS_STAGES))]))
        data.pending += 1
        data.checkpoint()


def _build_dialog(data: DemoData) -> None:
    t = data.tenant
    data.add(schema.DialogProject, id=t.dialog_project_id, company_id=t.company_id, name="Обзвон клиентов")
    data.add(schema.DialogScenario, id=t.dialog_scenario_id, project_id=t.dialog_project_id,
             name="Опрос удовлетворённости", goal="Клиент согласился на встречу")
    data.add(schema.DialogStartBlock, id=t.dialog_start_block_id, scenario_id=t.dialog_scenario_id,
             name="Старт", params=["name", "time", "phone", "person_id"])
    data.add(schema.DialogCallerPhone, id=t.dialog_phone_id, project_id=t.dialog_project_id,
             number="+7351" + f"{t.dialog_phone_id:07d}")
    # Campaign ids are global integers; each tenant draws from its own range so the demo
    # tenant's first campaign gets the id the document's examples use (12345).
    data.add(schema.SandboxState, key=f"{DIALOG_CAMPAIGN_BASE_KEY}{t.company_id}",
             value=str(DIALOG_FIRST_CAMPAIGN_ID + (t.dialog_project_id - 1) * 1_000_000))
