"""Leeloo API v1 and v2 over HTTP: parse the documented request forms, answer in envelopes.

One module per group of resources; :data:`router` mounts them all.
"""

from __future__ import annotations

from fastapi import APIRouter

from leadbridge.sandbox.leeloo.routes import messaging, people, platform, sales, v1

# In the order FastAPI matches them: the first route whose method and path match serves a request.
ROUTERS = tuple(module.router for module in (messaging, people, sales, platform, v1))
router = APIRouter()
for module_router in ROUTERS:
    router.include_router(module_router)

__all__ = ["ROUTERS", "router"]
