"""The sandbox's control API (``/_sandbox``): sync :class:`SandboxControl`, async :class:`AsyncSandboxControl`.

Tests and scripts set up, observe and disturb a sandbox with it, over HTTP like any other
client: ``SandboxControl("http://127.0.0.1:8765").clock.advance(86400)``. Method, path and
idempotency come from the control table (``leadbridge.contract.sandbox``). A sandbox
listening beyond loopback asks for its control token (``token=``, sent as ``X-Sandbox-Token``).

The answers' models live here rather than in ``sdk/models``: they describe the sandbox, not
a vendor, and a control call is then one table entry and one method. Like every SDK model
they keep fields they do not know.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Unpack

from leadbridge.contract.sandbox import ENDPOINTS as E
from leadbridge.contract.sandbox import TOKEN_HEADER
from leadbridge.sdk._client import AsyncClientMixin, BaseClient, ClientSettings, SyncClientMixin, many, one
from leadbridge.sdk._core import Async, Mode, Operation, Resource, Sync, call, endpoint
from leadbridge.sdk._http import Auth, Dialect
from leadbridge.sdk.models._base import Model, UTCDateTime, alias

DEFAULT_BASE_URL = "http://127.0.0.1:8765"
SANDBOX = Dialect("Sandbox")
Event = Literal["ORDER", "SALE", "SUBSCRIPTION", "INCOMING_MESSAGE"]
Target = Literal["api", "webhooks"]
DeliveryState = Literal["pending", "delivered", "failed"]


class ControlAuth(Auth):
    """No credentials on loopback; beyond it the control token printed when the sandbox started."""

    def __init__(self, token: str | None) -> None:
        self.token = token

    def apply(self, headers: dict[str, str]) -> None:
        if self.token is not None:
            headers[TOKEN_HEADER] = self.token

    def __repr__(self) -> str:
        return f"ControlAuth(token={'***' if self.token else None})"


# --- answers -------------------------------------------------------------------------------


class ClockState(Model):
    now: UTCDateTime
    offset_seconds: float


class LoggedRequest(Model):
    """One request the vendor APIs answered, secrets shown as ``***``."""

    id: int
    at: UTCDateTime
    method: str
    path: str
    query: str = ""
    api: str | None = None
    company_id: str | None = None
    status: int
    body: Any = None
    body_size: int = 0
    body_truncated: bool = False
    fault: str | None = None


class Fault(Model):
    """A fault in force, every setting as the sandbox holds it (see :meth:`Faults.add`)."""

    target: Target | str
    pattern: str
    methods: list[str] | None
    latency_ms: float
    error_rate: float
    error_status: int
    rate_limit_rate: float
    retry_after: int
    drop_rate: float
    duplicate_rate: float


class WebhookSetting(Model):
    company_id: str
    enabled: bool
    url: str
    events: list[str]


class WebhookDelivery(Model):
    """One delivery of an event; ``body`` is what was POSTed (``{"type", "data"}``)."""

    id: str
    state: DeliveryState | str
    event_type: Event | str
    company_id: str
    url: str
    attempts: int
    last_status: int | None = None
    last_error: str | None = None
    created_at: UTCDateTime
    delivered_at: UTCDateTime | None = None
    body: dict[str, Any]


class CreatedTag(Model):
    id: str
    name: str
    created: bool  # False: a tag of that name was already there


class CreatedTemplate(Model):
    id: str
    category_id: str
    category: str
    message_name: str
    text: str


class IncomingMessage(Model):
    account_id: str
    type: str
    text: str
    created_at: UTCDateTime


class PersonComment(Model):
    id: str
    text: str
    created_by: str
    created_at: UTCDateTime


class PersonCall(Model):
    id: str
    account_id: str
    from_number: str = alias("from")
    to: str
    date: UTCDateTime
    status: str
    duration: int
    type: str
    record_link: str | None = None


def _clock(body: Any) -> ClockState:
    return ClockState.model_validate(body)


def _done(body: Any) -> None:
    return None


# --- resources -----------------------------------------------------------------------------


class Clock(Resource[Mode]):
    """The sandbox clock (UTC), which Dialog campaigns, the world's activity and every date run on."""

    @endpoint
    def now(self) -> Operation[ClockState]:
        """The sandbox's time and how far it runs ahead of the real clock. GET /_sandbox/clock"""
        return call(E["clock"], _clock)

    @endpoint
    def advance(self, seconds: float) -> Operation[ClockState]:
        """Move the clock forward (the events of the skipped time happen). POST /_sandbox/clock/advance"""
        return call(E["clock_advance"], _clock, json={"seconds": float(seconds)})


class World(Resource[Mode]):
    """The data: reset, and the changes only a vendor's web interface or a messenger makes."""

    @endpoint
    def reset(self) -> Operation[None]:
        """Drop all data, clock, faults and logs, and seed the demo data again. POST /_sandbox/reset"""
        return call(E["reset"], _done)

    @endpoint
    def create_tag(self, name: str, company_id: str | None = None) -> Operation[CreatedTag]:
        """A Leeloo tag (harmless twice: an existing one is returned). POST /_sandbox/tags"""
        return call(E["tags_create"], one(CreatedTag), json=_tenant({"name": name}, company_id))

    @endpoint
    def create_template(self, message_name: str, text: str, category: str | None = None,
                        company_id: str | None = None) -> Operation[CreatedTemplate]:
        """A Leeloo message template with ``{placeholders}``, in ``category`` (made when missing).
        POST /_sandbox/templates"""
        body: dict[str, Any] = {"message_name": message_name, "text": text}
        if category is not None:
            body["category"] = category
        return call(E["templates_create"], one(CreatedTemplate), json=_tenant(body, company_id))

    @endpoint
    def incoming_message(self, account_id: str, text: str) -> Operation[IncomingMessage]:
        """A message the person writes to the bot on a channel (fires INCOMING_MESSAGE).
        POST /_sandbox/incoming-messages"""
        return call(E["incoming_message"], one(IncomingMessage), json={"account_id": account_id, "text": text})


class Requests(Resource[Mode]):
    """The log of requests the vendor APIs answered, to assert what a client sent."""

    @endpoint
    def list(self, method: str | None = None, path: str | None = None, since_id: int = 0,
             limit: int = 1000) -> Operation[list[LoggedRequest]]:
        """Logged requests oldest first: only ``method``, only paths containing ``path``, only ids
        above ``since_id``. GET /_sandbox/requests"""
        params = [("since_id", str(since_id)), ("limit", str(limit))]
        params += [(key, value) for key, value in (("method", method), ("path", path)) if value is not None]
        return call(E["requests"], many(LoggedRequest, "data"), params=params)

    @endpoint
    def clear(self) -> Operation[None]:
        """Empty the request log. DELETE /_sandbox/requests"""
        return call(E["requests_clear"], _done)


class Faults(Resource[Mode]):
    """Injected misbehaviour: latency, 5xx and 429 on API paths; delays, drops and duplicates on webhooks."""

    @endpoint
    def add(self, pattern: str = ".*", *, latency_ms: float = 0, error_rate: float = 0, error_status: int = 503,
            rate_limit_rate: float = 0, retry_after: int = 1, methods: Sequence[str] | None = None,
            target: Target = "api", drop_rate: float = 0,
            duplicate_rate: float = 0) -> Operation[list[Fault]]:
        """Add a fault on paths (or, target webhooks, event types) where ``pattern`` (RE2) is found;
        returns every fault in force. POST /_sandbox/faults"""
        body = {"pattern": pattern, "latency_ms": latency_ms, "error_rate": error_rate, "error_status": error_status,
                "rate_limit_rate": rate_limit_rate, "retry_after": retry_after,
                "methods": None if methods is None else list(methods), "target": target, "drop_rate": drop_rate,
                "duplicate_rate": duplicate_rate}
        return call(E["faults_add"], many(Fault, "faults"), json=body)

    @endpoint
    def list(self) -> Operation[list[Fault]]:
        """The faults in force. GET /_sandbox/faults"""
        return call(E["faults"], many(Fault, "faults"))

    @endpoint
    def clear(self) -> Operation[None]:
        """Remove every fault. DELETE /_sandbox/faults"""
        return call(E["faults_clear"], _done)


class Webhooks(Resource[Mode]):
    """Each company's webhook (Leeloo's API settings) and the delivery log."""

    @endpoint
    def settings(self, company_id: str | None = None) -> Operation[list[WebhookSetting]]:
        """Each company's webhook settings (or one company's). GET /_sandbox/webhooks"""
        params = None if company_id is None else [("company_id", company_id)]
        return call(E["webhooks"], many(WebhookSetting, "data"), params=params)

    @endpoint
    def configure(self, url: str, *, enabled: bool = True, events: Sequence[Event] | None = None,
                  company_id: str | None = None) -> Operation[WebhookSetting]:
        """Set a company's webhook (default: the demo company; every event unless ``events``).
        PUT /_sandbox/webhooks"""
        body: dict[str, Any] = {"enabled": enabled, "url": url}
        if events is not None:
            body["events"] = list(events)
        return call(E["webhooks_set"], one(WebhookSetting), json=_tenant(body, company_id))

    @endpoint
    def deliveries(self, company_id: str | None = None, limit: int = 100) -> Operation[list[WebhookDelivery]]:
        """The delivery log, newest first. GET /_sandbox/webhooks/deliveries"""
        params = [("limit", str(limit))] + ([] if company_id is None else [("company_id", company_id)])
        return call(E["webhook_deliveries"], many(WebhookDelivery, "data"), params=params)

    @endpoint
    def redeliver(self, delivery_id: str) -> Operation[WebhookDelivery]:
        """Send a logged delivery's event again, as a new delivery to the webhook as set now.
        POST /_sandbox/webhooks/deliveries/{delivery_id}/redeliver"""
        return call(E["webhook_redeliver"], one(WebhookDelivery), delivery_id)


class People(Resource[Mode]):
    """What integrations wrote on a Leeloo person, which Leeloo's API does not read back."""

    @endpoint
    def comments(self, person_id: str) -> Operation[list[PersonComment]]:
        """A person's comments, newest first. GET /_sandbox/people/{person_id}/comments"""
        return call(E["person_comments"], many(PersonComment, "data"), person_id)

    @endpoint
    def calls(self, person_id: str) -> Operation[list[PersonCall]]:
        """Calls logged on a person's accounts, newest first. GET /_sandbox/people/{person_id}/calls"""
        return call(E["person_calls"], many(PersonCall, "data"), person_id)


def _tenant(body: dict[str, Any], company_id: str | None) -> dict[str, Any]:
    """The body with ``company_id`` when one is chosen (the sandbox's default is the demo tenant)."""
    return body if company_id is None else {**body, "company_id": company_id}


class _SandboxControl(BaseClient[Mode]):
    dialect = SANDBOX
    default_base_url = DEFAULT_BASE_URL

    def __init__(self, base_url: str | None = None, *, token: str | None = None,
                 **settings: Unpack[ClientSettings]) -> None:
        self._setup(ControlAuth(token), base_url, settings)
        self.clock: Clock[Mode] = Clock(self._transport)
        self.world: World[Mode] = World(self._transport)
        self.requests: Requests[Mode] = Requests(self._transport)
        self.faults: Faults[Mode] = Faults(self._transport)
        self.webhooks: Webhooks[Mode] = Webhooks(self._transport)
        self.people: People[Mode] = People(self._transport)


class SandboxControl(_SandboxControl[Sync], SyncClientMixin):
    """Blocking control client: ``SandboxControl("http://127.0.0.1:8765")`` (``token=`` beyond loopback)."""


class AsyncSandboxControl(_SandboxControl[Async], AsyncClientMixin):
    """asyncio control client: ``AsyncSandboxControl("http://127.0.0.1:8765")`` (``token=`` beyond loopback)."""
