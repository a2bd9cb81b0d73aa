from __future__ import annotations

from typing import Any

import httpx
from leeloo_support import create_person, every_record, row_count, unique_email, unique_phone

from http_clients import TIMEOUT
from leadbridge.sandbox import schema
from leadbridge.sandbox.server import RunningSandbox
from leadbridge.sandbox.state import statement_watchers


def test_people_list_envelope(leeloo: httpx.Client) -> None:
    response = leeloo.get("/api/v2/people", params={"limit": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == 1
    assert body["meta"]["limit"] == 5 and body["meta"]["offset"] == 0
    assert body["meta"]["filteredCount"] == len(body["data"]) == 5
    assert body["meta"]["totalCount"] >= 300
    person = body["data"][0]
    assert set(person) >= {"id", "name", "email", "phone", "tags", "accounts", "lastMessageTime"}
    assert len(person["id"]) == 24 and person["lastMessageTime"].endswith("Z")


def test_people_list_requires_token(anon: httpx.Client) -> None:
    response = anon.get("/api/v2/people")
    assert response.status_code == 401
    assert response.json()["status"] == 0


def test_people_list_bad_limit_names_field(leeloo: httpx.Client) -> None:
    response = leeloo.get("/api/v2/people", params={"limit": "many"})
    assert response.status_code == 422
    assert "limit" in response.json()["errors"]


def test_people_list_bad_date_names_field(leeloo: httpx.Client) -> None:
    response = leeloo.get("/api/v2/people", params={"filter[last_message][from]": "yesterday"})
    assert response.status_code == 422
    assert "filter[last_message][from]" in response.json()["errors"]


# --- filters ---------------------------------------------------------------------------------


def test_tags_filter_repeated_or_comma_separated_matches_any_tag(leeloo: httpx.Client) -> None:
    def ids(params: list[tuple[str, str]]) -> set[str]:
        return {p["id"] for p in every_record(leeloo, "/api/v2/people", params)}

    mentor, pro = ids([("filter[tags]", "Mentor")]), ids([("filter[tags]", "Professional")])
    assert mentor and pro
    both = mentor | pro
    assert ids([("filter[tags]", "Mentor"), ("filter[tags]", "Professional")]) == both
    assert ids([("filter[tags]", "Mentor,Professional")]) == both
    for person in every_record(leeloo, "/api/v2/people", {"filter[tags]": "Mentor"}):
        assert "Mentor" in person["tags"]


def test_phone_filter_reads_an_unescaped_plus(leeloo: httpx.Client, live: RunningSandbox) -> None:
    person = create_person(leeloo)
    raw = httpx.get(f"{live.url}/api/v2/people?filter[phone]={person['phone']}",
                    headers={"X-Leeloo-AuthToken": live.credentials.leeloo_token}, timeout=TIMEOUT).json()
    assert [p["id"] for p in raw["data"]] == [person["person_id"]]


# --- create ----------------------------------------------------------------------------------


def test_created_person_reads_back(leeloo: httpx.Client) -> None:
    created = create_person(leeloo, connected_users_ids=["609290d3e060416cdea68444"])
    assert created["from"] == "MANUAL" and created["tags"] == [] and created["createdAt"].endswith("Z")
    card = leeloo.get(f"/api/v2/people/{created['person_id']}", params={"include": "contactedUsers"}).json()
    person = card["data"]
    assert (person["name"], person["email"], person["phone"]) == (created["name"], created["email"],
                                                                  created["phone"])
    assert person["accounts"] == [{"account_id": created["id"], "connection_id": person["accounts"][0]["connection_id"],
                                   "connection_status": "OK", "from": "MANUAL"}]
    assert person["subscribeHistory"][0]["leadgentoolId"] == "609290d3e060416cdea6823e"
    assert person["links"]["contactedUsers"] == [{"type": "users", "id": "609290d3e060416cdea68444"}]
    assert [u["id"] for u in card["included"]["users"]] == ["609290d3e060416cdea68444"]


def test_create_person_bad_email_is_refused_and_nothing_written(leeloo: httpx.Client, live: RunningSandbox) -> None:
    before = row_count(live.sandbox, schema.Person)
    response = leeloo.post("/api/v2/people", json={"name": "X", "email": "nope",
                                                   "leadgentool_id": "609290d3e060416cdea6823e"})
    assert response.status_code == 422 and "email" in response.json()["errors"]
    assert row_count(live.sandbox, schema.Person) == before


def test_people_sms_creates_sms_accounts_tags_and_subscriptions(leeloo: httpx.Client) -> None:
    phone, other_phone = unique_phone(), unique_phone()
    body = {"data": [{"name": "СМС Клиент", "phone": phone}, {"phone": other_phone, "email": unique_email()}],
            "connection_id": "5dbfe6c5fb73e101720b3dc7", "leadgentool_id": "5e1f119d6c384804b31e945e",
            "tags": ["5cf7a18586236d000b1256b2"]}
    response = leeloo.post("/api/v2/people/sms", json=body)
    assert response.json() == {"status": 1, "data": {"count_to_process": 2}}
    for number in (phone, other_phone):
        found = leeloo.get("/api/v2/people", params={"filter[phone]": number}).json()["data"]
        assert len(found) == 1
        assert found[0]["tags"] == ["sms"]
        assert [a["from"] for a in found[0]["accounts"]] == ["SMS"]
        assert found[0]["accounts"][0]["connection_id"] == "5dbfe6c5fb73e101720b3dc7"
        card = leeloo.get(f"/api/v2/people/{found[0]['id']}").json()["data"]
        assert card["subscribeHistory"][0]["leadgentoolId"] == "5e1f119d6c384804b31e945e"
    # the same phone again reaches the same person, without a second SMS account
    leeloo.post("/api/v2/people/sms", json={**body, "data": [{"phone": phone}]})
    again = leeloo.get("/api/v2/people", params={"filter[phone]": phone}).json()["data"]
    assert len(again) == 1 and len(again[0]["accounts"]) == 1


def test_people_sms_needs_an_sms_connection(leeloo: httpx.Client, live: RunningSandbox) -> None:
    telegram = next(c for c in leeloo.get("/api/v2/connections").json()["data"]["connections"]
                    if c["type"] == "telegram")
    before = row_count(live.sandbox, schema.Person)
    response = leeloo.post("/api/v2/people/sms", json={"data": [{"phone": unique_phone()}],
                                                       "connection_id": telegram["id"],
                                                       "leadgentool_id": "5e1f119d6c384804b31e945e"})
    assert response.status_code == 422 and "connection_id" in response.json()["errors"]
    assert row_count(live.sandbox, schema.Person) == before


# --- update, comment, tags -----------------------------------------------------------------


def test_update_person_changes_phone_email_and_merges_custom_fields(leeloo: httpx.Client) -> None:
    person_id = create_person(leeloo)["person_id"]
    phone, email = unique_phone(), unique_email()
    response = leeloo.put(f"/api/v2/people/{person_id}", json={
        "phone": phone, "email": email,
        "custom_fields": [{"type": "EMAIL", "name": "work", "value": "w@example.com"},
                          {"type": "NUMBER", "name": "age", "value": 30}]})
    assert response.status_code == 200
    second = leeloo.put(f"/api/v2/people/{person_id}", data={"custom_fields[0][type]": "NUMBER",
                                                             "custom_fields[0][name]": "age",
                                                             "custom_fields[0][value]": "31"})
    card = leeloo.get(f"/api/v2/people/{person_id}").json()["data"]
    assert second.json()["data"] == card  # the answer is the card as updated
    assert (card["phone"], card["email"]) == (phone, email)
    assert card["custom_fields"] == [{"type": "EMAIL", "name": "work", "value": "w@example.com"},
                                     {"type": "NUMBER", "name": "age", "value": "31"}]
    assert card["updated_at"] >= card["created_at"]


def test_add_comment_answers_the_documented_record(leeloo: httpx.Client, live: RunningSandbox) -> None:
    person_id = create_person(leeloo)["person_id"]
    comment = leeloo.put(f"/api/v2/people/{person_id}/add-comment", json={"comment": "перезвонить"}).json()["data"]
    assert comment["entity_id"] == person_id and comment["entity_type"] == "PERSON"
    assert comment["text"] == "перезвонить" and comment["company_id"] == "5b9f63e3d244d2000e27692f"
    assert comment["created_by"] == "5b9f63e3d244d2000e276957"  # the company's owner acts for the API
    assert row_count(live.sandbox, schema.Comment, schema.Comment.person_id == person_id) == 1


def test_add_and_remove_tag_show_in_person_and_filters(leeloo: httpx.Client) -> None:
    created = create_person(leeloo)
    person_id = created["person_id"]
    tag = next(t for t in leeloo.get("/api/v2/tags").json()["data"] if t["name"] == "webinar")

    def tagged(params: dict[str, str], path: str = "/api/v2/people") -> set[str]:
        return {p["id"] for p in every_record(leeloo, path, params)}

    for _ in range(2):  # idempotent
        assert leeloo.put(f"/api/v2/people/{person_id}/add-tag", data={"tag_id": tag["id"]}).json()["status"] == 1
    assert leeloo.get(f"/api/v2/people/{person_id}").json()["data"]["tags"] == ["webinar"]
    assert person_id in tagged({"filter[tags]": "webinar"})
    assert person_id in tagged({"filter[tags]": tag["id"]})
    assert created["id"] in tagged({"filter[tags]": "webinar,nothing"}, "/api/v1/accounts")

    assert leeloo.put(f"/api/v2/people/{person_id}/remove-tag", json={"tag_id": tag["id"]}).status_code == 200
    assert leeloo.get(f"/api/v2/people/{person_id}").json()["data"]["tags"] == []
    assert person_id not in tagged({"filter[tags]": "webinar"})


LEADGENTOOL = "609290d3e060416cdea6823e"


def test_a_leadgentools_source_and_the_manual_connection_are_read_once_then_kept_until_changed(
        leeloo: httpx.Client) -> None:
    """Adding a person reads the leadgentool's first traffic source and the company's MANUAL
    connection once; later additions take them from the company's cache, until a write adds a
    traffic source (which could be the first), when the source is read again."""
    create_person(leeloo)  # may make the MANUAL connection (created on first use) ...
    create_person(leeloo)  # ... which this one reads and keeps
    statements: list[str] = []

    def record(sql: str, _params: dict[str, Any]) -> None:
        statements.append(sql)

    def reads_of(table: str) -> int:
        return sum(f"FROM {table} " in sql for sql in statements)

    statement_watchers.append(record)
    try:
        kept = create_person(leeloo)
        assert (reads_of("leeloo_traffic_source"), reads_of("leeloo_connection")) == (0, 0), statements
        added = leeloo.post(f"/api/v2/leadgentools/{LEADGENTOOL}/create-traffic-source",
                            json={"name": "новый источник", "description": ""})
        assert added.status_code == 200, added.text
        statements.clear()
        after = create_person(leeloo)
        assert (reads_of("leeloo_traffic_source"), reads_of("leeloo_connection")) == (1, 0), statements
    finally:
        statement_watchers.remove(record)
    # The new source came after the first one: people still subscribe through the first.
    assert after["subscribeHistory"][0]["trafficSourceId"] == kept["subscribeHistory"][0]["trafficSourceId"]
