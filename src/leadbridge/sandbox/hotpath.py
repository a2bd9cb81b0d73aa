"""A fast lane in front of FastAPI for the platforms' calls in their plain form.

FastAPI's per-request machinery (routing through nested routers, dependency solving,
parameter validation, response-model serialisation) costs several times what the
sandbox's own work does on most calls. For requests in their plain form, this ASGI
layer calls the very same endpoint functions directly; anything else (a filter, a
malformed or out-of-range parameter) goes through FastAPI as usual. So behaviour is
identical by construction: same handler code, same error rendering.

Plain form:

- every route (Leeloo's, Neiros', Dialog's) whose handler takes nothing but the request, the
  company (the token) and its path's parameters — every Leeloo write, whose handler parses
  the body itself, and the reads of one record or a whole small list; Neiros' deal update
  and sites; Dialog's campaign creation — with no query string but a plain ``authToken``;
  the lane finds the route as FastAPI would (the first route of the request's method whose
  path matches, in the order the app lists them; a path without parameters that no earlier
  route takes is found by one dictionary lookup), the company as the route's dependency finds
  it (``dependencies.CompanyOf``), and an integer path parameter in its plain form (ASCII
  digits within the route's bounds);
- ``GET /api/v2/people`` and ``GET /api/v2/communication-channels/{id}/chat-messages``
  with at most ``limit`` and ``offset`` as plain numbers. These pages are kept rendered in
  the company's cache (``cache.CompanyCache``) until the company's next write: a client
  paging through data it does not change gets them straight from memory;
- ``GET /api/v2/people`` looking up one ``filter[phone]`` or ``filter[email]`` (with plain
  paging), which flows send before adding a person: served by the handler, not kept.

Leeloo's calls may carry the token as a plain ``authToken`` query parameter instead of the header.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

import orjson
from annotated_types import Ge, Le
from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from leadbridge.contract.leeloo import DEFAULT_LIMIT, PAGE_CAP
from leadbridge.sandbox.dependencies import COMPANY_OF, CompanyOf
from leadbridge.sandbox.leeloo.routes import api, messaging, people
from leadbridge.sandbox.state import Sandbox
from leadbridge.sandbox.wire import JSON, ApiError

CHANNELS = "/api/v2/communication-channels/"
CHAT_MESSAGES = "/chat-messages"
MAX_DIGITS = 9  # beyond this FastAPI's validation (and the database) decide

Endpoint = Callable[..., Awaitable[dict[str, Any]]]


# The people list's filters the lane takes (by their names in the query, as handler arguments):
# the lookup of a person by phone or email that flows make before adding one.
PEOPLE_LOOKUPS = {"filter[phone]": "phone", "filter[email]": "email"}


def lookup_paging(query: bytes, max_limit: int, page_cap: int) -> tuple[dict[str, Any], str | None] | None:
    """As :func:`paging`, for a query with one of :data:`PEOPLE_LOOKUPS` too (its value as the handler
    takes it: decoded as Starlette decodes a query string); None when FastAPI should parse it."""
    filters: dict[str, str] = {}
    rest: list[bytes] = []
    for pair in query.split(b"&"):
        decoded = parse_qsl(pair.decode("latin-1"), keep_blank_values=True)
        argument = PEOPLE_LOOKUPS.get(decoded[0][0]) if decoded else None
        if argument is None:
            rest.append(pair)
        elif filters:
            return None  # two lookups, or one repeated: FastAPI decides
        else:
            filters[argument] = decoded[0][1]
    parsed = paging(b"&".join(rest), max_limit, page_cap)
    if parsed is None or not filters:
        return None
    return {**parsed[0], **filters}, parsed[1]


def paging(query: bytes, max_limit: int, page_cap: int) -> tuple[dict[str, int], str | None] | None:
    """``limit``/``offset`` (a limit above ``page_cap`` serves ``page_cap``, as Leeloo does) and
    the ``authToken`` from a plain query string, or None when FastAPI should parse it."""
    if not query:
        return {}, None
    values: dict[str, int] = {}
    token: str | None = None
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        key = name.decode("latin-1")
        if key == api.TOKEN_QUERY and token is None and value and b"%" not in value and b"+" not in value:
            token = value.decode("latin-1")
            continue
        if key not in ("limit", "offset") or key in values or not value.isdigit() or len(value) > MAX_DIGITS:
            return None
        values[key] = int(value)
    if values.get("limit", 0) > max_limit:
        return None
    if "limit" in values:
        values["limit"] = min(values["limit"], page_cap)
    return values, token


# The lane's own parse of a query string, remembered: clients page with the same few query
# strings again and again (the parsed values are shared: not to be changed).
_paging = lru_cache(maxsize=256)(paging)


_PATH_PARAMETER = re.compile(r"^\{(\w+)\}$")
# What a handler may take to be called directly: besides these, only its path's parameters.
DIRECT_ARGUMENTS = frozenset({"request", "company"})
MAX_NUMBER_DIGITS = 18  # a path number longer than this is left to FastAPI (and refused there)


PREFIX = 4  # segments that key the table: "", "api", the version and the resource ("people")


@dataclass(frozen=True)
class DirectRoute:
    """A route as the lane matches it: its path's segments (None where a parameter stands), and
    its handler when the lane may call it directly (None: FastAPI serves it), with the way its
    company is found and the bounds of the path parameters read as integers."""

    segments: tuple[str | None, ...]
    parameters: tuple[tuple[int, str], ...]  # (segment index, name) of each path parameter
    endpoint: Endpoint | None
    company: CompanyOf | None = None
    numbers: tuple[tuple[str, int, int], ...] = ()  # (name, least, greatest) of each integer parameter

    def match(self, parts: list[str]) -> bool:
        # A parameter matches any non-empty segment, as FastAPI's default converter does.
        # A plain loop: this runs on every request the lane sees, and a generator costs more.
        for segment, part in zip(self.segments, parts, strict=True):
            if part != segment and (segment is not None or part == ""):
                return False
        return True

    def overlaps(self, other: DirectRoute) -> bool:
        """Whether some path matches both."""
        if len(self.segments) != len(other.segments):
            return False
        pairs = zip(self.segments, other.segments, strict=True)
        return all(mine is None or theirs is None or mine == theirs for mine, theirs in pairs)

    def arguments(self, parts: list[str]) -> dict[str, Any] | None:
        """The path's parameters as the handler takes them; None when an integer is not in its
        plain form (ASCII digits within the bounds): FastAPI then reads it, or refuses it."""
        arguments: dict[str, Any] = {name: parts[index] for index, name in self.parameters}
        for name, least, greatest in self.numbers:
            text = arguments[name]
            if not (text.isascii() and text.isdigit() and len(text) <= MAX_NUMBER_DIGITS):
                return None
            number = int(text)
            if not least <= number <= greatest:
                return None
            arguments[name] = number
        return arguments


Table = dict[tuple[str, int, tuple[str, ...]], list[DirectRoute]]


def _company_of(route: APIRoute) -> CompanyOf | None:
    """How the route's ``company`` dependency finds the company, when the lane knows it."""
    for dependency in route.dependant.dependencies:
        if dependency.name == "company" and dependency.call is not None:
            return COMPANY_OF.get(dependency.call)
    return None


def _numbers(route: APIRoute) -> tuple[tuple[str, int, int], ...] | None:
    """The bounds of the route's integer path parameters; None when a parameter is neither a
    plain string nor an integer bounded by nothing but ``ge``/``le`` (FastAPI serves it then)."""
    numbers = []
    for field in route.dependant.path_params:
        info = field.field_info
        if info.annotation is str and not info.metadata:
            continue
        if info.annotation is not int:
            return None
        least, greatest = 0, 10**MAX_NUMBER_DIGITS - 1
        for rule in info.metadata:
            bound = rule.ge if isinstance(rule, Ge) else rule.le if isinstance(rule, Le) else None
            if type(bound) is not int:
                return None
            if isinstance(rule, Ge):
                least = max(least, bound)
            else:
                greatest = min(greatest, bound)
        numbers.append((field.name, least, greatest))
    return tuple(numbers)


def direct_routes(routers: Iterable[APIRouter]) -> Table:
    """Every route of ``routers`` that a path could match, keyed by method, number of path segments
    and the path's first ``PREFIX`` segments, in FastAPI's order. A request looks up its own key:
    only the routes it may match are walked, and a path of no route here finds none.

    A route with a parameter among its first segments (Dialog's ``/api/campaigns/{id}``) cannot
    be keyed so: FastAPI serves it, and no later route that could take one of its paths may be
    in the table (checked here: the lane would serve a path FastAPI gives to the earlier route)."""
    table: Table = {}
    unkeyed: list[tuple[str, DirectRoute]] = []
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            parts = route.path.split("/")
            names = {index: m[1] for index, part in enumerate(parts) if (m := _PATH_PARAMETER.match(part))}
            segments = tuple(None if index in names else part for index, part in enumerate(parts))
            methods = route.methods or set()
            if any(index < PREFIX for index in names):
                unkeyed.extend((method, DirectRoute(segments, tuple(names.items()), None)) for method in methods)
                continue
            arguments = set(inspect.signature(route.endpoint).parameters)
            company, numbers = _company_of(route), _numbers(route)
            direct = (arguments <= DIRECT_ARGUMENTS | set(names.values()) and "company" in arguments
                      and company is not None and numbers is not None)
            entry = DirectRoute(segments, tuple(names.items()), route.endpoint if direct else None,
                                company if direct else None, numbers or ())
            for method in methods:
                if any(earlier_method == method and earlier.overlaps(entry) for earlier_method, earlier in unkeyed):
                    raise ValueError(f"{route.path}: an earlier route with a parameter among its first {PREFIX} "
                                     "segments may take its paths, which the fast lane would serve instead")
                table.setdefault((method, len(parts), tuple(parts[:PREFIX])), []).append(entry)
    return table


def static_routes(table: Table) -> dict[tuple[str, str], DirectRoute]:
    """The directly called routes whose path has no parameter, by method and path, where no route
    before them would take that path: found by one lookup instead of a walk of the table."""
    static: dict[tuple[str, str], DirectRoute] = {}
    for (method, _, _), candidates in table.items():
        for place, route in enumerate(candidates):
            if route.endpoint is None or route.parameters:
                continue
            parts = ["" if segment is None else segment for segment in route.segments]
            if not any(earlier.match(parts) for earlier in candidates[:place]):
                static[method, "/".join(parts)] = route
    return static


# What the lane serves a request with: the handler and its arguments, the token a plain
# ``authToken`` query parameter carried, how the company is found, and whether the answer is a
# page kept rendered in the company's cache. (A plain tuple: a NamedTuple's constructor is a
# Python function, a cost on every request.)
Call = tuple[Endpoint, dict[str, Any], str | None, CompanyOf, bool]


class FastLane:
    def __init__(self, app: ASGIApp, sandbox: Sandbox, routers: Iterable[APIRouter],
                 render_error: Callable[[str, ApiError], JSON]) -> None:
        """``routers``: the platforms' routers, in the order the app lists their routes."""
        self.app = app
        self.sandbox = sandbox
        self.render_error = render_error
        self.max_limit = api.MAX_LIMIT
        self.page_cap = PAGE_CAP
        self.leeloo = COMPANY_OF[api.leeloo_company]
        self.people: Endpoint = people.list_people
        self.chat_messages: Endpoint = messaging.chat_messages
        self.direct = direct_routes(routers)
        self.static = static_routes(self.direct)

    def route(self, scope: Scope) -> Call | None:
        path: str = scope["path"]
        method: str = scope["method"]
        if method == "GET":
            if path == "/api/v2/people":
                if b"filter" in scope["query_string"]:
                    return self.lookup(scope)
                return self.paged(scope, self.people, {})
            if path.startswith(CHANNELS) and path.endswith(CHAT_MESSAGES):
                channel = path[len(CHANNELS) : -len(CHAT_MESSAGES)]
                if not channel or "/" in channel:
                    return None
                return self.paged(scope, self.chat_messages, {"person_id": channel})
        static = self.static.get((method, path))
        if static is not None:  # a path without parameters that no earlier route takes
            parsed = _paging(scope["query_string"], 0, 0)
            if parsed is None or parsed[0]:
                return None
            return static.endpoint, {}, parsed[1], static.company, False  # type: ignore[return-value]
        parts = path.split("/")
        for candidate in self.direct.get((method, len(parts), tuple(parts[:PREFIX])), ()):
            if candidate.match(parts):
                if candidate.endpoint is None or candidate.company is None:
                    return None
                parsed = _paging(scope["query_string"], 0, 0)
                arguments = candidate.arguments(parts)
                if parsed is None or parsed[0] or arguments is None:
                    return None
                return candidate.endpoint, arguments, parsed[1], candidate.company, False
        return None

    def lookup(self, scope: Scope) -> Call | None:
        """The people list with a phone or email to look up: not kept rendered (each lookup asks
        for another value)."""
        parsed = lookup_paging(scope["query_string"], self.max_limit, self.page_cap)
        if parsed is None:
            return None
        kwargs = {"limit": DEFAULT_LIMIT, "offset": 0, **parsed[0]}
        return self.people, kwargs, parsed[1], self.leeloo, False

    def paged(self, scope: Scope, endpoint: Endpoint, kwargs: dict[str, Any]) -> Call | None:
        paged = _paging(scope["query_string"], self.max_limit, self.page_cap)
        if paged is None:
            return None
        kwargs["limit"] = paged[0].get("limit", DEFAULT_LIMIT)
        kwargs["offset"] = paged[0].get("offset", 0)
        return endpoint, kwargs, paged[1], self.leeloo, True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # One coroutine for the whole of what the lane serves (not a call to a second one): a
        # page served from memory takes a few microseconds, each layer of them counts.
        call = self.route(scope) if scope["type"] == "http" else None
        if call is None:
            await self.app(scope, receive, send)
            return
        endpoint, kwargs, query_token, company_of, cached_page = call
        token = None
        header = company_of.header
        for name, value in scope["headers"]:
            if name == header:
                token = value.decode("latin-1")
                break
        sandbox = self.sandbox
        try:
            # As the route's company dependency: the token's company, remembered for the request
            # log. Without a Request object: a page served from memory needs none.
            company = company_of.lookup(sandbox, (token or query_token) if company_of.query else token)
            scope.setdefault("state", {})["company_id"] = company
            if not cached_page:
                body = orjson.dumps(await endpoint(Request(scope, receive), company, **kwargs))
            else:
                cache = sandbox.cache(company)
                # Keyed by what is served (not the raw query: it may hold the token, or a limit beyond the cap).
                key = (scope["path"], kwargs["limit"], kwargs["offset"])
                cached = cache.page(key)
                if cached is None:
                    body = orjson.dumps(await endpoint(Request(scope, receive), company, **kwargs))
                    cache.put_page(key, body)
                else:
                    body = cached
        except ApiError as exc:
            await self.render_error(scope["path"], exc)(scope, receive, send)
            return
        # The two messages a Starlette Response (wire.JSON) would send, without building one.
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"%d" % len(body)), (b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})
