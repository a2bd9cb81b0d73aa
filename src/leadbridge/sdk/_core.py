"""Endpoints defined once, run by a sync or an async client.

A resource method builds an :class:`Operation` (what to send and how to read the answer)
or a :class:`Pager` (how to walk a list). The :func:`endpoint` and :func:`paged`
descriptors hand that description to the resource's transport: a sync transport runs it
and returns the result, an async one returns a coroutine (or an async iterator). The
descriptors' overloads carry each method's parameters through ``ParamSpec``, so
``Leeloo().people.get`` is typed ``(person_id: str, …) -> Person`` and
``AsyncLeeloo().people.get`` is typed ``(person_id: str, …) -> Coroutine[…, Person]``.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Coroutine, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Concatenate, Generic, ParamSpec, Protocol, TypeVar, overload

from leadbridge.contract import Endpoint

T = TypeVar("T")
P = ParamSpec("P")
T_co = TypeVar("T_co", covariant=True)


class Sync:
    """Marker: the resource belongs to a blocking client."""


class Async:
    """Marker: the resource belongs to an asyncio client."""


Mode = TypeVar("Mode", Sync, Async)


@dataclass(frozen=True, slots=True)
class Operation(Generic[T]):
    """One HTTP exchange: the request to send and the function reading the decoded JSON answer.

    ``form`` bodies go out as multipart form-data, ``urlencoded`` ones as
    ``application/x-www-form-urlencoded``, ``json`` bodies as JSON; ``authenticated`` is false
    only for login calls, which must not trigger a login themselves.

    ``idempotent`` says whether the call may be sent again once it may have reached the
    server (a read, a tag added, a card's fields set): the endpoint declares it, as it is a
    property of what the call does, not of its HTTP method (Leeloo's add-comment is a PUT that
    creates a comment). Calls that are not are only resent when the server cannot have acted.

    ``parse_bytes``, when given, reads a successful answer straight from its bytes (one
    pass of pydantic-core, no intermediate Python objects). It raises ``ValueError`` on a
    body of any other shape, such as an error envelope, which then goes the general way:
    decoded, checked for errors, and read by ``parse``.
    """

    method: str
    path: str
    parse: Callable[[Any], T]
    params: list[tuple[str, str]] | None = None
    json: Any = field(default=None, repr=False)  # may hold a password (login calls)
    form: dict[str, str] | None = field(default=None, repr=False)
    authenticated: bool = True
    parse_bytes: Callable[[bytes], T] | None = None
    idempotent: bool = False
    urlencoded: dict[str, str] | None = field(default=None, repr=False)  # may hold a password (login calls)


def call(entry: Endpoint, parse: Callable[[Any], T], *ids: str | int, **request: Any) -> Operation[T]:
    """The :class:`Operation` of a contract table entry: its method and idempotency, its path
    filled with ``ids``; ``request`` adds what to send (params, json, form, …). A ``parse`` that
    can also read the answer's bytes (``parse.from_bytes``, as ``one(Model)`` does) reads them."""
    return Operation(entry.method, entry.url(*ids), parse, idempotent=entry.idempotent,
                     parse_bytes=getattr(parse, "from_bytes", None), **request)


class PageLike(Protocol[T_co]):
    @property
    def items(self) -> Sequence[T_co]: ...

    def parts(self, size: int) -> Iterator[Sequence[T_co]]: ...


PageT = TypeVar("PageT", bound=PageLike[Any])


@dataclass(frozen=True, slots=True)
class Pager(Generic[T]):
    """How to walk a paged list: the first page, the pages its answer announces, and what follows.

    ``plan`` lists the remaining pages known from the first answer (fetched concurrently
    when ``concurrency`` > 1, yielded in order); ``follow`` asks for one more page after the
    last one fetched, for lists that grew meanwhile. ``identity`` gives each item's key so
    that an item shifted across a page boundary is not yielded twice.
    """

    first: Operation[PageLike[T]]
    plan: Callable[[Any], list[Operation[PageLike[T]]]]
    follow: Callable[[Any], Operation[PageLike[T]] | None]
    concurrency: int = 1
    identity: Callable[[T], Hashable | None] = field(default=lambda item: getattr(item, "id", None))


class Transport(Protocol):
    """What a resource needs of its client's transport (``_http.SyncTransport`` or ``AsyncTransport``);
    named here by its shape, since ``_http`` itself builds on this module."""

    is_async: bool

    def run(self, op: Operation[Any]) -> Any: ...

    def iterate(self, pager: Pager[Any]) -> Any: ...


class Resource(Generic[Mode]):
    """A group of endpoints sharing the client's transport.

    A method several resources share (a base class's) names each one's records and endpoint
    in its docstring through ``{word}``s, which the resource's ``doc_words`` fill in.
    """

    doc_words: ClassVar[Mapping[str, str]] = {}

    def __init__(self, transport: Transport) -> None:
        self._transport = transport


def words(**meanings: str) -> Mapping[str, str]:
    """A resource's ``doc_words``: ``words(records="users", path="/api/v2/users")``."""
    return MappingProxyType(meanings)


R = TypeVar("R")


class _Builder(Generic[P, R]):
    """A method that builds a request description; subclasses say how a transport runs it."""

    def __init__(self, build: Callable[Concatenate[Any, P], R]) -> None:
        self.build = build
        self.name = build.__name__
        functools.update_wrapper(self, build)  # type: ignore[arg-type]

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name

    def bind(self, obj: Resource[Any], bound: Callable[..., Any]) -> Callable[..., Any]:
        """``bound`` as ``obj``'s method: named and documented as the method, kept on ``obj`` so that
        later lookups skip the descriptor."""
        bound = functools.wraps(self.build)(bound)
        doc = bound.__doc__
        for word, meaning in obj.doc_words.items():
            doc = doc and doc.replace("{" + word + "}", meaning)
        bound.__doc__ = doc
        obj.__dict__[self.name] = bound
        return bound


class endpoint(_Builder[P, Operation[T]]):
    """Turns a method returning an :class:`Operation` into a method returning its result."""

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> endpoint[P, T]: ...
    @overload
    def __get__(self, obj: Resource[Sync], owner: type[Any]) -> Callable[P, T]: ...
    @overload
    def __get__(self, obj: Resource[Async], owner: type[Any]) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(self, obj: Any, owner: Any) -> Any:
        if obj is None:
            return self
        build = self.build
        transport = obj._transport
        run = transport.run
        if transport.is_async:

            async def bound_async(*args: Any, **kwargs: Any) -> Any:
                return await run(build(obj, *args, **kwargs))

            return self.bind(obj, bound_async)

        def bound_sync(*args: Any, **kwargs: Any) -> Any:
            return run(build(obj, *args, **kwargs))

        return self.bind(obj, bound_sync)


class paged(_Builder[P, Pager[T]]):
    """Turns a method returning a :class:`Pager` into one returning an (async) iterator of items."""

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> paged[P, T]: ...
    @overload
    def __get__(self, obj: Resource[Sync], owner: type[Any]) -> Callable[P, Iterator[T]]: ...
    @overload
    def __get__(self, obj: Resource[Async], owner: type[Any]) -> Callable[P, AsyncIterator[T]]: ...
    def __get__(self, obj: Any, owner: Any) -> Any:
        if obj is None:
            return self
        build = self.build
        iterate = obj._transport.iterate

        def bound(*args: Any, **kwargs: Any) -> Any:
            return iterate(build(obj, *args, **kwargs))

        return self.bind(obj, bound)
