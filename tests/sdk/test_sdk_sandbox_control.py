"""The control API's SDK client against a sandbox over real HTTP, sync and async.

Every answer the client receives is also held to the control table's answer model (unknown
keys refused) by a response hook on its HTTP client, so each call tested here checks both
the SDK's reading and the sandbox's shape.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sdk_support import MODES, resolve

from http_clients import TIMEOUT
from leadbridge import Leeloo, errors
from leadbridge.contract import Endpoint, control_endpoints
from leadbridge.sandbox.seed import TENANTS
from leadbridge.sandbox.server import RunningSandbox
from leadbridge.sdk.sandbox import AsyncSandboxControl, SandboxControl
from webhook_support import receiving

DEMO = TENANTS[0].company_id
CALLER = "5b0d313b307879002915b3cc"  # the user the documents' add-call example names
ROUTES = [(entry, re.compile(re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(entry.path)) + "$"))
          for entry in control_endpoints()]


def entry_of(request: httpx.Request) -> Endpoint:
    return next(entry for entry, path in ROUTES if entry.method == request.method and path.match(request.url.path))


def conforms(response: httpx.Response) -> None:
    if response.is_success:
        entry_of(response.request).response.model_validate_json(response.content)


def check_sync(response: httpx.Response) -> None:
    response.read()
    conforms(response)


async def check_async(response: httpx.Response) -> None:
    await response.aread()
    conforms(response)


@pytest.fixture(params=MODES)
async def control(request: pytest.FixtureRequest, fresh: RunningSandbox) -> AsyncIterator[Any]:
    if request.param == "async":
        async with httpx.AsyncClient(base_url=fresh.url, timeout=TIMEOUT,
                                     event_hooks={"response": [check_async]}) as http, \
                AsyncSandboxControl(fresh.url, http_client=http) as client:
            yield client
    else:
        with httpx.Client(base_url=fresh.url, timeout=TIMEOUT, event_hooks={"response": [check_sync]}) as http, \
                SandboxControl(fresh.url, http_client=http) as client:
            yield client


def leeloo_get(fresh: RunningSandbox, path: str) -> dict[str, Any]:
    response = httpx.get(fresh.url + path, headers={"X-Leeloo-AuthToken": fresh.credentials.leeloo_token},
                         timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_clock_moves_and_reset_brings_it_back(control: Any) -> None:
    before = await resolve(control.clock.now())
    after = await resolve(control.clock.advance(3600))
    assert after.offset_seconds == before.offset_seconds + 3600
    assert (after.now - before.now).total_seconds() >= 3600
    assert await resolve(control.world.reset()) is None
    assert (await resolve(control.clock.now())).offset_seconds == 0


async def test_requests_log_and_faults(control: Any, fresh: RunningSandbox) -> None:
    leeloo_get(fresh, "/api/v2/tags")
    logged = await resolve(control.requests.list(path="/api/v2/tags"))
    assert [(entry.method, entry.path, entry.status) for entry in logged] == [("GET", "/api/v2/tags", 200)]
    assert await resolve(control.requests.list(since_id=logged[-1].id)) == []
    await resolve(control.requests.clear())
    assert await resolve(control.requests.list()) == []

    faults = await resolve(control.faults.add("^/api/v2/tags$", error_rate=1, error_status=502, methods=["GET"]))
    assert [(fault.pattern, fault.error_status, fault.methods) for fault in faults] == [("^/api/v2/tags$", 502,
                                                                                          ["GET"])]
    assert httpx.get(fresh.url + "/api/v2/tags", timeout=TIMEOUT,
                     headers={"X-Leeloo-AuthToken": fresh.credentials.leeloo_token}).status_code == 502
    assert await resolve(control.faults.list()) == faults
    await resolve(control.faults.clear())
    assert await resolve(control.faults.list()) == []


async def test_refusals_name_the_field(control: Any) -> None:
    with pytest.raises(errors.ValidationError) as refused:
        await resolve(control.faults.add("(unclosed"))
    assert "pattern" in refused.value.field_errors
    with pytest.raises(errors.NotFoundError):
        await resolve(control.people.comments("000000000000000000000000"))


async def test_world_changes_and_webhook_settings(control: Any, fresh: RunningSandbox) -> None:
    tag = await resolve(control.world.create_tag("Постоянный клиент"))
    assert tag.created and (await resolve(control.world.create_tag("Постоянный клиент"))).id == tag.id
    template = await resolve(control.world.create_template("Привет", "Здравствуйте, {name}!", category="Новые"))
    assert (template.category, template.text) == ("Новые", "Здравствуйте, {name}!")

    setting = await resolve(control.webhooks.configure("http://127.0.0.1:9/hooks", events=["SALE"]))
    assert (setting.company_id, setting.enabled, setting.events) == (DEMO, True, ["SALE"])
    assert await resolve(control.webhooks.settings(DEMO)) == [setting]
    assert await resolve(control.webhooks.deliveries(DEMO)) == []



async def test_what_integrations_wrote_on_a_person(control: Any, fresh: RunningSandbox) -> None:
    person = leeloo_get(fresh, "/api/v2/people?limit=1")["data"][0]
    account_id = person["accounts"][0]["account_id"]
    with Leeloo(token=fresh.credentials.leeloo_token, base_url=fresh.url, rate_limit=None) as leeloo:
        comment = leeloo.people.add_comment(person["id"], "Перезвонить в пятницу")
        call = leeloo.calls.create(CALLER, "+79990000001", "+79991234567", datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
                                   account_id, "https://records.example/1.mp3", "SUCCESS", 95, "OUTBOUND")
    comments = await resolve(control.people.comments(person["id"]))
    assert (comments[0].id, comments[0].text) == (comment.id, "Перезвонить в пятницу")
    calls = await resolve(control.people.calls(person["id"]))
    assert [(c.id, c.from_number, c.duration, c.date) for c in calls][:1] == [
        (call.id, "+79990000001", 95, datetime(2026, 1, 5, 9, 30, tzinfo=UTC))]

    message = await resolve(control.world.incoming_message(account_id, "Добрый день!"))
    assert (message.account_id, message.type, message.text) == (account_id, "FRIEND_MESSAGE", "Добрый день!")


async def test_a_missed_delivery_is_redelivered_to_the_webhook_as_set_now(control: Any,
                                                                          fresh: RunningSandbox) -> None:
    account_id = leeloo_get(fresh, "/api/v2/people?limit=1")["data"][0]["accounts"][0]["account_id"]
    await resolve(control.webhooks.configure("http://127.0.0.1:9/nobody", events=["INCOMING_MESSAGE"]))
    await resolve(control.faults.add("^INCOMING_MESSAGE$", target="webhooks", drop_rate=1))
    await resolve(control.world.incoming_message(account_id, "Вы тут?"))
    [missed] = await resolve(control.webhooks.deliveries(DEMO))
    assert (missed.state, missed.attempts) == ("failed", 0)
    await resolve(control.faults.clear())

    with receiving() as receiver:
        await resolve(control.webhooks.configure(receiver.url, events=["INCOMING_MESSAGE", "ORDER"]))
        again = await resolve(control.webhooks.redeliver(missed.id))
        assert again.id != missed.id and (again.url, again.body) == (receiver.url, missed.body)
        assert receiver.wait_event("INCOMING_MESSAGE", lambda data: data["text"] == "Вы тут?")
        assert [r.delivery for r in receiver.received] == [again.id]

        with pytest.raises(errors.NotFoundError):
            await resolve(control.webhooks.redeliver("000000000000000000000000"))
        await resolve(control.webhooks.configure(receiver.url, events=["ORDER"]))
        with pytest.raises(errors.APIStatusError) as refused:
            await resolve(control.webhooks.redeliver(missed.id))
        assert refused.value.status == 409 and "INCOMING_MESSAGE" in str(refused.value)


async def test_the_control_token_is_sent_when_the_sandbox_asks_for_one(fresh: RunningSandbox) -> None:
    fresh.sandbox.control_token = "control-secret-2"
    try:
        with SandboxControl(fresh.url) as anonymous, pytest.raises(errors.AuthenticationError) as refused:
            anonymous.clock.now()
        assert "X-Sandbox-Token" in refused.value.field_errors
        async with AsyncSandboxControl(fresh.url, token="control-secret-2") as control:
            assert (await control.clock.now()).offset_seconds == 0
        assert "control-secret-2" not in repr(control)
    finally:
        fresh.sandbox.control_token = None
