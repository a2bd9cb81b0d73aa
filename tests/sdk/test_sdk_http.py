"""The HTTP core's behaviour where the network misbehaves in ways the sandbox cannot stage.

respx stands in for the vendors' servers: connection failures, time-outs, expired tokens,
Retry-After timings and out-of-order page answers. Everything the sandbox can produce
(5xx, 429, latency) is also tested against it in test_sdk_faults.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from types import SimpleNamespace
from typing import Any

import httpx
import pydantic
import pytest
import respx
from sdk_support import MODES, close, collect, dialog_client, leeloo_client, neiros_client, resolve

from leadbridge import Leeloo, Neiros, errors
from leadbridge.contract.leeloo import ENDPOINTS as LEELOO_ENDPOINTS
from leadbridge.sdk import Page, RetryPolicy
from leadbridge.sdk._core import Operation, Pager
from leadbridge.sdk._http import PART_SIZE, SyncTransport, remembered_pages
from leadbridge.sdk.leeloo import _Lister
from leadbridge.sdk.models.leeloo import Person

BASE = "https://api.example.test"
TOKEN = "secret-token-value-42"
PASSWORD = "pa55-word-never-shown"
FAST = RetryPolicy(max_retries=3, backoff=0.001, max_backoff=0.002)
OK_TAGS = {"status": 1, "data": [{"id": "595f5d522a934035decc093d", "name": "Tag #1"}]}
OK_MESSAGE = {"status": 1, "data": {}}


def fast_leeloo(mode: str, **options: Any) -> Any:
    options.setdefault("retry", FAST)
    return leeloo_client(mode, TOKEN, BASE, **options)


# --- retries -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_get_is_retried_on_5xx_until_it_succeeds(mode: str) -> None:
    client = fast_leeloo(mode)
    with respx.mock(base_url=BASE) as router:
        route = router.get("/api/v2/tags").mock(side_effect=[
            httpx.Response(503), httpx.Response(502), httpx.Response(200, json=OK_TAGS)])
        tags = await resolve(client.tags.list())
    await close(client)
    assert [tag.name for tag in tags] == ["Tag #1"]
    assert route.call_count == 3


@pytest.mark.parametrize("mode", MODES)
async def test_get_gives_up_after_max_retries_with_a_server_error(mode: str) -> None:
    client = fast_leeloo(mode, retry=RetryPolicy(max_retries=2, backoff=0.001))
    with respx.mock(base_url=BASE) as router:
        route = router.get("/api/v2/tags").respond(503, json={"status": 0, "message": "busy"})
        with pytest.raises(errors.ServerError) as caught:
            await resolve(client.tags.list())
    await close(client)
    assert route.call_count == 3  # the first try and two retries
    assert caught.value.status == 503
    assert str(caught.value) == "GET /api/v2/tags -> 503: busy"


@pytest.mark.parametrize("mode", MODES)
async def test_429_waits_for_retry_after(mode: str) -> None:
    client = fast_leeloo(mode)
    moments: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        moments.append(time.monotonic())
        if len(moments) == 1:
            return httpx.Response(429, headers={"Retry-After": "0.3"}, json={"message": "Too Many Attempts."})
        return httpx.Response(200, json=OK_TAGS)

    with respx.mock(base_url=BASE) as router:
        router.get("/api/v2/tags").mock(side_effect=answer)
        await resolve(client.tags.list())
    await close(client)
    assert len(moments) == 2
    assert moments[1] - moments[0] >= 0.29


@pytest.mark.parametrize("mode", MODES)
async def test_put_is_retried_like_get(mode: str) -> None:
    client = fast_leeloo(mode)
    with respx.mock(base_url=BASE) as router:
        route = router.put("/api/v2/people/p1/add-tag").mock(side_effect=[
            httpx.ReadTimeout("slow"), httpx.Response(500), httpx.Response(200, json=OK_MESSAGE)])
        await resolve(client.people.add_tag("p1", "t1"))
    await close(client)
    assert route.call_count == 3


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("failure", [httpx.Response(503), httpx.ReadTimeout("no answer"),
                                     httpx.RemoteProtocolError("reset")])
async def test_post_that_may_have_reached_the_server_is_never_repeated(mode: str, failure: Any) -> None:
    client = fast_leeloo(mode)
    with respx.mock(base_url=BASE) as router:
        route = router.post("/api/v2/messages/send-message").mock(
            side_effect=[failure, httpx.Response(200, json=OK_MESSAGE)])
        with pytest.raises(errors.LeadbridgeError) as caught:
            await resolve(client.messages.send("a1", "hello"))
    await close(client)
    assert route.call_count == 1
    if isinstance(failure, Exception):  # no answer: the caller is told the message may have gone out
        assert isinstance(caught.value, errors.APIConnectionError) and caught.value.may_have_been_applied
        assert "may have been applied" in str(caught.value)
    else:
        assert isinstance(caught.value, errors.ServerError) and not caught.value.refused


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), httpx.ConnectTimeout("no route")])
async def test_post_is_retried_when_the_connection_was_never_made(mode: str, failure: Exception) -> None:
    client = fast_leeloo(mode)
    with respx.mock(base_url=BASE) as router:
        route = router.post("/api/v2/messages/send-message").mock(
            side_effect=[failure, httpx.Response(200, json=OK_MESSAGE)])
        assert await resolve(client.messages.send("a1", "hello")) is None
    await close(client)
    assert route.call_count == 2


@pytest.mark.parametrize("mode", MODES)
async def test_unreachable_server_raises_connection_error(mode: str) -> None:
    client = fast_leeloo(mode)
    with respx.mock(base_url=BASE) as router:
        route = router.get("/api/v2/tags").mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(errors.APIConnectionError) as caught:
            await resolve(client.tags.list())
    await close(client)
    assert route.call_count == 4
    assert not isinstance(caught.value, errors.APITimeoutError)
    assert caught.value.method == "GET" and caught.value.path == "/api/v2/tags"


@pytest.mark.parametrize("mode", MODES)
async def test_timeout_raises_timeout_error(mode: str) -> None:
    client = fast_leeloo(mode, max_retries=0, retry=None)
    with respx.mock(base_url=BASE) as router:
        router.get("/api/v2/tags").mock(side_effect=httpx.ReadTimeout("no answer"))
        with pytest.raises(errors.APITimeoutError):
            await resolve(client.tags.list())
    await close(client)


def test_retry_policy_backoff_grows_with_jitter_and_caps() -> None:
    policy = RetryPolicy(max_retries=10, backoff=0.5, max_backoff=4.0)
    for attempt, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (6, 4.0)]:
        delays = {policy.backoff_delay(attempt) for _ in range(50)}
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(delays) > 1  # jittered


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("status", "body", "expected"), [
    (401, {"status": 0, "message": "Invalid auth token"}, errors.AuthenticationError),
    (403, {"message": "Forbidden"}, errors.AuthenticationError),
    (404, {"status": 0, "message": "Person not found"}, errors.NotFoundError),
    (400, {"status": 0, "message": "body is not valid JSON"}, errors.ValidationError),
    (409, {"message": "Conflict"}, errors.APIStatusError),
    (500, {"message": "boom"}, errors.ServerError),
])
async def test_error_statuses_map_to_the_hierarchy(mode: str, status: int, body: Any,
                                                   expected: type[errors.APIError]) -> None:
    client = fast_leeloo(mode, max_retries=0, retry=None)
    with respx.mock(base_url=BASE) as router:
        router.get("/api/v2/people/p1").respond(status, json=body)
        with pytest.raises(expected) as caught:
            await resolve(client.people.get("p1"))
    await close(client)
    assert type(caught.value) is expected
    assert caught.value.status == status and caught.value.message == body["message"]
    assert str(caught.value).startswith(f"GET /api/v2/people/p1 -> {status}")
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize("mode", MODES)
async def test_validation_error_names_the_fields(mode: str) -> None:
    client = fast_leeloo(mode)
    body = {"status": 0, "message": "Invalid email: not an email",
            "errors": {"email": ["not an email"], "custom_fields.0.type": ["unknown type"]}}
    with respx.mock(base_url=BASE) as router:
        router.put("/api/v2/people/p1").respond(422, json=body)
        with pytest.raises(errors.ValidationError) as caught:
            await resolve(client.people.update("p1", email="nope"))
    await close(client)
    assert caught.value.fields == ["email", "custom_fields.0.type"]
    assert caught.value.field_errors["email"] == ["not an email"]


@pytest.mark.parametrize("mode", MODES)
async def test_leeloo_200_with_status_other_than_1_is_an_error(mode: str) -> None:
    client = fast_leeloo(mode)
    with respx.mock(base_url=BASE) as router:
        router.get("/api/v2/tags").respond(200, json={"status": 0, "message": "Company is blocked"})
        with pytest.raises(errors.APIError) as caught:
            await resolve(client.tags.list())
    await close(client)
    assert caught.value.status == 200
    assert str(caught.value) == "GET /api/v2/tags -> 200: Company is blocked"


@pytest.mark.parametrize("mode", MODES)
async def test_a_list_answered_with_status_other_than_1_is_an_error_not_a_page(mode: str) -> None:
    # Lists are read straight from the bytes when the answer has the success shape; an error
    # envelope that otherwise looks like a list must still come out as the API's error.
    client = fast_leeloo(mode)
    with respx.mock(base_url=BASE) as router:
        router.get("/api/v2/people").respond(200, json={"status": 0, "message": "Company is blocked", "data": []})
        with pytest.raises(errors.APIError) as caught:
            await resolve(client.people.list())
    await close(client)
    assert str(caught.value) == "GET /api/v2/people -> 200: Company is blocked"


@pytest.mark.parametrize("mode", MODES)
async def test_a_list_reads_the_same_from_bytes_and_from_decoded_json(mode: str) -> None:
    body = {"status": 1, "data": [{"id": "p1", "name": "Ann", "createdAt": "2021-11-01T11:55:56+03:00",
                                   "loyalty": 3}],
            "meta": {"totalCount": "41", "limit": 1, "offset": 5, "filteredCount": 1}}
    client = fast_leeloo(mode)
    with respx.mock(base_url=BASE) as router:
        router.get("/api/v2/people").respond(200, json=body)
        page = await resolve(client.people.list(limit=1, offset=5))
    await close(client)
    lister = _Lister(LEELOO_ENDPOINTS["people_list"], Person)
    op, walked = lister.page(5, 1), lister.page(5, 1, parts=True)  # a walk reads its pages part by part
    assert op.parse_bytes is not None and walked.parse_bytes is not None
    from_json = op.parse(body)
    content = httpx.Response(200, json=body).content
    assert page == from_json == op.parse_bytes(content) == walked.parse_bytes(content)
    assert (page.total, page.limit, page.offset, page.filtered_count) == (41, 1, 5, 1)
    assert page[0].model_extra == {"loyalty": 3}
    assert page[0].created_at is not None and page[0].created_at.isoformat() == "2021-11-01T08:55:56+00:00"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("included", [
    {"users": [{"id": "u1", "name": "Operator"}], "orders": []},  # side-loaded into the record
    {},  # empty: the record keeps its own
    ["not", "an", "object"],  # not the documented block: ignored, as the decoded path does
])
async def test_a_record_reads_the_same_from_bytes_and_from_decoded_json(mode: str, included: Any) -> None:
    body = {"status": 1, "data": {"id": "p1", "name": "Ann", "email": "NOT_DEFINED", "loyalty": 3,
                                  "included": {"users": [{"id": "own"}]}}, "included": included}
    client = fast_leeloo(mode)
    with respx.mock(base_url=BASE) as router:
        router.get("/api/v2/people/p1").respond(200, json=body)
        person = await resolve(client.people.get("p1", include="contactedUsers"))
    await close(client)
    op = client.people.get.__wrapped__(client.people, "p1")  # the Operation the method runs
    assert op.parse_bytes is not None
    from_json = op.parse(body)
    content = httpx.Response(200, json=body).content
    if isinstance(included, list):
        with pytest.raises(ValueError):  # the bytes path leaves such a body to the decoded one
            op.parse_bytes(content)
    else:
        assert op.parse_bytes(content) == from_json
    assert person == from_json
    assert person.email is None and person.model_extra == {"loyalty": 3}
    side_loaded = isinstance(included, dict) and included
    assert [user.id for user in person.included.users] == (["u1"] if side_loaded else ["own"])


@pytest.mark.parametrize("mode", MODES)
async def test_a_cookie_the_server_sets_goes_with_the_next_requests(mode: str) -> None:
    client = fast_leeloo(mode)
    with respx.mock(base_url=BASE) as router:
        route = router.get("/api/v2/tags").mock(side_effect=[
            httpx.Response(200, json=OK_TAGS, headers={"Set-Cookie": "session=abc; Path=/"}),
            httpx.Response(200, json=OK_TAGS)])
        await resolve(client.tags.list())
        await resolve(client.tags.list())
    await close(client)
    assert "cookie" not in route.calls[0].request.headers
    assert route.calls[1].request.headers["cookie"] == "session=abc"
    assert route.calls[1].request.headers["x-leeloo-authtoken"] == TOKEN


class StreamRecorder(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Stands in for the server: keeps each request's body stream as the transport is handed it."""

    def __init__(self) -> None:
        self.streams: list[Any] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.streams.append(request.stream)
        return httpx.Response(200, json=OK_MESSAGE)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self.handle_request(request)


@pytest.mark.parametrize("mode", MODES)
async def test_a_form_body_is_handed_over_as_one_buffer(mode: str) -> None:
    """httpx sends a multipart stream part by part, a socket write for each boundary, header and
    value; the SDK hands its short forms over whole."""
    recorder = StreamRecorder()
    client = fast_leeloo(mode, http_client=recorder)
    await resolve(client.people.add_tag("595f5d522a934035decc093d", "595f5d522a934035decc0aaa"))
    await close(client)
    [stream] = recorder.streams
    assert isinstance(stream, httpx.ByteStream)
    body = b"".join(stream)
    assert b'name="tag_id"' in body and b"595f5d522a934035decc0aaa" in body


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("path", "call", "answer", "place"), [
    ("/api/v2/people", lambda c: c.people.list(), {"status": 1, "data": [{"name": "no id"}]}, "data.0.id"),
    ("/api/v2/users/u1", lambda c: c.users.get("u1"), {"status": 1, "data": {"id": ["not", "text"]}}, "id"),
    ("/api/v2/users/u1", lambda c: c.users.get("u1"), {"status": 1}, "body"),
    ("/api/v2/people", lambda c: c.people.list(), "<html>maintenance</html>", "body"),
])
async def test_a_success_that_is_not_the_documented_record_is_a_clear_error(
        mode: str, path: str, call: Any, answer: Any, place: str) -> None:
    client = fast_leeloo(mode)
    with respx.mock(base_url=BASE) as router:
        if isinstance(answer, str):
            router.get(path).respond(200, text=answer)
        else:
            router.get(path).respond(200, json=answer)
        with pytest.raises(errors.ResponseValidationError) as caught:
            result = await resolve(call(client))
            list(result)  # a page's records are read when first used
    await close(client)
    assert caught.value.status == 200 and caught.value.path == path
    assert place in caught.value.fields
    assert str(caught.value).startswith(f"GET {path} -> 200: unexpected response: {place}")
    assert "no id" not in str(caught.value)  # values from the body are not quoted


@pytest.mark.parametrize("mode", MODES)
async def test_a_walk_builds_each_pages_models_part_by_part_and_names_a_bad_record(mode: str) -> None:
    records: list[dict[str, Any]] = [{"id": f"p{index}", "name": f"Person {index}"} for index in range(100)]
    bad = 2 * PART_SIZE + 5  # in the third part
    records[bad] = {"name": "no id"}
    body = {"status": 1, "data": records,
            "meta": {"limit": 100, "offset": 0, "filteredCount": 100, "totalCount": 100}}
    client = fast_leeloo(mode)
    seen: list[Person] = []
    with respx.mock(base_url=BASE) as router:
        router.get("/api/v2/people").respond(200, json=body)
        walk = client.people.iter()
        with pytest.raises(errors.ResponseValidationError) as caught:
            if isinstance(walk, AsyncIterator):
                async for person in walk:
                    seen.append(person)
            else:
                seen.extend(walk)
    await close(client)
    # The parts before the bad record were yielded as models before the bad one was read.
    assert [person.id for person in seen] == [f"p{index}" for index in range(2 * PART_SIZE)]
    assert all(isinstance(person, Person) and person.name == f"Person {index}" for index, person in enumerate(seen))
    assert f"data.{bad}.id" in caught.value.fields
    assert "no id" not in str(caught.value)


def test_a_page_read_part_by_part_builds_each_part_when_it_is_reached() -> None:
    records: list[dict[str, Any]] = [{"id": f"p{index}"} for index in range(45)]
    records[44] = {"name": "no id"}
    content = json.dumps({"status": 1, "data": records, "meta": {"totalCount": 45}}).encode()
    page = _Lister(LEELOO_ENDPOINTS["people_list"], Person).parse_parts(content)
    assert len(page) == 45 and page.total == 45 and page.has_more is False  # known without reading a record
    parts = page.parts(20)
    assert [person.id for person in next(parts)] == [f"p{index}" for index in range(20)]
    assert [person.id for person in next(parts)] == [f"p{index}" for index in range(20, 40)]
    with pytest.raises(pydantic.ValidationError) as caught:
        next(parts)
    assert [error["loc"] for error in caught.value.errors()] == [("data", 44, "id")]  # its place in the page


def test_a_page_read_part_by_part_reads_the_same_models_as_whole() -> None:
    content = json.dumps({"status": 1, "data": [{"id": f"p{index}", "tags": ["a"]} for index in range(45)],
                          "meta": {"totalCount": 90, "limit": 45, "offset": 0}}).encode()
    page = _Lister(LEELOO_ENDPOINTS["people_list"], Person).parse_parts(content)
    parts = list(page.parts(20))
    assert [len(part) for part in parts] == [20, 20, 5]
    assert page.items == [person for part in parts for person in part] and page.has_more
    assert [len(part) for part in page.parts(30)] == [30, 15]  # once read whole, cut from its models


@pytest.mark.parametrize("mode", MODES)
async def test_rate_limit_error_carries_retry_after(mode: str) -> None:
    client = fast_leeloo(mode, max_retries=0, retry=None)
    with respx.mock(base_url=BASE) as router:
        router.get("/api/v2/tags").respond(429, headers={"Retry-After": "7"}, json={"message": "Too Many Attempts."})
        with pytest.raises(errors.RateLimitError) as caught:
            await resolve(client.tags.list())
    await close(client)
    assert caught.value.retry_after == 7.0


# --- secrets -----------------------------------------------------------------------------


def test_reprs_hide_secrets() -> None:
    clients = [Leeloo(token=TOKEN), Neiros(email="me@example.com", password=PASSWORD), Neiros(token=TOKEN)]
    for client in clients:
        text = repr(client) + repr(client._transport.auth)
        assert TOKEN not in text and PASSWORD not in text
        assert client.base_url in repr(client)
        client.close()


@pytest.mark.parametrize("mode", MODES)
async def test_logs_never_show_the_token_or_password(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="leadbridge.sdk")
    client = neiros_client(mode, BASE, email="me@example.com", password=PASSWORD, retry=FAST)
    with respx.mock(base_url=BASE) as router:
        router.post("/api/userapi/v1/auth/login").respond(200, json={"token": TOKEN})
        router.get("/api/userapi/v1/sites").mock(side_effect=[httpx.Response(503),
                                                              httpx.Response(200, json={"data": []})])
        assert await resolve(client.sites.list()) == []
    await close(client)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "GET /api/userapi/v1/sites -> 503" in logged and "Bearer ***" not in logged
    assert "'authorization': '***'" in logged
    assert TOKEN not in logged and PASSWORD not in logged


# --- token login -------------------------------------------------------------------------


async def test_concurrent_async_calls_share_one_login() -> None:
    client = neiros_client("async", BASE, email="me@example.com", password=PASSWORD)
    logins = 0

    async def login(request: httpx.Request) -> httpx.Response:
        nonlocal logins
        logins += 1
        await asyncio.sleep(0.05)  # slow enough for every call to be waiting on it
        return httpx.Response(200, json={"token": "1|abc"})

    with respx.mock(base_url=BASE) as router:
        router.post("/api/userapi/v1/auth/login").mock(side_effect=login)
        sites = router.get("/api/userapi/v1/sites").respond(200, json={"data": [{"id": 1, "name": "a"}]})
        await asyncio.gather(*(client.sites.list() for _ in range(10)))
    await close(client)
    assert logins == 1
    assert {call.request.headers["Authorization"] for call in sites.calls} == {"Bearer 1|abc"}


def test_concurrent_threads_share_one_login() -> None:
    client = Neiros(email="me@example.com", password=PASSWORD, base_url=BASE)
    logins = 0
    lock = threading.Lock()

    def login(request: httpx.Request) -> httpx.Response:
        nonlocal logins
        with lock:
            logins += 1
        time.sleep(0.05)
        return httpx.Response(200, json={"token": "1|abc"})

    with respx.mock(base_url=BASE) as router, ThreadPoolExecutor(8) as pool:
        router.post("/api/userapi/v1/auth/login").mock(side_effect=login)
        router.get("/api/userapi/v1/sites").respond(200, json={"data": []})
        list(pool.map(lambda _: client.sites.list(), range(16)))
    client.close()
    assert logins == 1


@pytest.mark.parametrize("mode", MODES)
async def test_expired_token_is_renewed_once(mode: str) -> None:
    client = dialog_client(mode, BASE, login="demo", password=PASSWORD)
    tokens = iter(["old", "new"])

    def login(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"token": next(tokens)})

    def report(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer old":
            return httpx.Response(401, json={"message": "Unauthenticated."})
        return httpx.Response(200, json={"columns": [], "data": [], "count": 0})

    with respx.mock(base_url=BASE) as router:
        login_route = router.post("/api/login/").mock(side_effect=login)
        report_route = router.post("/api/analytics/1/report").mock(side_effect=report)
        result = await resolve(client.analytics.report(1, 2, 3, 4, "2030-01-01", "2030-01-02"))
    await close(client)
    assert result.count == 0
    assert login_route.call_count == 2 and report_route.call_count == 2


@pytest.mark.parametrize("mode", MODES)
async def test_a_report_window_of_bare_dates_covers_its_last_day(mode: str) -> None:
    client = dialog_client(mode, BASE, token="t")
    with respx.mock(base_url=BASE) as router:
        route = router.post("/api/analytics/1/report").respond(200, json={"columns": [], "data": [], "count": 0})
        await resolve(client.analytics.report(1, 2, 3, 4, date(2030, 1, 1), date(2030, 1, 2)))
    await close(client)
    window = json.loads(route.calls.last.request.content)["analytics_filter"]
    assert (window["date_start"], window["date_end"]) == ("2030-01-01T00:00:00.000Z", "2030-01-02T23:59:59.999Z")


@pytest.mark.parametrize("mode", MODES)
async def test_a_second_401_after_a_fresh_login_surfaces(mode: str) -> None:
    client = neiros_client(mode, BASE, email="me@example.com", password=PASSWORD)
    with respx.mock(base_url=BASE) as router:
        login_route = router.post("/api/userapi/v1/auth/login").respond(200, json={"token": "1|abc"})
        router.get("/api/userapi/v1/sites").respond(401, json={"message": "Unauthenticated."})
        with pytest.raises(errors.AuthenticationError):
            await resolve(client.sites.list())
    await close(client)
    assert login_route.call_count == 2  # the lazy login and one renewal, no loop


@pytest.mark.parametrize("mode", MODES)
async def test_wrong_password_is_an_authentication_error_without_the_password(mode: str) -> None:
    client = neiros_client(mode, BASE, email="me@example.com", password=PASSWORD)
    with respx.mock(base_url=BASE) as router:
        router.post("/api/userapi/v1/auth/login").respond(
            422, json={"message": "The provided credentials are incorrect.", "errors": {"email": ["incorrect"]}})
        with pytest.raises(errors.ValidationError) as caught:
            await resolve(client.sites.list())
    await close(client)
    assert caught.value.path == "/api/userapi/v1/auth/login" and caught.value.fields == ["email"]
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize("mode", MODES)
async def test_given_token_is_not_renewed(mode: str) -> None:
    client = neiros_client(mode, BASE, token=TOKEN)
    with respx.mock(base_url=BASE) as router:
        route = router.get("/api/userapi/v1/sites").respond(401, json={"message": "Unauthenticated."})
        with pytest.raises(errors.AuthenticationError):
            await resolve(client.sites.list())
    await close(client)
    assert route.call_count == 1


def test_credentials_are_required() -> None:
    with pytest.raises(ValueError):
        Neiros()
    with pytest.raises(ValueError):
        Leeloo(token="")


# --- rate limit --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_client_side_rate_limit_spaces_requests(mode: str) -> None:
    client = fast_leeloo(mode, rate_limit=20)
    moments: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        moments.append(time.monotonic())
        return httpx.Response(200, json=OK_TAGS)

    with respx.mock(base_url=BASE) as router:
        router.get("/api/v2/tags").mock(side_effect=answer)
        if mode == "async":
            await asyncio.gather(*(resolve(client.tags.list()) for _ in range(8)))
        else:
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(lambda _: client.tags.list(), range(8)))
    await close(client)
    # 20 per second: eight requests span at least seven 50 ms slots, whatever the concurrency.
    assert max(moments) - min(moments) >= 7 * 0.05 - 0.03


# --- concurrent paging -------------------------------------------------------------------


def paged_people(count: int, *, mode: str, grow_to: int | None = None) -> Any:
    """A people list answering pages out of order (uneven delays), optionally growing after the first page."""
    ids = [f"{index:024x}" for index in range(grow_to or count)]
    served = 0

    def page(request: httpx.Request) -> tuple[float, httpx.Response]:
        nonlocal served
        served += 1
        limit = int(request.url.params["limit"])
        offset = int(request.url.params["offset"])
        visible = count if served == 1 else len(ids)
        records = [{"id": i, "name": f"n{i}"} for i in ids[offset:min(offset + limit, visible)]]
        body = {"status": 1, "data": records,
                "meta": {"limit": limit, "offset": offset, "filteredCount": len(records), "totalCount": visible}}
        return (offset * 7919 % 13) / 1000, httpx.Response(200, json=body)

    async def async_answer(request: httpx.Request) -> httpx.Response:
        delay, response = page(request)
        await asyncio.sleep(delay)
        return response

    def sync_answer(request: httpx.Request) -> httpx.Response:
        delay, response = page(request)
        time.sleep(delay)
        return response

    return async_answer if mode == "async" else sync_answer


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("concurrency", [1, 3, 8])
async def test_iter_yields_every_record_once_in_order(mode: str, concurrency: int) -> None:
    client = fast_leeloo(mode)
    answer = paged_people(1003, mode=mode)
    with respx.mock(base_url=BASE) as router:
        route = router.get("/api/v2/people").mock(side_effect=answer)
        people = await collect(client.people.iter(page_size=50, concurrency=concurrency))
    await close(client)
    assert [p.id for p in people] == [f"{index:024x}" for index in range(1003)]
    assert route.call_count == 21  # ceil(1003 / 50): no page fetched twice, none past the end
    offsets = sorted(int(call.request.url.params["offset"]) for call in route.calls)
    assert offsets == list(range(0, 1003, 50))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("concurrency", [2, 5])
async def test_iter_never_has_more_requests_in_flight_than_its_concurrency(mode: str, concurrency: int) -> None:
    client = fast_leeloo(mode)
    answer = paged_people(600, mode=mode)
    lock = threading.Lock()
    in_flight = peak = 0

    def enter() -> None:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)

    def leave() -> None:
        nonlocal in_flight
        with lock:
            in_flight -= 1

    async def async_counted(request: httpx.Request) -> httpx.Response:
        enter()
        try:
            await asyncio.sleep(0.01)
            return await answer(request)
        finally:
            leave()

    def sync_counted(request: httpx.Request) -> httpx.Response:
        enter()
        try:
            time.sleep(0.01)
            response: httpx.Response = answer(request)
            return response
        finally:
            leave()

    with respx.mock(base_url=BASE) as router:
        router.get("/api/v2/people").mock(side_effect=async_counted if mode == "async" else sync_counted)
        people = await collect(client.people.iter(page_size=20, concurrency=concurrency))
    await close(client)
    assert len(people) == 600
    assert peak == concurrency  # every slot used, never one more


@pytest.mark.parametrize("mode", MODES)
async def test_iter_follows_a_list_that_grew_while_walking(mode: str) -> None:
    client = fast_leeloo(mode)
    answer = paged_people(100, mode=mode, grow_to=130)
    with respx.mock(base_url=BASE) as router:
        router.get("/api/v2/people").mock(side_effect=answer)
        people = await collect(client.people.iter(page_size=25, concurrency=4))
    await close(client)
    assert [p.id for p in people] == [f"{index:024x}" for index in range(130)]


@pytest.mark.parametrize("mode", MODES)
async def test_iter_yields_a_record_pushed_into_the_next_page_once(mode: str) -> None:
    # Before every page but the first, a new record is added at the head of the list: every
    # record the walk has not reached moves one place on, so the last of each page comes
    # again as the first of the next. The walk remembers only its last pages' keys.
    ids = [f"{index:024x}" for index in range(1000, 1100)]
    served = 0

    def page(request: httpx.Request) -> httpx.Response:
        nonlocal served
        if served:
            ids.insert(0, f"{served:024x}")
        served += 1
        limit, offset = int(request.url.params["limit"]), int(request.url.params["offset"])
        records = [{"id": i} for i in ids[offset:offset + limit]]
        return httpx.Response(200, json={"status": 1, "data": records, "meta": {
            "limit": limit, "offset": offset, "filteredCount": len(records), "totalCount": len(ids)}})

    client = fast_leeloo(mode)
    with respx.mock(base_url=BASE) as router:
        router.get("/api/v2/people").mock(side_effect=page)
        people = await collect(client.people.iter(page_size=10))
    await close(client)
    assert [p.id for p in people] == [f"{index:024x}" for index in range(1000, 1100)]


def test_a_walk_keeps_the_keys_of_its_last_pages_only() -> None:
    pager = Pager(first=Operation("GET", "/x", lambda body: body), plan=lambda first: [],
                  follow=lambda last: None, concurrency=2)
    fresh = SyncTransport.dedupe(pager)
    window = remembered_pages(2)
    def kept(page: Page[SimpleNamespace]) -> int:
        return sum(len(part) for part in fresh(page))

    for number in range(window + 5):
        assert kept(Page([SimpleNamespace(id=f"{number}-{i}") for i in range(10)], 10, 10, 0)) == 10
    # A key from the first page is forgotten (and would be yielded again); the latest ones are not.
    assert kept(Page([SimpleNamespace(id="0-0"), SimpleNamespace(id=f"{window + 4}-9")], 2, 2, 0)) == 1


def test_stopping_an_iteration_early_releases_the_pool() -> None:
    client = Leeloo(token=TOKEN, base_url=BASE, retry=FAST)
    with respx.mock(base_url=BASE) as router:
        router.get("/api/v2/people").mock(side_effect=paged_people(500, mode="sync"))
        iterator = client.people.iter(page_size=10, concurrency=4)
        first = [next(iterator) for _ in range(15)]
        iterator.close()  # type: ignore[attr-defined]
    client.close()
    assert len({p.id for p in first}) == 15
    assert not [t for t in threading.enumerate() if t.name.startswith("leadbridge-page")]


def test_bad_paging_arguments_are_refused() -> None:
    with Leeloo(token=TOKEN, base_url=BASE) as client:
        with pytest.raises(ValueError):
            client.people.iter(page_size=0)
        with pytest.raises(ValueError):
            client.people.iter(concurrency=0)


def test_http2_option_builds_an_http2_client() -> None:
    with Leeloo(token=TOKEN, base_url=BASE, http2=True) as client:
        transport = client._transport
        assert isinstance(transport.client, httpx.Client)
        assert transport.client._transport._pool._http2  # type: ignore[attr-defined]
