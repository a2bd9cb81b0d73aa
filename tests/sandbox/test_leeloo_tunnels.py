"""Leeloo v2 tunnels, their leadgentools and blocks, stats computed from the data, traffic sources."""

from __future__ import annotations

from typing import Any

import httpx
from leeloo_support import DEMO_COMPANY, PLACEHOLDER, create_person, row_count, unique_phone
from sqlalchemy import case, distinct, func, select

from leadbridge.sandbox import schema
from leadbridge.sandbox.server import RunningSandbox
from leadbridge.sandbox.tunnel_stats import USD_RATES

COUNTERS = ("subscribers", "orders", "sales", "visits", "uniqVisits", "shows", "uniqShows", "totalExpenses")


def test_tunnel_side_loads_leadgentools_and_blocks(leeloo: httpx.Client) -> None:
    plain = leeloo.get(f"/api/v2/tunnels/{PLACEHOLDER}").json()
    assert plain["linked"] == {} and plain["data"]["links"]["leadgentools"]
    both = leeloo.get(f"/api/v2/tunnels/{PLACEHOLDER}", params={"include": "leadgentools,blocks"}).json()
    linked_ids = [lgt["id"] for lgt in both["linked"]["leadgentools"]]
    assert linked_ids == [link["id"] for link in both["data"]["links"]["leadgentools"]]
    assert PLACEHOLDER in linked_ids and "609290d3e060416cdea6823e" in linked_ids
    assert {b["id"] for b in both["linked"]["blocks"]} >= {PLACEHOLDER}
    assert all(lgt["type"] in {"LINK", "QR", "WIDGET", "POPUP", "FORM", "FB_AD", "DEFAULT"}
               for lgt in both["linked"]["leadgentools"])


def test_tunnel_list_pages(leeloo: httpx.Client) -> None:
    everything = leeloo.get("/api/v2/tunnels").json()
    assert everything["meta"]["totalCount"] == len(everything["data"]) >= 2
    second = leeloo.get("/api/v2/tunnels", params={"limit": 1, "offset": 1}).json()
    assert second["data"] == everything["data"][1:2] and second["meta"]["filteredCount"] == 1


def test_stats_are_computed_from_the_data(leeloo: httpx.Client, live: RunningSandbox) -> None:
    stats = leeloo.get(f"/api/v2/tunnels/{PLACEHOLDER}/stats").json()["data"][0]
    with live.sandbox.read() as session:
        subscriptions = session.execute(
            select(func.count(), func.count(func.distinct(schema.Subscription.person_id)))
            .where(schema.Subscription.tunnel_id == PLACEHOLDER)).one()
        visits = session.scalar(select(func.sum(schema.TrafficSource.visits))
                                .where(schema.TrafficSource.tunnel_id == PLACEHOLDER))
    assert (stats["subscribers"], stats["uniqSubscribers"]) == tuple(subscriptions)
    assert stats["visits"] == visits
    assert stats["orders"] == row_count(live.sandbox, schema.Order, schema.Order.tunnel_id == PLACEHOLDER)
    assert stats["sales"] == row_count(live.sandbox, schema.Order, schema.Order.tunnel_id == PLACEHOLDER,
                                       schema.Order.status.in_(("RESOLVED", "SUCCESS")))


def test_all_tunnels_stats_add_up_the_tunnels(leeloo: httpx.Client) -> None:
    total = leeloo.get("/api/v2/tunnels/stats").json()["data"]
    assert len(total) == 1
    tunnels = leeloo.get("/api/v2/tunnels", params={"limit": 1000}).json()["data"]
    per_tunnel: list[dict[str, Any]] = [leeloo.get(f"/api/v2/tunnels/{t['id']}/stats").json()["data"][0]
                                        for t in tunnels]
    for key in COUNTERS:
        assert total[0][key] == sum(s[key] for s in per_tunnel), key


def test_traffic_source_is_created_under_the_leadgentools_tunnel(leeloo: httpx.Client, live: RunningSandbox) -> None:
    lgt = "609290d3e060416cdea6823e"
    before = leeloo.get(f"/api/v2/tunnels/{PLACEHOLDER}/stats").json()["data"][0]
    response = leeloo.post(f"/api/v2/leadgentools/{lgt}/create-traffic-source", data={"name": "VK ads"})
    source = response.json()["data"]
    assert (source["leadgentool_id"], source["tunnel_id"], source["name"]) == (lgt, PLACEHOLDER, "VK ads")
    assert source["description"] is None and source["type"] == "normal" and len(source["hash"]) == 6
    with live.sandbox.read() as session:
        stored = session.execute(select(schema.TrafficSource.tunnel_id, schema.TrafficSource.name)
                                 .where(schema.TrafficSource.id == source["id"])).one()
    assert tuple(stored) == (PLACEHOLDER, "VK ads")
    # a new source has no traffic yet: the counters stay as they were
    after = leeloo.get(f"/api/v2/tunnels/{PLACEHOLDER}/stats").json()["data"][0]
    assert after["visits"] == before["visits"]


OFFER = "5e3c357bf04b1f000c27b83a"
MANUAL_CREDITS = "5e3c3533f04b1f000c27b534"
SMS_CONNECTION = "5dbfe6c5fb73e101720b3dc7"
SMS_LEADGENTOOL = "5e1f119d6c384804b31e945e"


def recount(live: RunningSandbox, tunnel_id: str | None) -> dict[str, Any]:
    """The figures added up from every row of the company (what the stats were before they were kept)."""
    subscription, order, source = schema.Subscription, schema.Order, schema.TrafficSource

    def scoped(model: Any) -> list[Any]:
        return [model.company_id == DEMO_COMPANY] + ([model.tunnel_id == tunnel_id] if tunnel_id else [])

    usd = order.price * case(USD_RATES, value=order.currency, else_=1.0)
    with live.sandbox.read() as session:
        subscribers, uniq_subscribers = session.execute(
            select(func.count(), func.count(distinct(subscription.person_id))).where(*scoped(subscription))).one()
        sales, uniq_sales, total_sale = session.execute(
            select(func.count(), func.count(distinct(order.person_id)), func.coalesce(func.sum(usd), 0))
            .where(*scoped(order), order.status.in_(("RESOLVED", "SUCCESS")))).one()
        traffic = session.execute(select(*(func.coalesce(func.sum(column), 0) for column in (
            source.visits, source.uniq_visits, source.shows, source.uniq_shows, source.expenses)))
            .where(*scoped(source))).one()
    return {"subscribers": subscribers, "uniqSubscribers": uniq_subscribers,
            "orders": row_count(live.sandbox, order, *scoped(order)), "sales": sales, "uniqSales": uniq_sales,
            "visits": traffic[0], "uniqVisits": traffic[1], "shows": traffic[2], "uniqShows": traffic[3],
            "totalSale": round(float(total_sale), 2), "totalExpenses": round(float(traffic[4]), 2)}


def test_kept_stats_equal_a_full_recount_after_a_mix_of_writes(leeloo: httpx.Client, live: RunningSandbox) -> None:
    tunnels = [t["id"] for t in leeloo.get("/api/v2/tunnels", params={"limit": 100}).json()["data"]]
    other = next(t for t in tunnels if t != PLACEHOLDER)
    block = leeloo.get(f"/api/v2/tunnels/{other}", params={"include": "blocks"}).json()["linked"]["blocks"][0]["id"]
    first, second = create_person(leeloo), create_person(leeloo)  # subscribed to the placeholder tunnel
    # SMS accounts: a new person's (whose number comes twice) and one of a person added above
    fresh = unique_phone()
    sms = leeloo.post("/api/v2/people/sms", json={
        "connection_id": SMS_CONNECTION, "leadgentool_id": SMS_LEADGENTOOL,
        "data": [{"phone": fresh}, {"phone": fresh}, {"phone": first["phone"]}]})
    assert sms.status_code == 200, sms.text
    for account in (first["id"], first["id"], second["id"]):  # a second subscription of one person to a tunnel
        subscribed = leeloo.post(f"/api/v2/communication-channels/{account}/manual-subscribe",
                                 json={"tunnel_id": other, "tunnel_block_id": block})
        assert subscribed.status_code == 200, subscribed.text
    refused = leeloo.post(f"/api/v2/communication-channels/{first['id']}/manual-subscribe",
                          json={"tunnel_id": PLACEHOLDER, "tunnel_block_id": block})  # a block of another tunnel
    assert refused.status_code == 404

    def order(person: dict[str, Any]) -> str:
        made = leeloo.post("/api/v2/orders", json={"personId": person["person_id"], "offerId": OFFER,
                                                   "paymentCreditsId": MANUAL_CREDITS})
        assert made.status_code == 200, made.text
        order_id: str = made.json()["data"]["id"]
        return order_id

    paid_in_euros, paid_again, rejected, opened = order(first), order(first), order(second), order(second)
    for order_id, change in [(paid_in_euros, {"status": "RESOLVED", "price": 12.5, "currency": "EUR"}),
                             (paid_again, {"status": "RESOLVED"}), (rejected, {"status": "REJECTED"})]:
        assert leeloo.post(f"/api/v2/orders/{order_id}", json=change).status_code == 200
    assert leeloo.post(f"/api/v2/orders/{paid_again}", json={"status": "RESOLVED"}).status_code == 409
    assert opened

    for tunnel_id in [None, *tunnels]:
        path = "/api/v2/tunnels/stats" if tunnel_id is None else f"/api/v2/tunnels/{tunnel_id}/stats"
        kept = leeloo.get(path).json()["data"][0]
        assert kept == recount(live, tunnel_id), tunnel_id
