"""Calls whose answer comes too late, behind a real slow proxy in front of the sandbox.

The proxy forwards each request at once and holds the sandbox's answer (sent after the
sandbox committed) longer than the client waits. A call that is not repeatable must reach
the sandbox exactly once and raise an error saying it may have been applied; a repeatable
one is sent again (on a connection the proxy no longer slows) and ends in the right state.
Counted in the sandbox's request log, in its database and in the proxy's connections.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from net_stubs import SlowProxy
from sdk_support import MODES, close, dialog_client, leeloo_client, resolve
from sqlalchemy import func, select

from leadbridge import errors
from leadbridge.sandbox import schema
from leadbridge.sandbox.seed import TENANTS
from leadbridge.sandbox.server import RunningSandbox, serve_in_thread
from leadbridge.sandbox.state import MEMORY_URL, Sandbox
from leadbridge.sdk import RetryPolicy

DEMO = TENANTS[0]
# The proxy holds an answer far longer than the client's read timeout: the outcome does not
# hinge on how fast a loaded machine is (a slower sandbox only makes the client give up sooner).
HELD_FOR = 3.0
CLIENT_TIMEOUT = httpx.Timeout(30.0, read=0.5)
QUICK_RETRY = RetryPolicy(max_retries=3, backoff=0.05, max_backoff=0.1)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with serve_in_thread(Sandbox(MEMORY_URL, seed=5, people=20)) as running:
        yield running


@pytest.fixture
def proxy(sandbox: RunningSandbox) -> Iterator[SlowProxy]:
    httpx.delete(sandbox.url + "/_sandbox/requests", timeout=30).raise_for_status()
    port = urlparse(sandbox.url).port
    assert port is not None
    slow = SlowProxy(port, delay=HELD_FOR, slow_connections=1)
    yield slow
    slow.close()


def logged(sandbox: RunningSandbox, path: str, at_least: int) -> list[dict[str, Any]]:
    """The sandbox's log entries for ``path``, once at least ``at_least`` are there (it logs a
    request after answering it, which the proxy may still be holding)."""
    deadline = time.monotonic() + 60
    while True:
        entries: list[dict[str, Any]] = httpx.get(sandbox.url + "/_sandbox/requests", params={"path": path},
                                                  timeout=30).json()["data"]
        if len(entries) >= at_least or time.monotonic() > deadline:
            return entries
        time.sleep(0.05)


def count(sandbox: RunningSandbox, statement: Any) -> int:
    with sandbox.sandbox.read() as session:
        return int(session.scalar(statement) or 0)


def first_id(sandbox: RunningSandbox, table: Any) -> str:
    """The id of one of the demo tenant's records in ``table``."""
    with sandbox.sandbox.read() as session:
        company = select(schema.Company.id).where(schema.Company.leeloo_token == DEMO.leeloo_token)
        found = session.scalar(select(table.id).where(table.company_id == company.scalar_subquery()).limit(1))
    assert found is not None
    return str(found)


def a_person(sandbox: RunningSandbox) -> str:
    return first_id(sandbox, schema.Person)


def an_account(sandbox: RunningSandbox) -> str:
    return first_id(sandbox, schema.Account)


def a_leadgentool(sandbox: RunningSandbox) -> str:
    return first_id(sandbox, schema.Leadgentool)


@dataclass(frozen=True)
class Once:
    """A call that is not repeatable: ``call`` makes it, ``made`` counts its effect in the database."""

    name: str
    path: str
    call: Callable[[Any, RunningSandbox, str], Any]
    made: Callable[[str], Any]
    api: str = "leeloo"


ONCE = [
    Once("people.add_comment", "/add-comment",
         lambda client, sb, text: client.people.add_comment(a_person(sb), text),
         lambda text: select(func.count()).select_from(schema.Comment).where(schema.Comment.text == text)),
    Once("messages.send", "/api/v2/messages/send-message",
         lambda client, sb, text: client.messages.send(an_account(sb), text),
         lambda text: select(func.count()).select_from(schema.Message).where(schema.Message.text == text)),
    Once("people.create", "/api/v2/people",
         lambda client, sb, text: client.people.create(text, a_leadgentool(sb)),
         lambda text: select(func.count()).select_from(schema.Person).where(schema.Person.name == text)),
    Once("campaigns.create", "/api/campaigns",
         lambda client, sb, text: client.campaigns.create(DEMO.dialog_project_id, text, DEMO.dialog_start_block_id,
                                                          DEMO.dialog_phone_id, ["+79990000111"], "2030-01-01",
                                                          "09:00", "17:00"),
         lambda text: select(func.count()).select_from(schema.Campaign).where(schema.Campaign.name == text),
         api="dialog"),
]


def client_for(api: str, mode: str, sandbox: RunningSandbox, url: str) -> Any:
    creds = sandbox.credentials
    if api == "dialog":
        token = httpx.post(sandbox.url + "/api/login", json={"login": creds.dialog_login,
                                                             "password": creds.dialog_password}, timeout=30)
        return dialog_client(mode, url, token=token.raise_for_status().json()["token"], timeout=CLIENT_TIMEOUT,
                             retry=QUICK_RETRY)
    return leeloo_client(mode, creds.leeloo_token, url, timeout=CLIENT_TIMEOUT, retry=QUICK_RETRY)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", ONCE, ids=[case.name for case in ONCE])
async def test_a_call_that_is_not_repeatable_reaches_the_server_once(
        sandbox: RunningSandbox, proxy: SlowProxy, case: Once, mode: str) -> None:
    text = f"once-{uuid.uuid4().hex[:12]}"
    client = client_for(case.api, mode, sandbox, proxy.url)
    try:
        with pytest.raises(errors.APITimeoutError) as caught:
            await resolve(case.call(client, sandbox, text))
    finally:
        await close(client)
    assert caught.value.may_have_been_applied and "may have been applied" in str(caught.value)
    assert proxy.connections == 1  # never sent again (a second try would have passed the proxy at once)
    entries = [entry for entry in logged(sandbox, case.path, at_least=1) if entry["method"] != "GET"]
    assert len(entries) == 1 and entries[0]["status"] < 300  # the sandbox did it, once
    assert count(sandbox, case.made(text)) == 1


@pytest.mark.parametrize("mode", MODES)
async def test_add_tag_is_sent_again_and_the_person_has_the_tag_once(
        sandbox: RunningSandbox, proxy: SlowProxy, mode: str) -> None:
    person_id = a_person(sandbox)
    tag_id = first_id(sandbox, schema.Tag)
    with sandbox.sandbox.write() as session:
        session.execute(schema.PersonTag.__table__.delete().where(schema.PersonTag.person_id == person_id))
    client = client_for("leeloo", mode, sandbox, proxy.url)
    try:
        assert await resolve(client.people.add_tag(person_id, tag_id)) is None
    finally:
        await close(client)
    assert proxy.connections == 2  # the slow first try, then one that passed
    entries = logged(sandbox, "/add-tag", at_least=2)
    assert [entry["status"] for entry in entries] == [200, 200]
    tagged = select(func.count()).select_from(schema.PersonTag).where(
        schema.PersonTag.person_id == person_id, schema.PersonTag.tag_id == tag_id)
    assert count(sandbox, tagged) == 1


@pytest.mark.parametrize("mode", MODES)
async def test_people_update_is_sent_again_and_the_card_holds_the_new_email(
        sandbox: RunningSandbox, proxy: SlowProxy, mode: str) -> None:
    person_id = a_person(sandbox)
    email = f"renamed-{uuid.uuid4().hex[:8]}@example.com"
    client = client_for("leeloo", mode, sandbox, proxy.url)
    try:
        assert await resolve(client.people.update(person_id, email=email)) is None
    finally:
        await close(client)
    assert proxy.connections == 2
    assert [entry["status"] for entry in logged(sandbox, f"/api/v2/people/{person_id}", at_least=2)] == [200, 200]
    with sandbox.sandbox.read() as session:
        assert session.scalar(select(schema.Person.email).where(schema.Person.id == person_id)) == email
