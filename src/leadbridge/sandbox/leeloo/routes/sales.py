"""Leeloo v2 orders, leadgentool traffic sources and tunnels (with their computed stats)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from leadbridge.sandbox.leeloo import bodies
from leadbridge.sandbox.leeloo.backend import LeelooBackend
from leadbridge.sandbox.leeloo.routes import api
from leadbridge.sandbox.tunnel_stats import USD_RATES
from leadbridge.sandbox.wire import parse_body

router = api.new_router()
RATES = ", ".join(f"1 {code} = {rate} USD" for code, rate in USD_RATES.items())
STATS_DESCRIPTION = (
    "Computed from the data: subscribers / uniqSubscribers from subscriptions (entries / people), orders from "
    "orders, sales / uniqSales from paid orders (RESOLVED manual orders and SUCCESS payments), totalSale their sum "
    f"in USD at fixed rates ({RATES}); visits, shows and totalExpenses are the traffic sources' counters."
)


@api.route(router, "leadgentools_create_traffic_source",
           summary="Create a traffic source in a leadgentool",
           openapi_extra=api.body(bodies.CreateTrafficSource, "create_traffic_source"))
async def create_traffic_source(request: Request, company: api.Company, leadgentool_id: str) -> dict[str, Any]:
    body = await parse_body(request, bodies.CreateTrafficSource)
    return api.ok(api.backend(request).create_traffic_source(company, leadgentool_id, body))


@api.route(router, "orders_create", summary="Create a manual order (OPENED) for a person from an offer",
           openapi_extra=api.body(bodies.CreateOrder, "create_order"))
async def create_order(request: Request, company: api.Company) -> dict[str, Any]:
    return api.ok(api.backend(request).create_order(company, await parse_body(request, bodies.CreateOrder)))


api.list_route(router, "orders_list", LeelooBackend.list_orders, summary="Orders, newest first")
api.get_route(router, "orders_get", LeelooBackend.get_order, summary="One order (with its paymentMethod)")


@api.route(router, "orders_update_manual", summary="Resolve or reject a manual order",
           description="Only an OPENED order with paymentMethod MANUAL can change (409 otherwise).",
           openapi_extra=api.body(bodies.UpdateManualOrder, "update_order"))
async def update_order(request: Request, company: api.Company, order_id: str) -> dict[str, Any]:
    body = await parse_body(request, bodies.UpdateManualOrder)
    api.backend(request).update_manual_order(company, order_id, body)
    return api.ok({"id": order_id})


api.list_route(router, "tunnels_list", LeelooBackend.list_tunnels, summary="Tunnels")


@api.route(router, "tunnels_stats", summary="Stats of all tunnels together", description=STATS_DESCRIPTION)
async def all_tunnel_stats(request: Request, company: api.Company) -> dict[str, Any]:
    return api.ok([api.backend(request).tunnel_stats(company, None)])


@api.route(router, "tunnels_get", summary="A tunnel (include=leadgentools; blocks: sandbox extension)",
           description="`include=leadgentools` side-loads the tunnel's leadgentools under `linked`. "
                       "Extension, not in Leeloo's document: `include=blocks` side-loads the tunnel's blocks "
                       "(id, name, text), since no documented call lists the block ids that "
                       "manual-subscribe needs.")
async def get_tunnel(request: Request, company: api.Company, tunnel_id: str,
                     include: api.Include = None) -> dict[str, Any]:
    data, linked = api.backend(request).tunnel_view(company, tunnel_id, api.tunnel_includes(include))
    return api.ok(data, linked=linked)


@api.route(router, "tunnels_get_stats", summary="Stats of one tunnel", description=STATS_DESCRIPTION)
async def tunnel_stats(request: Request, company: api.Company, tunnel_id: str) -> dict[str, Any]:
    return api.ok([api.backend(request).tunnel_stats(company, tunnel_id)])
