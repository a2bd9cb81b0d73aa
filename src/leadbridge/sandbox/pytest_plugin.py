"""pytest plugin: a ``leadbridge_sandbox`` fixture for users' own test suites.

Registered through the ``pytest11`` entry point. Imports of the sandbox happen inside
the fixture, so installing leadbridge without the ``sandbox`` extra does not break pytest.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from leadbridge.sandbox.server import RunningSandbox


@pytest.fixture
def leadbridge_sandbox() -> Iterator[RunningSandbox]:
    """A fresh seeded sandbox (in memory, 200 people) served on a free loopback port.

    Yields a :class:`~leadbridge.sandbox.server.RunningSandbox` with ``url`` and
    ``credentials`` (the demo tenant's Leeloo token, Neiros and Dialog logins).
    """
    from leadbridge.sandbox.server import serve_in_thread
    from leadbridge.sandbox.state import MEMORY_URL, Sandbox

    with serve_in_thread(Sandbox(MEMORY_URL, seed=1, people=200)) as running:
        yield running
