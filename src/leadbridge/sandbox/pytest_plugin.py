"""pytest plugin: ``leadbridge_sandbox`` and ``leadbridge_control`` fixtures for users' own test suites.

Registered through the ``pytest11`` entry point. Imports of the sandbox happen inside
the fixture, so installing leadbridge without the ``sandbox`` extra does not break pytest.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from leadbridge.sandbox.server import RunningSandbox
    from leadbridge.sdk.sandbox import SandboxControl


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


@pytest.fixture
def leadbridge_control(leadbridge_sandbox: RunningSandbox) -> Iterator[SandboxControl]:
    """The control API of that sandbox (:class:`~leadbridge.sdk.sandbox.SandboxControl`): move its
    clock, inject faults, read its request log, set its webhooks."""
    from leadbridge.sdk.sandbox import SandboxControl

    with SandboxControl(leadbridge_sandbox.url) as control:
        yield control
