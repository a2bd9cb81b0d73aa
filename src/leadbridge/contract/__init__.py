"""Each documented endpoint written once: a declarative table per platform, and one for the
sandbox's own control API (``/_sandbox``).

An :class:`Endpoint` names the call (method, path), the shape of its answer (a *wire* model
with the documented keys, unknown keys forbidden), its envelope and paging, whether it may
be repeated, which body forms it takes and its documented example (package data in
``examples/<platform>.json``; the control API's are written in its entries). The sandbox
registers its Leeloo routes at the table's method and path and documents its routes from the
table (the OpenAPI response schemas and examples), the SDK takes method, path and idempotency
from it, and the tests derive their endpoint lists from it.

The wire models here are neither the sandbox's request models (strict, with bounds) nor the
SDK's response models (tolerant, snake_case): each side keeps its own, so a shape bug in one
is caught by the other and by the documents' fixtures, which the tests keep apart from this
package's copy of the examples.

Only pydantic and the standard library are imported: the SDK's core depends on this package.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from string import Formatter
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Platform = Literal["leeloo", "neiros", "dialog", "sandbox"]
"""``sandbox``: the control API (``/_sandbox/…``), which no vendor documents: ours to define."""
Method = Literal["GET", "POST", "PUT", "DELETE"]
Envelope = Literal["leeloo", "bare"]
"""``leeloo``: ``{"status": 1, "data": …}`` (plus ``meta``, ``included`` or ``linked``);
``bare``: the object itself (Neiros, Dialog)."""
Paging = Literal["none", "offset", "numbered"]
"""``offset``: Leeloo's limit/offset with ``meta``; ``numbered``: Neiros' page/last_page/total."""
Form = Literal["json", "form"]


class Wire(BaseModel):
    """An answer's documented shape: keys exactly as sent, none beyond them."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Body(BaseModel):
    """A request body's documented fields, tolerant of extra keys: the sandbox subclasses these
    strictly (bounds, references, forbidden extras); clients may send what the document shows."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


@dataclass(frozen=True)
class Endpoint:
    """One documented endpoint."""

    platform: Platform
    name: str  # the documented example's key in examples/<platform>.json
    method: Method
    path: str  # the sandbox's and the SDK's template
    response: type[BaseModel]
    idempotent: bool  # whether the call may be repeated (retried) without a second effect
    envelope: Envelope = "bare"
    paging: Paging = "none"
    forms: tuple[Form, ...] = ()  # body forms taken (empty: no body)
    request: type[BaseModel] | None = None
    documented_path: str | None = None  # the document's spelling of the template, where it differs
    documented: bool = True  # False: an endpoint the documents do not describe (our reading)
    sdk: tuple[str, ...] = ()  # the SDK methods calling it ("people.list"); none: called by the client itself
    conflict: str | None = None  # when it answers 409: the state of a record forbids the call
    answer: Any = None  # the example answer written here (control API) rather than in examples/*.json

    def __post_init__(self) -> None:
        if (self.platform == "sandbox") != (self.answer is not None):
            raise ValueError(f"{self.name}: the control API's entries, and only they, carry their example answer")

    @property
    def document(self) -> str:
        """Which document describes it: ``leeloo_v2``, ``leeloo_v1``, ``neiros``, ``dialog`` or ``sandbox``
        (the control API's, the sandbox's own OpenAPI document)."""
        if self.platform == "leeloo":
            return "leeloo_v1" if self.path.startswith("/api/v1/") else "leeloo_v2"
        return self.platform

    def url(self, *ids: str | int) -> str:
        """The path with its parameters filled in order (``url("5b3f…")``)."""
        if not ids:
            return self.path
        return self.path.format_map(dict(zip(self.path_params, ids, strict=True)))

    @cached_property
    def path_params(self) -> tuple[str, ...]:
        return tuple(name for _, name, _, _ in Formatter().parse(self.path) if name)

    @property
    def key(self) -> str:
        """``"GET /api/v2/people"``: how the tables, routes and logs name the endpoint."""
        return f"{self.method} {self.path}"

    @property
    def documented_key(self) -> str:
        """The endpoint as the document writes it (its own path parameter names)."""
        return f"{self.method} {self.documented_path or self.path}"

    @property
    def example(self) -> dict[str, Any]:
        """The documented example: ``{"endpoint", "request", "response"}`` (response None where
        the document prints none; a control entry has no request example); a fresh copy on every call."""
        if self.answer is not None:
            stored: dict[str, Any] = {"endpoint": self.key, "request": None,
                                      "response": {"status": 200, "body": self.answer}}
        else:
            stored = examples(self.platform)[self.name]
        example: dict[str, Any] = json.loads(json.dumps(stored))
        return example

    @property
    def example_response(self) -> Any:
        if self.answer is not None:
            return self.answer
        response = examples(self.platform)[self.name]["response"]
        return None if response is None else response["body"]


@cache
def examples(platform: Platform) -> dict[str, Any]:
    """The documented examples of one platform, as stored in the package."""
    text = resources.files(__package__).joinpath("examples", f"{platform}.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def table(*endpoints: Endpoint) -> dict[str, Endpoint]:
    """A platform's endpoints by name; a name or a method and path given twice is a mistake."""
    by_name: dict[str, Endpoint] = {}
    keys: set[str] = set()
    for entry in endpoints:
        if entry.name in by_name or entry.key in keys:
            raise ValueError(f"{entry.name} ({entry.key}) is in the table twice")
        by_name[entry.name] = entry
        keys.add(entry.key)
    return by_name


def all_endpoints() -> list[Endpoint]:
    """Every endpoint of the three vendors' APIs, in table order (what the vendor-fidelity checks walk)."""
    from leadbridge.contract import dialog, leeloo, neiros

    return [*leeloo.ENDPOINTS.values(), *neiros.ENDPOINTS.values(), *dialog.ENDPOINTS.values()]


def control_endpoints() -> list[Endpoint]:
    """The sandbox's control API (``/_sandbox/…``), in table order."""
    from leadbridge.contract import sandbox

    return list(sandbox.ENDPOINTS.values())


def by_key() -> dict[str, Endpoint]:
    """Every endpoint, the vendors' and the control API's, by ``"METHOD /path"`` (the sandbox's template)."""
    return {entry.key: entry for entry in [*all_endpoints(), *control_endpoints()]}
