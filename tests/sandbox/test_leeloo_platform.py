"""Leeloo v2 catalogue (tags, users, connections) and calls."""

from __future__ import annotations

import httpx
from leeloo_support import row_count
from sqlalchemy import select

from docs_fixtures import load
from leadbridge.sandbox import schema
from leadbridge.sandbox.server import RunningSandbox


def test_tags_users_and_connections_list_the_company(leeloo: httpx.Client) -> None:
    tags = leeloo.get("/api/v2/tags").json()["data"]
    assert {"vip", "tag2", "Tag #1"} <= {t["name"] for t in tags}
    connections = leeloo.get("/api/v2/connections").json()["data"]["connections"]
    assert {"telegram", "sms", "sendGrid"} <= {c["type"] for c in connections}
    users = leeloo.get("/api/v2/users").json()
    assert (users["meta"]["limit"], users["meta"]["offset"]) == (20, 0)
    for user in users["data"]:
        assert leeloo.get(f"/api/v2/users/{user['id']}").json()["data"] == user
    one = leeloo.get("/api/v2/users", params={"limit": 1, "offset": 1}).json()
    assert one["data"] == users["data"][1:2] and one["meta"]["totalCount"] == users["meta"]["totalCount"]


def test_call_is_stored_on_the_account(leeloo: httpx.Client, live: RunningSandbox) -> None:
    body = load("leeloo_v2", "calls_create")["request"]["body"]
    before = row_count(live.sandbox, schema.Call, schema.Call.account_id == body["account_id"])
    call = leeloo.post("/api/v2/calls", data={**body, "status": "NO_ANSWER", "duration": "0",
                                              "type": "INBOUND"}).json()["data"]
    assert (call["from"], call["to"], call["status"], call["billsec"], call["type"]) == (
        "606", "607", "NO_ANSWER", 0, "INBOUND")
    assert call["provider_type"] == "MANUAL" and call["account_id"] == body["account_id"]
    assert row_count(live.sandbox, schema.Call, schema.Call.account_id == body["account_id"]) == before + 1
    with live.sandbox.read() as session:
        stored = session.execute(select(schema.Call.from_number, schema.Call.to_number, schema.Call.duration,
                                        schema.Call.date).where(schema.Call.id == call["id"])).one()
    assert (stored.from_number, stored.to_number, stored.duration) == ("606", "607", 0)
    assert stored.date.isoformat() == "2024-03-22T15:30:17.339000"


def test_call_with_a_missing_field_is_refused(leeloo: httpx.Client, live: RunningSandbox) -> None:
    body = dict(load("leeloo_v2", "calls_create")["request"]["body"])
    del body["from"]
    before = row_count(live.sandbox, schema.Call)
    response = leeloo.post("/api/v2/calls", data=body)
    assert response.status_code == 422 and "from" in response.json()["errors"]
    assert row_count(live.sandbox, schema.Call) == before
