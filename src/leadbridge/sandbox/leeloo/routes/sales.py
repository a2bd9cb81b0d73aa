"""Leeloo v2 orders, leadgentool traffic sources and tunnels (with their computed stats)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from leadbridge.contract.leeloo import DEFAULT_LIMIT
from leadbridge.sandbox.common import body_doc
from leadbridge.sandbox.leeloo import backend, bodies
from leadbridge.sandbox.leeloo.routes._shared import (
    Company,
    Include,
    Limit,
    Offset,
    new_router,
    ok,
    page,
    parse_include,
    sandbox_of,
    write,
)

router = new_router()
RATES = ", ".join(f"1 {code} = {rate} USD" for code, rate in backend.USD_RATES.items())
STATS_DESCRIPTION = (
    "Computed from the data: subscribers / uniqSubscribers from subscriptions (entries / people), orders from "
    "orders, sales / uniqSales from paid orders (RESOLVED manual orders and SUCCESS payments), totalSale their sum "
    f"in USD at fixed rates ({RATES}); visits, shows and totalExpenses are the traffic sources' counters."
)


@router.post("/api/v2/leadgentools/{leadgentool_id}/create-traffic-source",
             summary="Create a traffic source in a leadgentool",
             openapi_extra=body_doc(bodies.CreateTrafficSource, form=True,
                                    example=bodies.EXAMPLES["create_traffic_source"]))
async def create_traffic_source(request: Request, company: Company, leadgentool_id: str) -> dict[str, Any]:
    return ok(await write(
        request, company, bodies.CreateTrafficSource,
        lambda sb, session, body: backend.create_traffic_source(
            session, company, leadgentool_id, body, backend.api_user(sb, session, company), sb.now()),
    ))


@router.post("/api/v2/orders", summary="Create a manual order (OPENED) for a person from an offer",
             openapi_extra=body_doc(bodies.CreateOrder, form=True, example=bodies.EXAMPLES["create_order"]))
async def create_order(request: Request, company: Company) -> dict[str, Any]:
    return ok(await write(request, company, bodies.CreateOrder,
                          lambda sb, session, body: backend.create_order(session, company, body, sb.now())))


@router.get("/api/v2/orders", summary="Orders, newest first")
async def list_orders(request: Request, company: Company, limit: Limit = DEFAULT_LIMIT,
                      offset: Offset = 0) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    with sandbox.read() as session:
        items, total = backend.list_orders(sandbox, session, company, limit, offset)
    return page(items, limit, offset, total)


@router.get("/api/v2/orders/{order_id}", summary="One order (with its paymentMethod)")
async def get_order(request: Request, company: Company, order_id: str) -> dict[str, Any]:
    with sandbox_of(request).read() as session:
        return ok(backend.get_order(session, company, order_id))


@router.post("/api/v2/orders/{order_id}", summary="Resolve or reject a manual order",
             description="Only an OPENED order with paymentMethod MANUAL can change (409 otherwise).",
             openapi_extra=body_doc(bodies.UpdateManualOrder, form=True, example=bodies.EXAMPLES["update_order"]))
async def update_order(request: Request, company: Company, order_id: str) -> dict[str, Any]:
    await write(request, company, bodies.UpdateManualOrder,
                lambda sb, session, body: backend.update_manual_order(session, company, order_id, body, sb.now()))
    return ok({"id": order_id})


@router.get("/api/v2/tunnels", summary="Tunnels")
async def list_tunnels(request: Request, company: Company, limit: Limit = DEFAULT_LIMIT,
                       offset: Offset = 0) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    with sandbox.read() as session:
        items, total = backend.list_tunnels(sandbox, session, company, limit, offset)
    return page(items, limit, offset, total)


@router.get("/api/v2/tunnels/stats", summary="Stats of all tunnels together", description=STATS_DESCRIPTION)
async def all_tunnel_stats(request: Request, company: Company) -> dict[str, Any]:
    with sandbox_of(request).read() as session:
        return ok([backend.tunnel_stats(session, company, None)])


@router.get("/api/v2/tunnels/{tunnel_id}", summary="A tunnel (include=leadgentools; blocks: sandbox extension)",
            description="`include=leadgentools` side-loads the tunnel's leadgentools under `linked`. "
                        "Extension, not in Leeloo's document: `include=blocks` side-loads the tunnel's blocks "
                        "(id, name, text), since no documented call lists the block ids that "
                        "manual-subscribe needs.")
async def get_tunnel(request: Request, company: Company, tunnel_id: str, include: Include = None) -> dict[str, Any]:
    wanted = parse_include(include, backend.TUNNEL_INCLUDES)
    with sandbox_of(request).read() as session:
        data, linked = backend.tunnel_view(session, company, tunnel_id, wanted)
    return ok(data, linked=linked)


@router.get("/api/v2/tunnels/{tunnel_id}/stats", summary="Stats of one tunnel", description=STATS_DESCRIPTION)
async def tunnel_stats(request: Request, company: Company, tunnel_id: str) -> dict[str, Any]:
    with sandbox_of(request).read() as session:
        return ok([backend.tunnel_stats(session, company, tunnel_id)])
