"""Every Leeloo endpoint against its document: the example request verbatim, auth, unknown ids,
invalid input, and tenant isolation. Per-resource behaviour lives in the other test_leeloo_* files."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from leeloo_support import PLACEHOLDER, UNKNOWN, assert_shape, leeloo_counts, send

from docs_fixtures import all_fixtures, load
from http_clients import TIMEOUT
from leadbridge.sandbox.server import RunningSandbox

LEELOO = [(api, name) for api, name, _ in all_fixtures() if api.startswith("leeloo")]
# Replaying this example resolves the placeholder order once and for all, so it runs on a fresh sandbox.
ONE_SHOT = {("leeloo_v2", "orders_update_manual")}
OID = re.compile(r"[0-9a-f]{24}")


def test_every_documented_endpoint_has_an_example() -> None:
    assert len([n for a, n in LEELOO if a == "leeloo_v2"]) == 30
    assert len([n for a, n in LEELOO if a == "leeloo_v1"]) == 3


@pytest.mark.parametrize(("api", "name"), [pair for pair in LEELOO if pair not in ONE_SHOT])
def test_document_example_runs_verbatim(leeloo: httpx.Client, api: str, name: str) -> None:
    response = send(leeloo, load(api, name)["request"])
    assert response.status_code == 200, response.text
    documented = load(api, name)["response"]
    body = response.json()
    assert body["status"] == 1
    if documented is not None:
        assert_shape(body, documented["body"])


def test_manual_order_example_runs_verbatim(fresh: RunningSandbox) -> None:
    fixture = load("leeloo_v2", "orders_update_manual")
    with httpx.Client(base_url=fresh.url, headers={"X-Leeloo-AuthToken": fresh.credentials.leeloo_token},
                      timeout=TIMEOUT) as client:
        response = send(client, fixture["request"])
        assert response.status_code == 200, response.text
        assert_shape(response.json(), fixture["response"]["body"])
        assert response.json()["data"]["id"] == PLACEHOLDER
        order = client.get(f"/api/v2/orders/{PLACEHOLDER}").json()["data"]
    assert order["status"] == "RESOLVED" and order["currency"] == "RUB" and order["price"] == 100


@pytest.mark.parametrize(("api", "name"), LEELOO)
@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_every_endpoint_refuses_a_missing_or_wrong_token(live: RunningSandbox, api: str, name: str,
                                                        token: str | None) -> None:
    headers = {"X-Leeloo-AuthToken": token} if token else {}
    with httpx.Client(base_url=live.url, headers=headers, timeout=TIMEOUT) as client:
        response = send(client, load(api, name)["request"])
    assert response.status_code == 401
    body = response.json()
    assert body["status"] == 0 and body["code"] == 401 and body["message"]
    assert "not-a-token" not in response.text


WITH_PATH_ID = [(api, name) for api, name in LEELOO if OID.search(load(api, name)["request"]["path"])]


@pytest.mark.parametrize(("api", "name"), WITH_PATH_ID)
@pytest.mark.parametrize("unknown", [UNKNOWN, "nothex", "5b3f543bb2737000133d25b0ff"])
def test_unknown_path_id_is_404(leeloo: httpx.Client, api: str, name: str, unknown: str) -> None:
    request = load(api, name)["request"]
    request["path"] = OID.sub(unknown, request["path"])
    response = send(leeloo, request)
    assert response.status_code == 404, response.text
    assert response.json()["status"] == 0


# Ids a write's body refers to: each must exist in the caller's company (404 naming the field).
BODY_REFERENCES = [
    ("messages_send_message", "account_id"),
    ("messages_send_template", "account_id"),
    ("messages_send_template", "template_id"),
    ("communication_channels_manual_subscribe", "tunnel_id"),
    ("communication_channels_manual_subscribe", "tunnel_block_id"),
    ("orders_create", "personId"),
    ("orders_create", "offerId"),
    ("orders_create", "paymentCreditsId"),
    ("orders_create", "managerId"),
    ("people_create", "leadgentool_id"),
    ("people_create", "connected_users_ids"),
    ("people_sms", "connection_id"),
    ("people_sms", "leadgentool_id"),
    ("people_sms", "tags"),
    ("people_add_tag", "tag_id"),
    ("people_remove_tag", "tag_id"),
    ("calls_create", "user_id"),
    ("calls_create", "account_id"),
]


@pytest.mark.parametrize(("name", "field"), BODY_REFERENCES)
def test_unknown_id_in_body_is_404_naming_the_field(live: RunningSandbox, leeloo: httpx.Client, name: str,
                                                    field: str) -> None:
    request = load("leeloo_v2", name)["request"]
    body = request["body"]
    body[field] = [UNKNOWN] if isinstance(body[field], list) else UNKNOWN
    before = leeloo_counts(live.sandbox)
    response = send(leeloo, request)
    assert response.status_code == 404, response.text
    assert field in response.json()["errors"]
    assert leeloo_counts(live.sandbox) == before


# One invalid request per endpoint that takes input: (fixture, change, status, field named).
def _query(**params: str) -> dict[str, Any]:
    return {"query": list(params.items())}


INVALID: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("leeloo_v2", "messages_send_template", {"body": {"account_id": PLACEHOLDER, "template_id": PLACEHOLDER,
                                                      "variables": ["a"]}}, 422, "variables"),
    ("leeloo_v2", "messages_send_message", {"body": {"account_id": PLACEHOLDER}}, 422, "text"),
    ("leeloo_v2", "messages_send_message", {"body": {"account_id": "42", "text": "hi"}}, 422, "account_id"),
    ("leeloo_v2", "messages_send_message", {"body": {"account_id": PLACEHOLDER, "text": "hi", "txt": "x"}}, 422,
     "txt"),
    ("leeloo_v2", "communication_channels_list", _query(**{"filter[last_message][from]": "yesterday"}), 422,
     "filter[last_message][from]"),
    ("leeloo_v2", "communication_channels_list", _query(limit="-1"), 422, "limit"),
    ("leeloo_v2", "chat_messages_list", _query(limit="abc"), 422, "limit"),
    ("leeloo_v2", "communication_channel_person", _query(include="friends"), 422, "include"),
    ("leeloo_v2", "communication_channels_manual_subscribe", {"body": {"tunnel_id": PLACEHOLDER}}, 422,
     "tunnel_block_id"),
    ("leeloo_v2", "leadgentools_create_traffic_source", {"body": {"name": " "}}, 422, "name"),
    ("leeloo_v2", "orders_create", {"body": {**load("leeloo_v2", "orders_create")["request"]["body"],
                                             "transactionDate": "04.02.2020"}}, 422, "transactionDate"),
    ("leeloo_v2", "orders_create", {"body": {**load("leeloo_v2", "orders_create")["request"]["body"],
                                             "isNotifyAccount": "maybe"}}, 422, "isNotifyAccount"),
    ("leeloo_v2", "orders_list", _query(offset="-5"), 422, "offset"),
    ("leeloo_v2", "orders_update_manual", {"body": {"status": "DONE"}}, 422, "status"),
    ("leeloo_v2", "orders_update_manual", {"body": {"status": "RESOLVED", "price": "a lot"}}, 422, "price"),
    ("leeloo_v2", "orders_update_manual", {"body": {"status": "RESOLVED", "paymentDate": "someday"}}, 422,
     "paymentDate"),
    ("leeloo_v2", "people_list", _query(**{"filter[last_message][to]": "2020-13-45"}), 422,
     "filter[last_message][to]"),
    ("leeloo_v2", "people_get", _query(include="contactedUsers,friends"), 422, "include"),
    ("leeloo_v2", "people_update", {"body": {"email": "not-an-email"}}, 422, "email"),
    ("leeloo_v2", "people_update", {"body": {"custom_fields": [{"type": "COLOR", "name": "c", "value": "red"}]}},
     422, "custom_fields.0.type"),
    ("leeloo_v2", "people_create", {"body": {"email": "a@b.cd", "leadgentool_id": "609290d3e060416cdea6823e"}},
     422, "name"),
    ("leeloo_v2", "people_sms", {"body": {"data": [{"name": "x"}], "connection_id": "5dbfe6c5fb73e101720b3dc7",
                                          "leadgentool_id": "5e1f119d6c384804b31e945e"}}, 422, "data.0.phone"),
    ("leeloo_v2", "people_add_comment", {"body": {}}, 422, "comment"),
    ("leeloo_v2", "people_add_tag", {"body": {"tag_id": "vip"}}, 422, "tag_id"),
    ("leeloo_v2", "people_remove_tag", {"body": {}}, 422, "tag_id"),
    ("leeloo_v2", "calls_create", {"body": {**load("leeloo_v2", "calls_create")["request"]["body"],
                                            "status": "DONE"}}, 422, "status"),
    ("leeloo_v2", "calls_create", {"body": {**load("leeloo_v2", "calls_create")["request"]["body"],
                                            "duration": "long"}}, 422, "duration"),
    ("leeloo_v2", "tunnels_list", _query(limit="1000000000"), 422, "limit"),
    ("leeloo_v2", "tunnels_get", _query(include="offers"), 422, "include"),
    ("leeloo_v2", "users_list", _query(limit="x"), 422, "limit"),
    ("leeloo_v1", "accounts_list", _query(offset="x"), 422, "offset"),
    ("leeloo_v1", "accounts_get", _query(include="payments"), 422, "include"),
    ("leeloo_v1", "accounts_chat_messages", _query(limit="1.5"), 422, "limit"),
]


@pytest.mark.parametrize(("api", "name", "change", "status", "field"), INVALID,
                         ids=[f"{name}-{field}" for _, name, _, _, field in INVALID])
def test_invalid_input_is_refused_naming_the_field(live: RunningSandbox, leeloo: httpx.Client, api: str, name: str,
                                                   change: dict[str, Any], status: int, field: str) -> None:
    request = {**load(api, name)["request"], **change}
    before = leeloo_counts(live.sandbox)
    response = send(leeloo, request)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == 0 and field in body["errors"], body
    assert leeloo_counts(live.sandbox) == before


WRITES = [(api, name) for api, name in LEELOO if load(api, name)["request"]["method"] != "GET"]


@pytest.mark.parametrize(("api", "name"), WRITES)
@pytest.mark.parametrize("payload", [b"{not json", b"[1, 2]"])
def test_malformed_json_body_is_400_or_422(leeloo: httpx.Client, api: str, name: str, payload: bytes) -> None:
    request = load(api, name)["request"]
    response = leeloo.request(request["method"], request["path"], content=payload,
                              headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 422)
    assert "body" in response.json()["errors"]


@pytest.mark.parametrize(("api", "name"), [pair for pair in WRITES if pair not in ONE_SHOT])
def test_json_and_form_bodies_are_both_accepted(leeloo: httpx.Client, api: str, name: str) -> None:
    """The documents mix JSON and form-data: every write takes the other form as well (the manual
    order update, a one-shot, is sent as JSON in test_leeloo_orders)."""
    request = load(api, name)["request"]
    body = request["body"]
    if request["content_type"] == "json":
        form: dict[str, Any] = {}
        for key, value in body.items():
            if isinstance(value, dict):
                form.update({f"{key}[{k}]": v for k, v in value.items()})
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, dict):
                        form.update({f"{key}[{index}][{k}]": v for k, v in item.items()})
                    else:
                        form[f"{key}[{index}]"] = item
            else:
                form[key] = value
        response = leeloo.request(request["method"], request["path"], data=form)
    else:
        response = leeloo.request(request["method"], request["path"], json=body)
    assert response.status_code == 200, response.text


# --- tenant isolation -----------------------------------------------------------------------

def _demo_snapshot(client: httpx.Client) -> list[Any]:
    """What the demo tenant's example objects look like, to prove another tenant changed nothing."""
    paths = [
        f"/api/v2/people/{PLACEHOLDER}?include=contactedUsers,orders",
        f"/api/v2/orders/{PLACEHOLDER}",
        f"/api/v2/communication-channels/{PLACEHOLDER}/chat-messages?limit=5",
        f"/api/v2/tunnels/{PLACEHOLDER}/stats",
        f"/api/v2/tunnels/{PLACEHOLDER}?include=leadgentools,blocks",
        "/api/v1/accounts/59bbc641b1223300210cdf2f?include=contactedUsers,orders",
    ]
    return [client.get(path).json() for path in paths]


WITH_IDS = [
    (api, name) for api, name in LEELOO
    if OID.search(load(api, name)["request"]["path"]) or load(api, name)["request"]["method"] != "GET"
]


@pytest.mark.parametrize(("api", "name"), WITH_IDS)
def test_another_tenant_gets_404_for_demo_ids_and_writes_nothing(
    live: RunningSandbox, leeloo: httpx.Client, other_leeloo: httpx.Client, api: str, name: str
) -> None:
    other_company = "6a0f63e3d244d2000e270001"
    before = (_demo_snapshot(leeloo), leeloo_counts(live.sandbox), leeloo_counts(live.sandbox, other_company))
    response = send(other_leeloo, load(api, name)["request"])
    assert response.status_code == 404, response.text
    after = (_demo_snapshot(leeloo), leeloo_counts(live.sandbox), leeloo_counts(live.sandbox, other_company))
    assert after == before


@pytest.mark.parametrize("path", ["/api/v2/tags", "/api/v2/users", "/api/v2/tunnels", "/api/v2/orders",
                                  "/api/v2/people", "/api/v2/communication-channels", "/api/v1/accounts",
                                  "/api/v2/categories/templates", "/api/v2/connections"])
def test_lists_never_show_another_tenants_records(leeloo: httpx.Client, other_leeloo: httpx.Client,
                                                  path: str) -> None:
    def ids(client: httpx.Client) -> set[str]:
        return set(OID.findall(client.get(path, params={"limit": 100}).text))

    mine, theirs = ids(leeloo), ids(other_leeloo)
    assert mine and theirs
    assert not mine & theirs
