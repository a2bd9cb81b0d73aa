"""Leeloo API v1 and v2 over HTTP: parse the documented request forms, answer in envelopes.

One module per group of resources; :data:`router` mounts them all.
"""

from __future__ import annotations

from fastapi import APIRouter

from leadbridge.sandbox.leeloo.routes import messaging, people, platform, sales, v1

router = APIRouter()
for module in (messaging, people, sales, platform, v1):
    router.include_router(module.router)

__all__ = ["router"]
