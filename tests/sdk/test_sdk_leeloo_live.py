"""Every Leeloo SDK method against the sandbox over real HTTP, sync and async, SQLite and PostgreSQL.

The ``live`` sandbox is shared: tests create their own records and check relative changes.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sdk_support import MODES, close, collect, leeloo_client, resolve

from leadbridge import errors
from leadbridge.sandbox.seed import DOC_IDS
from leadbridge.sandbox.server import RunningSandbox
from leadbridge.sdk import Page


@pytest.fixture(params=MODES)
async def lee(request: pytest.FixtureRequest, live: RunningSandbox) -> AsyncIterator[Any]:
    client = leeloo_client(request.param, live.credentials.leeloo_token, live.url)
    yield client
    await close(client)


async def a_channel(lee: Any) -> Any:
    page = await resolve(lee.channels.list(limit=1))
    return page[0]


async def a_leadgentool_and_block(lee: Any) -> tuple[str, str, str]:
    """A tunnel with its first leadgentool and block (blocks side-loaded by the sandbox's include=blocks)."""
    for tunnel in await collect(lee.tunnels.iter()):
        detail = await resolve(lee.tunnels.get(tunnel.id, include=["leadgentools", "blocks"]))
        if detail.links.get("leadgentools") and detail.links.get("blocks"):
            return detail.id, detail.links["leadgentools"][0].id, detail.links["blocks"][0].id
    raise AssertionError("no tunnel with leadgentools and blocks in the demo data")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def test_templates_categories_and_send_template(lee: Any) -> None:
    categories = await resolve(lee.templates.categories())
    assert categories and all(category.id and category.name for category in categories)
    templates = []
    for category in categories:
        templates = await resolve(lee.templates.list(category.id))
        if templates:
            break
    assert templates and templates[0].message_name
    channel = await a_channel(lee)
    before = (await resolve(lee.channels.messages(channel.id, limit=1))).total
    assert await resolve(lee.messages.send_template(channel.id, templates[0].id, variables={"key1": "Ада"})) is None
    after = await resolve(lee.channels.messages(channel.id, limit=1))
    assert after.total == before + 1


async def test_send_message_then_read_it_in_the_chat(lee: Any) -> None:
    channel = await a_channel(lee)
    text = unique("привет")
    await resolve(lee.messages.send(channel.id, text))
    history = await collect(lee.channels.iter_messages(channel.id, page_size=5))
    assert [message.text for message in history].count(text) == 1
    sent = next(message for message in history if message.text == text)
    assert sent.type == "YOUR_MESSAGE" and sent.created_at is not None and sent.created_at.utcoffset() == timedelta(0)
    v1_history = await collect(lee.v1.accounts.iter_messages(channel.id, page_size=7, concurrency=3))
    assert [m.id for m in v1_history] == [m.id for m in history]


async def test_channels_list_iter_and_date_filter(lee: Any) -> None:
    page = await resolve(lee.channels.list(limit=5))
    assert isinstance(page, Page) and len(page) == 5 and page.total >= 5
    everything = await collect(lee.channels.iter(page_size=40, concurrency=4))
    assert len({channel.id for channel in everything}) == len(everything) >= page.total
    dated = [c for c in everything if c.last_message_time is not None]
    moment = sorted(c.last_message_time for c in dated)[len(dated) // 2]
    since = await collect(lee.channels.iter(last_message_from=moment, page_size=50))
    assert since and all(c.last_message_time >= moment for c in since)
    until_day = moment.date()
    until = await collect(lee.channels.iter(last_message_to=until_day, page_size=50))
    assert until and all(c.last_message_time.date() <= until_day for c in until)


async def test_channel_person_matches_people_get(lee: Any) -> None:
    channel = await a_channel(lee)
    person = await resolve(lee.channels.person(channel.id))
    assert channel.id in [account.account_id for account in person.accounts]
    again = await resolve(lee.people.get(person.id))
    assert (again.id, again.name, again.phone) == (person.id, person.name, person.phone)


async def test_subscribe_then_read_the_subscription(lee: Any) -> None:
    tunnel_id, _, block_id = await a_leadgentool_and_block(lee)
    created = await resolve(lee.people.create(unique("Подписчик"), (await a_leadgentool_and_block(lee))[1]))
    await resolve(lee.channels.subscribe(created.id, tunnel_id, block_id))
    person = await resolve(lee.channels.person(created.id))
    assert tunnel_id in [record.tunnel_id for record in person.subscribe_history]


async def test_create_traffic_source(lee: Any) -> None:
    _, leadgentool_id, _ = await a_leadgentool_and_block(lee)
    name = unique("ts")
    source = await resolve(lee.leadgentools.create_traffic_source(leadgentool_id, name, description="из SDK"))
    assert (source.name, source.description, source.leadgentool_id) == (name, "из SDK", leadgentool_id)
    assert source.id and source.created_at is not None


async def test_order_create_get_update_list(lee: Any) -> None:
    moment = datetime(2026, 3, 1, 12, 30, 15, 250000, tzinfo=UTC)
    order = await resolve(lee.orders.create(DOC_IDS["payment_credits"], DOC_IDS["offer"], DOC_IDS["order_person"],
                                            email="buyer@example.com", phone="+79990000000",
                                            transaction_date=moment, is_notify_account=False))
    assert order.status == "OPENED" and order.id
    fetched = await resolve(lee.orders.get(order.id))
    assert fetched.id == order.id and fetched.title == order.title
    updated_id = await resolve(lee.orders.update(order.id, "RESOLVED", payment_date=moment, currency="RUB",
                                                 price=150, user_comments="оплачено"))
    assert updated_id == order.id
    fetched = await resolve(lee.orders.get(order.id))
    assert (fetched.currency, fetched.price) == ("RUB", 150)
    listed = await collect(lee.orders.iter(page_size=7, concurrency=2))
    assert order.id in [o.id for o in listed]
    assert len(listed) == (await resolve(lee.orders.list(limit=1))).total


async def test_order_update_with_a_bad_status_names_the_field(lee: Any) -> None:
    order = await resolve(lee.orders.create(DOC_IDS["payment_credits"], DOC_IDS["offer"], DOC_IDS["order_person"]))
    with pytest.raises(errors.ValidationError) as caught:
        await resolve(lee.orders.update(order.id, "MAYBE"))
    assert "status" in caught.value.fields


async def test_people_list_filters_and_iter(lee: Any) -> None:
    first = await resolve(lee.people.list(limit=10))
    assert len(first) == 10 and first.total >= 10
    everyone = await collect(lee.people.iter(page_size=37, concurrency=4))
    ids = [person.id for person in everyone]
    assert len(ids) == len(set(ids)) >= first.total
    tagged = await collect(lee.people.iter(tags=["vip"]))
    assert tagged and all("vip" in person.tags for person in tagged)
    with_phone = next(person for person in everyone if person.phone)
    found = await resolve(lee.people.list(phone=with_phone.phone))
    assert with_phone.id in [person.id for person in found]
    with_email = next(person for person in everyone if person.email)
    found = await resolve(lee.people.list(email=with_email.email))
    assert with_email.id in [person.id for person in found]
    since = date.today() - timedelta(days=30 * 365)
    dated = await resolve(lee.people.list(last_message_from=since, last_message_to=datetime.now(UTC)))
    assert all(p.last_message_time is None or p.last_message_time.date() >= since for p in dated)


async def test_person_create_update_get(lee: Any) -> None:
    _, leadgentool_id, _ = await a_leadgentool_and_block(lee)
    users = await resolve(lee.users.list(limit=1))
    name = unique("Феликс")
    channel = await resolve(lee.people.create(name, leadgentool_id, email=f"{name}@example.com",
                                              phone="+79990001111", connected_users_ids=[users[0].id]))
    assert channel.person_id and channel.name == name and channel.from_ == "MANUAL"
    await resolve(lee.people.update(channel.person_id, phone="+79990002222",
                                    custom_fields=[{"type": "EMAIL", "name": "work", "value": "w@example.com"}]))
    person = await resolve(lee.people.get(channel.person_id, include=["contactedUsers", "orders"]))
    assert (person.name, person.phone) == (name, "+79990002222")
    assert [(f.type, f.name, f.value) for f in person.custom_fields] == [("EMAIL", "work", "w@example.com")]
    assert person.included is None or users[0].id in [u.id for u in person.included.users]


async def test_people_update_with_bad_custom_field_names_it(lee: Any) -> None:
    person = (await resolve(lee.people.list(limit=1)))[0]
    with pytest.raises(errors.ValidationError) as caught:
        await resolve(lee.people.update(person.id, custom_fields=[{"type": "COLOUR", "name": "x", "value": "red"}]))
    assert any("custom_fields" in field for field in caught.value.fields)


async def test_tags_add_remove(lee: Any) -> None:
    _, leadgentool_id, _ = await a_leadgentool_and_block(lee)
    channel = await resolve(lee.people.create(unique("Тег"), leadgentool_id))
    tag = (await resolve(lee.tags.list()))[0]
    await resolve(lee.people.add_tag(channel.person_id, tag.id))
    assert tag.name in (await resolve(lee.people.get(channel.person_id))).tags
    await resolve(lee.people.remove_tag(channel.person_id, tag.id))
    assert tag.name not in (await resolve(lee.people.get(channel.person_id))).tags


async def test_add_comment(lee: Any) -> None:
    person = (await resolve(lee.people.list(limit=1)))[0]
    comment = await resolve(lee.people.add_comment(person.id, "позвонить завтра"))
    assert (comment.text, comment.entity_id, comment.entity_type) == ("позвонить завтра", person.id, "PERSON")


async def test_add_sms_then_find_the_person(lee: Any) -> None:
    connections = await resolve(lee.connections.list())
    sms = next(connection for connection in connections if connection.type == "sms")
    _, leadgentool_id, _ = await a_leadgentool_and_block(lee)
    phone = f"+7999{uuid.uuid4().int % 10**7:07d}"
    count = await resolve(lee.people.add_sms([{"name": "СМС", "email": "sms@example.com", "phone": phone}],
                                             sms.id, leadgentool_id))
    assert count == 1
    found = await resolve(lee.people.list(phone=phone))
    assert found.total == 1 and found[0].phone == phone


async def test_calls_create(lee: Any) -> None:
    channel = await a_channel(lee)
    user = (await resolve(lee.users.list(limit=1)))[0]
    call = await resolve(lee.calls.create(user.id, "606", "607", datetime(2026, 3, 22, 15, 30, 17), channel.id,
                                          "NOT_DEFINED", "SUCCESS", 100, "OUTBOUND"))
    assert (call.user_id, call.account_id, call.from_, call.to, call.status) == (
        user.id, channel.id, "606", "607", "SUCCESS")


async def test_tunnels_users_connections(lee: Any) -> None:
    tunnels = await collect(lee.tunnels.iter(page_size=3))
    assert len(tunnels) == (await resolve(lee.tunnels.list(limit=1))).total
    detail = await resolve(lee.tunnels.get(tunnels[0].id, include="leadgentools"))
    assert detail.linked is None or all(lgt.id for lgt in detail.linked.leadgentools)
    overall = await resolve(lee.tunnels.stats())
    one = await resolve(lee.tunnels.stats(tunnels[0].id))
    assert overall[0].subscribers >= one[0].subscribers >= 0
    users = await collect(lee.users.iter(page_size=4, concurrency=2))
    assert len(users) == (await resolve(lee.users.list())).total
    assert (await resolve(lee.users.get(users[-1].id))).name == users[-1].name
    connections = await resolve(lee.connections.list())
    assert connections and all(c.id and c.type for c in connections)


async def test_v1_accounts(lee: Any) -> None:
    page = await resolve(lee.v1.accounts.list(limit=5))
    assert len(page) == 5
    everything = await collect(lee.v1.accounts.iter(page_size=50, concurrency=3))
    assert len({a.id for a in everything}) == len(everything) == page.total
    tagged = await collect(lee.v1.accounts.iter(tags=["tag2", "tag3"]))
    assert tagged and all({"tag2", "tag3"} & set(account.tags) for account in tagged)
    account = await resolve(lee.v1.accounts.get(page[0].id, include=["contactedUsers", "orders"]))
    assert account.id == page[0].id and account.name == page[0].name
    messages = await resolve(lee.v1.accounts.messages(page[0].id, 2, 0))
    assert len(messages) <= 2 and messages.limit == 2


async def test_unknown_records_are_not_found(lee: Any) -> None:
    missing = "0" * 24
    for call in (lambda: lee.people.get(missing), lambda: lee.orders.get(missing), lambda: lee.users.get(missing)):
        with pytest.raises(errors.NotFoundError) as caught:
            await resolve(call())
        assert caught.value.status == 404


@pytest.mark.parametrize("mode", MODES)
async def test_wrong_token_is_an_authentication_error(live: RunningSandbox, mode: str) -> None:
    client = leeloo_client(mode, "not-the-token", live.url)
    try:
        with pytest.raises(errors.AuthenticationError) as caught:
            await resolve(client.tags.list())
        assert "not-the-token" not in str(caught.value)
    finally:
        await close(client)
