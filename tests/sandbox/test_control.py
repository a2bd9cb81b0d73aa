"""The control API under /_sandbox: reset, clock, request log and injected faults.

Every test here changes sandbox-wide state (clock, faults, data), so each runs on its
own ``fresh`` sandbox, never on the shared ``live`` one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from http_clients import TIMEOUT
from leadbridge.sandbox.server import RunningSandbox
from leadbridge.sandbox.state import RequestLog

NEIROS = "/api/userapi/v1"
PEOPLE = "/api/v2/people"


@pytest.fixture
def client(fresh: RunningSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fresh.url, timeout=30,
                      headers={"X-Leeloo-AuthToken": fresh.credentials.leeloo_token}) as http:
        yield http


def neiros_token(client: httpx.Client, fresh: RunningSandbox) -> str:
    response = client.post(f"{NEIROS}/auth/login", json={"email": fresh.credentials.neiros_email,
                                                         "password": fresh.credentials.neiros_password})
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


def deal_sum(client: httpx.Client, token: str) -> float:
    response = client.get(f"{NEIROS}/project/100", params={"site_id": 100},
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return float(response.json()["data"]["summ"])


def parse_clock(value: str) -> datetime:
    assert value.endswith("Z") and len(value) == 24, value
    return datetime.fromisoformat(value[:-1])


# --- reset -----------------------------------------------------------------------------------


def test_reset_restores_demo_data_and_clears_state(client: httpx.Client, fresh: RunningSandbox) -> None:
    token = neiros_token(client, fresh)
    original = deal_sum(client, token)
    changed = client.post(f"{NEIROS}/project/100/update", json={"site_id": 100, "summ": original + 777},
                          headers={"Authorization": f"Bearer {token}"})
    assert changed.status_code == 200, changed.text
    assert deal_sum(client, token) == original + 777
    assert client.post("/_sandbox/clock/advance", json={"seconds": 86400}).status_code == 200
    assert client.post("/_sandbox/faults", json={"pattern": "^/nowhere$", "latency_ms": 1}).status_code == 200

    response = client.post("/_sandbox/reset")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"

    # Tokens issued before the reset are gone with the rest of the data.
    stale = client.get(f"{NEIROS}/sites", headers={"Authorization": f"Bearer {token}"})
    assert stale.status_code == 401
    assert deal_sum(client, neiros_token(client, fresh)) == original
    assert client.get("/_sandbox/clock").json()["offset_seconds"] == 0
    assert client.get("/_sandbox/faults").json()["faults"] == []
    logged = client.get("/_sandbox/requests").json()["data"]
    assert [entry["path"] for entry in logged] == [f"{NEIROS}/sites", f"{NEIROS}/auth/login",
                                                   f"{NEIROS}/project/100"]


# --- clock -----------------------------------------------------------------------------------


def test_clock_reads_utc_now_and_advances(client: httpx.Client) -> None:
    before = client.get("/_sandbox/clock").json()
    assert before["offset_seconds"] == 0
    assert abs(parse_clock(before["now"]) - datetime.now(UTC).replace(tzinfo=None)) < timedelta(minutes=1)

    advanced = client.post("/_sandbox/clock/advance", json={"seconds": 3 * 86400})
    assert advanced.status_code == 200
    body = advanced.json()
    assert body["offset_seconds"] == 3 * 86400
    moved = parse_clock(body["now"]) - parse_clock(before["now"])
    assert timedelta(days=3) <= moved < timedelta(days=3, minutes=1)
    assert client.get("/_sandbox/clock").json()["offset_seconds"] == 3 * 86400


@pytest.mark.parametrize(("body", "field"), [
    ({"seconds": -5}, "seconds"),
    ({"seconds": "soon"}, "seconds"),
    ({}, "seconds"),
])
def test_clock_advance_rejects_bad_input(client: httpx.Client, body: dict[str, object], field: str) -> None:
    response = client.post("/_sandbox/clock/advance", json=body)
    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert client.get("/_sandbox/clock").json()["offset_seconds"] == 0


def test_clock_advance_rejects_malformed_json(client: httpx.Client) -> None:
    response = client.post("/_sandbox/clock/advance", content=b"{not json",
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "body" in response.json()["errors"]


# --- request log -----------------------------------------------------------------------------


def test_request_log_records_method_path_status_body_and_company(client: httpx.Client,
                                                                  fresh: RunningSandbox) -> None:
    start = client.get("/_sandbox/requests").json()["last_id"]
    client.get(PEOPLE, params={"limit": 2})
    client.get(PEOPLE, headers={"X-Leeloo-AuthToken": "wrong"})
    client.post(f"{NEIROS}/auth/login", json={"email": fresh.credentials.neiros_email, "password": "nope"})

    log = client.get("/_sandbox/requests", params={"since_id": start}).json()
    entries = log["data"]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("GET", PEOPLE, 200), ("GET", PEOPLE, 401), ("POST", f"{NEIROS}/auth/login", 401)]
    ok, denied, login = entries
    assert ok["api"] == "leeloo" and ok["query"] == "limit=2"
    assert ok["company_id"] == "5b9f63e3d244d2000e27692f"
    assert denied["company_id"] is None
    assert login["api"] == "neiros" and login["body"]["email"] == fresh.credentials.neiros_email
    assert ok["at"].endswith("Z") and ok["id"] < denied["id"] < login["id"] == log["last_id"]

    only_posts = client.get("/_sandbox/requests", params={"since_id": start, "method": "post"}).json()["data"]
    assert [e["path"] for e in only_posts] == [f"{NEIROS}/auth/login"]
    by_path = client.get("/_sandbox/requests", params={"since_id": start, "path": "/people"}).json()["data"]
    assert len(by_path) == 2
    assert client.get("/_sandbox/requests", params={"since_id": start, "limit": 1}).json()["count"] == 1


def test_the_log_numbers_its_entries_through_rotation_and_clearing_and_stamps_the_sandbox_clock() -> None:
    log = RequestLog(max_entries=3, max_bytes=10)
    late = timedelta(days=400)
    before = datetime.now(UTC).replace(tzinfo=None)
    for n in range(5):
        log.record("POST", f"/api/v2/p{n}", b"limit=1", "c1", 200, b"ab", None, 2, late if n == 4 else timedelta(0))
    after = datetime.now(UTC).replace(tzinfo=None)
    assert [e.id for e in log] == [3, 4, 5] and log.last_id == 5 and log.stored_bytes == 6
    assert [e.path for e in log.after(3)] == ["/api/v2/p3", "/api/v2/p4"]
    assert [e.id for e in log.after(0)] == [e.id for e in log.after(-7)] == [3, 4, 5]
    assert list(log.after(5)) == []
    assert [e.id for e in log.recent(2)] == [4, 5] and [e.id for e in log.recent(9, after=4)] == [5]
    assert [e.id for e in reversed(log)] == [5, 4, 3]
    newest = log.recent(1)[0]
    assert (newest.query, newest.api, newest.company_id) == ("limit=1", "leeloo", "c1")
    assert before + late <= newest.at <= after + late  # the sandbox clock, moved on for that entry
    assert before <= log.recent(2)[0].at <= after
    log.record("GET", "/api/login", b"", None, 401, b"x" * 7, None, 7, timedelta(0))
    assert [e.id for e in log] == [5, 6] and log.stored_bytes == 9  # 10 bytes at most: the oldest went
    log.clear()
    log.record("GET", "/api/login", b"", None, 401, b"", None, 0, timedelta(0))
    assert [e.id for e in log] == [7] and [e.id for e in log.after(6)] == [7] and list(log.after(7)) == []


def test_control_calls_are_not_logged_and_log_can_be_cleared(client: httpx.Client) -> None:
    client.get(PEOPLE)
    client.get("/_sandbox/clock")
    paths = [e["path"] for e in client.get("/_sandbox/requests").json()["data"]]
    assert paths == [PEOPLE]
    assert client.delete("/_sandbox/requests").status_code == 200
    assert client.get("/_sandbox/requests").json()["data"] == []


def test_request_log_rejects_bad_query(client: httpx.Client) -> None:
    response = client.get("/_sandbox/requests", params={"limit": 0})
    assert response.status_code == 422
    assert "limit" in response.json()["errors"]


# --- faults ----------------------------------------------------------------------------------


def add_fault(client: httpx.Client, **spec: object) -> None:
    response = client.post("/_sandbox/faults", json=spec)
    assert response.status_code == 200, response.text


def test_fault_latency_delays_matching_paths_only(client: httpx.Client) -> None:
    add_fault(client, pattern="^/api/v2/people$", latency_ms=300)
    started = time.monotonic()
    assert client.get(PEOPLE).status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    assert client.get("/_sandbox/clock").status_code == 200
    assert time.monotonic() - started < 0.3


def test_fault_error_rate_answers_given_status(client: httpx.Client) -> None:
    add_fault(client, pattern="/people", error_rate=1, error_status=502)
    response = client.get(PEOPLE)
    assert response.status_code == 502
    assert response.json()["message"]
    entry = client.get("/_sandbox/requests").json()["data"][-1]
    assert (entry["status"], entry["fault"]) == (502, "error")


def test_fault_error_rate_is_a_share_of_requests(client: httpx.Client) -> None:
    add_fault(client, pattern="/people", error_rate=0.5)
    statuses = [client.get(PEOPLE, params={"limit": 1}).status_code for _ in range(60)]
    assert set(statuses) == {200, 503}
    assert 10 <= statuses.count(503) <= 50


def test_fault_rate_limit_sends_retry_after(client: httpx.Client) -> None:
    add_fault(client, pattern="/people", rate_limit_rate=1, retry_after=7)
    response = client.get(PEOPLE)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    entry = client.get("/_sandbox/requests").json()["data"][-1]
    assert entry["fault"] == "rate_limit"


def test_fault_applies_to_listed_methods_only(client: httpx.Client, fresh: RunningSandbox) -> None:
    add_fault(client, pattern=f"^{NEIROS}/", error_rate=1, methods=["GET"])
    token = neiros_token(client, fresh)  # a POST: unaffected
    response = client.get(f"{NEIROS}/sites", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503
    assert client.get(PEOPLE).status_code == 200  # another path: unaffected


def test_faults_listed_and_cleared(client: httpx.Client) -> None:
    add_fault(client, pattern="/people", error_rate=1)
    add_fault(client, pattern="/chat", latency_ms=5)
    listed = client.get("/_sandbox/faults").json()["faults"]
    assert [f["pattern"] for f in listed] == ["/people", "/chat"]
    assert listed[0]["error_status"] == 503 and listed[0]["methods"] is None
    assert client.get(PEOPLE).status_code == 503

    assert client.delete("/_sandbox/faults").status_code == 200
    assert client.get("/_sandbox/faults").json()["faults"] == []
    assert client.get(PEOPLE).status_code == 200


@pytest.mark.parametrize(("spec", "field"), [
    ({"pattern": "(unclosed"}, "pattern"),
    ({"error_rate": 2}, "error_rate"),
    ({"error_status": 404}, "error_status"),
    ({"latency_ms": -1}, "latency_ms"),
    ({"retry_after": "later"}, "retry_after"),
])
def test_fault_rejects_bad_input(client: httpx.Client, spec: dict[str, object], field: str) -> None:
    response = client.post("/_sandbox/faults", json=spec)
    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert client.get("/_sandbox/faults").json()["faults"] == []


def test_a_file_in_form_data_is_refused_naming_the_field(fresh: RunningSandbox) -> None:
    headers = {"X-Leeloo-AuthToken": fresh.credentials.leeloo_token}
    with httpx.Client(base_url=fresh.url, headers=headers, timeout=TIMEOUT) as client:
        channel = client.get("/api/v2/people?limit=1").json()["data"][0]["accounts"][0]["account_id"]
        before = client.get(f"/api/v2/communication-channels/{channel}/chat-messages").json()["meta"]["totalCount"]
        response = client.post("/api/v2/messages/send-message", data={"account_id": channel},
                               files={"text": ("text.txt", b"hello", "text/plain")})
        assert response.status_code == 422
        assert "text" in response.json()["errors"]
        after = client.get(f"/api/v2/communication-channels/{channel}/chat-messages").json()["meta"]["totalCount"]
        assert after == before


def test_request_log_never_shows_passwords_or_tokens(fresh: RunningSandbox) -> None:
    creds = fresh.credentials
    with httpx.Client(base_url=fresh.url, timeout=TIMEOUT) as client:
        client.post("/api/userapi/v1/auth/login", json={"email": creds.neiros_email, "password": creds.neiros_password})
        client.post("/api/login", data={"login": creds.dialog_login, "password": creds.dialog_password})
        client.post("/api/login",
                    files={"login": (None, creds.dialog_login), "password": (None, creds.dialog_password)})
        log = client.get("/_sandbox/requests", params={"method": "POST"}).json()["data"]
    logins = [entry for entry in log if entry["path"] in ("/api/userapi/v1/auth/login", "/api/login")]
    assert len(logins) == 3
    assert logins[0]["body"] == {"email": creds.neiros_email, "password": "***"}
    assert logins[1]["body"] == f"login={creds.dialog_login}&password=***"
    multipart = logins[2]["body"]
    assert 'name="password"\r\n\r\n***\r\n' in multipart
    assert f'name="login"\r\n\r\n{creds.dialog_login}\r\n' in multipart
