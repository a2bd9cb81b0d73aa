"""The documented-example fixtures are complete, well formed and consistent with themselves."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from docs_fixtures import APIS, DOCS_DIR, all_fixtures, curl_examples, load
from leadbridge.contract import all_endpoints

# Every endpoint the four documents describe, plus Dialog's login (not described: our reading),
# as the contract table lists them; the fixtures are the documents' own reading.
DOCUMENTED_ENDPOINTS: dict[str, set[str]] = {api: set() for api in APIS}
for _entry in all_endpoints():
    if _entry.documented:
        DOCUMENTED_ENDPOINTS[_entry.document].add(_entry.documented_key)
UNDOCUMENTED_ENDPOINTS = {(entry.document, entry.documented_key) for entry in all_endpoints() if not entry.documented}
# The only documented endpoint whose document prints no example response.
WITHOUT_RESPONSE = {("leeloo_v2", "PUT /api/v2/people/{person_id}")}
# The endpoints whose document sends form data (the table lists the documented form first).
FORM_BODIES = {entry.documented_key for entry in all_endpoints() if entry.forms[:1] == ("form",)}

FIXTURES = all_fixtures()
FIXTURE_IDS = [f"{api}/{name}" for api, name, _ in FIXTURES]


def path_pattern(template: str) -> re.Pattern[str]:
    pieces = re.split(r"(\{[a-z_]+\})", template)
    return re.compile("".join("[^/{}?]+" if piece.startswith("{") else re.escape(piece) for piece in pieces))


def split_raw_query(raw_query: str) -> list[list[str]]:
    """The document's query string split without decoding (its "+" stays a plus sign)."""
    return [pair.split("=", 1) for pair in raw_query.split("&")]


def test_fixture_set_is_every_documented_endpoint_and_dialog_login() -> None:
    found = {(api, fixture["endpoint"]) for api, _, fixture in FIXTURES}
    expected = {(api, endpoint) for api, endpoints in DOCUMENTED_ENDPOINTS.items() for endpoint in endpoints}
    assert sum(len(endpoints) for endpoints in DOCUMENTED_ENDPOINTS.values()) == 40
    assert found == expected | UNDOCUMENTED_ENDPOINTS
    assert len(FIXTURES) == len(found), "two fixture files describe the same endpoint"


@pytest.mark.parametrize(("api", "name", "fixture"), FIXTURES, ids=FIXTURE_IDS)
def test_fixture_shape(api: str, name: str, fixture: dict[str, Any]) -> None:
    assert re.fullmatch(r"[a-z0-9_]+", name)
    assert set(fixture) == {"endpoint", "documented", "request", "response", "notes"}
    assert set(fixture["request"]) == {"method", "path", "query", "raw_query", "content_type", "body"}
    assert fixture["documented"] is ((api, fixture["endpoint"]) not in UNDOCUMENTED_ENDPOINTS)
    assert isinstance(fixture["notes"], str)
    response = fixture["response"]
    if (api, fixture["endpoint"]) in WITHOUT_RESPONSE:
        assert response is None
    else:
        assert set(response) == {"status", "body"}
        assert response["status"] == 200
        assert isinstance(response["body"], dict)


@pytest.mark.parametrize(("api", "name", "fixture"), FIXTURES, ids=FIXTURE_IDS)
def test_request_matches_its_endpoint(api: str, name: str, fixture: dict[str, Any]) -> None:
    method, template = fixture["endpoint"].split(" ")
    request = fixture["request"]
    assert request["method"] == method
    assert path_pattern(template).fullmatch(request["path"]), (request["path"], template)
    if request["raw_query"] is None:
        assert request["query"] == []
    else:
        assert request["query"] == split_raw_query(request["raw_query"])


@pytest.mark.parametrize(("api", "name", "fixture"), FIXTURES, ids=FIXTURE_IDS)
def test_body_matches_its_content_type(api: str, name: str, fixture: dict[str, Any]) -> None:
    request = fixture["request"]
    body = request["body"]
    if fixture["endpoint"] in FORM_BODIES:
        assert request["content_type"] == "form"
        assert body and all(isinstance(key, str) and isinstance(value, str) for key, value in body.items())
    elif request["method"] == "GET" and api != "neiros":
        assert request["content_type"] is None
        assert body is None
    elif body is None:
        assert request["content_type"] is None
    else:
        assert request["content_type"] == "json"
        assert isinstance(body, dict)


def test_people_list_keeps_the_unencoded_plus_of_the_document() -> None:
    request = load("leeloo_v2", "people_list")["request"]
    assert "filter[phone]=+380966565556" in request["raw_query"]
    assert ["filter[phone]", "+380966565556"] in request["query"]
    assert [value for key, value in request["query"] if key == "filter[tags]"] == ["vip", "tag2"]


def test_fixture_files_are_only_the_known_apis() -> None:
    assert {path.name for path in DOCS_DIR.iterdir() if path.is_dir()} == set(APIS)


def test_load_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="unknown api"):
        load("leeloo_v3", "people_list")
    with pytest.raises(ValueError, match="not an endpoint fixture"):
        load("neiros", "curl_examples")
    with pytest.raises(FileNotFoundError):
        load("neiros", "no_such_endpoint")


def curl_data(command: str) -> Any:
    marker = '--data "'
    if marker not in command:
        return None
    quoted = command[command.index(marker) + len(marker) :].rstrip()
    assert quoted.endswith('"')
    return json.loads(quoted[:-1].replace('\\"', '"'))


def test_neiros_curl_examples_are_the_fixtures_requests() -> None:
    examples = curl_examples()
    fixtures = {name: fixture for api, name, fixture in FIXTURES if api == "neiros"}
    # The document's order.
    assert [example["name"] for example in examples] == [
        "login",
        "deals_list",
        "deals_get",
        "sites_list",
        "deals_update",
    ]
    assert {example["name"] for example in examples} == set(fixtures)
    for example in examples:
        command = example["command"]
        request = fixtures[example["name"]]["request"]
        url = "https://neiros.cloud" + request["path"]
        if request["raw_query"] is not None:
            url += "?" + request["raw_query"]
        assert command.startswith(f"curl --request {request['method']} \\\n")
        assert f'"{url}"' in command
        assert curl_data(command) == request["body"]
        if example["name"] != "login":
            assert re.search(r'--header "Authorization: Bearer \d+\|[A-Za-z0-9]+"', command)
