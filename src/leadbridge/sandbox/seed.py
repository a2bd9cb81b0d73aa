"""Demo data: the same for the same seed, realistic (ru_RU), and fast to generate.

Faker's ru_RU word lists are read once and combined with a seeded ``random.Random``:
calling Faker per field would cost tens of microseconds a value and make a million
people take minutes. Rows go in with bulk ``INSERT``s, one transaction per tenant.

Objects whose ids appear in the documents' examples (and that no documented call can
list or create) are seeded with exactly those ids, so the examples run verbatim against
the demo tenant; see :data:`DOC_IDS`.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from faker.providers.internet.ru_RU import Provider as InternetProvider
from faker.providers.person.ru_RU import Provider as PersonProvider
from sqlalchemy import Engine, Table, insert

from leadbridge.sandbox import schema
from leadbridge.sandbox.common import seeded_oid

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
NEIROS_CHANNELS = [
    ("Google", "google"),
    ("Яндекс.Директ", "yandex"),
    ("Органический поиск", "organic"),
    ("Прямые заходы", "direct"),
    ("ВКонтакте", "vk.com"),
    ("Telegram", "t.me"),
]
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
}


def _email_local(name: str, rng: random.Random) -> str:
    table = dict(InternetProvider.replacements)
    latin = "".join(table.get(ch, ch) for ch in name.lower())
    latin = "".join(ch for ch in latin if ch.isascii() and (ch.isalnum() or ch == " "))
    return latin.replace(" ", ".") + str(rng.randrange(10, 9999))


class DemoData:
    """Draws one tenant's rows. Kept as a class so the helper RNG and clock are shared."""

    def __init__(self, tenant: Tenant, rng: random.Random) -> None:
        self.tenant = tenant
        self.rng = rng
        self.rows: dict[Table, list[dict[str, Any]]] = {}

    def add(self, model: type[schema.Base], **row: Any) -> dict[str, Any]:
        table = model.__table__
        assert isinstance(table, Table)
        self.rows.setdefault(table, []).append(row)
        return row

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


def seed_all(engine: Engine, *, seed: int, people: int) -> None:
    for index, tenant in enumerate(TENANTS):
        rng = random.Random(f"{seed}:{index}")
        data = DemoData(tenant, rng)
        count = people if index == 0 else max(10, int(people * tenant.people_share))
        build_tenant(data, count, demo=index == 0)
        with engine.begin() as conn:
            for table in schema.Base.metadata.sorted_tables:
                rows = data.rows.get(table)
                if rows:
                    for chunk in _chunks(rows, 20_000):
                        conn.execute(insert(table), chunk)


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


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
    credits = [data.add(schema.PaymentCredits, id=data.oid(), company_id=cid, name="Ручная оплата",
                        payment_method="MANUAL")]
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
    ctx["phones"] = phones

    _build_neiros(data, ctx)
    _build_dialog(data)
    if demo:
        _build_document_examples(data, ctx)


def _build_document_examples(data: DemoData, ctx: dict[str, Any]) -> None:
    """Objects with the ids the documents' examples use (see DOC_IDS)."""
    cid = ctx["company_id"]
    data.add(schema.PaymentCredits, id=DOC_IDS["payment_credits"], company_id=cid, name="Ручная оплата",
             payment_method="MANUAL")
    data.add(schema.Offer, id=DOC_IDS["offer"], company_id=cid, tunnel_id=ctx["tunnels"][0]["id"],
             title="Ручной оффер", description="", price=100.0, currency="USD")


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
        status = rng.choice(("OPENED", "RESOLVED", "RESOLVED", "REJECTED"))
        data.add(schema.Order, id=data.oid(moment), company_id=cid, person_id=person_id, offer_id=offer["id"],
                 tunnel_id=offer["tunnel_id"], title=offer["title"], description="", price=offer["price"],
                 currency=offer["currency"], status=status, payment_method="MANUAL",
                 payment_credits_id=ctx["credits"][0]["id"], manager_id=None, email=email, phone=phone,
                 is_notify_account=False, transaction_date=moment,
                 payment_date=moment if status == "RESOLVED" else None, user_comments=None,
                 created_at=moment, updated_at=moment)


def _build_neiros(data: DemoData, ctx: dict[str, Any]) -> None:
    """Sites and deals; about a third of deal phones belong to Leeloo people."""
    rng = data.rng
    t = data.tenant
    names = ["wistis.ru", "autokovrik.ru", "yandex.ru", "plugin.wistis.ru", "shop.example.ru"]
    for i, site_id in enumerate(t.site_ids):
        data.add(schema.Site, id=site_id, company_id=t.company_id, name=names[i % len(names)])
    phones = ctx["phones"]
    deal_count = max(20, len(phones) // 2)
    start = datetime(2020, 1, 1)
    span = (ANCHOR - start).total_seconds()
    base_id = 1 if t.people_share == 1.0 else 10_000_000
    for n in range(deal_count):
        site_id = t.site_ids[0] if n < 200 or rng.random() < 0.6 else rng.choice(t.site_ids)
        created = start + timedelta(seconds=int(rng.random() * span))
        if phones and rng.random() < 0.35:
            phone: str | None = rng.choice(phones).lstrip("+")
        elif rng.random() < 0.9:
            phone = f"79{rng.randrange(10**9):09d}"
        else:
            phone = None  # a web lead with no phone: flows must cope
        canal, traffic = rng.choice(NEIROS_CHANNELS)
        duration = rng.randrange(5, 600) if phone else 0
        data.add(schema.Deal, id=base_id + n, company_id=t.company_id, site_id=site_id,
                 neiros_visit=f"{rng.getrandbits(96):024x}", neiros_id=str(rng.randrange(10**6, 10**7)),
                 created_at=created, phone=phone, duration=duration,
                 record=f"https://audio.neiros.ru/{rng.getrandbits(128):032x}.mp3" if duration else None,
                 canal=canal, traffic=traffic, summ=0.0, status=rng.choice(NEIROS_STAGES))


def _build_dialog(data: DemoData) -> None:
    t = data.tenant
    data.add(schema.DialogProject, id=t.dialog_project_id, company_id=t.company_id, name="Обзвон клиентов")
    data.add(schema.DialogScenario, id=t.dialog_scenario_id, project_id=t.dialog_project_id,
             name="Опрос удовлетворённости", goal="Клиент согласился на встречу")
    data.add(schema.DialogStartBlock, id=t.dialog_start_block_id, scenario_id=t.dialog_scenario_id,
             name="Старт", params=["name", "time", "phone", "person_id"])
    data.add(schema.DialogCallerPhone, id=t.dialog_phone_id, project_id=t.dialog_project_id,
             number="+7351" + f"{t.dialog_phone_id:07d}")
