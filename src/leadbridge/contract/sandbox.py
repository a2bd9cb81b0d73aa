"""The sandbox's own control API (``/_sandbox``): reset, clock, request log, faults, webhooks and
the changes no vendor API offers (tags, templates, a person's own messages).

No vendor documents it: these entries are its document. The sandbox's OpenAPI answers are
made from them (``answerdoc.py``), the SDK's :class:`leadbridge.sdk.sandbox.SandboxControl`
takes method, path and idempotency from them, and each entry carries its example answer
(``answer``), so a new call is one entry here. They stay out of :func:`all_endpoints`, which
the vendor-fidelity checks walk; :func:`control_endpoints` lists them.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from leadbridge.contract import Endpoint, Wire, table

TOKEN_HEADER = "X-Sandbox-Token"  # the control token, asked for when the sandbox listens beyond loopback
NOW = "2026-01-05T09:30:00.000Z"
COMPANY = "5b9f63e3d244d2000e27692f"  # the demo tenant's id (seed.TENANTS)
ACCOUNT = "5b3f3a8e0f0c2a0001000201"


class SandboxDone(Wire):
    status: str  # "ok"


class SandboxResetDone(Wire):
    status: str
    clock: str  # the sandbox clock after the reset (UTC)


class SandboxClock(Wire):
    now: str  # UTC, ISO-8601 with milliseconds and Z
    offset_seconds: float  # how far the sandbox clock runs ahead of the real one


class SandboxRealistic(Wire):
    enabled: bool
    limit: int
    window_seconds: float


class SandboxLoggedRequest(Wire):
    id: int
    at: str
    method: str
    path: str
    query: str  # secrets shown as ***
    api: str  # leeloo, neiros or dialog
    company_id: str | None
    status: int
    body: Any  # the JSON body (secrets shown as ***), else its text, or null
    body_size: int
    body_truncated: bool
    fault: str | None  # the injected fault that answered, if any


class SandboxRequestLog(Wire):
    data: list[SandboxLoggedRequest]
    count: int
    last_id: int  # the id of the last request logged: the next since_id


class SandboxFault(Wire):
    pattern: str
    latency_ms: float
    error_rate: float
    error_status: int
    rate_limit_rate: float
    retry_after: int
    methods: list[str] | None
    target: str  # api or webhooks
    drop_rate: float
    duplicate_rate: float


class SandboxFaults(Wire):
    faults: list[SandboxFault]


class SandboxFaultsChanged(Wire):
    status: str
    faults: list[SandboxFault]


class SandboxCreatedTag(Wire):
    id: str
    name: str
    created: bool  # false: a tag of that name was already there


class SandboxTagAnswer(Wire):
    data: SandboxCreatedTag


class SandboxCreatedTemplate(Wire):
    id: str
    category_id: str
    category: str
    message_name: str
    text: str


class SandboxTemplateAnswer(Wire):
    data: SandboxCreatedTemplate


class SandboxIncomingMessage(Wire):
    account_id: str
    type: str  # FRIEND_MESSAGE
    text: str
    createdAt: str  # the answer's key, spelt as Leeloo's messages spell it


class SandboxIncomingMessageAnswer(Wire):
    data: SandboxIncomingMessage


class SandboxComment(Wire):
    id: str
    text: str
    created_by: str
    created_at: str


class SandboxComments(Wire):
    data: list[SandboxComment]


class SandboxLoggedCall(Wire):
    id: str
    account_id: str
    from_: str = Field(alias="from")
    to: str
    date: str
    status: str
    duration: int
    type: str
    record_link: str


class SandboxCalls(Wire):
    data: list[SandboxLoggedCall]


class SandboxWebhookSetting(Wire):
    company_id: str
    enabled: bool
    url: str
    events: list[str]


class SandboxWebhookSettings(Wire):
    data: list[SandboxWebhookSetting]


class SandboxWebhookSettingAnswer(Wire):
    data: SandboxWebhookSetting


class SandboxDelivery(Wire):
    id: str
    company_id: str
    event_type: str
    url: str
    attempts: int
    state: str  # pending, delivered or failed
    last_status: int | None
    last_error: str | None
    created_at: str
    delivered_at: str | None
    body: dict[str, Any]  # what was POSTed: {"type", "data"}


class SandboxDeliveries(Wire):
    data: list[SandboxDelivery]


class SandboxDeliveryAnswer(Wire):
    data: SandboxDelivery


CLOCK: dict[str, Any] = {"now": NOW, "offset_seconds": 86400.0}
REALISTIC: dict[str, Any] = {"enabled": True, "limit": 300, "window_seconds": 60.0}
FAULT: dict[str, Any] = {"pattern": "^/api/v2/people", "latency_ms": 0, "error_rate": 0.5, "error_status": 503,
                         "rate_limit_rate": 0, "retry_after": 1, "methods": ["GET"], "target": "api",
                         "drop_rate": 0, "duplicate_rate": 0}
WEBHOOK: dict[str, Any] = {"company_id": COMPANY, "enabled": True, "url": "http://127.0.0.1:8100/hooks",
                           "events": ["ORDER", "SALE"]}
LOGGED: dict[str, Any] = {
    "id": 7, "at": NOW, "method": "POST", "path": "/api/userapi/v1/auth/login", "query": "",
    "api": "neiros", "company_id": COMPANY, "status": 200, "body": {"email": "test@test.ru", "password": "***"},
    "body_size": 45, "body_truncated": False, "fault": None,
}
DELIVERY: dict[str, Any] = {
    "id": "5b3f3a8e0f0c2a0001000301", "company_id": COMPANY, "event_type": "ORDER",
    "url": "http://127.0.0.1:8100/hooks", "attempts": 1, "state": "delivered", "last_status": 200,
    "last_error": None, "created_at": NOW, "delivered_at": NOW,
    "body": {"type": "ORDER", "data": {"id": "5b3f3a8e0f0c2a0001000401"}},
}


ENDPOINTS = table(
    # Resetting twice leaves the same world as once.
    Endpoint("sandbox", "reset", "POST", "/_sandbox/reset", SandboxResetDone, idempotent=True, sdk=("world.reset",),
             answer={"status": "ok", "clock": NOW}),
    Endpoint("sandbox", "clock", "GET", "/_sandbox/clock", SandboxClock, idempotent=True, sdk=("clock.now",),
             answer=CLOCK),
    # Each advance moves the clock again.
    Endpoint("sandbox", "clock_advance", "POST", "/_sandbox/clock/advance", SandboxClock, idempotent=False,
             forms=("json",), sdk=("clock.advance",), answer=CLOCK),
    Endpoint("sandbox", "realistic", "GET", "/_sandbox/realistic", SandboxRealistic, idempotent=True, answer=REALISTIC),
    Endpoint("sandbox", "realistic_set", "POST", "/_sandbox/realistic", SandboxRealistic, idempotent=True,
             forms=("json",), answer=REALISTIC),
    Endpoint("sandbox", "requests", "GET", "/_sandbox/requests", SandboxRequestLog, idempotent=True,
             sdk=("requests.list",), answer={"data": [LOGGED], "count": 1, "last_id": 7}),
    Endpoint("sandbox", "requests_clear", "DELETE", "/_sandbox/requests", SandboxDone, idempotent=True,
             sdk=("requests.clear",), answer={"status": "ok"}),
    # A fault sent twice is in force twice.
    Endpoint("sandbox", "faults_add", "POST", "/_sandbox/faults", SandboxFaultsChanged, idempotent=False,
             forms=("json",), sdk=("faults.add",), answer={"status": "ok", "faults": [FAULT]}),
    Endpoint("sandbox", "faults", "GET", "/_sandbox/faults", SandboxFaults, idempotent=True, sdk=("faults.list",),
             answer={"faults": [FAULT]}),
    Endpoint("sandbox", "faults_clear", "DELETE", "/_sandbox/faults", SandboxFaultsChanged, idempotent=True,
             sdk=("faults.clear",), answer={"status": "ok", "faults": []}),
    # A tag of the name already there is returned as it is.
    Endpoint("sandbox", "tags_create", "POST", "/_sandbox/tags", SandboxTagAnswer, idempotent=True, forms=("json",),
             sdk=("world.create_tag",),
             answer={"data": {"id": "5b3f3a8e0f0c2a0001000501", "name": "VIP", "created": True}}),
    # A second template of the same name is a second template.
    Endpoint("sandbox", "templates_create", "POST", "/_sandbox/templates", SandboxTemplateAnswer, idempotent=False,
             forms=("json",), sdk=("world.create_template",),
             answer={"data": {"id": "5b3f3a8e0f0c2a0001000601", "category_id": "5b3f3a8e0f0c2a0001000701",
                              "category": "Шаблоны", "message_name": "Приветствие",
                              "text": "Здравствуйте, {name}!"}}),
    # Each call is another message in the chat (and another webhook).
    Endpoint("sandbox", "incoming_message", "POST", "/_sandbox/incoming-messages", SandboxIncomingMessageAnswer,
             idempotent=False, forms=("json",), sdk=("world.incoming_message",),
             answer={"data": {"account_id": ACCOUNT, "type": "FRIEND_MESSAGE", "text": "Добрый день!",
                              "createdAt": NOW}}),
    Endpoint("sandbox", "person_comments", "GET", "/_sandbox/people/{person_id}/comments", SandboxComments,
             idempotent=True, sdk=("people.comments",),
             answer={"data": [{"id": "5b3f3a8e0f0c2a0001000801", "text": "Перезвонить в пятницу",
                               "created_by": "5b3f3a8e0f0c2a0001000901", "created_at": NOW}]}),
    Endpoint("sandbox", "person_calls", "GET", "/_sandbox/people/{person_id}/calls", SandboxCalls, idempotent=True,
             sdk=("people.calls",),
             answer={"data": [{"id": "5b3f3a8e0f0c2a0001000a01", "account_id": ACCOUNT, "from": "+79990000001",
                               "to": "+79991234567", "date": NOW, "status": "ANSWERED", "duration": 95,
                               "type": "OUTGOING", "record_link": "https://records.example/1.mp3"}]}),
    Endpoint("sandbox", "webhooks", "GET", "/_sandbox/webhooks", SandboxWebhookSettings, idempotent=True,
             sdk=("webhooks.settings",), answer={"data": [WEBHOOK]}),
    # Setting the same webhook twice leaves it set once.
    Endpoint("sandbox", "webhooks_set", "PUT", "/_sandbox/webhooks", SandboxWebhookSettingAnswer, idempotent=True,
             forms=("json",), sdk=("webhooks.configure",), answer={"data": WEBHOOK}),
    Endpoint("sandbox", "webhook_deliveries", "GET", "/_sandbox/webhooks/deliveries", SandboxDeliveries,
             idempotent=True, sdk=("webhooks.deliveries",), answer={"data": [DELIVERY]}),
    # Each call sends the event once more.
    Endpoint("sandbox", "webhook_redeliver", "POST", "/_sandbox/webhooks/deliveries/{delivery_id}/redeliver",
             SandboxDeliveryAnswer, idempotent=False, sdk=("webhooks.redeliver",),
             conflict="The delivery is still pending, or the company's webhook no longer sends its event type",
             answer={"data": {**DELIVERY, "id": "5b3f3a8e0f0c2a0001000302", "attempts": 0, "state": "pending",
                              "last_status": None, "delivered_at": None}}),
)
