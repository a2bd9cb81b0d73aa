"""Leeloo webhooks: typed events and an ASGI receiver (httpx + pydantic only, like the SDK).

Leeloo POSTs one JSON body per event to the URL a company sets: ``{"type": "ORDER" |
"SALE" | "SUBSCRIPTION" | "INCOMING_MESSAGE", "data": {...}}``, with no signature, at
least once (the same body may come twice, late, or out of order)::

    from leadbridge import webhooks

    event = webhooks.parse(request_body)
    if isinstance(event, webhooks.IncomingMessageEvent):
        print(event.data.person_id, event.data.text)
    seen = event.dedupe_key   # equal for every redelivery of one event

:func:`parse` is tolerant: fields it does not know are kept (``model_extra``), an event
type it does not know comes back as :class:`UnknownEvent`, and a field of an unexpected
type reads as ``None`` (the body stays in ``event.raw``). Only what identifies an event
must be there: the ids in :attr:`WebhookEvent.dedupe_key`; without them :func:`parse`
raises :class:`WebhookError` naming the field.

:class:`Receiver` is an ASGI application to mount in your own app (Starlette, FastAPI,
any ASGI server): it calls a handler per event and answers 200 only once the handler has
returned, so an event your handler failed on is delivered again.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, WrapValidator
from pydantic_core import PydanticUseDefault

from leadbridge.contract.leeloo import NOT_DEFINED
from leadbridge.contract.leeloo import WEBHOOK_EVENTS as EVENT_TYPES
from leadbridge.sdk.models._base import UTCDateTime

log = logging.getLogger("leadbridge.webhooks")

# Bounds on what enters: a webhook body is small (a few hundred bytes); ids are Leeloo's
# 24-hex strings, kept well within the 200 characters a deduplication key may take.
MAX_BODY_BYTES = 1024 * 1024
MAX_ID_CHARS = 64
MAX_TYPE_CHARS = 40


class WebhookError(ValueError):
    """A body that is not an event: not JSON, not an object, no ``type``, or a known event without its ids."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _lenient(value: Any, handler: Callable[[Any], Any]) -> Any:
    """A field of an unexpected type reads as its default (None) rather than failing the event."""
    try:
        return handler(value)
    except ValidationError:
        raise PydanticUseDefault() from None


def _defined(value: Any, handler: Callable[[Any], Any]) -> Any:
    """Leeloo's "NOT_DEFINED" placeholder (email, phone) reads as None, like the SDK's records."""
    if value == NOT_DEFINED:
        return None
    return _lenient(value, handler)


Lenient = Annotated[Any, WrapValidator(_lenient)]
Id = Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS)]
OptionalText = Annotated[str | None, WrapValidator(_lenient)]
Contact = Annotated[str | None, WrapValidator(_defined)]
When = Annotated[UTCDateTime | None, WrapValidator(_lenient)]


class EventData(BaseModel):
    """The ``data`` of an event; unknown fields are kept (``model_extra``), numbers given for text read as text."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True, frozen=True)

    account_id: OptionalText = None
    email: Contact = None
    phone: Contact = None
    created_at: When = None


class OrderData(EventData):
    order_id: Id
    offer_name: OptionalText = None
    price: Annotated[float | None, WrapValidator(_lenient)] = None
    currency: OptionalText = None


class SaleData(OrderData):
    """An order that became paid; ``created_at`` is when it was paid."""

    payment_method: OptionalText = None


class IncomingMessageData(EventData):
    """Our reading of Leeloo's INCOMING_MESSAGE event (docs/fidelity.md): a message a person wrote."""

    message_id: Id
    person_id: OptionalText = None
    text: OptionalText = None


class SubscriptionData(EventData):
    """Our reading of Leeloo's SUBSCRIPTION event (docs/fidelity.md): who subscribed, where, from which source."""

    person_id: OptionalText = None
    tunnel_id: OptionalText = None
    leadgentool_id: OptionalText = None
    source: OptionalText = None


class WebhookEvent(BaseModel):
    """One delivered event. ``raw`` is the body as decoded; ``dedupe_key`` is equal for each redelivery."""

    model_config = ConfigDict(extra="allow", frozen=True)
    type: str
    raw: dict[str, Any] = Field(default_factory=dict, exclude=True, repr=False)

    @property
    def dedupe_key(self) -> str:
        raise NotImplementedError

    @property
    def person_id(self) -> str | None:
        """The Leeloo person the event is about, when the event names one."""
        return None


class _RecordEvent(WebhookEvent):
    """An event about one record whose id its data carries (the field ``ID_FIELD``): the type
    and that id make the deduplication key."""

    ID_FIELD: ClassVar[str]
    data: EventData

    @property
    def dedupe_key(self) -> str:
        return f"{self.type}:{getattr(self.data, self.ID_FIELD)}"


class OrderEvent(_RecordEvent):
    ID_FIELD = "order_id"
    type: Literal["ORDER"]
    data: OrderData


class SaleEvent(_RecordEvent):
    ID_FIELD = "order_id"
    type: Literal["SALE"]
    data: SaleData


class IncomingMessageEvent(_RecordEvent):
    ID_FIELD = "message_id"
    type: Literal["INCOMING_MESSAGE"]
    data: IncomingMessageData

    @property
    def person_id(self) -> str | None:
        return self.data.person_id


class SubscriptionEvent(WebhookEvent):
    type: Literal["SUBSCRIPTION"]
    data: SubscriptionData

    @property
    def dedupe_key(self) -> str:
        raw = self.raw.get("data", {}).get("created_at")
        # An unreadable time still tells subscriptions apart: its text is used as it came.
        when = self.data.created_at.isoformat() if self.data.created_at else str(raw)[:MAX_ID_CHARS]
        return f"SUBSCRIPTION:{self.data.account_id or '-'}:{self.data.leadgentool_id or '-'}:{when}"

    @property
    def person_id(self) -> str | None:
        return self.data.person_id


class UnknownEvent(WebhookEvent):
    """An event type this release does not know (Leeloo may add some): kept whole, never refused."""

    data: Lenient = None

    @property
    def dedupe_key(self) -> str:
        # No documented identity: the body itself, so only a byte-for-byte redelivery is a duplicate.
        digest = hashlib.sha256(json.dumps(self.raw, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        return f"{self.type[:MAX_TYPE_CHARS]}:{digest}"


Event = OrderEvent | SaleEvent | SubscriptionEvent | IncomingMessageEvent | UnknownEvent
_MODELS: dict[str, type[WebhookEvent]] = {"ORDER": OrderEvent, "SALE": SaleEvent, "SUBSCRIPTION": SubscriptionEvent,
                                          "INCOMING_MESSAGE": IncomingMessageEvent}


def parse(body: bytes | str | Mapping[str, Any]) -> Event:
    """The typed event of a webhook body (bytes, text or an already decoded mapping).

    Raises :class:`WebhookError` for a body that is not an event (see the module's docstring).
    """
    if isinstance(body, bytes | bytearray | str):
        if len(body) > MAX_BODY_BYTES:
            raise WebhookError(f"body: larger than {MAX_BODY_BYTES} bytes", "body")
        try:
            decoded = json.loads(body)
        except (ValueError, RecursionError):
            raise WebhookError("body: not JSON", "body") from None
    else:
        decoded = dict(body)
    if not isinstance(decoded, dict):
        raise WebhookError("body: not a JSON object", "body")
    kind = decoded.get("type")
    if not isinstance(kind, str) or not kind.strip():
        raise WebhookError("type: missing or not a string", "type")
    if len(kind) > MAX_TYPE_CHARS:
        raise WebhookError(f"type: longer than {MAX_TYPE_CHARS} characters", "type")
    model = _MODELS.get(kind)
    try:
        if model is None:
            return UnknownEvent.model_validate({**decoded, "raw": decoded})
        data = decoded.get("data")
        if not isinstance(data, dict):
            raise WebhookError(f"data: a {kind} event needs an object", "data")
        event = model.model_validate({**decoded, "raw": decoded})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise WebhookError(f"{where}: {first['msg']}", where) from None
    assert isinstance(event, OrderEvent | SaleEvent | SubscriptionEvent | IncomingMessageEvent)
    return event


Handler = Callable[[Event], Awaitable[None] | None]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class Receiver:
    """An ASGI app receiving Leeloo webhooks at ``paths`` (``POST /`` and ``/webhooks/leeloo`` by default).

    ``handler(event)`` is called once per delivery, sync (run in a worker thread) or async;
    the answer is 200 only after it returned, 500 when it raised (Leeloo delivers again),
    400 (naming the field) for a body that is not an event, 413 beyond ``max_body`` bytes.
    Deliveries repeat: deduplicate with ``event.dedupe_key``.

    Mount it in Starlette/FastAPI with ``app.mount("/hooks", Receiver(handle))``, or serve it
    alone: ``uvicorn.run(Receiver(handle))``. ``on_startup``/``on_shutdown`` run in the ASGI
    lifespan when it is served alone.
    """

    PATHS: ClassVar[tuple[str, ...]] = ("/", "/webhooks/leeloo")

    def __init__(self, handler: Handler, *, paths: tuple[str, ...] | None = None, max_body: int = MAX_BODY_BYTES,
                 on_startup: Callable[[], Awaitable[None]] | None = None,
                 on_shutdown: Callable[[], Awaitable[None]] | None = None) -> None:
        self.handler = handler
        self.paths = paths or self.PATHS
        self.max_body = max_body
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown
        self._is_async = inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
            type(handler).__call__)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope.get("path", "/")
        mounted = scope.get("root_path", "")
        if mounted and path.startswith(mounted):  # under app.mount(): the path arrives with its prefix
            path = path[len(mounted):] or "/"
        if path.rstrip("/") not in {p.rstrip("/") for p in self.paths}:
            await _answer(send, 404, {"error": "not found"})
            return
        if scope["method"] != "POST":
            await _answer(send, 405, {"error": "webhooks are POSTed"}, [(b"allow", b"POST")])
            return
        body = await _read_body(receive, self.max_body)
        if body is None:
            await _answer(send, 413, {"error": f"body: larger than {self.max_body} bytes", "field": "body"})
            return
        try:
            event = parse(body)
        except WebhookError as exc:
            await _answer(send, 400, {"error": str(exc), "field": exc.field})
            return
        try:
            if self._is_async:
                await self.handler(event)  # type: ignore[misc]
            else:
                await asyncio.to_thread(self.handler, event)
        except Exception:
            log.exception("webhook handler failed on a %s event; answered 500 so it is delivered again", event.type)
            await _answer(send, 500, {"error": "the event was not handled; deliver it again"})
            return
        await _answer(send, 200, {"ok": True})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    if self.on_startup is not None:
                        await self.on_startup()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.on_shutdown is not None:
                    await self.on_shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _answer(send: Send, status: int, payload: dict[str, Any],
                  headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


__all__ = ["EVENT_TYPES", "Event", "EventData", "IncomingMessageData", "IncomingMessageEvent", "OrderData",
           "OrderEvent", "Receiver", "SaleData", "SaleEvent", "SubscriptionData", "SubscriptionEvent",
           "UnknownEvent", "WebhookError", "WebhookEvent", "parse"]
