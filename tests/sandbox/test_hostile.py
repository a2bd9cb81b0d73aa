"""Hostile input is normal input: every class of malformed request the sandbox once answered
with a 500 is now a 4xx in the API's own style that names the field, writes nothing, and
leaves the connection usable, on SQLite and PostgreSQL alike.

Also: the request log after a poisoning body, its redaction of secrets however spelt, its
size after huge bodies, fault patterns that cannot stall the server, the control token, and
the last-resort 500 that keeps the keep-alive connection.
"""

from __future__ import annotations

import contextlib
import gc
import math
import threading
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from docs_fixtures import load
from leadbridge.contract import all_endpoints
from leadbridge.sandbox import schema
from leadbridge.sandbox.control import TOKEN_HEADER, control_token_for
from leadbridge.sandbox.leeloo.backend import LeelooBackend
from leadbridge.sandbox.leeloo.backend import people as people_backend
from leadbridge.sandbox.server import RunningSandbox, serve_in_thread
from leadbridge.sandbox.state import LOGGED_BODY_BYTES, MEMORY_URL, Sandbox
from leadbridge.sandbox.wire import (
    MAX_BODY_BYTES,
    MAX_DEPTH,
    MAX_ITEMS,
    MAX_KEY,
    MAX_STRING,
    ApiError,
    check_value,
    refuse_out_of_bounds,
    within_bounds,
)

LEADGENTOOL = "609290d3e060416cdea6823e"
PERSON_SEEDED = "5e1c4676b70fb2001279c268"
OFFER = "5e3c357bf04b1f000c27b83a"
CREDITS = "5e3c3533f04b1f000c27b534"
TUNNEL = "5b3f543bb2737000133d25b0"
ENDPOINTS = {entry.name: entry for entry in all_endpoints()}


def all_rows(sandbox: Sandbox) -> dict[str, int]:
    """Rows of every table: a refused request must leave every count as it was."""
    with sandbox.read() as session:
        return {table.name: session.scalar(select(func.count()).select_from(table)) or 0
                for table in schema.Base.metadata.sorted_tables}


def named_fields(response: httpx.Response) -> set[str]:
    """Every field an error answer names, in any of the styles the APIs use: ``errors`` keys,
    Leeloo's ``error.fields`` keys, or FastAPI-style ``detail[].loc`` (dotted, without "body")."""
    body = response.json()
    names: set[str] = set()
    if isinstance(body.get("errors"), dict):
        names.update(body["errors"])
    error = body.get("error")
    if isinstance(error, dict) and isinstance(error.get("fields"), dict):
        names.update(error["fields"])
    if isinstance(body.get("detail"), list):
        for item in body["detail"]:
            loc = [str(part) for part in item.get("loc", []) if part not in ("body", "query", "path")]
            names.add(".".join(loc))
    return names


def assert_refused(response: httpx.Response, field: str, *, status: int | None = None) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    if status is not None:
        assert response.status_code == status, response.text[:500]
    names = named_fields(response)
    assert any(name == field or name.startswith(field + ".") for name in names), (field, names, response.text[:500])


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


def campaign_body(**schedule: Any) -> dict[str, Any]:
    body: dict[str, Any] = load("dialog", "campaigns_create")["request"]["body"]
    body["campaign"]["schedule"].update(schedule)
    return body


def call_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = dict(load("leeloo_v2", "calls_create")["request"]["body"])
    body.update(changes)
    return body


def person_body(**changes: Any) -> dict[str, Any]:
    return {"name": "Hostile", "leadgentool_id": LEADGENTOOL, **changes}


def at(name: str, **ids: Any) -> tuple[str, str, str]:
    """``(platform, method, path)`` of the contract table's endpoint ``name``, its path filled with ``ids``."""
    entry = ENDPOINTS[name]
    return entry.platform, entry.method, entry.path.format(**ids)


# Each case: (which client, method, path, httpx keyword arguments, the field the answer must name).
CASES: list[tuple[str, str, str, dict[str, Any], str]] = [
    # offsets and limits of 2^63 and above
    (*at("people_list"), {"params": {"offset": str(2**63)}}, "offset"),
    (*at("people_list"), {"params": {"offset": str(2**64 + 5)}}, "offset"),
    (*at("people_list"), {"params": {"limit": str(2**63)}}, "limit"),
    (*at("orders_list"), {"params": {"offset": "9" * 40}}, "offset"),
    (*at("v1_accounts_list"), {"params": {"offset": str(2**63 - 1)}}, "offset"),
    (*at("communication_channels_list"), {"params": {"offset": str(2**63)}}, "offset"),
    (*at("deals_list"), {"params": {"site_id": "1", "page": str(2**63)}}, "page"),
    ("dialog", "GET", f"/api/campaigns/{2**63}", {}, "campaign_id"),  # a sandbox extension, not in the table
    # ids beyond their INTEGER column (PostgreSQL refuses the parameter itself)
    (*at("deals_list"), {"params": {"site_id": str(2**53)}}, "site_id"),
    (*at("deals_get", deal_id="1"), {"params": {"site_id": str(2**31)}}, "site_id"),
    (*at("deals_update", deal_id="1"), {"json": {"site_id": 2**40, "summ": 1}}, "site_id"),
    # dates at the edges of the calendar
    (*at("communication_channels_list"), {"params": {"filter[last_message][to]": "9999-12-31"}},
     "filter[last_message][to]"),
    ("leeloo", "GET", "/api/v2/communication-channels",
     {"params": {"filter[last_message][from]": "0001-01-01T00:00:00+03:00"}}, "filter[last_message][from]"),
    (*at("calls_create"), {"data": call_body(date="9999-12-31T23:59:59Z")}, "date"),
    (*at("calls_create"), {"data": call_body(date="0001-01-01T00:00:00+05:00")}, "date"),
    (*at("orders_create"), {"json": {"paymentCreditsId": CREDITS, "offerId": OFFER,
                                                   "personId": PERSON_SEEDED,
                                                   "transactionDate": "9999-12-31T23:59:59.999Z"}},
     "transactionDate"),
    (*at("deals_list"), {"params": {"site_id": "1", "date_end": "9999-12-31"}},
     "date_end"),
    ("neiros", "GET", "/api/userapi/v1/projects",
     {"params": {"site_id": "1", "date_start": "0001-01-01T00:00:00+03:00"}}, "date_start"),
    (*at("campaigns_create"), {"json": campaign_body(date="9999-12-31")}, "campaign.schedule.date"),
    (*at("campaigns_create"), {"json": campaign_body(date="0001-01-01")}, "campaign.schedule.date"),
    # keys and bodies nested hundreds deep
    ("leeloo", "PUT", f"/api/v2/people/{PERSON_SEEDED}/add-comment",
     {"data": {"comment" + "[0]" * 300: "x"}}, "comment"),
    (*at("people_create"), {"json": person_body(connected_users_ids=nested(500))},
     "connected_users_ids"),
    ("leeloo", "PUT", f"/api/v2/people/{PERSON_SEEDED}",
     {"data": {"custom_fields": "[" * 900 + "]" * 900}}, "custom_fields"),
    (*at("campaigns_create"), {"json": {**campaign_body(), "phones": nested(800)}}, "phones"),
    # lists of hundreds of thousands of ids
    (*at("people_create"), {"json": person_body(connected_users_ids=[LEADGENTOOL] * 20_000)},
     "connected_users_ids"),
    (*at("people_sms"), {"json": {"data": [{"phone": "+79990000000"}],
                                                       "connection_id": "5dbfe6c5fb73e101720b3dc7",
                                                       "leadgentool_id": "5e1f119d6c384804b31e945e",
                                                       "tags": ["5cf7a18586236d000b1256b2"] * 15_000}}, "tags"),
    (*at("people_list"), {"params": {"filter[tags]": ",".join(["t"] * 3000)}}, "filter[tags]"),
    # NUL characters and strings longer than their column
    (*at("people_create"), {"json": person_body(name="nul\x00name")}, "name"),
    (*at("people_create"), {"data": person_body(name="n" * 201)}, "name"),
    (*at("people_create"), {"json": person_body(email="e" * 250 + "@example.com")}, "email"),
    (*at("people_add_comment", person_id=PERSON_SEEDED), {"data": {"comment": "a\x00b"}}, "comment"),
    (*at("people_list"), {"params": {"filter[phone]": "+7\x00999"}}, "filter[phone]"),
    (*at("people_get", person_id=PERSON_SEEDED + "%00"), {}, "path"),
    (*at("calls_create"), {"data": call_body(**{"from": "1" * 41})}, "from"),
    (*at("calls_create"), {"data": call_body(record_link="https://x/" + "r" * 600)}, "record_link"),
    (*at("calls_create"), {"data": call_body(duration=str(2**40))}, "duration"),
    (*at("leadgentools_create_traffic_source", leadgentool_id=LEADGENTOOL), {"json": {"name": "s" * 201}},
     "name"),
    ("leeloo", "POST", "/api/v2/messages/send-message",
     {"json": {"account_id": TUNNEL, "text": "t" * 70_000}}, "text"),
    (*at("login"), {"json": {"email": "a\x00@b.c", "password": "x"}}, "email"),
    (*at("campaigns_create"), {"json": {**campaign_body(), "phones": [
        {"phone": "+79999999999", "add_data": {"name": "nul\x00"}}]}}, "phones.0.add_data.name"),
    # numbers that are not finite, or beyond what a column holds
    (*at("orders_update_manual", order_id=TUNNEL), {"data": {"status": "RESOLVED", "price": "Infinity"}}, "price"),
    (*at("orders_update_manual", order_id=TUNNEL), {"data": {"status": "RESOLVED", "price": "NaN"}}, "price"),
    ("leeloo", "PUT", f"/api/v2/people/{PERSON_SEEDED}",
     {"json": {"custom_fields": [{"type": "NUMBER", "name": "n", "value": "-Infinity"}]}}, "custom_fields"),
    (*at("deals_update", deal_id="1"), {"data": {"site_id": "1", "summ": "inf"}}, "summ"),
]


@pytest.fixture
def clients(live: RunningSandbox, leeloo: httpx.Client, neiros: httpx.Client,
            dialog: httpx.Client) -> dict[str, httpx.Client]:
    return {"leeloo": leeloo, "neiros": neiros, "dialog": dialog}


@pytest.mark.parametrize(("api", "method", "path", "request_args", "field"), CASES,
                         ids=[f"{case[1]} {case[2][:40]} {case[4][:30]}" for case in CASES])
def test_hostile_request_is_refused_naming_the_field_and_nothing_is_written(
    live: RunningSandbox, clients: dict[str, httpx.Client], api: str, method: str, path: str,
    request_args: dict[str, Any], field: str,
) -> None:
    client = clients[api]
    before = all_rows(live.sandbox)
    response = client.request(method, path, **request_args)
    assert_refused(response, field)
    assert all_rows(live.sandbox) == before
    # The connection is still good for the next request.
    assert client.get("/_sandbox/clock").status_code == 200


def test_infinite_price_leaves_tunnel_stats_numeric(leeloo: httpx.Client) -> None:
    person = leeloo.post("/api/v2/people", json=person_body(email=None)).json()["data"]["person_id"]
    order = leeloo.post("/api/v2/orders", json={"paymentCreditsId": CREDITS, "offerId": OFFER,
                                                "personId": person}).json()["data"]["id"]
    for price in ("Infinity", "-Infinity", "NaN", "1e400"):
        assert_refused(leeloo.post(f"/api/v2/orders/{order}", data={"status": "RESOLVED", "price": price}),
                       "price")
    for path in ("/api/v2/tunnels/stats", f"/api/v2/tunnels/{TUNNEL}/stats"):
        response = leeloo.get(path)
        assert response.status_code == 200
        for row in response.json()["data"]:
            assert all(value is not None for value in row.values()), row


def test_dialog_campaign_at_the_window_edge_reads_back(dialog: httpx.Client) -> None:
    created = dialog.post("/api/campaigns", json=campaign_body(date="2100-12-31"))
    assert created.status_code == 200, created.text
    campaign_id = created.json()["campaign"]["id"]
    response = dialog.get(f"/api/campaigns/{campaign_id}")
    assert response.status_code == 200 and response.json()["campaign"]["schedule"]["date"] == "2100-12-31"


def test_oversized_body_is_refused_before_it_is_read(leeloo: httpx.Client, live: RunningSandbox) -> None:
    before = all_rows(live.sandbox)
    big = b'{"comment": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}'
    response = leeloo.put(f"/api/v2/people/{PERSON_SEEDED}/add-comment", content=big,
                          headers={"content-type": "application/json"})
    assert_refused(response, "body", status=413)
    assert all_rows(live.sandbox) == before


# --- the last resort: an unexpected failure is a 500, rolled back, on a connection that stays up --


@pytest.fixture
def failing_account_creation(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in for a bug: creating a person fails after its row was written in the transaction."""

    def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("injected failure")

    monkeypatch.setattr(people_backend, "_new_account", broken)


def test_unexpected_failure_is_a_500_rolled_back_and_the_connection_survives(
    live: RunningSandbox, leeloo: httpx.Client, failing_account_creation: None,
) -> None:
    before = all_rows(live.sandbox)
    response = leeloo.post("/api/v2/people", json=person_body(email="rollback@example.com"))
    assert response.status_code == 500
    assert response.json()["status"] == 0  # still the Leeloo envelope
    assert all_rows(live.sandbox) == before, "the failed write left rows behind"
    # httpx reuses the pooled connection: the next request must be served on it.
    again = leeloo.get("/api/v2/tags")
    assert again.status_code == 200
    log = leeloo.get("/_sandbox/requests", params={"path": "/api/v2/people", "method": "POST"}).json()["data"]
    assert log[-1]["status"] == 500


def test_unexpected_failure_on_the_fast_lane_keeps_the_connection(
    fresh: RunningSandbox, monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("injected failure")

    monkeypatch.setattr(LeelooBackend, "list_people", broken)
    with httpx.Client(base_url=fresh.url, headers={"X-Leeloo-AuthToken": fresh.credentials.leeloo_token},
                      timeout=30) as client:
        response = client.get("/api/v2/people")
        assert response.status_code == 500 and response.json()["status"] == 0
        peer = client.get("/api/v2/tags")
        assert peer.status_code == 200


def test_keep_alive_survives_a_500_on_one_raw_connection(
    fresh: RunningSandbox, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two requests on one TCP connection: the second is answered after the first failed."""
    import socket
    from urllib.parse import urlsplit

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("injected failure")

    monkeypatch.setattr(LeelooBackend, "list_users", broken)
    address = urlsplit(fresh.url)
    token = fresh.credentials.leeloo_token
    request = (f"GET /api/v2/users HTTP/1.1\r\nHost: x\r\nX-Leeloo-AuthToken: {token}\r\n\r\n"
               f"GET /api/v2/tags HTTP/1.1\r\nHost: x\r\nX-Leeloo-AuthToken: {token}\r\n\r\n").encode()
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.sendall(request)
        received = b""
        while received.count(b"HTTP/1.1 ") < 2 or not received.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    assert received.startswith(b"HTTP/1.1 500 ")
    assert b"HTTP/1.1 200 " in received, received[:2000]


# --- the request log ---------------------------------------------------------------------------


def test_a_deeply_nested_body_does_not_poison_the_log(leeloo: httpx.Client) -> None:
    for depth in (300, 1000, 5000):
        body = '{"comment": ' + "[" * depth + "]" * depth + "}"
        response = leeloo.put(f"/api/v2/people/{PERSON_SEEDED}/add-comment", content=body,
                              headers={"content-type": "application/json"})
        assert 400 <= response.status_code < 500
    deep_form = {"comment" + "[a]" * 400: "x"}
    assert 400 <= leeloo.put(f"/api/v2/people/{PERSON_SEEDED}/add-comment", data=deep_form).status_code < 500
    log = leeloo.get("/_sandbox/requests", params={"path": "/add-comment"})
    assert log.status_code == 200, log.text[:500]
    assert leeloo.get("/_sandbox/requests").status_code == 200


@pytest.mark.parametrize(("content", "content_type"), [
    (b"pass%77ord=hunter2-secret&login=demo", "application/x-www-form-urlencoded"),
    (b'{"login": "demo", "password": "hunter2-secret"', "application/json"),  # malformed JSON
    (b'{"login": "demo", "Password": "hunter2-secret"}', "application/json"),
    (b'{"login": "demo", "pass\\u0077ord": "hunter2-secret"}', "application/json"),
    (b"login=demo&PASSWORD=hunter2-secret", "application/x-www-form-urlencoded"),
    (b'{"login": "demo", "password": "hunter2-secret", "x": ' + b"[" * 2000, "application/json"),
    (b'--b\r\nContent-Disposition: form-data; name="Password"\r\n\r\nhunter2-secret\r\n--b--\r\n',
     "multipart/form-data; boundary=b"),
])
def test_secrets_never_reach_the_log_however_spelt(live: RunningSandbox, anon: httpx.Client, content: bytes,
                                                   content_type: str) -> None:
    anon.post("/api/login", content=content, headers={"content-type": content_type})
    log = anon.get("/_sandbox/requests", params={"path": "/api/login"}).json()["data"]
    assert log, "the login was not logged"
    assert "hunter2-secret" not in str(log[-1]), log[-1]


def test_tokens_in_the_query_string_are_redacted(live: RunningSandbox, anon: httpx.Client) -> None:
    anon.get("/api/v2/tags", params={"authToken": "qsecret-1", "access_token": "qsecret-2",
                                     "Token": "qsecret-3", "password": "qsecret-4", "limit": "5"})
    entry = anon.get("/_sandbox/requests", params={"path": "/api/v2/tags"}).json()["data"][-1]
    assert "qsecret" not in str(entry) and "limit=5" in entry["query"]


def test_the_log_stays_small_after_huge_bodies(fresh: RunningSandbox) -> None:
    """20 bodies of 10 MB (refused unread) and 20 of 3 MB (read, then cut in the log)."""
    log = fresh.sandbox.requests
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        with httpx.Client(base_url=fresh.url, timeout=60) as client:
            for size in [10 * 1024 * 1024] * 20 + [3 * 1024 * 1024] * 20:
                body = b'{"login": "demo", "password": "' + b"p" * size + b'"}'
                # The server may answer 413 and close before reading 10 MB.
                with contextlib.suppress(httpx.TransportError):
                    client.post("/api/login", content=body, headers={"content-type": "application/json"})
        gc.collect()
        growth = tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()
    assert growth < 50 * 1024 * 1024, growth
    assert log.stored_bytes <= 40 * LOGGED_BODY_BYTES
    entries = [entry for entry in log if entry.path == "/api/login"]
    assert len(entries) >= 30  # every answered request is logged, cut
    assert all(len(entry.body) <= LOGGED_BODY_BYTES for entry in entries)
    assert any(entry.body_size > len(entry.body) for entry in entries)
    listed = httpx.get(f"{fresh.url}/_sandbox/requests", params={"path": "/api/login"}, timeout=30).json()["data"]
    assert listed[-1]["body_truncated"] is True and "ppppp" * 100 not in str(listed[-1]["body"])


# --- fault patterns and the control token --------------------------------------------------------


def test_a_catastrophic_fault_pattern_does_not_stall_the_server(fresh: RunningSandbox) -> None:
    """With a backtracking matcher ``^/api/(a+)+$`` against 40 a's and a b takes minutes; with
    RE2 both the matching request and another one are answered at once."""
    with httpx.Client(base_url=fresh.url, timeout=60) as client:
        added = client.post("/_sandbox/faults", json={"pattern": "^/api/(a+)+$", "error_rate": 1})
        assert added.status_code == 200, added.text
        finished: list[float] = []

        def other_request() -> None:
            with httpx.Client(base_url=fresh.url, timeout=60) as other:
                assert other.get("/_sandbox/clock").status_code == 200
                finished.append(time.monotonic())

        started = time.monotonic()
        hostile = client.get("/api/" + "a" * 40 + "b")
        thread = threading.Thread(target=other_request)
        thread.start()
        thread.join(60)
        # Generous: a backtracking match of this path would take minutes, not seconds.
        assert finished and finished[0] - started < 30
        assert hostile.status_code != 503  # the path does not match, so no fault was applied
        assert client.get("/api/aaaa").status_code == 503  # while a matching path is faulted
        client.delete("/_sandbox/faults")


@pytest.mark.parametrize("pattern", ["(a)\\1", "(?=x)", "(unclosed", "x" * 600])
def test_fault_patterns_beyond_re2_are_refused_naming_pattern(fresh: RunningSandbox, pattern: str) -> None:
    response = httpx.post(f"{fresh.url}/_sandbox/faults", json={"pattern": pattern}, timeout=30)
    assert_refused(response, "pattern", status=422)


@pytest.fixture
def guarded() -> Iterator[RunningSandbox]:
    sandbox = Sandbox(MEMORY_URL, seed=7, people=20)
    sandbox.control_token = "control-secret-1"
    with serve_in_thread(sandbox) as running:
        yield running


def test_control_api_needs_the_token_once_set(guarded: RunningSandbox) -> None:
    with httpx.Client(base_url=guarded.url, timeout=30) as client:
        for method, path in [("GET", "/_sandbox/requests"), ("POST", "/_sandbox/reset"),
                             ("POST", "/_sandbox/faults"), ("GET", "/_sandbox/clock")]:
            refused = client.request(method, path, json={})
            assert_refused(refused, TOKEN_HEADER, status=401)
            wrong = client.request(method, path, json={}, headers={TOKEN_HEADER: "guess"})
            assert wrong.status_code == 401
        allowed = client.get("/_sandbox/requests", headers={TOKEN_HEADER: "control-secret-1"})
        assert allowed.status_code == 200
        # The vendor APIs themselves are not behind the control token.
        tags = client.get("/api/v2/tags", headers={"X-Leeloo-AuthToken": guarded.credentials.leeloo_token})
        assert tags.status_code == 200


def test_control_token_is_required_beyond_loopback_only() -> None:
    assert control_token_for("127.0.0.1", None) is None
    assert control_token_for("::1", None) is None
    assert control_token_for("localhost", None) is None
    generated = control_token_for("0.0.0.0", None)
    assert generated and len(generated) >= 24 and generated != control_token_for("0.0.0.0", None)
    assert control_token_for("192.168.1.5", "mine") == "mine"
    assert control_token_for("127.0.0.1", "mine") == "mine"


def _bound_cases() -> list[Any]:
    """Values at, just within and just beyond every bound of a body, at several depths."""

    def deep(depth: int, leaf: Any, *, as_dict: bool) -> Any:
        value = leaf
        for _ in range(depth):
            value = {"k": value} if as_dict else [value]
        return value

    plain = ["x" * MAX_STRING, "x" * (MAX_STRING + 1), "a\x00b", 1.5, math.inf, -math.inf, math.nan, 7, True,
             None, ""]
    cases: list[Any] = []
    for leaf in plain:
        cases += [leaf, [leaf], {"k": leaf}, {"a": [1, {"b": leaf}]}]
    for depth in (MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1):
        for as_dict in (True, False):
            for leaf in ("x", [], {}, [1], {"k": 1}, math.inf):
                cases.append(deep(depth, leaf, as_dict=as_dict))
    cases += [{"k" * MAX_KEY: 1}, {"k" * (MAX_KEY + 1): 1}, {"a\x00": 1}, [{"ok": 1}, {"a\x00": 1}],
              list(range(MAX_ITEMS)), list(range(MAX_ITEMS + 1)), {str(n): n for n in range(MAX_ITEMS + 1)},
              [[0] * MAX_ITEMS, {"x": [0] * (MAX_ITEMS + 1)}]]
    return cases


@pytest.mark.parametrize("value", _bound_cases(), ids=lambda value: repr(value)[:50])
def test_the_quick_bounds_check_passes_exactly_the_bodies_the_careful_one_passes(value: Any) -> None:
    """check_value walks every body quickly and only a refused one carefully (to name the place):
    the quick walk must not let through anything the careful one refuses, nor refuse more."""
    try:
        refuse_out_of_bounds(value, None)
        careful = True
    except ApiError:
        careful = False
    assert within_bounds(value, 0) is careful
    if careful:
        check_value(value)
    else:
        with pytest.raises(ApiError):
            check_value(value)


def _raw_post(live: RunningSandbox, path: str, body: bytes, pieces: list[bytes], *, close_early: bool) -> bytes:
    """POST ``body``'s length announced, ``pieces`` sent one by one with a pause between, then the
    answer read (or, with ``close_early``, the connection closed before the rest is sent)."""
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(live.url)
    head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nX-Leeloo-AuthToken: {live.credentials.leeloo_token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection((address.hostname, address.port), timeout=60) as sock:
        sock.sendall(head)
        for piece in pieces:
            time.sleep(0.2)  # the server reads what came so far: the body arrives as several messages
            sock.sendall(piece)
        if close_early:
            return b""
        received = b""
        while b"\r\n\r\n" not in received or len(received.partition(b"\r\n\r\n")[2]) < _length(received):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def _length(answer: bytes) -> int:
    """The Content-Length of an HTTP answer whose head has arrived."""
    for line in answer.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def test_a_body_sent_in_pieces_is_read_whole(live: RunningSandbox) -> None:
    body = orjson.dumps({"name": "Кусками", "leadgentool_id": LEADGENTOOL, "email": "pieces@example.com"})
    answer = _raw_post(live, "/api/v2/people", body, [body[:10], body[10:40], body[40:]], close_early=False)
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:500]
    assert orjson.loads(answer.partition(b"\r\n\r\n")[2])["data"]["name"] == "Кусками"


def test_a_client_gone_before_its_whole_body_is_refused_and_nothing_is_written(live: RunningSandbox) -> None:
    log = live.url + "/_sandbox/requests"
    before = httpx.get(log, params={"limit": 1}, timeout=30).json()["last_id"]
    body = orjson.dumps({"name": "Оборвался", "leadgentool_id": LEADGENTOOL, "email": "gone@example.com"})
    _raw_post(live, "/api/v2/people", body, [body[:20]], close_early=True)
    answered: list[dict[str, Any]] = []
    for _ in range(600):  # the server learns of the closed connection on its own time
        logged = httpx.get(log, params={"method": "POST", "path": "/api/v2/people", "since_id": before},
                           timeout=30).json()["data"]
        answered = [item for item in logged if item.get("status") is not None]
        if answered:
            break
        time.sleep(0.05)
    assert [item["status"] for item in answered] == [400], answered
    assert row_count_named(live, "Оборвался") == 0


def row_count_named(live: RunningSandbox, name: str) -> int:
    with live.sandbox.read() as session:
        return session.scalar(select(func.count()).select_from(schema.Person).where(schema.Person.name == name)) or 0
