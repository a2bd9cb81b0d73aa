"""Leeloo's state: queries and changes on the tables, returning the documented shapes.

Kept apart from the HTTP layer (routes/), as moto keeps a fake service's backend apart
from its responses: a :class:`LeelooBackend` is bound to the sandbox (engine, clock,
caches) and knows nothing of requests. Each of its methods is one request's work: a read
on a session of its own, or one short transaction through ``core.Backend._write``, the
single write path. One module per group of routes (people, messaging, sales, platform,
v1), over ``core``; reads select columns (no ORM objects) and fetch related rows in one
query per relation, never one per record.
"""

from __future__ import annotations

from leadbridge.sandbox.leeloo.backend.messaging import MessagingBackend
from leadbridge.sandbox.leeloo.backend.people import PeopleBackend
from leadbridge.sandbox.leeloo.backend.platform import PlatformBackend
from leadbridge.sandbox.leeloo.backend.sales import SalesBackend
from leadbridge.sandbox.leeloo.backend.v1 import V1Backend


class LeelooBackend(PeopleBackend, MessagingBackend, SalesBackend, PlatformBackend, V1Backend):
    """Every Leeloo call's state, bound to one sandbox (``app.state.leeloo``)."""
