"""The Leeloo.ai dlt source, on the SDK's :class:`~leadbridge.sdk.Leeloo` client.

Tables: ``people`` (merged on id) with ``people__accounts``, ``people__tags``,
``people__custom_fields`` and ``people__subscribe_history`` (keyed by ``person_id``),
``channels`` (with one ``utm_marks__<mark>`` column per UTM mark), ``chat_messages``,
``orders``, ``tunnels``, ``tunnel_stats`` (one snapshot per tunnel and UTC day),
``users``, ``tags``, ``templates`` and ``connections``. Which of them load incrementally,
and why, is in docs/export.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from itertools import islice
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import dlt
import pyarrow as pa
from dlt.extract.resource import DltResource
from dlt.extract.source import DltSource

from leadbridge.contract.leeloo import BASE_URL as DEFAULT_BASE_URL
from leadbridge.export._state import Watermark
from leadbridge.export._tables import TIMESTAMP, build_table, column_hints, e164, extras, utc_day
from leadbridge.sdk import Leeloo
from leadbridge.sdk.models import Channel, Order, Person

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

PEOPLE = [("id", pa.string()), ("name", pa.string()), ("email", pa.string()), ("phone", pa.string()),
          ("phone_e164", pa.string()), ("last_message_time", TIMESTAMP), ("profile_image", pa.string()),
          ("gender", pa.string()), ("locale", pa.string()), ("created_at", TIMESTAMP), ("updated_at", TIMESTAMP)]
ACCOUNTS = [("person_id", pa.string()), ("idx", pa.int64()), ("account_id", pa.string()),
            ("connection_id", pa.string()), ("connection_status", pa.string()), ("messenger", pa.string())]
TAGS_OF_PEOPLE = [("person_id", pa.string()), ("idx", pa.int64()), ("tag", pa.string())]
CUSTOM_FIELDS = [("person_id", pa.string()), ("idx", pa.int64()), ("type", pa.string()), ("name", pa.string()),
                 ("value", pa.string())]
SUBSCRIBE_HISTORY = [("person_id", pa.string()), ("idx", pa.int64()), ("tunnel_id", pa.string()),
                     ("tunnel_name", pa.string()), ("leadgentool_id", pa.string()),
                     ("leadgentool_name", pa.string()), ("traffic_source_id", pa.string()),
                     ("traffic_source", pa.string()), ("account_id", pa.string())]
CHANNELS = [("id", pa.string()), ("person_id", pa.string()), ("name", pa.string()), ("messenger", pa.string()),
            ("bot_status", pa.string()), ("connection_status", pa.string()), ("last_message_time", TIMESTAMP),
            ("tags", pa.string()), ("gender", pa.string()), ("phone", pa.string()), ("email", pa.string()),
            ("locale", pa.string()), ("created_at", TIMESTAMP), ("updated_at", TIMESTAMP)]
MESSAGES = [("id", pa.string()), ("account_id", pa.string()), ("type", pa.string()), ("text", pa.string()),
            ("read", pa.bool_()), ("created_at", TIMESTAMP), ("updated_at", TIMESTAMP)]
ORDERS = [("id", pa.string()), ("person_id", pa.string()), ("title", pa.string()), ("description", pa.string()),
          ("price", pa.float64()), ("currency", pa.string()), ("status", pa.string()),
          ("payment_method", pa.string()), ("created_at", TIMESTAMP), ("updated_at", TIMESTAMP)]
TUNNELS = [("id", pa.string()), ("name", pa.string()), ("created_at", TIMESTAMP), ("updated_at", TIMESTAMP)]
TUNNEL_STATS = [("tunnel_id", pa.string()), ("snapshot_date", pa.date32()), ("subscribers", pa.int64()),
                ("uniq_subscribers", pa.int64()), ("orders", pa.int64()), ("sales", pa.int64()),
                ("uniq_sales", pa.int64()), ("visits", pa.int64()), ("uniq_visits", pa.int64()),
                ("shows", pa.int64()), ("uniq_shows", pa.int64()), ("total_sale", pa.float64()),
                ("total_expenses", pa.float64())]
NAMED = [("id", pa.string()), ("name", pa.string())]
TEMPLATES = [("id", pa.string()), ("category_id", pa.string()), ("category_name", pa.string()),
             ("message_name", pa.string())]
CONNECTIONS = [("id", pa.string()), ("type", pa.string()), ("name", pa.string())]

PERSON_CHILDREN = {"people__accounts": ACCOUNTS, "people__tags": TAGS_OF_PEOPLE,
                   "people__custom_fields": CUSTOM_FIELDS, "people__subscribe_history": SUBSCRIBE_HISTORY}

# Each person's child rows replace the ones loaded before (delete by person_id, then insert).
CHILD_HINTS = {name: dlt.mark.make_hints(table_name=name, write_disposition="merge", merge_key="person_id",
                                         columns=column_hints(known, not_null=("person_id", "idx")))
               for name, known in PERSON_CHILDREN.items()}
PEOPLE_HINTS = dlt.mark.make_hints(table_name="people", write_disposition="merge", primary_key="id",
                                   columns=column_hints(PEOPLE, not_null=("id",)))
CHUNK = 1000  # records per Arrow table

Connect = Callable[[], Leeloo]
T = TypeVar("T")


def is_loopback(base_url: str) -> bool:
    return (urlsplit(base_url).hostname or "") in LOOPBACK_HOSTS


def client_settings(base_url: str, rate_limit: float | Literal[False] | None = None) -> dict[str, Any]:
    """Client options: the configured rate limit (false: none), else none against a sandbox on
    this machine.

    Against the real Leeloo the SDK's own default limit stays (the platform allows 300
    requests a minute per token); a local sandbox has no such limit, so the export lifts it.
    """
    if rate_limit is not None:
        return {"rate_limit": rate_limit or None}
    return {"rate_limit": None} if is_loopback(base_url) else {}


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of ``size`` items: one Arrow table per chunk keeps the per-table cost small."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


# --- row builders ---------------------------------------------------------------------------------


def person_rows(page: Sequence[Person], region: str) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    people: list[dict[str, Any]] = []
    children: dict[str, list[dict[str, Any]]] = {name: [] for name in PERSON_CHILDREN}
    accounts, tags = children["people__accounts"], children["people__tags"]
    fields, history = children["people__custom_fields"], children["people__subscribe_history"]
    for person in page:
        pid = person.id
        row = {"id": pid, "name": person.name, "email": person.email, "phone": person.phone,
               "phone_e164": e164(person.phone, region), "last_message_time": person.last_message_time,
               "profile_image": person.profile_image, "gender": person.gender, "locale": person.locale,
               "created_at": person.created_at, "updated_at": person.updated_at}
        if person.model_extra:
            row.update(extras(person))
        people.append(row)
        for idx, account in enumerate(person.accounts):
            accounts.append({"person_id": pid, "idx": idx, "account_id": account.account_id,
                             "connection_id": account.connection_id,
                             "connection_status": account.connection_status, "messenger": account.from_,
                             **extras(account)})
        for idx, tag in enumerate(person.tags):
            tags.append({"person_id": pid, "idx": idx, "tag": tag})
        for idx, field in enumerate(person.custom_fields):
            value = field.value
            fields.append({"person_id": pid, "idx": idx, "type": field.type, "name": field.name,
                           "value": None if value is None else str(value)})
        for idx, record in enumerate(person.subscribe_history):
            history.append({"person_id": pid, "idx": idx, **record.model_dump(include={
                "tunnel_id", "tunnel_name", "leadgentool_id", "leadgentool_name", "traffic_source_id",
                "traffic_source", "account_id"}), **extras(record)})
    return people, children


def channel_row(channel: Channel) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": channel.id, "person_id": channel.person_id, "name": channel.name, "messenger": channel.from_,
        "bot_status": channel.bot_status, "connection_status": channel.connection_status,
        "last_message_time": channel.last_message_time, "tags": ",".join(channel.tags) or None,
        "gender": channel.gender, "phone": channel.phone, "email": channel.email, "locale": channel.locale,
        "created_at": channel.created_at, "updated_at": channel.updated_at}
    # One column per UTM mark: a mark a campaign starts using becomes a new column.
    for mark, value in channel.utm_marks.items():
        row[f"utm_marks__{mark}"] = value
    if channel.model_extra:
        row.update(extras(channel))
    return row


def order_row(order: Order) -> dict[str, Any]:
    row = {"id": order.id, "person_id": order.person_id, "title": order.title, "description": order.description,
           "price": order.price, "currency": order.currency, "status": order.status,
           "payment_method": order.payment_method, "created_at": order.created_at, "updated_at": order.updated_at}
    if order.model_extra:
        row.update(extras(order))
    return row


# --- resources ------------------------------------------------------------------------------------


def people_resource(connect: Connect, *, concurrency: int, page_size: int, region: str) -> DltResource:
    def people() -> Iterator[Any]:
        """People with a message since the last run (``filter[last_message][from]``), and their child tables."""
        state = dlt.current.resource_state()
        mark = Watermark(state, "last_message_time")
        with connect() as client:
            people = client.people.iter(last_message_from=mark.since, page_size=page_size, concurrency=concurrency)
            for page in chunks(people, CHUNK):
                fresh = [p for p in page if mark.keep(p.last_message_time, p.id)]
                if not fresh:
                    continue
                rows, children = person_rows(fresh, region)
                yield dlt.mark.with_hints(build_table(rows, PEOPLE, not_null=("id",)), PEOPLE_HINTS,
                                          create_table_variant=True)
                for name, child_rows in children.items():
                    if child_rows:
                        yield dlt.mark.with_hints(build_table(child_rows, PERSON_CHILDREN[name],
                                                              not_null=("person_id", "idx")),
                                                  CHILD_HINTS[name], create_table_variant=True)
        mark.save()

    # The hints travel with each table: a resource's own column hints would be given to its child tables too.
    return dlt.resource(people, name="people", write_disposition="merge")


def channels_resource(connect: Connect, *, concurrency: int, page_size: int) -> DltResource:
    def channels() -> Iterator[pa.Table]:
        """Channels with a message since the last run, with their UTM marks."""
        mark = Watermark(dlt.current.resource_state(), "last_message_time")
        with connect() as client:
            channels = client.channels.iter(last_message_from=mark.since, page_size=page_size,
                                            concurrency=concurrency)
            for page in chunks(channels, CHUNK):
                rows = [channel_row(c) for c in page if mark.keep(c.last_message_time, c.id)]
                if rows:
                    yield build_table(rows, CHANNELS, not_null=("id",))
        mark.save()

    return dlt.resource(channels, name="channels", write_disposition="merge", primary_key="id",
                        columns=column_hints(CHANNELS, not_null=("id",)))


def chat_messages_transformer(connect: Connect, channels: DltResource, *, page_size: int) -> DltResource:
    def chat_messages(page: pa.Table) -> Iterator[pa.Table]:
        """The new messages of each channel that had one since the last run: newest first, up to a seen id."""
        state = dlt.current.resource_state()
        newest_seen: dict[str, str] = state.setdefault("newest_message_ids", {})
        with connect() as client:
            for account_id in page.column("id").to_pylist():
                stop_at = newest_seen.get(account_id)
                rows: list[dict[str, Any]] = []
                offset, done = 0, False
                while not done:
                    batch = client.channels.messages(account_id, limit=page_size, offset=offset)
                    for message in batch.items:
                        if message.id == stop_at:
                            done = True
                            break
                        rows.append({"id": message.id, "account_id": account_id, "type": message.type,
                                     "text": message.text, "read": message.read, "created_at": message.created_at,
                                     "updated_at": message.updated_at, **extras(message)})
                    offset += len(batch.items)
                    done = done or not batch.has_more
                if rows:
                    newest = max(rows, key=lambda r: (r["created_at"] or datetime.min.replace(tzinfo=UTC), r["id"]))
                    newest_seen[account_id] = newest["id"]
                    yield build_table(rows, MESSAGES, not_null=("id",))

    return dlt.transformer(chat_messages, data_from=channels, name="chat_messages", write_disposition="merge",
                           primary_key="id", columns=column_hints(MESSAGES, not_null=("id",)))


def orders_resource(connect: Connect, *, concurrency: int, page_size: int) -> DltResource:
    def orders() -> Iterator[pa.Table]:
        """Orders changed since the last run (the list has no filter: it is read whole, loaded by updated_at)."""
        mark = Watermark(dlt.current.resource_state(), "updated_at")
        with connect() as client:
            for page in chunks(client.orders.iter(page_size=page_size, concurrency=concurrency), CHUNK):
                rows = [order_row(o) for o in page
                        if o.id is not None and mark.keep(o.updated_at or o.created_at, o.id)]
                if rows:
                    yield build_table(rows, ORDERS, not_null=("id",))
        mark.save()

    return dlt.resource(orders, name="orders", write_disposition="merge", primary_key="id",
                        columns=column_hints(ORDERS, not_null=("id",)))


def tunnels_resources(connect: Connect) -> list[DltResource]:
    def tunnels() -> Iterator[pa.Table]:
        """Every tunnel (a short list, replaced on each run)."""
        with connect() as client:
            rows = [{"id": t.id, "name": t.name, "created_at": t.created_at, "updated_at": t.updated_at,
                     **extras(t)} for t in client.tunnels.iter()]
        yield build_table(rows, TUNNELS, not_null=("id",))

    def tunnel_stats() -> Iterator[pa.Table]:
        """Each tunnel's counters as of today (UTC): one snapshot per tunnel and day."""
        today = utc_day()
        rows = []
        with connect() as client:
            for tunnel in client.tunnels.iter():
                for stats in client.tunnels.stats(tunnel.id):
                    rows.append({"tunnel_id": tunnel.id, "snapshot_date": today,
                                 **stats.model_dump(), **extras(stats)})
        yield build_table(rows, TUNNEL_STATS, not_null=("tunnel_id", "snapshot_date"))

    return [
        dlt.resource(tunnels, name="tunnels", write_disposition="replace", primary_key="id",
                     columns=column_hints(TUNNELS, not_null=("id",))),
        dlt.resource(tunnel_stats, name="tunnel_stats", write_disposition="merge",
                     primary_key=("tunnel_id", "snapshot_date"),
                     columns=column_hints(TUNNEL_STATS, not_null=("tunnel_id", "snapshot_date"))),
    ]


def reference_resources(connect: Connect) -> list[DltResource]:
    """Users, tags, templates and connections: small lists without any filter, replaced on each run."""

    def users() -> Iterator[pa.Table]:
        with connect() as client:
            rows = [{"id": u.id, "name": u.name, "created_at": u.created_at, "updated_at": u.updated_at,
                     **extras(u)} for u in client.users.iter()]
        yield build_table(rows, [*NAMED, ("created_at", TIMESTAMP), ("updated_at", TIMESTAMP)], not_null=("id",))

    def tags() -> Iterator[pa.Table]:
        with connect() as client:
            rows = [{"id": t.id, "name": t.name, **extras(t)} for t in client.tags.list()]
        yield build_table(rows, NAMED, not_null=("id",))

    def templates() -> Iterator[pa.Table]:
        with connect() as client:
            rows = [{"id": template.id, "category_id": category.id, "category_name": category.name,
                     "message_name": template.message_name, **extras(template)}
                    for category in client.templates.categories() for template in client.templates.list(category.id)]
        yield build_table(rows, TEMPLATES, not_null=("id",))

    def connections() -> Iterator[pa.Table]:
        with connect() as client:
            rows = [{"id": c.id, "type": c.type, "name": c.name, **extras(c)} for c in client.connections.list()]
        yield build_table(rows, CONNECTIONS, not_null=("id",))

    user_columns = [*NAMED, ("created_at", TIMESTAMP), ("updated_at", TIMESTAMP)]
    return [
        dlt.resource(users, name="users", write_disposition="replace",
                     columns=column_hints(user_columns, not_null=("id",))),
        dlt.resource(tags, name="tags", write_disposition="replace", columns=column_hints(NAMED, not_null=("id",))),
        dlt.resource(templates, name="templates", write_disposition="replace",
                     columns=column_hints(TEMPLATES, not_null=("id",))),
        dlt.resource(connections, name="connections", write_disposition="replace",
                     columns=column_hints(CONNECTIONS, not_null=("id",))),
    ]


def leeloo_source(token: str, base_url: str = DEFAULT_BASE_URL, *, rate_limit: float | Literal[False] | None = None,
                  concurrency: int = 4, page_size: int = 100, phone_region: str = "RU",
                  client_options: dict[str, Any] | None = None) -> DltSource:
    """The Leeloo.ai dlt source: ``pipeline.run(leeloo_source(token="…"))``.

    ``rate_limit`` (requests per second) defaults to the SDK's own limit against the real
    Leeloo, and to none against a sandbox on this machine; ``concurrency`` pages of a list
    are fetched at once; phones are written as E.164 in ``phone_e164`` (numbers without a
    country code read in ``phone_region``). Select resources with ``.with_resources(…)``.
    """
    options = {**client_settings(base_url, rate_limit), **(client_options or {})}

    def connect() -> Leeloo:
        return Leeloo(token, base_url=base_url, **options)

    @dlt.source(name="leeloo", max_table_nesting=0)
    def leeloo() -> list[DltResource]:
        people = people_resource(connect, concurrency=concurrency, page_size=page_size, region=phone_region)
        channels = channels_resource(connect, concurrency=concurrency, page_size=page_size)
        return [people, channels, chat_messages_transformer(connect, channels, page_size=page_size),
                orders_resource(connect, concurrency=concurrency, page_size=page_size),
                *tunnels_resources(connect), *reference_resources(connect)]

    return leeloo()
