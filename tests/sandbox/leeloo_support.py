"""Helpers shared by the Leeloo sandbox tests: replaying document examples, comparing shapes."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import func, select

from docs_fixtures import load
from leadbridge.sandbox import schema
from leadbridge.sandbox.state import Sandbox

PLACEHOLDER = "5b3f543bb2737000133d25b0"
UNKNOWN = "0123456789abcdef01234567"
DEMO_COMPANY = "5b9f63e3d244d2000e27692f"
# Objects whose keys are data, not schema (any keys may appear).
FREE_FORM = frozenset({"utmMarks", "variables", "raw_response"})


def send(client: httpx.Client, request: dict[str, Any]) -> httpx.Response:
    """Send a fixture's request as the document describes it (JSON, form-data or no body)."""
    body: dict[str, Any] = {}
    if request["content_type"] == "json":
        body["json"] = request["body"]
    elif request["content_type"] == "form":
        body["data"] = request["body"]
    return client.request(request["method"], request["path"], params=request["query"], **body)


def replay(client: httpx.Client, api: str, name: str) -> tuple[httpx.Response, dict[str, Any]]:
    fixture = load(api, name)
    return send(client, fixture["request"]), fixture


def assert_shape(actual: Any, documented: Any, where: str = "$") -> None:
    """``actual`` has the documented structure: the same keys at every level, values of the same kind.

    Lists: each item must match one of the documented items (examples are sometimes mixed).
    A documented scalar may come back null (the field is optional on a record).
    """
    if isinstance(documented, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        if where.rsplit(".", 1)[-1] in FREE_FORM or not documented:
            return
        assert set(actual) == set(documented), f"{where}: keys {sorted(actual)} != documented {sorted(documented)}"
        for key, value in documented.items():
            assert_shape(actual[key], value, f"{where}.{key}")
    elif isinstance(documented, list):
        assert isinstance(actual, list), f"{where}: expected a list, got {actual!r}"
        if not documented:
            return
        for index, item in enumerate(actual):
            errors = []
            for candidate in documented:
                try:
                    assert_shape(item, candidate, f"{where}[{index}]")
                    break
                except AssertionError as exc:
                    errors.append(str(exc))
            else:
                raise AssertionError("; ".join(errors))
    elif documented is None or actual is None:
        return
    elif isinstance(documented, bool):
        assert isinstance(actual, bool), f"{where}: expected a boolean, got {actual!r}"
    elif isinstance(documented, int | float):
        assert isinstance(actual, int | float) and not isinstance(actual, bool), f"{where}: expected a number"
    else:
        assert isinstance(actual, type(documented)), f"{where}: expected {type(documented).__name__}, got {actual!r}"


def every_record(client: httpx.Client, path: str, params: Any = ()) -> list[dict[str, Any]]:
    """Every record of a Leeloo list, page by page (a page holds at most 100 records)."""
    records: list[dict[str, Any]] = []
    while True:
        query = [*(params.items() if isinstance(params, dict) else params), ("limit", "100"),
                 ("offset", str(len(records)))]
        body = client.get(path, params=query).json()
        records.extend(body["data"])
        if not body["data"] or len(records) >= body["meta"]["totalCount"]:
            return records


def unique_email() -> str:
    return f"t{uuid.uuid4().hex[:12]}@example.com"


def unique_phone() -> str:
    return "+7999" + str(uuid.uuid4().int)[:7]


def create_person(client: httpx.Client, **extra: Any) -> dict[str, Any]:
    """A new person (POST /people through the document's leadgentool); returns the response data."""
    body = {"name": "Тестовый Клиент", "email": unique_email(), "phone": unique_phone(),
            "leadgentool_id": "609290d3e060416cdea6823e", **extra}
    response = client.post("/api/v2/people", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def row_count(sandbox: Sandbox, model: Any, *where: Any) -> int:
    with sandbox.read() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def leeloo_counts(sandbox: Sandbox, company_id: str = DEMO_COMPANY) -> dict[str, int]:
    """Rows per Leeloo table of one company, to prove a refused write changed nothing."""
    tables: list[Any] = [schema.Person, schema.Account, schema.Message, schema.Subscription, schema.Order,
                         schema.Comment, schema.Call, schema.TrafficSource, schema.Connection]
    counts = {model.__tablename__: row_count(sandbox, model, model.company_id == company_id) for model in tables}
    with sandbox.read() as session:
        counts["person_tags"] = session.scalar(
            select(func.count()).select_from(schema.PersonTag)
            .join(schema.Person, schema.Person.id == schema.PersonTag.person_id)
            .where(schema.Person.company_id == company_id)
        ) or 0
    return counts
