"""The public surface: every method users call exists on the sync and the async client,
is sync or async as its client is, and has a docstring naming its endpoint."""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest

from leadbridge import AsyncDialog, AsyncLeeloo, AsyncNeiros, Dialog, Leeloo, Neiros
from leadbridge.contract import all_endpoints, control_endpoints
from leadbridge.sdk._core import Resource, endpoint, paged
from leadbridge.sdk.sandbox import AsyncSandboxControl, SandboxControl

# Every SDK method the contract table names, by platform.
SURFACE: dict[str, list[str]] = {}
for _entry in [*all_endpoints(), *control_endpoints()]:
    SURFACE.setdefault(_entry.platform, [])
    SURFACE[_entry.platform] += [name for name in _entry.sdk if name not in SURFACE[_entry.platform]]
CLIENTS: dict[str, tuple[Any, Any]] = {
    "leeloo": (Leeloo(token="t"), AsyncLeeloo(token="t")),
    "neiros": (Neiros(token="t"), AsyncNeiros(token="t")),
    "dialog": (Dialog(token="t"), AsyncDialog(token="t")),
    "sandbox": (SandboxControl(), AsyncSandboxControl()),
}
ENDPOINT = re.compile(r"\b(GET|POST|PUT|DELETE) /(api|_sandbox)/\S+")
NAMES = [(api, name) for api, names in SURFACE.items() for name in names]


def lookup(root: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        root = getattr(root, part)
    return root


@pytest.mark.parametrize(("api", "name"), NAMES, ids=[f"{api}.{name}" for api, name in NAMES])
def test_each_method_exists_on_both_clients_in_their_own_style(api: str, name: str) -> None:
    sync_client, async_client = CLIENTS[api]
    sync_method, async_method = lookup(sync_client, name), lookup(async_client, name)
    assert not inspect.iscoroutinefunction(sync_method)
    is_iterator = name.rsplit(".", 1)[-1].startswith("iter")
    # iter* stay plain functions returning async iterators; every other async method is awaited.
    assert inspect.iscoroutinefunction(async_method) is not is_iterator
    assert inspect.signature(sync_method) == inspect.signature(async_method)
    assert ENDPOINT.search(sync_method.__doc__ or ""), f"{api}.{name} has no docstring naming its endpoint"


def test_no_public_method_is_left_out_of_the_surface() -> None:
    # A method added to a resource must be named in the contract table too (and so get the checks above).
    found: set[tuple[str, str]] = set()

    def walk(api: str, prefix: str, owner: Any) -> None:
        for attribute, value in vars(owner).items():
            if attribute.startswith("_"):
                continue
            if isinstance(value, Resource):
                for member, descriptor in inspect.getmembers(type(value)):
                    if isinstance(descriptor, endpoint | paged) and not member.startswith("_"):
                        found.add((api, f"{prefix}{attribute}.{member}"))
            if type(value).__module__.startswith("leadbridge.sdk."):  # resources, and groups such as v1
                walk(api, f"{prefix}{attribute}.", value)

    for api, (sync_client, _) in CLIENTS.items():
        walk(api, "", sync_client)
    assert found == set(NAMES)
