"""Leeloo API v1 and v2 over HTTP: parse the documented request forms, answer in envelopes.

One module per group of resources, each with a router; :data:`ROUTERS` lists them in the order
the app takes their routes.
"""

from __future__ import annotations

from leadbridge.sandbox.leeloo.routes import messaging, people, platform, sales, v1

# In the order FastAPI matches them: the first route whose method and path match serves a request.
ROUTERS = tuple(module.router for module in (messaging, people, sales, platform, v1))

__all__ = ["ROUTERS"]
