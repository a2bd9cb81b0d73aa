"""Demo data: the same for the same seed, realistic (ru_RU), and fast to generate.

Faker's ru_RU word lists are read once and combined with a seeded ``random.Random``:
calling Faker per field would cost tens of microseconds a value and make a million
people take minutes. Rows are written in batches of bounded size as they are drawn (see
:meth:`DemoData.checkpoint`), each batch committed as it goes, so a million people never sit
in memory at once and the write-ahead log stays small. Batches go straight to the driver:
``executemany`` on SQLite, ``COPY`` on PostgreSQL (the SQLAlchemy statement layer would
cost more per row than drawing the row itself).

Seeding can be stopped at any point (Ctrl-C stops it between two batches). The database
then carries the :data:`SEEDING_MARK` row, and the next start drops what was written and
seeds again from the start: the same seed gives the same data, so this restart is clean.

Objects whose ids appear in the documents' examples (and that no documented call can
list or create) are seeded with exactly those ids, so the examples run verbatim against
the demo tenant; see :data:`DOC_IDS`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

from faker.providers.internet.ru_RU import Provider as InternetProvider
from faker.providers.person.ru_RU import Provider as PersonProvider
from sqlalchemy import Connection, DateTime, Engine, Table, delete, insert, select

from leadbridge.sandbox import schema
from leadbridge.sandbox.search import person_search_text
from leadbridge.sandbox.wire import seeded_oid

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


def _email_local(name: str, rng: random.Random) -> str:
    latin = name.lower().translate(_TRANSLITERATION)
    latin = "".join(ch for ch in latin if ch.isascii() and (ch.isalnum() or ch == " "))
    return latin.replace(" ", ".") + str(rng.randrange(10, 9999))


# Rows drawn before they are written out and committed; small enough to bound memory at any
# --people, and a batch takes a fraction of a second, so Ctrl-C is answered at once.
FLUSH_ROWS = 50_000
Progress = Callable[[str, int, int], None]
# SQLite's page cache while seeding (KiB): the tables' last pages stay in memory.
SEEDING_CACHE_KIB = 128 * 1024
REBUILD_INDEXES_FROM = 20_000  # people
# In sandbox_state while seeding runs: its presence at start means seeding was interrupted.
SEEDING_MARK = "seeding_incomplete"


class DemoData:
    """Draws one tenant's rows and hands them to a :class:`RowWriter` in chunks.

    Kept as a class so the helper RNG and clock are shared. Rows wait in ``rows`` until
    :meth:`checkpoint` finds enough of them; builders call it at points where every
    pending row's references are pending too or already written (between two people).
    """

    def __init__(self, tenant: Tenant, rng: random.Random, writer: RowWriter | None = None) -> None:
        self.tenant = tenant
        self.rng = rng
        self.writer = writer
        self.rows: dict[Table, list[dict[str, Any]]] = {}
        self.pending = 0

    def add(self, model: type[schema.Base], **row: Any) -> dict[str, Any]:
        if model is schema.Person:
            row["search_text"] = person_search_text(row["name"], row.get("email"), row.get("phone"))
        table = model.__table__
        assert isinstance(table, Table)
        rows = self.rows.get(table)
        if rows is None:
            rows = self.rows[table] = []
        rows.append(row)
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
            rows = self.rows.pop(table, None)
            if rows:
                self.writer.insert(table, rows)
        self.writer.commit()
        self.pending = 0

    def past(self, days: float) -> datetime:
        """A random instant within ``days`` before the anchor, at millisecond precision."""
        moment = ANCHOR - timedelta(seconds=self.rng.random() * days * 86400)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    def oid(self, at: datetime | None = None) -> str:
        return seeded_oid(self.rng, at or self.past(720))

    def person_name(self) -> tuple[str, str]:
        if self.rng.random() < 0.5:
            first = self.rng.choice(PersonProvider.first_names_male)
            last = self.rng.choice(PersonProvider.last_names_male)
            return f"{first} {last}", "MALE"
        first = self.rng.choice(PersonProvider.first_names_female)
        last = self.rng.choice(PersonProvider.last_names_female)
        return f"{first} {last}", "FEMALE"

    def phone(self) -> str:
        return f"+79{self.rng.randrange(10**9):09d}"


def seed_all(engine: Engine, *, seed: int, people: int, progress: Progress | None = None) -> None:
    """Seed every tenant; ``progress(tenant name, people drawn, people wanted)`` after each batch.

    Each batch is committed as it is written; :data:`SEEDING_MARK` stays in the database
    until the last one is, so an interrupted seeding is seen (and redone) at the next start.
    """
    # Secondary indexes are built once at the end: sorting a column once costs far less than
    # keeping an index in order through a million inserts in random key order.
    # (Below REBUILD_INDEXES_FROM people the rebuild costs more than it saves.)
    indexes = [index for table in schema.Base.metadata.sorted_tables for index in table.indexes
               ] if people >= REBUILD_INDEXES_FROM else []
    with engine.begin() as conn:
        conn.execute(insert(schema.SandboxState).values(key=SEEDING_MARK, value="1"))
        for index in indexes:
            index.drop(conn)
    for number, tenant in enumerate(TENANTS):
        rng = random.Random(f"{seed}:{number}")
        count = people if number == 0 else max(10, int(people * tenant.people_share))
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql(f"PRAGMA cache_size = -{SEEDING_CACHE_KIB}")
            try:
                writer = RowWriter(conn, tenant.name, count, progress)
                data = DemoData(tenant, rng, writer)
                build_tenant(data, count, demo=number == 0)
                data.flush()
                writer.report(count)
            finally:
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql("PRAGMA cache_size = -2000")  # SQLite's default again
    with engine.begin() as conn:
        for index in indexes:
            index.create(conn)
        conn.execute(delete(schema.SandboxState).where(schema.SandboxState.key == SEEDING_MARK))


def seeding_interrupted(conn: Connection) -> bool:
    """Whether the database holds a seeding that never finished."""
    state = schema.SandboxState
    return conn.execute(select(state.key).where(state.key == SEEDING_MARK)).first() is not None


class RowWriter:
    """Bulk inserts on one connection, each batch its own transaction: ``executemany`` on
    SQLite, ``COPY`` on PostgreSQL, SQLAlchemy's ``insert`` on anything else."""

    def __init__(self, conn: Connection, label: str = "", total: int = 0, progress: Progress | None = None) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name
        self.label = label
        self.total = total
        self.progress = progress
        self.people = 0
        self.reported = -1

    def insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if table is schema.Person.__table__:
            self.people += len(rows)
        if self.dialect == "sqlite":
            sql, to_tuple = _raw_insert(table, rows[0], self.conn.dialect)
            cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.executemany(sql, map(to_tuple, rows))
            finally:
                cursor.close()
        elif self.dialect == "postgresql":
            sql, to_tuple = _raw_insert(table, rows[0], self.conn.dialect)
            columns = sql[sql.index("(") + 1 : sql.index(")")]
            cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(to_tuple(row))
            finally:
                cursor.close()
        else:
            self.conn.execute(insert(table), rows)
        if table is schema.Person.__table__:
            self.report(self.people)

    def commit(self) -> None:
        """Commit the batch written so far (on the driver's connection, which the rows went through)."""
        if self.dialect in ("sqlite", "postgresql"):
            self.conn.connection.driver_connection.commit()  # type: ignore[union-attr]
        elif self.conn.in_transaction():
            self.conn.commit()

    def report(self, people: int) -> None:
        if self.progress is not None and people != self.reported:
            self.reported = people
            self.progress(self.label, people, self.total)


def _raw_insert(table: Table, first: dict[str, Any], dialect: Any) -> tuple[str, Callable[[dict[str, Any]], Any]]:
    """An ``INSERT`` for rows shaped like ``first``, and the function turning a row into its parameters.

    As SQLAlchemy would: a column missing from a row gets its Python default, or is left
    to the database when it has none; values go through the type's bind processor.
    """
    keys: list[str] = []
    names: list[str] = []
    defaults: dict[str, Any] = {}
    processors: list[tuple[int, Callable[[Any], Any]]] = []
    for column in table.columns:
        default = column.default
        if column.key not in first and default is None:
            continue
        if default is not None and not (default.is_scalar or default.is_callable):
            raise TypeError(f"{table.name}.{column.key}: unsupported default {default!r}")
        if default is not None:
            defaults[column.key] = default
        if isinstance(column.type, DateTime):
            process = _sqlite_datetime if dialect.name == "sqlite" else None
        else:
            process = column.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors.append((len(keys), process))
        keys.append(column.key)
        names.append(f'"{column.name}"')
    sql = f'INSERT INTO "{table.name}" ({", ".join(names)}) VALUES ({", ".join("?" * len(names))})'
    pick = itemgetter(*keys) if len(keys) > 1 else (lambda row: (row[keys[0]],))

    def complete(row: dict[str, Any]) -> dict[str, Any]:
        filled = dict(row)
        for key, default in defaults.items():
            if key not in filled:
                filled[key] = default.arg if default.is_scalar else default.arg(None)
        return filled

    def to_tuple(row: dict[str, Any]) -> Any:
        try:
            values = pick(row)
        except KeyError:
            values = pick(complete(row))
        if not processors:
            return values
        values = list(values)
        for index, process in processors:
            values[index] = process(values[index])
        return values

    return sql, to_tuple


def _sqlite_datetime(value: datetime | None) -> str | None:
    # SQLAlchemy's SQLite storage format, written without its per-value regex machinery.
    return None if value is None else value.isoformat(" ", "microseconds")


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

    phones: list[str] = []
    for _ in range(people):
        _add_person(data, ctx, phones)
        data.checkpoint()
    ctx["phones"] = phones

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


def _add_person(data: DemoData, ctx: dict[str, Any], phones: list[str]) -> None:
    rng = data.rng
    cid = ctx["company_id"]
    created = data.past(720)
    name, gender = data.person_name()
    phone = data.phone() if rng.random() < 0.8 else None
    if phone:
        phones.append(phone)
    email = None
    if rng.random() < 0.6:
        email = f"{_email_local(name, rng)}@{rng.choice(InternetProvider.free_email_domains)}"
    person_id = data.oid(created)
    accounts = []
    last_message: datetime | None = None
    for messenger in rng.sample(MESSENGERS, rng.choice((1, 1, 1, 2, 2, 3))):
        account_created = created + timedelta(minutes=rng.randrange(0, 600))
        account_id = data.oid(account_created)
        moment = account_created
        for _ in range(rng.randrange(1, 5)):
            moment = moment + timedelta(minutes=rng.randrange(1, 3000))
            kind = rng.choice(("FRIEND_MESSAGE", "BOT_MESSAGE", "BOT_MESSAGE", "YOUR_MESSAGE"))
            text = rng.choice(CUSTOMER_LINES) if kind == "FRIEND_MESSAGE" else rng.choice(BOT_LINES)
            data.add(schema.Message, id=data.oid(moment), company_id=cid, account_id=account_id,
                     text=text.replace("{name}", name.split()[0]), type=kind, read=True,
                     created_by=ctx["users"][0]["id"] if kind == "YOUR_MESSAGE" else None, template_id=None,
                     created_at=moment, updated_at=moment)
        last_message = max(last_message or moment, moment)
        accounts.append(data.add(
            schema.Account, id=account_id, company_id=cid, person_id=person_id,
            connection_id=ctx["connections"][messenger]["id"], messenger=messenger, name=name,
            bot_status="BOT" if rng.random() < 0.9 else "ADMIN", connection_status="OK",
            utm_marks={"utm_source": rng.choice(["google", "yandex", "vk"])} if rng.random() < 0.3 else {},
            last_message_time=moment, created_at=account_created, updated_at=moment,
        ))
    data.add(schema.Person, id=person_id, company_id=cid, name=name, phone=phone, email=email, gender=gender,
             locale="ru_RU", profile_image="NOT_DEFINED", custom_fields=[], last_message_time=last_message,
             created_at=created, updated_at=last_message or created)
    for tag in rng.sample(ctx["tags"], rng.choice((0, 0, 1, 1, 2))):
        data.add(schema.PersonTag, person_id=person_id, tag_id=tag["id"])
    if rng.random() < 0.3:
        data.add(schema.ContactedUser, person_id=person_id, user_id=rng.choice(ctx["users"])["id"])
    source = rng.choice(ctx["sources"])
    data.add(schema.Subscription, company_id=cid, person_id=person_id, account_id=accounts[0]["id"],
             tunnel_id=source["tunnel_id"], leadgentool_id=source["leadgentool_id"],
             traffic_source_id=source["id"], tunnel_block_id=None, created_at=accounts[0]["created_at"])
    if rng.random() < 0.15:
        offer = rng.choice(ctx["offers"])
        moment = created + timedelta(days=rng.randrange(0, 20))
        credits = rng.choice(ctx["credits"])
        status = rng.choice(ORDER_STATUSES[credits["payment_method"] == "MANUAL"])
        data.add(schema.Order, id=data.oid(moment), company_id=cid, person_id=person_id, offer_id=offer["id"],
                 tunnel_id=offer["tunnel_id"], title=offer["title"], description="", price=offer["price"],
                 currency=offer["currency"], status=status, payment_method=credits["payment_method"],
                 payment_credits_id=credits["id"], manager_id=None, email=email, phone=phone,
                 is_notify_account=False, transaction_date=moment,
                 payment_date=moment if status in ("RESOLVED", "SUCCESS") else None, user_comments=None,
                 created_at=moment, updated_at=moment)


def _build_neiros(data: DemoData, ctx: dict[str, Any]) -> None:
    """Sites and deals; about a third of deal phones belong to Leeloo people.

    The demo tenant's first site (100) holds its first 200 deals, and the deals the
    document's curl examples name (1, 8, 100) fall inside the example's window
    (2020-01-01..2023-01-01), so those examples answer with data.
    """
    rng = data.rng
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
    for n in range(deal_count):
        deal_id = base_id + n
        site_id = t.site_ids[0] if n < 200 or rng.random() < 0.6 else rng.choice(t.site_ids)
        in_doc_window = demo and deal_id in NEIROS_DOC_DEALS
        created = start + timedelta(seconds=int(rng.random() * (doc_span if in_doc_window else span)))
        if phones and rng.random() < 0.35:
            phone: str | None = rng.choice(phones).lstrip("+")
        elif rng.random() < 0.9:
            phone = f"79{rng.randrange(10**9):09d}"
        else:
            phone = None  # a web lead with no phone: flows must cope
        canal, traffic = rng.choice(NEIROS_CHANNELS)
        duration = rng.randrange(5, 600) if phone else 0
        data.add(schema.Deal, id=deal_id, company_id=t.company_id, site_id=site_id,
                 neiros_visit=f"{rng.getrandbits(96):024x}", neiros_id=str(rng.randrange(10**6, 10**7)),
                 created_at=created, phone=phone, duration=duration,
                 record=f"https://audio.neiros.ru/{rng.getrandbits(128):032x}.mp3" if duration else None,
                 canal=canal, traffic=traffic, summ=0.0, status=rng.choice(NEIROS_STAGES))
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
