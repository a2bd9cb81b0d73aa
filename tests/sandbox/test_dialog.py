"""Dialog API of the sandbox: login, campaign creation and the report's checks and isolation.

The campaigns' runs on the clock are in test_dialog_simulation.py.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from docs_fixtures import load
from http_clients import TIMEOUT
from leadbridge.sandbox.server import RunningSandbox

OTHER_PROJECT = 2  # the second tenant's project, scenario 952, start block 20, caller phone 6


def campaign_example() -> dict[str, Any]:
    body: dict[str, Any] = load("dialog", "campaigns_create")["request"]["body"]
    return body


def report_example(campaign_id: int) -> dict[str, Any]:
    body: dict[str, Any] = load("dialog", "analytics_report")["request"]["body"]
    body["analytics_filter"]["outgoing_campaign_id"] = campaign_id
    return body


def create(client: httpx.Client, body: dict[str, Any] | None = None) -> int:
    response = client.post("/api/campaigns", json=body or campaign_example())
    assert response.status_code == 200, response.text
    campaign_id: int = response.json()["campaign"]["id"]
    return campaign_id


def invalid_fields(response: httpx.Response) -> list[str]:
    """The fields a Dialog 422 names, from FastAPI's ``detail`` list (``loc`` without "body")."""
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail, detail
    for item in detail:
        assert set(item) >= {"loc", "msg", "type"} and item["msg"], item
    return [".".join(str(part) for part in item["loc"] if part != "body") or "body" for item in detail]


# --- login --------------------------------------------------------------------------------


def test_login_returns_a_working_token(live: RunningSandbox, anon: httpx.Client) -> None:
    fixture = load("dialog", "login")
    response = anon.post(fixture["request"]["path"], json=fixture["request"]["body"])
    assert response.status_code == 200
    body = response.json()
    assert body["token"] and body["access_token"] == body["token"] and body["token_type"] == "bearer"
    created = anon.post("/api/campaigns", json=campaign_example(), headers={"Authorization": f"Bearer {body['token']}"})
    assert created.status_code == 200


def test_login_accepts_form_data(anon: httpx.Client) -> None:
    response = anon.post("/api/login", data={"login": "demo", "password": "demo"})
    assert response.status_code == 200 and response.json()["token"]


def test_login_wrong_password_is_401(anon: httpx.Client) -> None:
    response = anon.post("/api/login", json={"login": "demo", "password": "wrong-one"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"] == "Incorrect username or password" and "wrong-one" not in response.text


@pytest.mark.parametrize(("body", "field"), [({"login": "demo"}, "password"), ({"password": "demo"}, "login")])
def test_login_missing_field_is_422(anon: httpx.Client, body: dict[str, str], field: str) -> None:
    response = anon.post("/api/login", json=body)
    assert response.status_code == 422
    assert field in invalid_fields(response)


@pytest.mark.parametrize(("method", "url"), [
    ("POST", "/api/campaigns"), ("POST", "/api/analytics/1/report"), ("GET", "/api/campaigns/12345"),
])
@pytest.mark.parametrize("authorization", [None, "Bearer 1|notavalidtoken", "Token demo"])
def test_endpoints_require_a_bearer_token(anon: httpx.Client, method: str, url: str, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    body = campaign_example() if url == "/api/campaigns" else report_example(12345)
    response = anon.request(method, url, json=body if method == "POST" else None, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"] == ("Not authenticated" if authorization is None
                                         else "Could not validate credentials")


# --- campaigns ------------------------------------------------------------------------------


def test_create_document_example_and_read_it_back(dialog: httpx.Client) -> None:
    response = dialog.post("/api/campaigns", json=campaign_example())
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["campaign"] and list(body["campaign"]) == ["id"]
    campaign_id = body["campaign"]["id"]
    assert isinstance(campaign_id, int) and campaign_id >= 12345
    stored = dialog.get(f"/api/campaigns/{campaign_id}").json()["campaign"]
    example = campaign_example()["campaign"]
    assert stored["project_id"] == 1 and stored["start_block_id"] == 10 and stored["phone_id"] == 5
    assert stored["name"] == example["name"] and stored["description"] == example["description"]
    assert stored["schedule"] == example["schedule"]
    assert stored["phones_count"] == 1
    assert stored["state"] in ("Создано", "В работе", "Завершено")


def test_campaign_ids_increase(dialog: httpx.Client) -> None:
    first = create(dialog)
    second = create(dialog)
    assert second == first + 1


def test_demo_tenants_first_campaign_is_the_documents_id(fresh: RunningSandbox) -> None:
    login = httpx.post(f"{fresh.url}/api/login", json={"login": "demo", "password": "demo"}, timeout=TIMEOUT).json()
    with httpx.Client(base_url=fresh.url, headers={"Authorization": f"Bearer {login['token']}"},
                      timeout=TIMEOUT) as client:
        response = client.post("/api/campaigns", json=campaign_example())
        assert response.json() == load("dialog", "campaigns_create")["response"]["body"] == {"campaign": {"id": 12345}}
        assert create(client) == 12346


Mutation = Callable[[dict[str, Any]], None]


def setter(path: str, value: Any) -> Mutation:
    def mutate(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = body
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return mutate


class _Delete:
    """Marks a field to remove from the body (a stable repr keeps test ids equal across workers)."""

    def __repr__(self) -> str:
        return "DELETE"


DELETE = _Delete()
INVALID_CAMPAIGNS: list[tuple[str, Any, str]] = [
    ("campaign.project_id", DELETE, "campaign.project_id"),
    ("campaign.project_id", "one", "campaign.project_id"),
    ("campaign.project_id", 999, "campaign.project_id"),
    ("campaign.project_id", OTHER_PROJECT, "campaign.project_id"),
    ("campaign.start_block_id", 20, "campaign.start_block_id"),  # the other tenant's block
    ("campaign.start_block_id", True, "campaign.start_block_id"),
    ("campaign.phone_id", 6, "campaign.phone_id"),
    ("campaign.phone_id", DELETE, "campaign.phone_id"),
    ("campaign.state", "В работе", "campaign.state"),
    ("campaign.schedule", DELETE, "campaign.schedule"),
    ("campaign.schedule.date", "01.01.2000", "campaign.schedule.date"),
    ("campaign.schedule.date", "2000-02-30", "campaign.schedule.date"),
    ("campaign.schedule.start_time", "9:00", "campaign.schedule.start_time"),
    ("campaign.schedule.end_time", "24:00", "campaign.schedule.end_time"),
    ("campaign.schedule.end_time", "08:59", "campaign.schedule.end_time"),
    ("campaign.schedule.periods", {"id": 2, "title": "Ежедневно"}, "campaign.schedule.periods.id"),
    ("campaign.schedule.attempts", {"id": 2, "title": "3"}, "campaign.schedule.attempts"),
    ("campaign.schedule.attempts", {"id": 6, "title": "6"}, "campaign.schedule.attempts.id"),
    ("campaign.schedule.interval", "пять", "campaign.schedule.interval"),
    ("campaign.schedule.interval", "1441", "campaign.schedule.interval"),
    ("phones", [], "phones"),
    ("phones", DELETE, "phones"),
    ("phones.0.phone", 79999999999, "phones.0.phone"),
    ("phones.0.phone", "call me", "phones.0.phone"),
    ("phones.0.add_data", {"colour": "red"}, "phones.0.add_data.colour"),
    ("phones.0.add_data", {"name": {"first": "Иван"}}, "phones.0.add_data.name"),
]


@pytest.mark.parametrize(("path", "value", "field"), INVALID_CAMPAIGNS,
                         ids=[f"{path}={value!r}" for path, value, _ in INVALID_CAMPAIGNS])
def test_invalid_campaign_is_rejected_naming_the_field_and_stores_nothing(
    dialog: httpx.Client, path: str, value: Any, field: str
) -> None:
    before = create(dialog)
    body = campaign_example()
    setter(path, value)(body)
    response = dialog.post("/api/campaigns", json=body)
    assert response.status_code == 422, response.text
    errors = invalid_fields(response)
    assert any(key == field or key.startswith(field + ".") for key in errors), errors
    assert create(dialog) == before + 1  # the rejected campaign took no id and left no row


@pytest.mark.parametrize(("content", "status", "field"),
                         [(b"{", 400, "body"), (b"[]", 422, "body"), (b"", 422, "campaign")])
def test_malformed_campaign_body(dialog: httpx.Client, content: bytes, status: int, field: str) -> None:
    response = dialog.post("/api/campaigns", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert field in invalid_fields(response)


def test_campaign_of_another_tenant_is_404(dialog: httpx.Client, other_dialog: httpx.Client) -> None:
    campaign_id = create(dialog)
    assert other_dialog.get(f"/api/campaigns/{campaign_id}").status_code == 404
    assert dialog.get("/api/campaigns/999999999").status_code == 404


def test_other_tenant_creates_in_its_own_project(other_dialog: httpx.Client, dialog: httpx.Client) -> None:
    body = campaign_example()
    body["campaign"].update(project_id=OTHER_PROJECT, start_block_id=20, phone_id=6)
    campaign_id = create(other_dialog, body)
    assert other_dialog.get(f"/api/campaigns/{campaign_id}").json()["campaign"]["project_id"] == OTHER_PROJECT
    assert dialog.get(f"/api/campaigns/{campaign_id}").status_code == 404


# --- report: checks and isolation -----------------------------------------------------------


def test_report_document_example_shape(dialog: httpx.Client) -> None:
    campaign_id = create(dialog)
    response = dialog.post("/api/analytics/1/report", json=report_example(campaign_id))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"columns", "data", "total_duration", "avg_duration", "count"}
    assert body["columns"] == load("dialog", "analytics_report")["response"]["body"]["columns"]
    assert body["count"] == len(body["data"])


INVALID_REPORTS: list[tuple[str, Any, str]] = [
    ("analytics_filter", DELETE, "analytics_filter"),
    ("analytics_filter.outgoing_campaign_id", DELETE, "analytics_filter.outgoing_campaign_id"),
    ("analytics_filter.scenario_id", "x", "analytics_filter.scenario_id"),
    ("analytics_filter.date_start", "вчера", "analytics_filter.date_start"),
    ("analytics_filter.date_end", "1999-01-01", "analytics_filter.date_end"),
    ("columns.0.name", "colour", "columns.0.name"),
    ("columns.0.filter_type", "like", "columns.0.filter_type"),
    ("columns.0.sorting", "up", "columns.0.sorting"),
    ("columns.0.data_type", "money", "columns.0.data_type"),
    ("columns.0.filter_value", DELETE, "columns.0.filter_value"),
    ("columns", [{"display_name": "Nothing chosen"}], "columns.0"),
    ("columns", [{"name": "duration", "filter_type": "equal", "filter_value": "long"}], "columns.0.filter_value"),
    ("columns", [{"name": "goal", "filter_type": "equal", "filter_value": "maybe"}], "columns.0.filter_value"),
]


@pytest.mark.parametrize(("path", "value", "field"), INVALID_REPORTS,
                         ids=[f"{path}={value!r}" for path, value, _ in INVALID_REPORTS])
def test_invalid_report_request_is_422_naming_the_field(
    dialog: httpx.Client, path: str, value: Any, field: str
) -> None:
    body = report_example(create(dialog))
    setter(path, value)(body)
    response = dialog.post("/api/analytics/1/report", json=body)
    assert response.status_code == 422, response.text
    errors = invalid_fields(response)
    assert any(key == field or key.startswith(field + ".") for key in errors), errors


@pytest.mark.parametrize(("project_id", "changes"), [
    (999, {}),
    (OTHER_PROJECT, {}),
    (1, {"scenario_id": 952}),
    (1, {"start_block_id": 20}),
    (1, {"outgoing_campaign_id": 999999999}),
])
def test_report_unknown_ids_are_404(dialog: httpx.Client, project_id: int, changes: dict[str, int]) -> None:
    body = report_example(create(dialog))
    body["analytics_filter"].update(changes)
    response = dialog.post(f"/api/analytics/{project_id}/report", json=body)
    assert response.status_code == 404
    assert response.json()["message"]


def test_report_of_another_tenants_campaign_is_404(dialog: httpx.Client, other_dialog: httpx.Client) -> None:
    campaign_id = create(dialog)
    assert other_dialog.post("/api/analytics/1/report", json=report_example(campaign_id)).status_code == 404
    theirs = copy.deepcopy(report_example(campaign_id))
    theirs["analytics_filter"].update(scenario_id=952, start_block_id=20)
    assert other_dialog.post(f"/api/analytics/{OTHER_PROJECT}/report", json=theirs).status_code == 404
    assert dialog.post("/api/analytics/1/report", json=report_example(campaign_id)).status_code == 200
