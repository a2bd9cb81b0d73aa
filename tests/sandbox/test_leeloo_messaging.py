"""Leeloo v2 messaging: templates, send-message/-template, communication channels and chat history."""

from __future__ import annotations

from typing import Any

import httpx
from leeloo_support import PLACEHOLDER, create_person, every_record, unique_email

from leadbridge.sandbox.server import RunningSandbox

TEMPLATE = "5e42be758d4fff000cafe6ef"


def _chat(client: httpx.Client, account_id: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/api/v2/communication-channels/{account_id}/chat-messages", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_templates_of_a_category_are_listed_by_category(leeloo: httpx.Client) -> None:
    categories = leeloo.get("/api/v2/categories/templates").json()["data"]["categories"]
    assert PLACEHOLDER in {c["id"] for c in categories}
    for category in categories:
        templates = leeloo.get(f"/api/v2/categories/templates/{category['id']}").json()["data"]["templates"]
        assert all(set(t) == {"id", "message_name"} for t in templates)
    mine = leeloo.get(f"/api/v2/categories/templates/{PLACEHOLDER}").json()["data"]["templates"]
    assert TEMPLATE in {t["id"] for t in mine}


def test_sent_message_tops_the_chat_and_moves_last_message_times(leeloo: httpx.Client) -> None:
    person = create_person(leeloo, email=unique_email())
    account_id = person["id"]
    # The subscription through the leadgentool is the chat's first message.
    assert [m["type"] for m in _chat(leeloo, account_id)["data"]] == ["SYSTEM_MESSAGE"]

    assert leeloo.post("/api/v2/messages/send-message",
                       json={"account_id": account_id, "text": "Первое"}).json() == {"status": 1, "data": {}}
    response = leeloo.post("/api/v2/messages/send-message", data={"account_id": account_id, "text": "Второе"})
    assert response.status_code == 200

    chat = _chat(leeloo, account_id)
    assert [m["text"] for m in chat["data"]] == ["Второе", "Первое", ""]
    assert chat["meta"] == {"limit": 20, "offset": 0, "filteredCount": 3, "totalCount": 3}
    newest = chat["data"][0]
    assert newest["type"] == "YOUR_MESSAGE" and newest["read"] is True and len(newest["id"]) == 24

    people = leeloo.get("/api/v2/people", params={"filter[email]": person["email"]}).json()["data"]
    assert people[0]["lastMessageTime"] == newest["createdAt"]
    channels = every_record(leeloo, "/api/v2/communication-channels",
                            {"filter[last_message][from]": newest["createdAt"]})
    mine = [c for c in channels if c["id"] == account_id]
    assert mine and mine[0]["lastMessageTime"] == newest["createdAt"] and mine[0]["person_id"] == person["person_id"]


def test_send_template_substitutes_variables(leeloo: httpx.Client) -> None:
    account_id = create_person(leeloo)["id"]
    response = leeloo.post("/api/v2/messages/send-template", json={
        "account_id": account_id, "template_id": TEMPLATE, "variables": {"key1": "Анна", "key2": "SALE20"}})
    assert response.status_code == 200
    assert _chat(leeloo, account_id)["data"][0]["text"] == "Здравствуйте, Анна! Ваш промокод: SALE20"
    # form-data variables; a placeholder without a value stays as written
    leeloo.post("/api/v2/messages/send-template",
                data={"account_id": account_id, "template_id": TEMPLATE, "variables[key1]": "Олег"})
    newest = _chat(leeloo, account_id)["data"][0]
    assert newest["text"] == "Здравствуйте, Олег! Ваш промокод: {key2}" and newest["type"] == "YOUR_MESSAGE"


def test_unknown_template_is_404_and_sends_nothing(leeloo: httpx.Client) -> None:
    account_id = create_person(leeloo)["id"]
    response = leeloo.post("/api/v2/messages/send-template",
                           json={"account_id": account_id, "template_id": "0" * 24})
    assert response.status_code == 404 and "template_id" in response.json()["errors"]
    assert [m["type"] for m in _chat(leeloo, account_id)["data"]] == ["SYSTEM_MESSAGE"]  # the subscription only


def test_chat_pages_newest_first(leeloo: httpx.Client) -> None:
    account_id = create_person(leeloo)["id"]
    for n in range(5):
        leeloo.post("/api/v2/messages/send-message", json={"account_id": account_id, "text": f"m{n}"})
    page = _chat(leeloo, account_id, limit=2, offset=1)
    assert [m["text"] for m in page["data"]] == ["m3", "m2"]
    assert page["meta"] == {"limit": 2, "offset": 1, "filteredCount": 2, "totalCount": 6}  # and the subscription
    stamps = [m["createdAt"] for m in _chat(leeloo, account_id)["data"]]
    assert stamps == sorted(stamps, reverse=True)


def test_channels_filter_by_last_message_window(clocked: RunningSandbox) -> None:
    """On a sandbox of its own: on the shared one, orders made for the document's person move
    its conversation's last message (their system messages) out of the document's window."""
    window = {"filter[last_message][from]": "2020-02-10", "filter[last_message][to]": "2020-04-14", "limit": 100}
    with httpx.Client(base_url=clocked.url, headers={"X-Leeloo-AuthToken": clocked.credentials.leeloo_token},
                      timeout=30) as leeloo:
        body = leeloo.get("/api/v2/communication-channels", params=window).json()
        assert body["data"], "the demo data has a conversation in the document's window"
        for channel in body["data"]:
            assert "2020-02-10" <= channel["lastMessageTime"][:10] <= "2020-04-14"
        assert body["meta"]["totalCount"] == len(body["data"])
        default = leeloo.get("/api/v2/communication-channels").json()["meta"]
        assert (default["limit"], default["offset"]) == (20, 0)


def test_person_of_a_channel_is_the_persons_card(leeloo: httpx.Client) -> None:
    person = create_person(leeloo)
    via_channel = leeloo.get(f"/api/v2/communication-channels/{person['id']}/person",
                             params={"include": "contactedUsers,orders"}).json()
    direct = leeloo.get(f"/api/v2/people/{person['person_id']}", params={"include": "contactedUsers,orders"}).json()
    assert via_channel == direct
    assert via_channel["data"]["id"] == person["person_id"]
    assert leeloo.get(f"/api/v2/communication-channels/{person['id']}/person").json()["included"] == {}


def test_manual_subscribe_records_the_subscription_and_sends_the_block(leeloo: httpx.Client) -> None:
    person = create_person(leeloo)
    tunnel = leeloo.get(f"/api/v2/tunnels/{PLACEHOLDER}", params={"include": "blocks"}).json()
    block = tunnel["linked"]["blocks"][-1]
    stats_before = leeloo.get(f"/api/v2/tunnels/{PLACEHOLDER}/stats").json()["data"][0]
    history_before = leeloo.get(f"/api/v2/people/{person['person_id']}").json()["data"]["subscribeHistory"]

    response = leeloo.post(f"/api/v2/communication-channels/{person['id']}/manual-subscribe",
                           data={"tunnel_id": PLACEHOLDER, "tunnel_block_id": block["id"]})
    assert response.json() == {"status": 1, "data": {}}

    history = leeloo.get(f"/api/v2/people/{person['person_id']}").json()["data"]["subscribeHistory"]
    assert len(history) == len(history_before) + 1
    assert history[-1]["tunnelId"] == PLACEHOLDER and history[-1]["accountId"] == person["id"]
    stats = leeloo.get(f"/api/v2/tunnels/{PLACEHOLDER}/stats").json()["data"][0]
    assert stats["subscribers"] == stats_before["subscribers"] + 1
    newest, before = _chat(leeloo, person["id"])["data"][:2]
    assert (newest["text"], newest["type"]) == (block["text"], "BOT_MESSAGE")
    assert (before["text"], before["type"], before["createdAt"]) == ("", "SYSTEM_MESSAGE", newest["createdAt"])


def test_manual_subscribe_refuses_a_block_of_another_tunnel(leeloo: httpx.Client) -> None:
    tunnels = leeloo.get("/api/v2/tunnels").json()["data"]
    other = next(t for t in tunnels if t["id"] != PLACEHOLDER)
    foreign_block = leeloo.get(f"/api/v2/tunnels/{other['id']}", params={"include": "blocks"}).json()
    block_id = foreign_block["linked"]["blocks"][0]["id"]
    response = leeloo.post(f"/api/v2/communication-channels/{PLACEHOLDER}/manual-subscribe",
                           json={"tunnel_id": PLACEHOLDER, "tunnel_block_id": block_id})
    assert response.status_code == 404 and "tunnel_block_id" in response.json()["errors"]


def test_a_refused_manual_subscribe_names_the_first_reference_missing_and_changes_nothing(
        leeloo: httpx.Client) -> None:
    """The write checks the account by touching it: a refusal after that must leave no trace."""
    account = create_person(leeloo)["id"]
    block = leeloo.get(f"/api/v2/tunnels/{PLACEHOLDER}", params={"include": "blocks"}).json()["linked"]["blocks"][-1]
    missing = "0" * 24
    chat_before = _chat(leeloo, account)
    card_before = leeloo.get(f"/api/v1/accounts/{account}").json()["data"]
    for channel, tunnel, tunnel_block, field in [
        (missing, missing, missing, None),  # the account first: "Communication channel not found"
        (account, missing, block["id"], "tunnel_id"),
        (account, missing, missing, "tunnel_id"),
        (account, PLACEHOLDER, missing, "tunnel_block_id"),
    ]:
        response = leeloo.post(f"/api/v2/communication-channels/{channel}/manual-subscribe",
                               json={"tunnel_id": tunnel, "tunnel_block_id": tunnel_block})
        assert response.status_code == 404, response.text
        named = set(response.json().get("errors", {}))
        assert named == ({field} if field else set()), (field, response.text)
        if field is None:
            assert response.json()["message"] == "Communication channel not found"
    assert _chat(leeloo, account) == chat_before
    assert leeloo.get(f"/api/v1/accounts/{account}").json()["data"]["updatedAt"] == card_before["updatedAt"]
