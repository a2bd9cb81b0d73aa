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
from collections import deque
from collections.abc import AsyncIterator, Callable, Generator, Hashable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
import pydantic
import pydantic_core

from leadbridge import errors
from leadbridge.sdk._core import Operation, PageLike, Pager

T = TypeVar("T")
# Pages fetched ahead of the reader per concurrent request: bounds memory while keeping
# every request slot busy when pages complete out of order.
PAGES_AHEAD_PER_WORKER = 4


logger = logging.getLogger("leadbridge.sdk")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
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

    Idempotent calls (GET, PUT, …) are retried on connection errors, timeouts, 429 and
    5xx. Other calls (POST) are retried only when the connection was never made
    (``httpx.ConnectError`` / ``ConnectTimeout``), so a message is never sent twice.
    """

    max_retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0

    def backoff_delay(self, attempt: int) -> float:
        ceiling = min(self.max_backoff, self.backoff * (2.0**attempt))
        return ceiling / 2 + random.random() * ceiling / 2  # "equal jitter": never zero, never in lockstep

    def after_error(self, method: str, exc: httpx.TransportError, attempt: int) -> float | None:
        if attempt >= self.max_retries:
            return None
        never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
        if never_sent or method in IDEMPOTENT_METHODS:
            return self.backoff_delay(attempt)
        return None

    def after_response(self, method: str, response: httpx.Response, attempt: int) -> float | None:
        if attempt >= self.max_retries or response.status_code not in RETRY_STATUSES:
            return None
        if method not in IDEMPOTENT_METHODS:
            return None
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        return self.backoff_delay(attempt)


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


class RateLimiter:
    """Spaces requests at most ``per_second`` apart; shared by every thread or task of a client."""

    def __init__(self, per_second: float | None) -> None:
        if per_second is not None and per_second <= 0:
            raise ValueError("rate_limit must be a positive number of requests per second")
        self.interval = 1.0 / per_second if per_second else 0.0
        self._next_free = 0.0
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Book the next slot; returns how long the caller must wait for it."""
        if not self.interval:
            return 0.0
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_free)
            self._next_free = start + self.interval
            return start - now


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


def default_error_details(body: Any) -> tuple[str | None, dict[str, list[str]]]:
    """The message and per-field errors of an error body (Leeloo, Laravel and FastAPI styles)."""
    if not isinstance(body, dict):
        return (body.strip()[:200] or None) if isinstance(body, str) else None, {}
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
    return (str(message) if message is not None else None), field_errors


@dataclass(frozen=True)
class Dialect:
    """What is specific to one API's HTTP answers.

    ``body_error`` returns a message when a 2xx body is in fact an error (Leeloo's
    ``status != 1``), else ``None``.
    """

    name: str
    body_error: Callable[[Any], str | None] = lambda body: None
    error_details: Callable[[Any], tuple[str | None, dict[str, list[str]]]] = default_error_details


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


@dataclass
class ClientOptions:
    base_url: str
    timeout: float | httpx.Timeout = 30.0
    max_retries: int = 3
    retry: RetryPolicy | None = None
    rate_limit: float | None = None
    http2: bool = False
    max_connections: int = 20
    headers: Mapping[str, str] | None = None
    user_agent: str = "leadbridge-sdk"

    def client_kwargs(self) -> dict[str, Any]:
        limits = httpx.Limits(max_connections=self.max_connections, max_keepalive_connections=self.max_connections)
        headers = {"Accept": "application/json", "User-Agent": self.user_agent, **(self.headers or {})}
        return {"base_url": self.base_url, "timeout": self.timeout, "limits": limits, "http2": self.http2,
                "headers": headers}


class _Core:
    """State and logic shared by the sync and async transports."""

    is_async = False

    def __init__(self, options: ClientOptions, auth: Auth, dialect: Dialect) -> None:
        self.options = options
        self.auth = auth
        self.dialect = dialect
        self.retry = options.retry or RetryPolicy(max_retries=options.max_retries)
        self.limiter = RateLimiter(options.rate_limit)

    def build_request(self, client: httpx.Client | httpx.AsyncClient, op: Operation[Any]) -> httpx.Request:
        headers: dict[str, str] = {}
        if op.authenticated:
            self.auth.apply(headers)
        files = {key: (None, value) for key, value in op.form.items()} if op.form is not None else None
        # The same encoding httpx gives ``params=``, at half its cost per call.
        url = f"{op.path}?{urlencode(op.params)}" if op.params else op.path
        return client.build_request(op.method, url, json=op.json, files=files, headers=headers)

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
                delay = self.retry.after_error(op.method, outcome, attempt)
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
            delay = self.retry.after_response(op.method, response, attempt)
            if delay is not None:
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
                return op.parse_bytes(response.content)
            except ValueError:
                pass  # not the success shape: the general way below tells what it is
        body = self.decode(response)
        if status >= 400:
            raise self.api_error(op, status, body, response)
        message = self.dialect.body_error(body)
        if message is not None:
            raise self.api_error(op, status, body, response, message=message)
        try:
            return op.parse(body)
        except (pydantic.ValidationError, LookupError, TypeError) as exc:
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

    def api_error(self, op: Operation[Any], status: int, body: Any, response: httpx.Response,
                  message: str | None = None) -> errors.APIStatusError:
        api_message, field_errors = self.dialect.error_details(body)
        text = message or api_message or response.reason_phrase or "error"
        if status < 400:
            code = body.get("code") if isinstance(body, dict) else None
            cls = errors.error_class_for(code) if isinstance(code, int) and code >= 400 else errors.APIStatusError
        else:
            cls = errors.error_class_for(status)
        common: dict[str, Any] = {"status": status, "method": op.method, "path": op.path,
                                  "field_errors": field_errors, "body": body}
        if cls is errors.RateLimitError:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            return errors.RateLimitError(text, retry_after=retry_after, **common)
        return cls(text, **common)

    @staticmethod
    def connection_error(op: Operation[Any], exc: httpx.TransportError) -> errors.APIConnectionError:
        cls = errors.APITimeoutError if isinstance(exc, httpx.TimeoutException) else errors.APIConnectionError
        return cls(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, method=op.method, path=op.path)

    @staticmethod
    def dedupe(pager: Pager[T]) -> Callable[[PageLike[T]], list[T]]:
        """Keeps the items of a page not yielded before (by ``pager.identity``).

        The walks drop the page they have yielded (``del last``) before building the next:
        its models are then freed at once, instead of being kept alive through the next
        page's garbage collections and promoted to older generations, whose full
        collections would stall the walk (and, in asyncio, every request in flight).
        """
        seen: set[Hashable] = set()
        identity = pager.identity

        def fresh(page: PageLike[T]) -> list[T]:
            out = []
            for item in page.items:
                key = identity(item)
                if key is not None:
                    if key in seen:
                        continue
                    seen.add(key)
                out.append(item)
            return out

        return fresh


class SyncTransport(_Core):
    """Runs operations on an ``httpx.Client``; paged lists fetch ahead with a thread pool."""

    def __init__(self, options: ClientOptions, auth: Auth, dialect: Dialect) -> None:
        super().__init__(options, auth, dialect)
        self.client = httpx.Client(**options.client_kwargs())
        self._login_lock = threading.Lock()

    def run(self, op: Operation[T]) -> T:
        return self.finish(op, self.respond(op))

    def respond(self, op: Operation[Any]) -> httpx.Response:
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
                    outcome = send(action.request)
                except httpx.TransportError as exc:
                    outcome = exc
            elif type(action) is Sleep:
                time.sleep(action.seconds)
            elif type(action) is Login:
                self._login(action.stale_token)

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
        yield from fresh(last)
        planned = pager.plan(last)
        if pager.concurrency > 1 and len(planned) > 1:
            pool = ThreadPoolExecutor(max_workers=pager.concurrency, thread_name_prefix="leadbridge-page")
            try:
                pending = iter(planned)
                # The pool runs `concurrency` requests at a time; pages queued behind them let a
                # free worker start the next request while an earlier page is still in flight.
                # Workers only fetch: the reader reads, so a slot is free again as soon as its
                # answer arrives, not after the models of every page ahead of it are built.
                window: deque[tuple[Operation[PageLike[T]], Future[httpx.Response]]] = deque(
                    (op, pool.submit(self.respond, op))
                    for op in islice(pending, pager.concurrency * PAGES_AHEAD_PER_WORKER)
                )
                while window:
                    op, answer = window.popleft()
                    response = answer.result()
                    following = next(pending, None)
                    if following is not None:
                        window.append((following, pool.submit(self.respond, following)))
                    del last  # see the note in _Core.dedupe
                    last = self.finish(op, response)
                    yield from fresh(last)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
        else:
            for op in planned:
                del last
                last = self.run(op)
                yield from fresh(last)
        while (following_op := pager.follow(last)) is not None:
            del last
            last = self.run(following_op)
            yield from fresh(last)

    def close(self) -> None:
        self.client.close()


class AsyncTransport(_Core):
    """Runs operations on an ``httpx.AsyncClient``; paged lists fetch ahead with asyncio tasks."""

    is_async = True

    def __init__(self, options: ClientOptions, auth: Auth, dialect: Dialect) -> None:
        super().__init__(options, auth, dialect)
        self.client = httpx.AsyncClient(**options.client_kwargs())
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
        for item in fresh(last):
            yield item
        planned = pager.plan(last)
        if pager.concurrency > 1 and len(planned) > 1:
            pending = iter(planned)
            in_flight = asyncio.Semaphore(pager.concurrency)

            async def fetch(op: Operation[Any]) -> httpx.Response:
                async with in_flight:
                    return await self.respond(op)

            # As in the sync transport: `concurrency` requests at a time, more pages queued,
            # and pages read by the reader once their slot is free again.
            window: deque[tuple[Operation[PageLike[T]], asyncio.Task[httpx.Response]]] = deque(
                (op, asyncio.ensure_future(fetch(op)))
                for op in islice(pending, pager.concurrency * PAGES_AHEAD_PER_WORKER)
            )
            try:
                while window:
                    op, answer = window.popleft()
                    response = await answer
                    following = next(pending, None)
                    if following is not None:
                        window.append((following, asyncio.ensure_future(fetch(following))))
                        # Let the new request go out before this page is read.
                        await asyncio.sleep(0)
                    del last  # see the note in _Core.dedupe
                    last = self.finish(op, response)
                    for item in fresh(last):
                        yield item
            finally:
                for _, task in window:
                    task.cancel()
        else:
            for op in planned:
                del last
                last = await self.run(op)
                for item in fresh(last):
                    yield item
        while (following_op := pager.follow(last)) is not None:
            del last
            last = await self.run(following_op)
            for item in fresh(last):
                yield item

    async def aclose(self) -> None:
        await self.client.aclose()
