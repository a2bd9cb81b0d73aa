"""The sandbox replays what public integrations show of the real services, beside the documents.

One test (or a few) per fact of docs/fidelity.md, on SQLite and PostgreSQL (``live``):
where the documents and the observed behaviour differ, both forms are accepted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from leeloo_support import PLACEHOLDER, create_person, every_record, unique_phone

from docs_fixtures import load
from http_clients import TIMEOUT
from leadbridge.sandbox.server import RunningSandbox, serve_in_thread
from leadbridge.sandbox.state import MEMORY_URL, Sandbox

RATE_LIMIT_TEXT = "Too many requests, please try again later."
SMS_CONNECTION = "5dbfe6c5fb73e101720b3dc7"
SMS_LEADGENTOOL = "5e1f119d6c384804b31e945e"
OFFER = "5e3c357bf04b1f000c27b83a"
CREDITS = "5e3c3533f04b1f000c27b534"


def _campaign() -> dict[str, Any]:
    body: dict[str, Any] = load("dialog", "campaigns_create")["request"]["body"]
    return body


def _chat(client: httpx.Client, account_id: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = client.get(f"/api/v2/communication-channels/{account_id}/chat-messages",
                                                params={"limit": 100}).json()["data"]
    return messages


# --- Dialog: login --------------------------------------------------------------------------

BROWSER = {"Origin": "https://ai-assistant.is74.ru", "Referer": "https://ai-assistant.is74.ru/"}


@pytest.mark.parametrize("path", ["/api/login/", "/api/login"])
@pytest.mark.parametrize("headers", [{}, BROWSER], ids=["plain", "browser-origin"])
def test_dialog_login_takes_the_observed_oauth2_form(live: RunningSandbox, anon: httpx.Client, path: str,
                                                     headers: dict[str, str]) -> None:
    """app/clients/rag_client.py: POST {base}/login/ form-encoded username/password -> access_token."""
    creds = live.credentials
    response = anon.post(path, data={"username": creds.dialog_login, "password": creds.dialog_password},
                         headers=headers)
    assert response.status_code == 200, response.text  # served directly: no 307 for the POST to follow
    body = response.json()
    assert body["token_type"] == "bearer" and body["access_token"] and body["token"] == body["access_token"]
    created = anon.post("/api/campaigns", json=_campaign(),
                        headers={"Authorization": f"Bearer {body['access_token']}"})
    assert created.status_code == 200, created.text


@pytest.mark.parametrize("path", ["/api/login/", "/api/login"])
@pytest.mark.parametrize("fields", [("login", "password"), ("username", "password")])
def test_dialog_login_takes_json_with_either_field_name(live: RunningSandbox, anon: httpx.Client, path: str,
                                                        fields: tuple[str, str]) -> None:
    creds = live.credentials
    response = anon.post(path, json={fields[0]: creds.dialog_login, fields[1]: creds.dialog_password})
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"


def test_dialog_login_form_missing_password_names_it_fastapi_style(anon: httpx.Client) -> None:
    response = anon.post("/api/login/", data={"username": "demo"})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [item["loc"] for item in detail] == [["body", "password"]]
    assert detail[0]["type"] == "missing" and detail[0]["msg"]


def test_dialog_expired_token_is_401_so_the_client_logs_in_again(anon: httpx.Client) -> None:
    response = anon.get("/api/campaigns/1", headers={"Authorization": "Bearer 1|expired"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"] == "Could not validate credentials"


# --- Dialog: FastAPI's validation errors ----------------------------------------------------


def test_dialog_validation_error_has_fastapis_shape(dialog: httpx.Client) -> None:
    body = _campaign()
    body["campaign"]["schedule"]["start_time"] = "25:00"
    del body["campaign"]["project_id"]
    response = dialog.post("/api/campaigns", json=body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    locs = {tuple(item["loc"]): item for item in detail}
    assert ("body", "campaign", "project_id") in locs and locs["body", "campaign", "project_id"]["type"] == "missing"
    assert ("body", "campaign", "schedule", "start_time") in locs
    assert all(set(item) >= {"loc", "msg", "type"} for item in detail)


def test_dialog_path_parameter_error_names_the_path(dialog: httpx.Client) -> None:
    response = dialog.get("/api/campaigns/0")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "campaign_id"]


def test_dialog_not_found_is_a_detail_text(dialog: httpx.Client) -> None:
    response = dialog.get("/api/campaigns/999999999")
    assert response.status_code == 404
    assert isinstance(response.json()["detail"], str) and response.json()["detail"]


@pytest.mark.parametrize("interval", ["0", "5"])
def test_dialog_campaign_as_the_help_pages_show_it(dialog: httpx.Client, interval: str) -> None:
    """docs.ai-assistant.is74.ru revisions 432/449: date 2021-10-06, start 07:30, interval "0", state Создано."""
    body = _campaign()
    body["campaign"]["schedule"].update(date="2021-10-06", start_time="07:30", interval=interval)
    body["campaign"]["state"] = "Создано"
    response = dialog.post("/api/campaigns", json=body)
    assert response.status_code == 200, response.text
    stored = dialog.get(f"/api/campaigns/{response.json()['campaign']['id']}").json()["campaign"]
    assert stored["schedule"]["interval"] == interval and stored["schedule"]["start_time"] == "07:30"


# --- Leeloo: the error envelope -------------------------------------------------------------


def test_missing_token_is_the_observed_format_error(anon: httpx.Client) -> None:
    """API_NOTES.md: {"status": 0, "error": {"fields": {"authToken": "REQUIRED"}, "code": "FORMAT_ERROR"}}."""
    for path in ("/api/v2/people", "/api/v2/tags", "/api/v1/accounts"):
        response = anon.get(path)
        assert response.status_code == 401
        body = response.json()
        assert body["status"] == 0
        assert body["error"] == {"fields": {"authToken": "REQUIRED"}, "code": "FORMAT_ERROR"}
        assert body["message"] and body["code"] == 401


def test_wrong_token_is_unauthorized_naming_the_token(anon: httpx.Client) -> None:
    response = anon.put(f"/api/v2/people/{PLACEHOLDER}/add-tag", json={"tag_id": PLACEHOLDER},
                        headers={"X-Leeloo-AuthToken": "not-the-token"})
    assert response.status_code == 401
    assert response.json()["error"] == {"fields": {"authToken": "INVALID"}, "code": "UNAUTHORIZED"}
    assert "not-the-token" not in response.text


@pytest.mark.parametrize(("request_", "fields"), [
    (("POST", "/api/v2/messages/send-message", {"account_id": PLACEHOLDER}), {"text": "REQUIRED"}),
    (("POST", "/api/v2/messages/send-message", {"account_id": "42", "text": "x"}), {"account_id": "INVALID"}),
    (("POST", "/api/v2/messages/send-message", {"account_id": PLACEHOLDER, "text": "x", "txt": "y"}),
     {"txt": "UNKNOWN_FIELD"}),
    (("PUT", f"/api/v2/people/{PLACEHOLDER}/add-comment", {"comment": ""}), {"comment": "REQUIRED"}),
    (("POST", f"/api/v2/orders/{PLACEHOLDER}", {"status": "RESOLVED", "price": -1}), {"price": "OUT_OF_RANGE"}),
], ids=["required", "invalid", "unknown", "empty", "range"])
def test_validation_errors_are_format_errors_with_field_codes(leeloo: httpx.Client, request_: tuple[str, str, Any],
                                                              fields: dict[str, str]) -> None:
    method, path, body = request_
    response = leeloo.request(method, path, json=body)
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["status"] == 0 and answer["error"] == {"fields": fields, "code": "FORMAT_ERROR"}
    assert set(answer["errors"]) == set(fields) and answer["message"]


def test_query_validation_error_is_a_format_error(leeloo: httpx.Client) -> None:
    response = leeloo.get("/api/v2/orders", params={"offset": "-1"})
    assert response.status_code == 422
    assert response.json()["error"] == {"fields": {"offset": "OUT_OF_RANGE"}, "code": "FORMAT_ERROR"}


def test_not_found_is_a_not_found_error(leeloo: httpx.Client) -> None:
    response = leeloo.get("/api/v2/orders/" + "0" * 24)
    assert response.status_code == 404
    assert response.json()["error"] == {"fields": {}, "code": "NOT_FOUND"}
    named = leeloo.put(f"/api/v2/people/{PLACEHOLDER}/add-tag", json={"tag_id": "0" * 24})
    assert named.status_code == 404
    assert named.json()["error"] == {"fields": {"tag_id": "NOT_FOUND"}, "code": "NOT_FOUND"}


# --- Leeloo: authToken query parameter, page size --------------------------------------------


def test_auth_token_works_as_a_query_parameter(live: RunningSandbox, anon: httpx.Client) -> None:
    """API_NOTES.md: the token is also accepted as ?authToken=…"""
    token = live.credentials.leeloo_token
    tags = anon.get("/api/v2/tags", params={"authToken": token})
    assert tags.status_code == 200 and tags.json()["status"] == 1
    person = anon.get("/api/v2/people", params={"authToken": token, "limit": 1}).json()["data"][0]
    tag = tags.json()["data"][0]
    added = anon.put(f"/api/v2/people/{person['id']}/add-tag", params={"authToken": token}, json={"tag_id": tag["id"]})
    assert added.status_code == 200, added.text
    assert tag["name"] in anon.get(f"/api/v2/people/{person['id']}", params={"authToken": token}).json()["data"]["tags"]
    assert anon.put(f"/api/v2/people/{person['id']}/remove-tag", params={"authToken": token},
                    json={"tag_id": tag["id"]}).status_code == 200


@pytest.mark.parametrize("path", ["/api/v2/people", "/api/v2/communication-channels", "/api/v1/accounts",
                                  "/api/v2/orders"])
def test_a_page_holds_at_most_100_records(leeloo: httpx.Client, path: str) -> None:
    """API_NOTES.md: at most 100 records a page, 20 by default; meta.limit says what was served."""
    default = leeloo.get(path).json()
    assert default["meta"]["limit"] == 20 and len(default["data"]) == min(20, default["meta"]["totalCount"])
    big = leeloo.get(path, params={"limit": 500}).json()
    assert big["meta"]["limit"] == 100
    assert len(big["data"]) == min(100, big["meta"]["totalCount"]) == big["meta"]["filteredCount"]


# --- Leeloo: NOT_DEFINED placeholders -------------------------------------------------------


def test_person_without_email_or_phone_reads_not_defined(leeloo: httpx.Client) -> None:
    response = leeloo.post("/api/v2/people", json={"name": "Без контактов",
                                                   "leadgentool_id": "609290d3e060416cdea6823e"})
    assert response.status_code == 200, response.text
    created = response.json()["data"]
    assert created["email"] == created["phone"] == created["gender"] == "NOT_DEFINED"
    card = leeloo.get(f"/api/v2/people/{created['person_id']}").json()["data"]
    assert (card["email"], card["phone"], card["profileImage"], card["gender"]) == ("NOT_DEFINED",) * 4
    listed = [p for p in every_record(leeloo, "/api/v2/people", {"filter[last_message][from]": "2000-01-01"})
              if p["id"] == created["person_id"]]
    assert listed and listed[0]["email"] == listed[0]["phone"] == "NOT_DEFINED"
    via_channel = leeloo.get(f"/api/v2/communication-channels/{created['id']}/person").json()["data"]
    assert via_channel["email"] == "NOT_DEFINED"
    # The value as shown is the value filtered on.
    for field in ("email", "phone"):
        found = every_record(leeloo, "/api/v2/people", {f"filter[{field}]": "NOT_DEFINED"})
        assert created["person_id"] in {p["id"] for p in found}
        assert all(p[field] == "NOT_DEFINED" for p in found)


def test_unfiltered_people_page_shows_not_defined_too(fresh: RunningSandbox) -> None:
    with httpx.Client(base_url=fresh.url, headers={"X-Leeloo-AuthToken": fresh.credentials.leeloo_token},
                      timeout=30) as client:
        created = client.post("/api/v2/people", json={"name": "Без контактов",
                                                      "leadgentool_id": "609290d3e060416cdea6823e"}).json()["data"]
        people = every_record(client, "/api/v2/people")
    mine = [p for p in people if p["id"] == created["person_id"]]
    assert mine and mine[0]["email"] == mine[0]["phone"] == "NOT_DEFINED"
    assert all(p["email"] is not None and p["phone"] is not None for p in people)


@pytest.mark.parametrize("record_link", ["NOT_DEFINED", "", None])
def test_call_without_a_recording_reads_not_defined(leeloo: httpx.Client, record_link: str | None) -> None:
    """The v2 document: record_link 'https://…' or 'NOT_DEFINED'."""
    body = dict(load("leeloo_v2", "calls_create")["request"]["body"])
    if record_link is None:
        del body["record_link"]
    else:
        body["record_link"] = record_link
    response = leeloo.post("/api/v2/calls", data=body)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["record_link"] == "NOT_DEFINED"


# --- Leeloo: SYSTEM_MESSAGEs ----------------------------------------------------------------


def _utc(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_subscription_through_a_leadgentool_adds_a_system_message(leeloo: httpx.Client) -> None:
    """v1 document: SYSTEM_MESSAGE is the notice of an account's action (a subscription, an order)."""
    person = create_person(leeloo)
    chat = _chat(leeloo, person["id"])
    assert [(m["type"], m["text"]) for m in chat] == [("SYSTEM_MESSAGE", "")]
    card = leeloo.get(f"/api/v2/people/{person['person_id']}").json()["data"]
    listed = every_record(leeloo, "/api/v2/people", {"filter[email]": card["email"]})
    assert listed[0]["lastMessageTime"] == chat[0]["createdAt"]


def test_people_sms_appear_in_the_last_message_window_of_their_adding(leeloo: httpx.Client) -> None:
    phone = unique_phone()
    before = datetime.now(UTC) - timedelta(seconds=5)
    response = leeloo.post("/api/v2/people/sms", json={
        "data": [{"name": "СМС-клиент", "phone": phone}], "connection_id": SMS_CONNECTION,
        "leadgentool_id": SMS_LEADGENTOOL})
    assert response.status_code == 200, response.text
    after = datetime.now(UTC) + timedelta(seconds=5)
    window = {"filter[last_message][from]": before.isoformat().replace("+00:00", "Z"),
              "filter[last_message][to]": after.isoformat().replace("+00:00", "Z")}
    found = [p for p in every_record(leeloo, "/api/v2/people", window) if p["phone"] == phone]
    assert len(found) == 1
    assert before <= _utc(found[0]["lastMessageTime"]) <= after
    account = found[0]["accounts"][0]["account_id"]
    assert [m["type"] for m in _chat(leeloo, account)] == ["SYSTEM_MESSAGE"]
    earlier = {"filter[last_message][to]": (before - timedelta(days=1)).isoformat().replace("+00:00", "Z")}
    assert not every_record(leeloo, "/api/v2/people", {**earlier, "filter[phone]": phone})


def test_manual_subscribe_adds_a_system_message_before_the_blocks_text(leeloo: httpx.Client) -> None:
    account = create_person(leeloo)["id"]
    body = load("leeloo_v2", "communication_channels_manual_subscribe")["request"]["body"]
    response = leeloo.post(f"/api/v2/communication-channels/{account}/manual-subscribe", json=body)  # as legalbridge
    assert response.status_code == 200, response.text
    types = [m["type"] for m in _chat(leeloo, account)]
    assert types[:2] in (["BOT_MESSAGE", "SYSTEM_MESSAGE"], ["SYSTEM_MESSAGE", "SYSTEM_MESSAGE"])
    assert types.count("SYSTEM_MESSAGE") == 2  # the leadgentool's subscription and this one


def test_orders_created_and_changed_add_system_messages(leeloo: httpx.Client) -> None:
    person = create_person(leeloo)
    order = leeloo.post("/api/v2/orders", json={"paymentCreditsId": CREDITS, "offerId": OFFER,
                                                "personId": person["person_id"], "isNotifyAccount": False})
    assert order.status_code == 200, order.text
    assert [m["type"] for m in _chat(leeloo, person["id"])] == ["SYSTEM_MESSAGE"] * 2
    changed = leeloo.post(f"/api/v2/orders/{order.json()['data']['id']}", json={"status": "REJECTED"})
    assert changed.status_code == 200, changed.text
    chat = _chat(leeloo, person["id"])
    assert [m["type"] for m in chat] == ["SYSTEM_MESSAGE"] * 3
    channels = every_record(leeloo, "/api/v2/communication-channels",
                            {"filter[last_message][from]": chat[0]["createdAt"]})
    assert person["id"] in {c["id"] for c in channels}


# --- Leeloo: form and JSON both ways; the PHP client's forms -----------------------------------


def test_php_client_order_with_minute_transaction_date_and_json_update(leeloo: httpx.Client) -> None:
    """MouseZver/Leeloo-API: transactionDate 'Y-m-d H:i', id read from data.id, update sent as JSON."""
    person = create_person(leeloo)
    created = leeloo.post("/api/v2/orders", json={"paymentCreditsId": CREDITS, "offerId": OFFER,
                                                  "personId": person["person_id"],
                                                  "transactionDate": "2024-03-22 15:30"})
    assert created.status_code == 200, created.text
    order_id = created.json()["data"]["id"]
    updated = leeloo.post(f"/api/v2/orders/{order_id}", json={
        "status": "RESOLVED", "price": 90, "currency": "RUB", "paymentDate": "2024-03-23 10:00",
        "userComments": "оплачено на месте"})
    assert updated.status_code == 200, updated.text
    order = leeloo.get(f"/api/v2/orders/{order_id}").json()["data"]
    assert (order["status"], order["price"], order["currency"]) == ("RESOLVED", 90, "RUB")


def test_php_client_tags_as_json(leeloo: httpx.Client) -> None:
    person = create_person(leeloo)["person_id"]
    tag = leeloo.get("/api/v2/tags").json()["data"][0]
    assert leeloo.put(f"/api/v2/people/{person}/add-tag", json={"tag_id": tag["id"]}).status_code == 200
    assert leeloo.get(f"/api/v2/people/{person}").json()["data"]["tags"] == [tag["name"]]
    assert leeloo.put(f"/api/v2/people/{person}/remove-tag", json={"tag_id": tag["id"]}).status_code == 200
    assert leeloo.get(f"/api/v2/people/{person}").json()["data"]["tags"] == []


def test_json_documented_calls_take_form_data(leeloo: httpx.Client) -> None:
    person = create_person(leeloo)
    sent = leeloo.post("/api/v2/messages/send-message", data={"account_id": person["id"], "text": "из формы"})
    assert sent.status_code == 200
    updated = leeloo.put(f"/api/v2/people/{person['person_id']}", data={
        "custom_fields[0][type]": "NUMBER", "custom_fields[0][name]": "visits", "custom_fields[0][value]": "3"})
    assert updated.status_code == 200, updated.text
    assert updated.json()["data"]["custom_fields"] == [{"type": "NUMBER", "name": "visits", "value": "3"}]


def test_raw_plus_in_the_phone_filter(live: RunningSandbox, leeloo: httpx.Client) -> None:
    """A raw + decodes to a space; the phone filter reads it as the + it was."""
    person = create_person(leeloo)
    assert person["phone"].startswith("+")
    raw = httpx.get(f"{live.url}/api/v2/people?filter[phone]={person['phone']}&limit=5",
                    headers={"X-Leeloo-AuthToken": live.credentials.leeloo_token}, timeout=30)
    assert [p["id"] for p in raw.json()["data"]] == [person["person_id"]]


# --- realistic mode: Leeloo's rate limit ------------------------------------------------------


@pytest.fixture
def realistic(live: RunningSandbox) -> Iterator[httpx.Client]:
    """The control API of ``live``; realistic mode is switched off again afterwards."""
    with httpx.Client(base_url=live.url, timeout=30) as control:
        try:
            yield control
        finally:
            control.post("/_sandbox/realistic", json={"enabled": False})
            control.delete("/_sandbox/faults")


def test_realistic_mode_is_off_by_default_and_switchable(realistic: httpx.Client) -> None:
    assert realistic.get("/_sandbox/realistic").json() == {"enabled": False, "limit": 300, "window_seconds": 60}
    on = realistic.post("/_sandbox/realistic", json={"enabled": True})
    assert on.json() == {"enabled": True, "limit": 300, "window_seconds": 60}
    assert realistic.get("/_sandbox/realistic").json()["enabled"] is True
    assert realistic.post("/_sandbox/realistic", json={"enabled": "sometimes"}).status_code == 422
    assert realistic.post("/_sandbox/realistic", json={"enabled": False}).json()["enabled"] is False


def test_sandbox_started_realistic_reports_it() -> None:
    """What `leadbridge sandbox --realistic` builds: Sandbox(realistic=True)."""
    with serve_in_thread(Sandbox(MEMORY_URL, seed=7, people=10, realistic=True)) as running:
        state = httpx.get(f"{running.url}/_sandbox/realistic", timeout=TIMEOUT).json()
    assert state == {"enabled": True, "limit": 300, "window_seconds": 60}


def test_300_requests_per_token_then_plain_text_429(live: RunningSandbox, realistic: httpx.Client,
                                                    leeloo: httpx.Client, other_leeloo: httpx.Client,
                                                    dialog: httpx.Client) -> None:
    """The vendor's wiki: 300 requests a minute per token; Response.php quotes the 429 text.

    The window is stretched to an hour here so that a slow machine cannot roll it over mid-count."""
    realistic.post("/_sandbox/realistic", json={"enabled": True, "limit": 300, "window_seconds": 3600})
    paths = ["/api/v2/people?limit=1", "/api/v2/tags", "/api/v1/accounts?limit=1",
             "/api/v2/people?limit=1&offset=0&offset=0"]  # the fast lane and FastAPI's alike
    statuses = [leeloo.get(paths[n % len(paths)]).status_code for n in range(300)]
    assert statuses == [200] * 300
    refused = leeloo.get("/api/v2/tags")
    assert refused.status_code == 429
    assert refused.text == RATE_LIMIT_TEXT
    assert refused.headers["content-type"].startswith("text/plain")
    assert 1 <= int(refused.headers["retry-after"]) <= 3600
    assert leeloo.get("/api/v2/people?limit=1").status_code == 429  # fast lane too
    token = live.credentials.leeloo_token
    same_token = httpx.get(f"{live.url}/api/v2/tags", params={"authToken": token}, timeout=TIMEOUT)
    assert same_token.status_code == 429
    assert other_leeloo.get("/api/v2/tags").status_code == 200  # another token has its own count
    assert dialog.get("/api/campaigns/999999999").status_code == 404  # Dialog is not limited
    realistic.post("/_sandbox/realistic", json={"enabled": False})
    assert leeloo.get("/api/v2/tags").status_code == 200


def test_a_new_window_lets_requests_through_again(realistic: httpx.Client, leeloo: httpx.Client) -> None:
    realistic.post("/_sandbox/realistic", json={"enabled": True, "limit": 2, "window_seconds": 1})
    assert [leeloo.get("/api/v2/tags").status_code for _ in range(3)] == [200, 200, 429]
    time.sleep(1.2)  # a lower bound: once the window has passed, a request is let through
    assert leeloo.get("/api/v2/tags").status_code == 200


def test_realistic_mode_works_alongside_faults(live: RunningSandbox, realistic: httpx.Client,
                                               leeloo: httpx.Client) -> None:
    realistic.post("/_sandbox/realistic", json={"enabled": True, "limit": 2, "window_seconds": 3600})
    realistic.post("/_sandbox/faults", json={"pattern": "^/api/v2/tags$", "error_rate": 1, "error_status": 503})
    assert [leeloo.get("/api/v2/tags").status_code for _ in range(2)] == [503, 503]  # let through, then faulted
    refused = leeloo.get("/api/v2/tags")
    assert refused.status_code == 429 and refused.text == RATE_LIMIT_TEXT
    log = realistic.get("/_sandbox/requests", params={"path": "/api/v2/tags"}).json()["data"][-3:]
    assert [entry["fault"] for entry in log] == ["error", "error", "realistic_rate_limit"]
