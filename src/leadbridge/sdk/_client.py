"""What every client shares: options, the transport, closing, and a repr without secrets."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from types import TracebackType
from typing import Any, ClassVar, Generic, Literal, Self, TypedDict, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, TypeAdapter, create_model

from leadbridge.sdk._core import Async, Mode, Operation, Sync
from leadbridge.sdk._http import (
    AsyncTransport,
    Auth,
    BearerAuth,
    ClientOptions,
    Dialect,
    HttpClient,
    RateLimit,
    RetryPolicy,
    SyncTransport,
)

M = TypeVar("M", bound=BaseModel)


@cache
def list_adapter(model: type[M]) -> TypeAdapter[list[M]]:
    """A cached validator of a list of ``model`` (validating a list at once is faster than item by item)."""
    return TypeAdapter(list[model])  # type: ignore[valid-type]


class _One(Generic[M]):
    """Reads ``body[key]`` as ``model``, ``side`` copied into it (see :func:`one`).

    ``from_bytes`` reads a successful answer straight from its bytes, in one pass of
    pydantic-core: ``{key: record, "status": 1 (or none), side: {...}}``. Any other body
    raises ``ValueError``, and the transport then reads it the general way (decoded, checked
    for an error, then read by calling this object), which names what is wrong with it.
    """

    def __init__(self, model: type[M], side: str | None, key: str) -> None:
        self.model, self.side, self.key = model, side, key
        fields: dict[str, Any] = {key: (model, ...), "status": (Literal[1], 1)}
        if side is not None:
            fields[side] = (dict[str, Any] | None, None)
            # The side block is read as the record's own field would read it.
            annotation: Any = model.model_fields[side].annotation
            self._side: TypeAdapter[Any] = TypeAdapter(annotation)
        self._answer = create_model(f"{model.__name__}Answer", __config__=ConfigDict(extra="ignore"), **fields)

    def __call__(self, body: Any) -> M:
        record = body[self.key]
        side = self.side
        if side is not None and isinstance(body.get(side), dict) and body[side]:
            record = {**record, side: body[side]}
        return self.model.model_validate(record)

    def from_bytes(self, content: bytes) -> M:
        answer = self._answer.model_validate_json(content)
        record: M = getattr(answer, self.key)
        if self.side is not None:
            block = getattr(answer, self.side)
            if block:  # a non-empty object, as __call__ reads it
                setattr(record, self.side, self._side.validate_python(block))
        return record


@cache
def one(model: type[M], *, side: str | None = None, key: str = "data") -> _One[M]:
    """Reads ``body[key]`` as ``model``; ``side`` copies a side-loading block (``included``) into it."""
    return _One(model, side, key)


def many(model: type[M], *path: str) -> Callable[[Any], list[M]]:
    """Reads the list at ``body[path…]`` as models."""
    adapter = list_adapter(model)

    def parse(body: Any) -> list[M]:
        for key in path:
            body = body[key]
        return adapter.validate_python(body)

    return parse


def nothing(body: Any) -> None:
    """For calls whose answer carries nothing but success (``{"status": 1, "data": {}}``)."""
    return None


class ClientSettings(TypedDict, total=False):
    """Keyword options every client accepts.

    ``timeout`` (seconds or ``httpx.Timeout``, default 30), ``max_retries`` (default 3) or a
    whole ``retry`` policy, ``rate_limit`` (a :class:`RateLimit`, or requests per second;
    Leeloo's default keeps within its 300 a minute, the others' is unlimited; ``None`` lifts it),
    ``http2`` (needs the ``http2`` extra), ``max_connections`` (pool size, default 20),
    extra ``headers``, and ``http_client``: an ``httpx.Client`` (``AsyncClient`` for the async
    clients) to send with, used as given and left open, or an httpx transport for the SDK's own
    client, e.g. ``httpx.ASGITransport(app=create_app())`` to run a sandbox in-process.
    """

    timeout: float | httpx.Timeout
    max_retries: int
    retry: RetryPolicy | None
    rate_limit: RateLimit | float | None
    http2: bool
    max_connections: int
    headers: Mapping[str, str] | None
    http_client: HttpClient | None


class BaseClient(Generic[Mode]):
    """Shared construction of the sync and async clients of one platform."""

    dialect: ClassVar[Dialect]
    default_base_url: ClassVar[str]
    default_rate_limit: ClassVar[RateLimit | None] = None
    _is_async: ClassVar[bool] = False

    def _setup(self, auth: Auth, base_url: str | None, settings: ClientSettings) -> None:
        if "rate_limit" not in settings:  # given as None, the limit is lifted
            settings = {**settings, "rate_limit": self.default_rate_limit}
        options = ClientOptions(base_url=(base_url or self.default_base_url).rstrip("/"), **settings)
        self._options = options
        transport_class = AsyncTransport if self._is_async else SyncTransport
        self._transport: SyncTransport | AsyncTransport = transport_class(options, auth, self.dialect)

    def _setup_bearer(self, credentials: tuple[str, str | None, str | None], token: str | None,
                      login: Callable[[str, str], Operation[str]], base_url: str | None,
                      settings: ClientSettings) -> None:
        """Bearer auth (Neiros, Dialog): the token given, or one the client logs in for on first use
        with ``credentials`` (the user field's name, the user, the password)."""
        field, user, password = credentials
        if token is None and (not user or password is None):
            raise ValueError(f"{self.dialect.name} needs {field} and password, or a token")
        login_call = login(user, password) if user and password is not None else None
        self._setup(BearerAuth(token, login_call), base_url, settings)

    @property
    def base_url(self) -> str:
        return self._options.base_url

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, auth={self._transport.auth!r})"


class SyncClientMixin(BaseClient[Sync]):
    def close(self) -> None:
        """Close the connection pool."""
        transport = self._transport
        assert isinstance(transport, SyncTransport)
        transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class AsyncClientMixin(BaseClient[Async]):
    _is_async = True

    async def aclose(self) -> None:
        """Close the connection pool."""
        transport = self._transport
        assert isinstance(transport, AsyncTransport)
        await transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()
