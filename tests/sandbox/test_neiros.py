"""Neiros user API of the sandbox: login, deals (the URL's "projects"), sites, deal sums."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from docs_fixtures import load
from leadbridge.sandbox.server import RunningSandbox

BASE = "/api/userapi/v1"
PAGE_SIZE = 15
DOC_TOKEN = "323|RvUxhGGOpHatTfGvoIuTSXV9AmF6CqX3GMhpc5EH"
OTHER_TENANT_DEAL = 10_000_000
OTHER_TENANT_SITE = 200


def doc_request(client: httpx.Client, name: str, **overrides: Any) -> httpx.Response:
    """Replay a documented example request (query and JSON body as the document gives them)."""
    request = load("neiros", name)["request"]
    body = request["body"]
    return client.request(
        request["method"], request["path"], params=overrides.get("params", request["query"]),
        content=orjson.dumps(body) if body is not None else None,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )


# --- login --------------------------------------------------------------------------------


def test_login_with_demo_credentials_returns_user_and_sanctum_token(live: RunningSandbox, anon: httpx.Client) -> None:
    response = anon.post(f"{BASE}/auth/login", json={"email": live.credentials.neiros_email,
                                                      "password": live.credentials.neiros_password})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"user", "token"}
    assert body["user"] == {"name": "Тест", "email": live.credentials.neiros_email, "id": 176}
    assert re.fullmatch(r"\d+\|[A-Za-z0-9]{40}", body["token"])
    sites = anon.get(f"{BASE}/sites", headers={"Authorization": f"Bearer {body['token']}"})
    assert sites.status_code == 200


def test_login_document_example_opens_the_demo_account(anon: httpx.Client) -> None:
    fixture = load("neiros", "login")
    response = anon.post(fixture["request"]["path"], json=fixture["request"]["body"])
    assert response.status_code == 200
    documented = fixture["response"]["body"]
    assert response.json()["user"] == documented["user"]


def test_login_accepts_form_data(live: RunningSandbox, anon: httpx.Client) -> None:
    response = anon.post(f"{BASE}/auth/login", data={"email": live.credentials.neiros_email,
                                                      "password": live.credentials.neiros_password})
    assert response.status_code == 200
    assert response.json()["user"]["id"] == 176


def test_each_login_issues_a_new_working_token(live: RunningSandbox, anon: httpx.Client) -> None:
    creds = {"email": live.credentials.neiros_email, "password": live.credentials.neiros_password}
    first = anon.post(f"{BASE}/auth/login", json=creds).json()["token"]
    second = anon.post(f"{BASE}/auth/login", json=creds).json()["token"]
    assert first != second
    for token in (first, second):
        assert anon.get(f"{BASE}/sites", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_login_wrong_password_is_401_naming_email(live: RunningSandbox, anon: httpx.Client) -> None:
    response = anon.post(f"{BASE}/auth/login", json={"email": live.credentials.neiros_email, "password": "nope"})
    assert response.status_code == 401
    body = response.json()
    assert "email" in body["errors"] and body["message"]
    assert "nope" not in response.text


@pytest.mark.parametrize(("body", "field"), [
    ({"email": "demo@neiros.local"}, "password"),
    ({"password": "demo"}, "email"),
    ({"email": "", "password": "demo"}, "email"),
])
def test_login_missing_field_is_422_naming_it(anon: httpx.Client, body: dict[str, str], field: str) -> None:
    response = anon.post(f"{BASE}/auth/login", json=body)
    assert response.status_code == 422
    assert field in response.json()["errors"]


def test_login_malformed_json_is_400(anon: httpx.Client) -> None:
    response = anon.post(f"{BASE}/auth/login", content=b'{"email": ', headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "body" in response.json()["errors"]


# --- auth on every other endpoint -----------------------------------------------------------

PROTECTED: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", f"{BASE}/projects?site_id=100", None),
    ("GET", f"{BASE}/project/8?site_id=100", None),
    ("GET", f"{BASE}/sites", None),
    ("POST", f"{BASE}/project/100/update", {"site_id": 100, "summ": 1}),
]


@pytest.mark.parametrize(("method", "url", "body"), PROTECTED)
@pytest.mark.parametrize("authorization", [None, f"Bearer {DOC_TOKEN}", "Basic ZGVtbzpkZW1v", "Bearer"])
def test_protected_endpoints_reject_missing_or_unknown_tokens(
    anon: httpx.Client, method: str, url: str, body: dict[str, Any] | None, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = anon.request(method, url, json=body, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthenticated."}


# --- deals list -----------------------------------------------------------------------------


def test_deals_list_document_example(neiros: httpx.Client) -> None:
    response = doc_request(neiros, "deals_list")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data", "last_page", "total"}
    projects = body["data"]["projects"]
    # The query string (site 100, 2020-01-01..2023-01-01) wins over the body (site 13, one second of 2022).
    assert body["total"] > PAGE_SIZE
    assert body["last_page"] == math.ceil(body["total"] / PAGE_SIZE)
    assert len(projects) == PAGE_SIZE
    assert projects[0] == {"id": 1, "site_id": 100, "date": projects[0]["date"]}
    for deal in projects:
        assert set(deal) == {"id", "site_id", "date"}
        assert deal["site_id"] == 100
        assert "2020-01-01" <= deal["date"] <= "2023-01-01"
    assert [d["id"] for d in projects] == sorted(d["id"] for d in projects)
    assert 8 in [d["id"] for d in projects]


def test_deals_list_pages_cover_every_deal_once(neiros: httpx.Client) -> None:
    params: dict[str, str | int] = {"site_id": 100, "date_start": "2020-01-01", "date_end": "2023-01-01"}
    first = neiros.get(f"{BASE}/projects", params=params).json()
    seen: list[int] = []
    for page in range(1, first["last_page"] + 1):
        body = neiros.get(f"{BASE}/projects", params={**params, "page": page}).json()
        assert body["total"] == first["total"] and body["last_page"] == first["last_page"]
        seen.extend(deal["id"] for deal in body["data"]["projects"])
    assert len(seen) == len(set(seen)) == first["total"]
    beyond = neiros.get(f"{BASE}/projects", params={**params, "page": first["last_page"] + 1}).json()
    assert beyond["data"]["projects"] == [] and beyond["total"] == first["total"]


def test_deals_list_takes_parameters_from_a_json_body(neiros: httpx.Client) -> None:
    wanted: dict[str, str | int] = {"site_id": 100, "date_start": "2020-01-01", "date_end": "2023-01-01", "page": 2}
    by_query = neiros.get(f"{BASE}/projects", params=wanted).json()
    by_body = neiros.request("GET", f"{BASE}/projects", json=wanted).json()
    assert by_body == by_query
    assert by_body["data"]["projects"][0]["id"] > 1


def test_deals_list_query_string_wins_over_body(neiros: httpx.Client) -> None:
    response = neiros.request("GET", f"{BASE}/projects", params={"site_id": 100}, json={"site_id": 19, "page": 2})
    body = response.json()
    assert response.status_code == 200
    assert {deal["site_id"] for deal in body["data"]["projects"]} == {100}
    page_one = neiros.get(f"{BASE}/projects", params={"site_id": 100}).json()["data"]["projects"]
    assert body["data"]["projects"] != page_one  # page 2 came from the body


def test_deals_list_json_appended_to_query_by_curl_get(neiros: httpx.Client) -> None:
    """``curl --get --data '{…}'`` puts the JSON into the query string; its values count as a body's."""
    response = neiros.get(f"{BASE}/projects?site_id=100&" + '{"page":2,"site_id":19}')
    assert response.status_code == 200
    expected = neiros.get(f"{BASE}/projects", params={"site_id": 100, "page": 2}).json()
    assert response.json() == expected


def deal(client: httpx.Client, deal_id: int, site_id: int = 100) -> dict[str, Any]:
    response = client.get(f"{BASE}/project/{deal_id}", params={"site_id": site_id})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def test_deals_list_window_bounds_are_inclusive(neiros: httpx.Client) -> None:
    created = datetime.fromisoformat(deal(neiros, 8)["created_at"].removesuffix("Z"))
    day, moment = created.date().isoformat(), created.isoformat(timespec="seconds")
    later = (created + timedelta(seconds=1)).isoformat(timespec="seconds")

    def ids(**params: Any) -> set[int]:
        query = {"site_id": 100, **params}
        body = neiros.get(f"{BASE}/projects", params=query).json()
        pages = [body] + [neiros.get(f"{BASE}/projects", params={**query, "page": p}).json()
                          for p in range(2, body["last_page"] + 1)]
        return {d["id"] for page in pages for d in page["data"]["projects"]}

    assert 8 in ids(date_start=day, date_end=day)  # a bare end date covers the whole day
    assert 8 in ids(date_start=moment, date_end=moment)
    assert 8 not in ids(date_start=later)
    assert 8 not in ids(date_end=(created - timedelta(seconds=1)).isoformat(timespec="seconds"))


@pytest.mark.parametrize(("params", "field"), [
    ({}, "site_id"),
    ({"site_id": "abc"}, "site_id"),
    ({"site_id": 100, "date_start": "yesterday"}, "date_start"),
    ({"site_id": 100, "date_end": "2020-13-45"}, "date_end"),
    ({"site_id": 100, "page": 0}, "page"),
    ({"site_id": 100, "page": "two"}, "page"),
    ({"site_id": 100, "date_start": "2023-01-01", "date_end": "2020-01-01"}, "date_end"),
])
def test_deals_list_invalid_parameters_are_422_naming_them(
    neiros: httpx.Client, params: dict[str, Any], field: str
) -> None:
    response = neiros.get(f"{BASE}/projects", params=params)
    assert response.status_code == 422
    assert field in response.json()["errors"]


def test_deals_list_unknown_site_is_404(neiros: httpx.Client) -> None:
    response = neiros.get(f"{BASE}/projects", params={"site_id": 999_999})
    assert response.status_code == 404


# --- one deal -------------------------------------------------------------------------------


def test_deal_document_example(neiros: httpx.Client) -> None:
    fixture = load("neiros", "deals_get")
    response = neiros.get(fixture["request"]["path"], params=fixture["request"]["query"])
    assert response.status_code == 200
    data = response.json()["data"]
    documented = fixture["response"]["body"]["data"]
    assert list(data) == list(documented)
    assert data["id"] == 8
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", data["created_at"])
    assert "2020-01-01" <= data["created_at"][:10] < "2023-01-01"
    assert re.fullmatch(r"[0-9a-f]{24}", data["neiros_visit"]) and data["neiros_id"].isdigit()
    assert isinstance(data["duration"], int) and isinstance(data["summ"], int | float)


def test_some_deals_have_no_phone(neiros: httpx.Client) -> None:
    phones = [deal(neiros, deal_id)["phone"] for deal_id in range(1, 101)]  # the demo's first deals: site 100
    assert None in phones
    assert sum(phone is not None for phone in phones) > 50
    assert all(phone is None or re.fullmatch(r"7\d{10}", phone) for phone in phones)


@pytest.mark.parametrize(("url", "status", "field"), [
    (f"{BASE}/project/99999999?site_id=100", 404, None),
    (f"{BASE}/project/8?site_id=19", 404, None),  # the deal is on site 100
    (f"{BASE}/project/8", 422, "site_id"),
    (f"{BASE}/project/eight?site_id=100", 422, "deal_id"),
    (f"{BASE}/project/8?site_id=x", 422, "site_id"),
])
def test_deal_not_found_or_invalid(neiros: httpx.Client, url: str, status: int, field: str | None) -> None:
    response = neiros.get(url)
    assert response.status_code == status
    if field:
        assert field in response.json()["errors"]
    else:
        assert response.json()["message"]


# --- sites ----------------------------------------------------------------------------------


def test_sites_document_example(neiros: httpx.Client) -> None:
    fixture = load("neiros", "sites_list")
    response = neiros.get(fixture["request"]["path"])
    assert response.status_code == 200
    sites = response.json()["data"]
    for documented in fixture["response"]["body"]["data"]:
        assert documented in sites
    assert 100 in [site["id"] for site in sites]
    assert all(list(site) == ["name", "id"] for site in sites)


# --- deal sum -------------------------------------------------------------------------------


def test_update_document_example_sets_the_sum(neiros: httpx.Client) -> None:
    neiros.post(f"{BASE}/project/100/update", json={"site_id": 100, "summ": 7})
    assert deal(neiros, 100)["summ"] == 7
    fixture = load("neiros", "deals_update")
    response = neiros.post(fixture["request"]["path"], json=fixture["request"]["body"])
    assert response.status_code == 200
    assert response.json() == fixture["response"]["body"] == {"success": True}
    assert deal(neiros, 100)["summ"] == 1500


def test_update_accepts_form_data_and_decimals(neiros: httpx.Client) -> None:
    response = neiros.post(f"{BASE}/project/12/update", data={"site_id": "100", "summ": "250.5"})
    assert response.status_code == 200
    assert deal(neiros, 12)["summ"] == 250.5
    neiros.post(f"{BASE}/project/12/update", data={"site_id": "100", "summ": "0"})
    assert deal(neiros, 12)["summ"] == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"site_id": 100, "summ": -1}, "summ"),
    ({"site_id": 100, "summ": "много"}, "summ"),
    ({"site_id": 100, "summ": True}, "summ"),
    ({"site_id": 100}, "summ"),
    ({"summ": 10}, "site_id"),
    ({"site_id": "abc", "summ": 10}, "site_id"),
])
def test_update_invalid_body_is_422_and_changes_nothing(
    neiros: httpx.Client, body: dict[str, Any], field: str
) -> None:
    before = deal(neiros, 3)["summ"]
    response = neiros.post(f"{BASE}/project/3/update", json=body)
    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert deal(neiros, 3)["summ"] == before


@pytest.mark.parametrize(("deal_id", "site_id"), [(99999999, 100), (8, 19)])
def test_update_unknown_deal_or_wrong_site_is_404(neiros: httpx.Client, deal_id: int, site_id: int) -> None:
    response = neiros.post(f"{BASE}/project/{deal_id}/update", json={"site_id": site_id, "summ": 5})
    assert response.status_code == 404


# --- tenant isolation -----------------------------------------------------------------------

IsolationCall = Callable[[httpx.Client], httpx.Response]


@pytest.mark.parametrize("call", [
    lambda c: c.get(f"{BASE}/project/8", params={"site_id": 100}),
    lambda c: c.post(f"{BASE}/project/8/update", json={"site_id": 100, "summ": 99}),
    lambda c: c.get(f"{BASE}/projects", params={"site_id": 100}),
], ids=["get", "update", "list"])
def test_other_tenant_cannot_reach_demo_deals(
    neiros: httpx.Client, other_neiros: httpx.Client, call: IsolationCall
) -> None:
    before = deal(neiros, 8)["summ"]
    response = call(other_neiros)
    assert response.status_code == 404
    assert deal(neiros, 8)["summ"] == before


def test_each_tenant_sees_only_its_sites_and_deals(neiros: httpx.Client, other_neiros: httpx.Client) -> None:
    mine = {site["id"] for site in neiros.get(f"{BASE}/sites").json()["data"]}
    theirs = {site["id"] for site in other_neiros.get(f"{BASE}/sites").json()["data"]}
    assert mine and theirs and not mine & theirs
    assert deal(other_neiros, OTHER_TENANT_DEAL, OTHER_TENANT_SITE)["id"] == OTHER_TENANT_DEAL
    response = neiros.get(f"{BASE}/project/{OTHER_TENANT_DEAL}", params={"site_id": OTHER_TENANT_SITE})
    assert response.status_code == 404
    response = neiros.post(f"{BASE}/project/{OTHER_TENANT_DEAL}/update",
                           json={"site_id": OTHER_TENANT_SITE, "summ": 1})
    assert response.status_code == 404
