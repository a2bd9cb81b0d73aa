from __future__ import annotations

import httpx


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
