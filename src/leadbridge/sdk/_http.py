"""The one HTTP core under every client: requests, auth, retries, rate limit, errors, logging.

The control flow of a call (throttle, log in if needed, send, retry or re-login, parse)
is written once, as a generator :meth:`_Core.exchange` that *yields* what it needs done
(send this request, sleep this long, log in) and receives the outcome. The sync and the
async transports are small drivers of that generator, so both behave identically.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import threading
import time
import urllib.request
from collections import deque
from collections.abc import AsyncIterator, Callable, Generator, Hashable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import count, islice
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
import pydantic
import pydantic_core

from leadbridge import errors
from leadbridge.sdk._core import Operation, PageLike, Pager
from leadbridge.sdk._paging import _Items

T = TypeVar("T")
# Pages fetched ahead of the reader per concurrent request: bounds memory while keeping
# every request slot busy when pages complete out of order.
PAGES_AHEAD_PER_WORKER = 4
# Records whose models a walk builds at a time (about 50 us for Leeloo's people). Building a
# page of 100 at once kept the reader's thread, and with it the interpreter lock or the event
# loop, from the walk's other requests for half a millisecond: in bench/sdk.py the async walk
# took 1.16-1.19x its ideal that way, 1.11-1.13x in parts of 20, 1.08-1.10x in parts of 10
# (5 were no better).
PART_SIZE = 10


logger = logging.getLogger("leadbridge.sdk")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
SECRET_HEADERS = frozenset({"authorization", "x-leeloo-authtoken", "cookie"})
REDACTED = "***"


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers safe to log: credentials replaced by ``***``."""
    return {key: REDACTED if key.lower() in SECRET_HEADERS else value for key, value in headers.items()}


def mask(secret: str | None) -> str | None:
    """How a secret shows in reprs: ``None`` or ``'***'``."""
    return None if secret is None else REDACTED


# --- policies ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter; ``Retry-After`` wins when the server sends it.

    Whether a call may be sent again is the endpoint's own property (``Operation.idempotent``),
    never guessed from its HTTP method. Repeatable calls (reads, add-tag, a card update, …) are
    retried on connection errors, timeouts, 429 and 5xx. Other calls (a comment, a message, a
    new record) are sent again only when the server cannot have acted on them: the connection
    was never made (``httpx.ConnectError`` / ``ConnectTimeout`` / ``PoolTimeout``), or the
    server refused them with 429 before reading them.
    """

    max_retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0

    def backoff_delay(self, attempt: int) -> float:
        ceiling = min(self.max_backoff, self.backoff * (2.0**attempt))
        return ceiling / 2 + random.random() * ceiling / 2  # "equal jitter": never zero, never in lockstep

    def after_error(self, idempotent: bool, exc: httpx.TransportError, attempt: int) -> float | None:
        if attempt >= self.max_retries:
            return None
        if idempotent or never_sent(exc):
            return self.backoff_delay(attempt)
        return None

    def after_response(self, idempotent: bool, response: httpx.Response, attempt: int,
                       window: float | None = None) -> float | None:
        """The wait before sending again, or ``None`` when this answer is final.

        A 429 without a usable ``Retry-After`` waits ``window`` seconds (the client's rate
        limit window: the server's current window has ended by then), else backs off.
        """
        status = response.status_code
        if attempt >= self.max_retries or status not in RETRY_STATUSES:
            return None
        # A 429 is the rate limiter refusing the request before the API reads it: safe to resend.
        if not idempotent and status != 429:
            return None
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if retry_after is None and status == 429:
            retry_after = parse_retry_after(response.headers.get("ratelimit-reset"))
            if retry_after is None and window is not None:
                retry_after = window
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        return self.backoff_delay(attempt)


def never_sent(exc: httpx.TransportError) -> bool:
    """The request never left: the connection was not made (no server can have acted on it)."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


@dataclass(frozen=True)
class RateLimit:
    """At most ``requests`` requests in any ``per`` seconds, spaced evenly, ``burst`` at once.

    Requests go out one every ``per / (requests - burst + 1)`` seconds; after a pause up to
    ``burst`` may go at once. Any span of ``per`` seconds then holds at most ``requests``,
    whatever the server's windows are aligned to (Leeloo counts 300 a minute per token in
    fixed windows: ``RateLimit(300, per=60, burst=10)`` sends about 4.85 a second).
    """

    requests: float
    per: float = 1.0
    burst: int = 1

    def __post_init__(self) -> None:
        if not self.requests > 0 or not self.per > 0:
            raise ValueError("a rate limit needs a positive number of requests and a positive period")
        if not 1 <= self.burst <= self.requests:
            raise ValueError("burst must be at least 1 and at most the number of requests")

    @property
    def interval(self) -> float:
        """Seconds between two requests at the steady pace."""
        # A hair longer than exact, so that float rounding in the running schedule never fits
        # one request more into a span of ``per`` seconds.
        return self.per / (self.requests - self.burst + 1) * (1 + 1e-9)


class RateLimiter:
    """The client side of a :class:`RateLimit`, shared by every thread or task of a client.

    A generic cell rate algorithm: each request books the earliest slot the limit allows and
    is told how long to wait for it, so the sync and the async transports each sleep their own
    way (no library here fits both without blocking an event loop or a thread per wait).
    """

    def __init__(self, limit: RateLimit | float | None, clock: Callable[[], float] = time.monotonic) -> None:
        if limit is not None and not isinstance(limit, RateLimit):
            if not limit > 0:
                raise ValueError("rate_limit must be a positive number of requests per second")
            limit = RateLimit(limit)
        self.limit = limit
        self.interval = limit.interval if limit else 0.0
        self.window = limit.per if limit else None
        self._tolerance = (limit.burst - 1) * self.interval if limit else 0.0
        self._theoretical_arrival = 0.0
        self._clock = clock
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Book the next slot; returns how long the caller must wait for it."""
        if not self.interval:
            return 0.0
        with self._lock:
            now = self._clock()
            arrival = self._theoretical_arrival
            start = max(now, arrival - self._tolerance)
            self._theoretical_arrival = max(arrival, start) + self.interval
            return start - now

    def pause(self, seconds: float) -> None:
        """No request goes out for ``seconds`` (the server said so), then the steady pace resumes."""
        if not self.interval:
            return
        with self._lock:
            resume = self._clock() + seconds
            self._theoretical_arrival = max(self._theoretical_arrival, resume + self._tolerance)


# --- auth --------------------------------------------------------------------------------


class Auth:
    """How a platform authenticates; ``login`` is set when the client can obtain a token itself."""

    login: Operation[str] | None = None
    token: str | None = None

    def apply(self, headers: dict[str, str]) -> None:
        raise NotImplementedError


class HeaderTokenAuth(Auth):
    """A fixed token in a header (Leeloo: ``X-Leeloo-AuthToken``)."""

    def __init__(self, header: str, token: str) -> None:
        if not token:
            raise ValueError("token is required")
        self.header = header
        self.token = token

    def apply(self, headers: dict[str, str]) -> None:
        headers[self.header] = self.token or ""

    def __repr__(self) -> str:
        return f"HeaderTokenAuth(header={self.header!r}, token='***')"


class BearerAuth(Auth):
    """``Authorization: Bearer <token>``; with a login call, the token is fetched lazily and renewed on 401."""

    def __init__(self, token: str | None = None, login: Operation[str] | None = None) -> None:
        if token is None and login is None:
            raise ValueError("either a token or login credentials are required")
        self.token = token
        self.login = login

    def apply(self, headers: dict[str, str]) -> None:
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"

    def __repr__(self) -> str:
        return f"BearerAuth(token={mask(self.token)!r}, login={'yes' if self.login else 'no'})"


# --- API dialects ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ErrorDetails:
    """What an error body says: a message, the fields it names, and the API's error code."""

    message: str | None
    field_errors: dict[str, list[str]]
    code: str | None = None


def default_error_details(body: Any) -> ErrorDetails:
    """The message and per-field errors of an error body (Laravel and FastAPI styles, plain text)."""
    if not isinstance(body, dict):
        # A plain-text answer (a proxy's page, Leeloo's "Too many requests, …") is its own message.
        return ErrorDetails((body.strip()[:200] or None) if isinstance(body, str) else None, {})
    message = body.get("message") or body.get("error")
    detail = body.get("detail")
    field_errors: dict[str, list[str]] = {}
    raw = body.get("errors")
    if isinstance(raw, dict):
        for key, value in raw.items():
            field_errors[str(key)] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    elif isinstance(detail, list):  # FastAPI's own validation errors
        for item in detail:
            if isinstance(item, dict):
                loc = [str(p) for p in item.get("loc", ()) if p not in ("body", "query", "path")]
                field_errors.setdefault(".".join(loc) or "request", []).append(str(item.get("msg")))
    if message is None and isinstance(detail, str):
        message = detail
    if message is not None and not isinstance(message, str):
        message = None  # e.g. an ``error`` object: the dialect reads those
    return ErrorDetails(message, field_errors)


@dataclass(frozen=True)
class Dialect:
    """What is specific to one API's HTTP answers.

    ``body_error`` tells whether a 2xx body is in fact an error (Leeloo's ``status`` other
    than 1); ``error_details`` reads an error body; ``error_class`` picks the error class of
    such a 2xx error from its details (``None``: the generic :class:`errors.APIStatusError`).
    """

    name: str
    body_error: Callable[[Any], bool] = lambda body: False
    error_details: Callable[[Any], ErrorDetails] = default_error_details
    error_class: Callable[[Any, ErrorDetails], type[errors.APIStatusError] | None] = lambda body, details: None


# --- the shared call flow ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Send:
    request: httpx.Request


@dataclass(frozen=True, slots=True)
class Sleep:
    seconds: float


@dataclass(frozen=True, slots=True)
class Login:
    stale_token: str | None


Action = Send | Sleep | Login


HttpClient = httpx.Client | httpx.AsyncClient | httpx.BaseTransport | httpx.AsyncBaseTransport
"""What ``http_client=`` takes: a client of the caller's (used as is, never closed by the SDK) or a
transport the SDK's own client sends through (``httpx.ASGITransport`` serves an app in-process)."""


@dataclass
class ClientOptions:
    base_url: str
    timeout: float | httpx.Timeout = 30.0
    max_retries: int = 3
    retry: RetryPolicy | None = None
    rate_limit: RateLimit | float | None = None
    http2: bool = False
    max_connections: int = 20
    headers: Mapping[str, str] | None = None
    user_agent: str = "leadbridge-sdk"
    http_client: HttpClient | None = None

    def client_kwargs(self) -> dict[str, Any]:
        limits = httpx.Limits(max_connections=self.max_connections, max_keepalive_connections=self.max_connections)
        return {"base_url": self.base_url, "timeout": self.timeout, "limits": limits, "http2": self.http2,
                "headers": self.default_headers()}

    def default_headers(self) -> dict[str, str]:
        return {"Accept": "application/json", "User-Agent": self.user_agent, **(self.headers or {})}

    def adopt(self, client: httpx.Client | httpx.AsyncClient) -> None:
        """A caller's client talks to the API's base URL (unless it has its own) and sends the
        SDK's headers where it keeps httpx's defaults; its timeouts, pool and transport stay its own."""
        if not str(client.base_url):
            client.base_url = httpx.URL(self.base_url)
        for name, value in self.default_headers().items():
            current = client.headers.get(name)
            if current is None or current == "*/*" or current.startswith("python-httpx/"):
                client.headers[name] = value

    def sync_client(self) -> tuple[httpx.Client, bool, Lanes | None]:
        """The client to send with, whether the SDK owns it (and so closes it), and the lanes its
        requests go straight to (None: they go through ``client.send``)."""
        given = self.http_client
        if given is None:
            if urllib.request.getproxies():  # the proxies httpx reads from the environment are its client's
                return httpx.Client(**self.client_kwargs()), True, None
            lanes = Lanes.of(self)
            return httpx.Client(transport=lanes.transports[0], **self.client_kwargs()), True, lanes
        if isinstance(given, httpx.Client):
            self.adopt(given)
            return given, False, None
        if isinstance(given, httpx.BaseTransport):
            return httpx.Client(transport=given, **self.client_kwargs()), True, Lanes([given])
        raise TypeError(f"http_client must be an httpx.Client or httpx.BaseTransport, not {type(given).__name__}")

    def async_client(self) -> tuple[httpx.AsyncClient, bool]:
        given = self.http_client
        if given is None:
            return httpx.AsyncClient(**self.client_kwargs()), True
        if isinstance(given, httpx.AsyncClient):
            self.adopt(given)
            return given, False
        if isinstance(given, httpx.AsyncBaseTransport):
            return httpx.AsyncClient(transport=given, **self.client_kwargs()), True
        raise TypeError("http_client must be an httpx.AsyncClient or httpx.AsyncBaseTransport (such as "
                        f"httpx.ASGITransport), not {type(given).__name__}")


class Lanes:
    """The connections of a sync client of the SDK's own: one connection pool per lane, and each
    thread always sends on the same lane.

    Threads sharing one pool take turns on its lock for every request and every answer, and
    the pool polls each idle connection under that lock: eight flow workers on one pool spent
    a fifth of their time waiting there (py-spy). Spread over lanes, they rarely meet.

    A lane the SDK made (``exclusive``) holds one connection, and carries one request at a
    time: its threads wait their turn on the lane's own lock, never in httpcore's queue. With
    requests queued inside one of its pools, httpcore 1.0.9 can close a connection it has
    just handed to a waiting request (encode/httpcore#1110): that request then hangs until
    its read timeout, or fails with a read error. There are ``max_connections`` lanes, so the
    client opens at most that many connections, as one pool would.
    """

    def __init__(self, transports: list[httpx.BaseTransport], *, exclusive: bool = False) -> None:
        self.transports = transports
        self._turns = [threading.Lock() for _ in transports] if exclusive else None
        self._taken = count()
        self._local = threading.local()

    @classmethod
    def of(cls, options: ClientOptions) -> Lanes:
        verify = httpx.create_ssl_context()  # one for all lanes: making one reads the CA bundle
        if options.http2:  # one connection carries many requests: a pool shared by every thread
            return cls([httpx.HTTPTransport(verify=verify, http2=True, limits=httpx.Limits(
                max_connections=options.max_connections, max_keepalive_connections=options.max_connections))])
        one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        return cls([httpx.HTTPTransport(verify=verify, limits=one) for _ in range(max(1, options.max_connections))],
                   exclusive=True)

    def send(self, request: httpx.Request) -> httpx.Response:
        """Send on this thread's lane and read the whole answer."""
        lane: int | None = getattr(self._local, "lane", None)
        if lane is None:
            lane = self._local.lane = next(self._taken) % len(self.transports)
        transport = self.transports[lane]
        if self._turns is None:
            return _read_whole(transport, request)
        turn = self._turns[lane]
        # Waiting for the lane is waiting for a connection: bounded as httpx bounds it.
        wait = (request.extensions.get("timeout") or {}).get("pool")
        if not turn.acquire(timeout=-1 if wait is None else wait):
            raise httpx.PoolTimeout("no connection came free within the pool timeout", request=request)
        try:
            return _read_whole(transport, request)
        finally:
            turn.release()

    def close(self) -> None:
        """Close every lane but the first, which the client was made with (and closes itself)."""
        for transport in self.transports[1:]:
            transport.close()


def _read_whole(transport: httpx.BaseTransport, request: httpx.Request) -> httpx.Response:
    response = transport.handle_request(request)
    response.request = request
    try:
        response.read()
    finally:
        response.close()
    return response


@dataclass(frozen=True, slots=True)
class OwnClientDefaults:
    """What ``build_request`` of a client the SDK made merges into every request, read once.

    Nobody else sets that client's base URL, headers or timeout, so a request can be built
    from them directly: httpx would copy the headers and parse the base URL again for each
    request, about a quarter of the client's own work per call.
    """

    base_url: str
    headers: dict[str, str]
    timeout: dict[str, float | None]

    @classmethod
    def of(cls, client: httpx.Client | httpx.AsyncClient) -> OwnClientDefaults:
        # httpx joins the base URL (always ending in "/") and a path without its leading "/".
        return cls(str(client.base_url).rstrip("/"), dict(client.headers), client.timeout.as_dict())


class _Core:
    """State and logic shared by the sync and async transports."""

    is_async = False

    def __init__(self, options: ClientOptions, auth: Auth, dialect: Dialect) -> None:
        self.options = options
        self.auth = auth
        self.dialect = dialect
        self.retry = options.retry or RetryPolicy(max_retries=options.max_retries)
        self.limiter = RateLimiter(options.rate_limit)
        self.own_defaults: OwnClientDefaults | None = None  # set by a transport that made its client

    def build_request(self, client: httpx.Client | httpx.AsyncClient, op: Operation[Any]) -> httpx.Request:
        files = {key: (None, value) for key, value in op.form.items()} if op.form is not None else None
        # The same encoding httpx gives ``params=``, at half its cost per call.
        url = f"{op.path}?{urlencode(op.params)}" if op.params else op.path
        defaults = self.own_defaults
        if defaults is not None and not client.cookies:  # a cookie the server set: httpx merges it
            headers = dict(defaults.headers)
            if op.authenticated:
                self.auth.apply(headers)
            request = httpx.Request(op.method, defaults.base_url + url, json=op.json, files=files,
                                    data=op.urlencoded, headers=headers, extensions={"timeout": defaults.timeout})
        else:
            headers = {}
            if op.authenticated:
                self.auth.apply(headers)
            request = client.build_request(op.method, url, json=op.json, files=files, data=op.urlencoded,
                                           headers=headers)
        if files is not None:
            # A form's few short fields go out as one buffer. Left as httpx's stream of parts, every
            # boundary, part header and value was a send() of its own: about twenty a request.
            request.read()
        return request

    def exchange(
        self, client: httpx.Client | httpx.AsyncClient, op: Operation[Any]
    ) -> Generator[Action, Any, httpx.Response]:
        """Sends ``op`` until an answer is final (retried and re-logged in as needed); returns that answer."""
        attempt = 0
        relogged = False
        while True:
            wait = self.limiter.reserve()
            if wait > 0:
                yield Sleep(wait)
            needs_login = op.authenticated and self.auth.login is not None
            if needs_login and self.auth.token is None:
                yield Login(None)
            used_token = self.auth.token
            request = self.build_request(client, op)
            started = time.perf_counter()
            outcome = yield Send(request)
            if isinstance(outcome, httpx.TransportError):
                delay = self.retry.after_error(op.idempotent, outcome, attempt)
                if delay is None:
                    raise self.connection_error(op, outcome) from outcome
                logger.warning("%s %s failed (%s), retry %d/%d in %.2fs", op.method, op.path,
                               type(outcome).__name__, attempt + 1, self.retry.max_retries, delay)
                yield Sleep(delay)
                attempt += 1
                continue
            response: httpx.Response = outcome
            status = response.status_code
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("%s %s -> %d in %.1f ms; headers %s", op.method, op.path, status,
                             (time.perf_counter() - started) * 1000, redact_headers(request.headers))
            if status == 401 and needs_login and not relogged:
                relogged = True
                logger.info("%s %s -> 401, logging in again", op.method, op.path)
                yield Login(used_token)
                continue
            delay = self.retry.after_response(op.idempotent, response, attempt, self.limiter.window)
            if delay is not None:
                if status == 429:
                    self.limiter.pause(delay)  # every request of this client holds off, not just this one
                logger.warning("%s %s -> %d, retry %d/%d in %.2fs", op.method, op.path, status,
                               attempt + 1, self.retry.max_retries, delay)
                yield Sleep(delay)
                attempt += 1
                continue
            return response

    def finish(self, op: Operation[T], response: httpx.Response) -> T:
        """The result of ``op`` read from its final answer, or the error that answer means."""
        status = response.status_code
        if op.parse_bytes is not None and status < 400:
            try:
                result = op.parse_bytes(response.content)
            except ValueError:
                pass  # not the success shape: the general way below tells what it is
            else:
                if isinstance(result, _Items):  # its records are read when first used
                    result.explain_failures(lambda exc: self.unreadable(op, status, self.decode(response), exc))
                return result
        body = self.decode(response)
        if status >= 400 or self.dialect.body_error(body):
            raise self.api_error(op, status, body, response)
        try:
            return op.parse(body)
        except (ValueError, LookupError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
            raise self.unreadable(op, status, body, exc) from exc

    @staticmethod
    def unreadable(op: Operation[Any], status: int, body: Any, exc: Exception) -> errors.ResponseValidationError:
        """The error for a success answer that is not the documented record."""
        field_errors: dict[str, list[str]] = {}
        if isinstance(exc, pydantic.ValidationError):
            # Locations and messages only: the values may be personal data.
            for error in exc.errors(include_url=False, include_input=False):
                place = ".".join(str(part) for part in error["loc"]) or "body"
                field_errors.setdefault(place, []).append(error["msg"])
        else:
            field_errors["body"] = [f"{type(exc).__name__}: {exc}"]
        first, *more = field_errors
        summary = f"{first}: {field_errors[first][0]}" + (f" (and {len(more)} more)" if more else "")
        return errors.ResponseValidationError(f"unexpected response: {summary}", status=status, method=op.method,
                                              path=op.path, field_errors=field_errors, body=body)

    @staticmethod
    def decode(response: httpx.Response) -> Any:
        content = response.content
        if not content:
            return None
        try:
            # pydantic-core's JSON parser (Rust) costs a fraction of the standard library's.
            return pydantic_core.from_json(content)
        except ValueError:
            return response.text

    def api_error(self, op: Operation[Any], status: int, body: Any, response: httpx.Response) -> errors.APIStatusError:
        details = self.dialect.error_details(body)
        text = details.message or (f"status {body.get('status')}" if status < 400 and isinstance(body, dict)
                                   else response.reason_phrase) or "error"
        if status < 400:
            cls = self.dialect.error_class(body, details) or errors.APIStatusError
        else:
            cls = errors.error_class_for(status)
        common: dict[str, Any] = {"status": status, "method": op.method, "path": op.path,
                                  "field_errors": details.field_errors, "body": body, "code": details.code}
        if cls is errors.RateLimitError:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            return errors.RateLimitError(text, retry_after=retry_after, **common)
        return cls(text, **common)

    @staticmethod
    def connection_error(op: Operation[Any], exc: httpx.TransportError) -> errors.APIConnectionError:
        cls = errors.APITimeoutError if isinstance(exc, httpx.TimeoutException) else errors.APIConnectionError
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        reached = not never_sent(exc)
        if reached and not op.idempotent:
            # Said in words too: the caller must check before doing it again (it was not resent).
            text += "; the request may have been applied, so it was not sent again"
        return cls(text, method=op.method, path=op.path, may_have_been_applied=reached)

    @staticmethod
    def dedupe(pager: Pager[T]) -> Callable[[PageLike[T]], Iterator[list[T]]]:
        """Keeps the items of a page not yielded in the pages just before it (by ``pager.identity``),
        in parts of at most :data:`PART_SIZE` items, each built when it is reached.

        A record repeats in a limit/offset walk when records are added ahead of it while the
        walk is under way: it moves to a later offset, across a page boundary, into a page
        fetched after it was yielded. Its second appearance is then in one of the next pages,
        never far behind: only the keys of the last :func:`remembered_pages` pages are kept, so
        the walk's memory is the same at a thousand records or a million (a set of every key
        seen would hold about 125 bytes per record). A record pushed further than that (more
        records added ahead of it during the walk than those pages hold) may come twice.

        The walks drop the page they have yielded (``del last``) before building the next:
        its models are then freed at once, instead of being kept alive through the next
        page's garbage collections and promoted to older generations, whose full
        collections would stall the walk (and, in asyncio, every request in flight).
        """
        identity = pager.identity
        window = remembered_pages(pager.concurrency)
        # The keys of the remembered pages, and each page's own, oldest first.
        recent: set[Hashable] = set()
        pages: deque[list[Hashable]] = deque()

        def fresh(page: PageLike[T]) -> Iterator[list[T]]:
            keys: list[Hashable] = []
            for part in page.parts(PART_SIZE):
                out = []
                for item in part:
                    key = identity(item)
                    if key is not None:
                        if key in recent:
                            continue
                        recent.add(key)
                        keys.append(key)
                    out.append(item)
                yield out
            pages.append(keys)
            if len(pages) > window:
                recent.difference_update(pages.popleft())

        return fresh


def read_ahead(pager: Pager[Any]) -> int:
    """Pages a walk asks for before the caller reaches them: ``concurrency`` requests under way
    and more queued behind them, so that a request slot freed by an answer is taken again at
    once, even when pages arrive out of order. The answers wait unread (bytes, not models)."""
    return pager.concurrency * PAGES_AHEAD_PER_WORKER


def remembered_pages(concurrency: int) -> int:
    """Pages whose keys a walk keeps: every page that may be in flight at once, and one more.

    Pages fetched at overlapping times may each see a record on either side of a boundary;
    a page fetched after all of them comes after the record has been yielded and is checked
    against them.
    """
    return max(2, concurrency * PAGES_AHEAD_PER_WORKER + 1)


class SyncTransport(_Core):
    """Runs operations on an ``httpx.Client``; paged lists fetch ahead with a thread pool."""

    def __init__(self, options: ClientOptions, auth: Auth, dialect: Dialect) -> None:
        super().__init__(options, auth, dialect)
        self.client, self._owns_client, self._lanes = options.sync_client()
        if self._owns_client:
            self.own_defaults = OwnClientDefaults.of(self.client)
        self._login_lock = threading.Lock()
        self._closed = False

    def run(self, op: Operation[T]) -> T:
        return self.finish(op, self.respond(op))

    def respond(self, op: Operation[Any]) -> httpx.Response:
        """The final answer to ``op``, not yet read."""
        flow = self.exchange(self.client, op)
        outcome: Any = None
        send = self.client.send if self._lanes is None else self._send_on_lane
        while True:
            try:
                action = flow.send(outcome)
            except StopIteration as done:
                response: httpx.Response = done.value
                return response
            outcome = None
            if type(action) is Send:
                try:
                    outcome = send(action.request)
                except httpx.TransportError as exc:
                    outcome = exc
            elif type(action) is Sleep:
                time.sleep(action.seconds)
            elif type(action) is Login:
                self._login(action.stale_token)

    def _send_on_lane(self, request: httpx.Request) -> httpx.Response:
        """``client.send`` for a client of the SDK's own, less what such a client never uses.

        httpx's ``send`` runs an auth flow, a redirect loop and event hooks, and hands every
        answer to the standard library's cookie jar: a third of the flows' work per call
        (py-spy). The SDK's own client has no auth, hooks or redirects to follow, so a request
        goes straight to this thread's lane; a cookie the server sets is still kept.
        """
        if self._closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        assert self._lanes is not None
        try:
            response = self._lanes.send(request)
        except httpx.TransportError as exc:
            exc.request = request
            raise
        if "set-cookie" in response.headers:
            self.client.cookies.extract_cookies(response)
        return response

    def _login(self, stale_token: str | None) -> None:
        login = self.auth.login
        assert login is not None
        with self._login_lock:  # one login at a time; the others reuse its token
            if self.auth.token == stale_token:
                logger.info("logging in to %s", self.dialect.name)
                self.auth.token = self.run(login)

    def iterate(self, pager: Pager[T]) -> Iterator[T]:
        fresh = self.dedupe(pager)
        last = self.run(pager.first)
        pending = iter(pager.plan(last))
        ahead = list(islice(pending, read_ahead(pager)))
        if ahead:
            # The first page tells the pages to come: they are asked for before the caller reads
            # its records. The pool runs `concurrency` requests at a time (one, in a sequential
            # walk); pages queued behind them let a free worker start the next request while an
            # earlier page is still in flight. Workers only fetch: the reader reads, so a slot is
            # free again as soon as its answer arrives, not after the models of every page ahead
            # of it are built.
            pool = ThreadPoolExecutor(max_workers=pager.concurrency, thread_name_prefix="leadbridge-page")
            try:
                window: deque[tuple[Operation[PageLike[T]], Future[httpx.Response]]] = deque(
                    (op, pool.submit(self.respond, op)) for op in ahead
                )
                del ahead
                for part in fresh(last):
                    yield from part
                while window:
                    op, answer = window.popleft()
                    response = answer.result()
                    following = next(pending, None)
                    if following is not None:
                        window.append((following, pool.submit(self.respond, following)))
                    del last  # see the note in _Core.dedupe
                    last = self.finish(op, response)
                    for part in fresh(last):
                        yield from part
            finally:
                # A walk left early sends nothing more: the pages queued are dropped and the
                # requests under way are waited for (a thread cannot be interrupted mid-request).
                pool.shutdown(wait=True, cancel_futures=True)
        else:
            for part in fresh(last):
                yield from part
        while (following_op := pager.follow(last)) is not None:
            del last
            last = self.run(following_op)
            for part in fresh(last):
                yield from part

    def close(self) -> None:
        self._closed = True
        if self._owns_client:
            self.client.close()
            if self._lanes is not None:
                self._lanes.close()


class AsyncTransport(_Core):
    """Runs operations on an ``httpx.AsyncClient``; paged lists fetch ahead with asyncio tasks."""

    is_async = True

    def __init__(self, options: ClientOptions, auth: Auth, dialect: Dialect) -> None:
        super().__init__(options, auth, dialect)
        self.client, self._owns_client = options.async_client()
        if self._owns_client:
            self.own_defaults = OwnClientDefaults.of(self.client)
        self._login_lock: asyncio.Lock | None = None

    async def run(self, op: Operation[T]) -> T:
        return self.finish(op, await self.respond(op))

    async def respond(self, op: Operation[Any]) -> httpx.Response:
        """The final answer to ``op``, not yet read."""
        flow = self.exchange(self.client, op)
        outcome: Any = None
        send = self.client.send
        while True:
            try:
                action = flow.send(outcome)
            except StopIteration as done:
                response: httpx.Response = done.value
                return response
            outcome = None
            if type(action) is Send:
                try:
                    outcome = await send(action.request)
                except httpx.TransportError as exc:
                    outcome = exc
            elif type(action) is Sleep:
                await asyncio.sleep(action.seconds)
            elif type(action) is Login:
                await self._login(action.stale_token)

    async def _login(self, stale_token: str | None) -> None:
        login = self.auth.login
        assert login is not None
        if self._login_lock is None:
            self._login_lock = asyncio.Lock()
        async with self._login_lock:  # one login at a time; the others reuse its token
            if self.auth.token == stale_token:
                logger.info("logging in to %s", self.dialect.name)
                self.auth.token = await self.run(login)

    async def iterate(self, pager: Pager[T]) -> AsyncIterator[T]:
        fresh = self.dedupe(pager)
        last = await self.run(pager.first)
        pending = iter(pager.plan(last))
        in_flight = asyncio.Semaphore(pager.concurrency)

        async def fetch(op: Operation[PageLike[T]]) -> httpx.Response:
            async with in_flight:
                return await self.respond(op)

        # As in the sync transport: the pages to come asked for before the first page's records
        # are read, `concurrency` requests at a time, more pages queued, and each page read by
        # the reader when it reaches it. A page read as soon as it arrived held the event loop
        # while the other answers of its wave waited, and their slots' next requests with them:
        # the walk took 1.16x raw httpx's in bench/sdk.py, against 1.09x read by the reader.
        window: deque[tuple[Operation[PageLike[T]], asyncio.Task[httpx.Response]]] = deque(
            (op, asyncio.ensure_future(fetch(op))) for op in islice(pending, read_ahead(pager))
        )
        try:
            if window:
                await asyncio.sleep(0)  # the first requests go out before the first page is read
            for part in fresh(last):
                for item in part:
                    yield item
                await asyncio.sleep(0)
            while window:
                op, answer = window.popleft()
                following = next(pending, None)
                if following is not None:
                    window.append((following, asyncio.ensure_future(fetch(following))))
                del last  # see the note in _Core.dedupe
                last = self.finish(op, await answer)
                # Awaiting a page that has already arrived does not pass through the event loop,
                # so a reader going through pages that came in together would keep the answers
                # and requests of the other slots waiting until it caught up. One turn of the
                # loop after each part of a page (its models built a part at a time) lets them
                # go on.
                for part in fresh(last):
                    for item in part:
                        yield item
                    await asyncio.sleep(0)
        finally:
            # A walk left early (or failed) cancels the requests under way and waits until they
            # are: none is left running, or sending, once the walk is closed.
            tasks = [task for _, task in window]
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks)
                for task in tasks:  # a page that failed ahead of the walk's end is not an error of it
                    if not task.cancelled():
                        task.exception()
        while (following_op := pager.follow(last)) is not None:
            del last
            last = await self.run(following_op)
            for part in fresh(last):
                for item in part:
                    yield item

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.aclose()
