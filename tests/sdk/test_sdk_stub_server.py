"""What only the real services show, replayed against the SDK by a stub server on 127.0.0.1.

Leeloo's plain-text 429 (express-rate-limit's message), its error envelope on any status,
the "NOT_DEFINED" placeholders and its page cap; Dialog's OAuth2 form login answered with
``access_token`` (REALWORLD.md lists the sources). The stub is a real HTTP server, so the
SDK's whole path (sockets, retries, waits) runs as it would against the vendors.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from net_stubs import Reply, Seen, StubServer
from sdk_support import MODES, close, collect, dialog_client, leeloo_client, resolve

from leadbridge import AsyncLeeloo, Leeloo, errors
from leadbridge.sdk import RateLimit, RetryPolicy
from leadbridge.sdk._http import RateLimiter

TOKEN = "stub-token-value-77"
PASSWORD = "stub-pa55word-never-shown"
TOO_MANY = b"Too many requests, please try again later."
OK_TAGS = {"status": 1, "data": [{"id": "595f5d522a934035decc093d", "name": "Tag #1"}]}
FAST = RetryPolicy(max_retries=3, backoff=0.001, max_backoff=0.002)


def as_json(value: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(value).encode())


def too_many(headers: dict[str, str] | None = None) -> Reply:
    return Reply(429, TOO_MANY, content_type="text/plain; charset=utf-8", headers=headers or {})


@pytest.fixture
def stub() -> Iterator[Callable[[Callable[[Seen], Reply]], StubServer]]:
    servers: list[StubServer] = []

    def start(answer: Callable[[Seen], Reply]) -> StubServer:
        server = StubServer(answer)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def scripted(*replies: Reply) -> Callable[[Seen], Reply]:
    """Answers with ``replies`` in turn, the last one for ever after."""
    queue = list(replies)

    def answer(seen: Seen) -> Reply:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return answer


# --- the plain-text 429 -------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_plain_text_429_is_retried_after_the_wait_it_names(stub: Any, mode: str) -> None:
    server = stub(scripted(too_many({"Retry-After": "1"}), as_json(OK_TAGS)))
    client = leeloo_client(mode, TOKEN, server.url, retry=FAST)
    try:
        tags = await resolve(client.tags.list())
    finally:
        await close(client)
    assert [tag.name for tag in tags] == ["Tag #1"]
    first, second = server.seen
    assert second.at - first.at >= 0.99


@pytest.mark.parametrize("mode", MODES)
async def test_plain_text_429_without_retry_after_waits_out_the_window(stub: Any, mode: str) -> None:
    # Without a Retry-After the client cannot know where the server's window ends: it waits
    # one whole window of its own limit, after which a new one has begun.
    server = stub(scripted(too_many(), as_json(OK_TAGS)))
    client = leeloo_client(mode, TOKEN, server.url, retry=FAST, rate_limit=RateLimit(1000, per=0.5, burst=10))
    try:
        await resolve(client.tags.list())
    finally:
        await close(client)
    first, second = server.seen
    assert second.at - first.at >= 0.49


@pytest.mark.parametrize("mode", MODES)
async def test_a_429_refused_the_message_before_it_was_read_so_it_is_sent_again(stub: Any, mode: str) -> None:
    server = stub(scripted(too_many({"Retry-After": "0"}), as_json({"status": 1, "data": {}})))
    client = leeloo_client(mode, TOKEN, server.url, retry=FAST)
    try:
        assert await resolve(client.messages.send("a1", "hello")) is None
    finally:
        await close(client)
    assert [seen.path for seen in server.seen] == ["/api/v2/messages/send-message"] * 2


@pytest.mark.parametrize("mode", MODES)
async def test_429s_beyond_the_retries_raise_a_refused_rate_limit_error(stub: Any, mode: str) -> None:
    server = stub(scripted(too_many({"Retry-After": "0"})))
    client = leeloo_client(mode, TOKEN, server.url, retry=RetryPolicy(max_retries=2, backoff=0.001))
    try:
        with pytest.raises(errors.RateLimitError) as caught:
            await resolve(client.tags.list())
    finally:
        await close(client)
    assert len(server.seen) == 3
    error = caught.value
    assert error.status == 429 and error.refused and error.retry_after == 0
    assert str(error) == f"GET /api/v2/tags -> 429: {TOO_MANY.decode()}"


# --- the error envelope ---------------------------------------------------------------------


ENVELOPE_CASES = [
    (200, {"status": 0, "error": {"fields": {"authToken": "REQUIRED"}, "code": "FORMAT_ERROR"}},
     errors.ValidationError, "FORMAT_ERROR (authToken: REQUIRED)"),
    (400, {"status": 0, "error": {"fields": {"phone": "INVALID", "email": "TOO_LONG"}, "code": "FORMAT_ERROR"},
           "message": "Invalid phone", "code": 400}, errors.ValidationError, "FORMAT_ERROR: Invalid phone"),
    (401, {"status": 0, "error": {"fields": {"authToken": "INVALID"}, "code": "UNAUTHORIZED"},
           "message": "Invalid auth token", "code": 401}, errors.AuthenticationError,
     "UNAUTHORIZED: Invalid auth token"),
    (200, {"status": 0, "error": {"fields": {}, "code": "NOT_FOUND"}, "message": "Person not found"},
     errors.NotFoundError, "NOT_FOUND: Person not found"),
    (404, {"status": 0, "error": {"code": "NOT_FOUND"}, "message": "Person not found", "code": 404},
     errors.NotFoundError, "NOT_FOUND: Person not found"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("status", "body", "expected", "message"), ENVELOPE_CASES)
async def test_the_error_envelope_is_read_on_any_status(stub: Any, mode: str, status: int, body: Any,
                                                        expected: type[errors.APIStatusError], message: str) -> None:
    server = stub(scripted(as_json(body, status)))
    client = leeloo_client(mode, TOKEN, server.url, retry=FAST)
    try:
        with pytest.raises(expected) as caught:
            await resolve(client.people.get("p1"))
    finally:
        await close(client)
    error = caught.value
    assert type(error) is expected and error.status == status and error.refused
    assert error.code == body["error"]["code"]
    assert error.field_errors == {name: [code] for name, code in body["error"].get("fields", {}).items()}
    assert error.fields == list(body["error"].get("fields", {}))
    assert str(error) == f"GET /api/v2/people/p1 -> {status}: {message}"
    assert len(server.seen) == 1  # a refusal is final: not retried
    assert TOKEN not in str(error) and TOKEN not in repr(error)


# --- NOT_DEFINED and the page cap -------------------------------------------------------------


PLACEHOLDER_PERSON = {"id": "5b3f543bb2737000133d25b0", "name": "Аноним", "email": "NOT_DEFINED",
                      "phone": "NOT_DEFINED", "profileImage": "NOT_DEFINED", "gender": "NOT_DEFINED"}


@pytest.mark.parametrize("mode", MODES)
async def test_not_defined_placeholders_read_as_none(stub: Any, mode: str) -> None:
    person_body = {"status": 1, "data": PLACEHOLDER_PERSON}
    call_body = {"status": 1, "data": {"id": "c1", "record_link": "NOT_DEFINED", "status": "SUCCESS"}}

    def answer(seen: Seen) -> Reply:
        if seen.path.startswith("/api/v2/calls"):
            return as_json(call_body)
        if seen.path.startswith("/api/v2/people?"):
            return as_json({"status": 1, "data": [PLACEHOLDER_PERSON, {**PLACEHOLDER_PERSON, "id": "p2",
                                                                         "email": "a@b.c", "gender": "FEMALE"}],
                            "meta": {"totalCount": 2, "limit": 100, "offset": 0}})
        return as_json(person_body)

    server = stub(answer)
    client = leeloo_client(mode, TOKEN, server.url, retry=FAST)
    try:
        person = await resolve(client.people.get(PLACEHOLDER_PERSON["id"]))
        listed = await collect(client.people.iter())
        call = await resolve(client.calls.create("u", "1", "2", "2026-03-22T15:30:17Z", "a", "NOT_DEFINED",
                                                 "SUCCESS", 10, "OUTBOUND"))
    finally:
        await close(client)
    assert (person.email, person.phone, person.profile_image, person.gender) == (None, None, None, None)
    assert person.name == "Аноним"
    assert [(p.email, p.gender) for p in listed] == [(None, None), ("a@b.c", "FEMALE")]
    assert call.record_link is None


@pytest.mark.parametrize("mode", MODES)
async def test_the_sdk_never_asks_for_more_than_100_records_a_page(stub: Any, mode: str) -> None:
    total = 250

    def answer(seen: Seen) -> Reply:
        query = parse_qs(urlsplit(seen.path).query)
        limit, offset = int(query["limit"][0]), int(query["offset"][0])
        served = min(limit, 100)
        people = [{"id": f"p{index}"} for index in range(offset, min(offset + served, total))]
        return as_json({"status": 1, "data": people, "meta": {"totalCount": total, "limit": served,
                                                              "offset": offset}})

    server = stub(answer)
    client = leeloo_client(mode, TOKEN, server.url, retry=FAST)
    try:
        page = await resolve(client.people.list(limit=500))
        people = await collect(client.people.iter(page_size=1000))
    finally:
        await close(client)
    assert len(page) == 100
    assert [p.id for p in people] == [f"p{index}" for index in range(total)]
    limits = [parse_qs(urlsplit(seen.path).query)["limit"] for seen in server.seen]
    assert limits == [["100"]] * 4  # the page, then three pages of the walk


# --- Dialog's observed login -------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("token_key", ["access_token", "token"])
async def test_dialog_logs_in_with_the_oauth2_form_and_uses_the_token(stub: Any, mode: str, token_key: str) -> None:
    def answer(seen: Seen) -> Reply:
        if seen.path == "/api/login/":
            return as_json({token_key: "issued-123", "token_type": "bearer"})
        return as_json({"campaign": {"id": 77}})

    server = stub(answer)
    client = dialog_client(mode, server.url, login="demo", password=PASSWORD, retry=FAST)
    try:
        campaign_id = await resolve(client.campaigns.create(1, "n", 10, 5, ["+79990000000"], "2030-01-01",
                                                            "09:00", "17:00"))
    finally:
        await close(client)
    assert campaign_id == 77
    login, call = server.seen
    assert (login.method, login.path) == ("POST", "/api/login/")
    assert login.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(login.body.decode()) == {"username": ["demo"], "password": [PASSWORD]}
    assert "authorization" not in login.headers
    assert call.headers["authorization"] == "Bearer issued-123"


LOGIN_FAILURES = [
    (as_json({"token_type": "bearer"}), errors.ResponseValidationError),
    (as_json({"access_token": ""}), errors.ResponseValidationError),
    (as_json(["issued-123"]), errors.ResponseValidationError),
    (Reply(200, b"<html>login</html>", content_type="text/html"), errors.ResponseValidationError),
    (Reply(200, b""), errors.ResponseValidationError),
    (as_json({"detail": "Incorrect username or password"}, 401), errors.AuthenticationError),
    (as_json({"detail": [{"loc": ["body", "username"], "msg": "Field required", "type": "missing"}]}, 422),
     errors.ValidationError),
    (Reply(502, b"Bad gateway", content_type="text/plain"), errors.ServerError),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("reply", "expected"), LOGIN_FAILURES)
async def test_every_wrong_login_answer_raises_a_leadbridge_error(stub: Any, mode: str, reply: Reply,
                                                                  expected: type[errors.APIError]) -> None:
    server = stub(scripted(reply))
    client = dialog_client(mode, server.url, login="demo", password=PASSWORD, max_retries=0)
    try:
        with pytest.raises(expected) as caught:
            await resolve(client.analytics.report(1, 2, 3, 4, "2030-01-01", "2030-01-02"))
    finally:
        await close(client)
    assert caught.value.path == "/api/login/"
    assert PASSWORD not in str(caught.value) and PASSWORD not in repr(caught.value)
    assert [seen.path for seen in server.seen] == ["/api/login/"]  # no call goes out without a token
    if expected is errors.ValidationError:
        assert isinstance(caught.value, errors.ValidationError) and caught.value.fields == ["username"]


# --- the client-side rate limit ------------------------------------------------------------------


def test_the_default_leeloo_limit_keeps_any_minute_within_300_with_bursts_of_at_most_10() -> None:
    client = Leeloo(token=TOKEN)
    limit = client._transport.limiter.limit
    client.close()
    assert limit == RateLimit(300, per=60.0, burst=10)
    # A clock that moves only as the test says, so each booked moment is exact.
    now = [1000.0]
    limiter = RateLimiter(limit, clock=lambda: now[0])
    booked = []
    for step in range(1000):
        now[0] += 0.0001 if step % 7 else 0.05  # callers come unevenly, faster than the limit
        booked.append(now[0] + limiter.reserve())
    assert booked == sorted(booked)
    assert booked[9] - booked[0] < 0.1 < booked[10] - booked[9]  # ten at once, then the steady pace
    # Any 60 s (however the server's windows fall) holds at most 300; the pace is ~4.85 a second.
    assert max(sum(1 for t in booked[i:] if t < start + 60) for i, start in enumerate(booked)) <= 300
    gaps = [later - earlier for earlier, later in itertools.pairwise(booked[10:])]
    assert min(gaps) == pytest.approx(60 / 291, rel=1e-3)


def test_rate_limit_none_lifts_the_limit_and_a_number_is_per_second() -> None:
    with Leeloo(token=TOKEN, rate_limit=None) as unlimited, Leeloo(token=TOKEN, rate_limit=2) as two:
        assert all(unlimited._transport.limiter.reserve() == 0 for _ in range(1000))
        assert two._transport.limiter.limit == RateLimit(2)
    with pytest.raises(ValueError, match="burst"):
        RateLimit(300, per=60, burst=400)
    with pytest.raises(ValueError):
        Leeloo(token=TOKEN, rate_limit=0)


async def test_the_limit_spaces_concurrent_calls_on_the_wire(stub: Any) -> None:
    server = stub(scripted(as_json(OK_TAGS)))
    client = AsyncLeeloo(token=TOKEN, base_url=server.url, rate_limit=RateLimit(20, per=1.0, burst=4))
    started = time.monotonic()
    try:
        await asyncio.gather(*(client.tags.list() for _ in range(14)))
    finally:
        await client.aclose()
    arrivals = [seen.at for seen in server.seen]
    assert len(arrivals) == 14
    # Four at once, then one every 1/17 s: the last of the ten after them cannot arrive sooner.
    assert max(arrivals) - started >= 10 / 17 - 0.01
