"""Leeloo API v1: accounts with their person's tags, one account with side-loads, chat history."""

from __future__ import annotations

import httpx
from leeloo_support import create_person, every_record

KURT = "59bbc641b1223300210cdf2f"
ROBERT = "58be00d668aaeaded60aa186"


def test_accounts_filter_by_any_tag_comma_separated_or_repeated(leeloo: httpx.Client) -> None:
    def ids(params: list[tuple[str, str]]) -> set[str]:  # every page: the demo data has more than one
        return {account["id"] for account in every_record(leeloo, "/api/v1/accounts", params)}

    comma = ids([("filter[tags]", "tag3,tag2")])
    assert {KURT, "5899afd15c97121f006c8b48"} <= comma
    assert comma == ids([("filter[tags]", "tag3"), ("filter[tags]", "tag2")])
    assert comma == ids([("filter[tags]", "tag3")]) | ids([("filter[tags]", "tag2")])
    for account in every_record(leeloo, "/api/v1/accounts", [("filter[tags]", "tag3,tag2")]):
        assert {"tag2", "tag3"} & set(account["tags"])


def test_account_side_loads_users_and_orders(leeloo: httpx.Client) -> None:
    plain = leeloo.get(f"/api/v1/accounts/{KURT}").json()
    assert plain["included"] == {}
    full = leeloo.get(f"/api/v1/accounts/{KURT}", params={"include": "contactedUsers,orders"}).json()
    data = full["data"]
    assert (data["name"], data["from"], data["gender"], data["locale"]) == ("Kurt Bowie", "FACEBOOK", "FEMALE",
                                                                           "en_US")
    assert data["links"]["contactedUsers"] == [{"type": "users", "id": ROBERT}]
    assert [u["name"] for u in full["included"]["users"]] == ["Robert"]
    assert len(full["included"]["orders"]) == len(data["links"]["orders"]) == 3
    assert {o["paymentMethod"] for o in full["included"]["orders"]} == {"ASSET_PAYMENT", "YANDEX_MONEY"}
    assert data["subscribeHistory"] and set(data["subscribeHistory"][0]) == {"tunnelName", "leadgentoolName",
                                                                            "trafficSource"}


def test_chat_links_manual_messages_to_their_author(leeloo: httpx.Client) -> None:
    chat = leeloo.get(f"/api/v1/accounts/{KURT}/chat-messages", params={"limit": 3}).json()
    assert chat["meta"]["limit"] == 3 and chat["meta"]["filteredCount"] == len(chat["data"]) == 3
    texts = {m["text"]: m for m in chat["data"]}
    assert texts["Pre last message"]["links"] == {"createdBy": {"type": "users", "id": ROBERT}}
    assert "links" not in texts["Last message"]


def test_v1_sees_v2_writes(leeloo: httpx.Client) -> None:
    created = create_person(leeloo)
    leeloo.post("/api/v2/messages/send-message", json={"account_id": created["id"], "text": "из v2"})
    chat = leeloo.get(f"/api/v1/accounts/{created['id']}/chat-messages").json()["data"]
    assert chat[0]["text"] == "из v2" and chat[0]["links"]["createdBy"]["type"] == "users"
    account = leeloo.get(f"/api/v1/accounts/{created['id']}").json()["data"]
    assert account["from"] == "MANUAL"
