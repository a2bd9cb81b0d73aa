"""Leeloo v2 tunnels, their leadgentools and blocks, stats computed from the data, traffic sources."""

from __future__ import annotations

from typing import Any

import httpx
from leeloo_support import PLACEHOLDER, row_count
from sqlalchemy import func, select

from leadbridge.sandbox import schema
from leadbridge.sandbox.server import RunningSandbox

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
