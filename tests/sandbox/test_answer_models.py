"""Every documented example and the sandbox's answers fit the contract table's answer models,
unknown keys forbidden: a key the sandbox adds, drops or renames fails here, and so does a
key of the documents' examples the table does not know.

The examples are the tests' own fixtures (tests/fixtures/docs), not the package's copy, so the
table is checked against an independent reading of the documents; the copy is checked to equal
them. Answers are sampled per endpoint by replaying its documented request (and, for reads,
with each side-load), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from leeloo_support import send
from pydantic import ValidationError

from docs_fixtures import all_fixtures
from http_clients import TIMEOUT
from leadbridge.contract import Endpoint, all_endpoints
from leadbridge.sandbox.server import RunningSandbox

ENDPOINTS = all_endpoints()
FIXTURES = {(api, fixture["endpoint"]): (name, fixture) for api, name, fixture in all_fixtures()}
SIDE_LOADS = {
    "people_get": ["contactedUsers", "orders", "contactedUsers,orders"],
    "communication_channel_person": ["contactedUsers", "orders", "contactedUsers,orders"],
    "v1_accounts_get": ["contactedUsers", "orders", "contactedUsers,orders"],
    "tunnels_get": ["leadgentools", "blocks", "leadgentools,blocks"],
}


def fixture_of(entry: Endpoint) -> dict[str, Any]:
    return FIXTURES[(entry.document, entry.documented_key)][1]


def conforms(entry: Endpoint, body: Any) -> None:
    try:
        entry.response.model_validate(body)
    except ValidationError as exc:
        pytest.fail(f"{entry.key}: the answer does not fit {entry.response.__name__}:\n{exc}")


def test_table_holds_every_fixture_once() -> None:
    assert len(ENDPOINTS) == 41
    assert {(entry.document, entry.documented_key) for entry in ENDPOINTS} == set(FIXTURES)


@pytest.mark.parametrize("entry", ENDPOINTS, ids=[entry.key for entry in ENDPOINTS])
def test_documented_example_fits_the_answer_model(entry: Endpoint) -> None:
    fixture = fixture_of(entry)
    assert entry.example == {key: fixture[key] for key in ("endpoint", "request", "response")}
    if fixture["response"] is not None:
        conforms(entry, fixture["response"]["body"])


@pytest.mark.parametrize("entry", ENDPOINTS, ids=[entry.key for entry in ENDPOINTS])
def test_unknown_keys_do_not_fit(entry: Endpoint) -> None:
    body = fixture_of(entry)["response"]
    body = body["body"] if body is not None else {"status": 1, "data": {}, "included": {}}
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        entry.response.model_validate({**body, "undocumentedKey": 1})


def bearer_client(base_url: str, login_path: str, credentials: dict[str, str]) -> httpx.Client:
    token = httpx.post(base_url + login_path, json=credentials, timeout=TIMEOUT).json()["token"]
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def clients(clocked: RunningSandbox) -> Iterator[dict[str, httpx.Client]]:
    """One client per platform on a sandbox of this module (replaying writes changes its world)."""
    creds = clocked.credentials
    with httpx.Client(base_url=clocked.url, headers={"X-Leeloo-AuthToken": creds.leeloo_token},
                      timeout=TIMEOUT) as leeloo, \
            bearer_client(clocked.url, "/api/userapi/v1/auth/login",
                          {"email": creds.neiros_email, "password": creds.neiros_password}) as neiros, \
            bearer_client(clocked.url, "/api/login",
                          {"login": creds.dialog_login, "password": creds.dialog_password}) as dialog:
        yield {"leeloo": leeloo, "neiros": neiros, "dialog": dialog}


@pytest.mark.parametrize("entry", ENDPOINTS, ids=[entry.key for entry in ENDPOINTS])
def test_sandbox_answers_fit_the_answer_model(clients: dict[str, httpx.Client], entry: Endpoint) -> None:
    client = clients[entry.platform]
    request = fixture_of(entry)["request"]
    if entry.name == "analytics_report":
        # The document's campaign id is an example: report on a campaign of this sandbox.
        created = send(client, FIXTURES[("dialog", "POST /api/campaigns")][1]["request"])
        request["body"]["analytics_filter"]["outgoing_campaign_id"] = created.json()["campaign"]["id"]
    response = send(client, request)
    assert response.status_code == 200, response.text
    conforms(entry, response.json())
    for include in SIDE_LOADS.get(entry.name, []):
        response = client.get(request["path"], params={"include": include})
        assert response.status_code == 200, response.text
        conforms(entry, response.json())


WITH_BODY = [entry for entry in ENDPOINTS if entry.request is not None]


@pytest.mark.parametrize("entry", WITH_BODY, ids=[entry.key for entry in WITH_BODY])
def test_documented_request_fits_the_request_model(entry: Endpoint) -> None:
    request = fixture_of(entry)["request"]
    assert request["content_type"] == entry.forms[0]
    assert entry.request is not None
    entry.request.model_validate(request["body"])


def test_only_writes_take_bodies() -> None:
    assert {entry.key for entry in ENDPOINTS if entry.forms} == {entry.key for entry in WITH_BODY}
    assert all(entry.method != "GET" for entry in WITH_BODY)
