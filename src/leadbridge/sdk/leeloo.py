"""Leeloo.ai clients: API v2 (and v1 under ``.v1``), sync :class:`Leeloo` and async :class:`AsyncLeeloo`.

Every request carries the ``X-Leeloo-AuthToken`` header; every answer is an envelope
``{"status": 1, "data": …, "meta": …}`` and a 200 with ``status`` other than 1 is an error.
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, ClassVar, Generic, Literal, TypeVar, Unpack

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import from_json

from leadbridge import errors
from leadbridge.contract import Endpoint
from leadbridge.contract.leeloo import BASE_URL as DEFAULT_BASE_URL
from leadbridge.contract.leeloo import DEFAULT_LIMIT, PAGE_CAP, TOKEN_HEADER
from leadbridge.contract.leeloo import ENDPOINTS as E
from leadbridge.sdk._client import (
    AsyncClientMixin,
    BaseClient,
    ClientSettings,
    SyncClientMixin,
    many,
    nothing,
    one,
)
from leadbridge.sdk._core import Async, Mode, Operation, Pager, Resource, Sync, call, endpoint, paged, words
from leadbridge.sdk._encode import DateLike, comma_joined, compact, day_or_instant, form, iso_utc, minutes, query
from leadbridge.sdk._http import Dialect, ErrorDetails, HeaderTokenAuth, RateLimit, default_error_details
from leadbridge.sdk._paging import Page, offset_pager
from leadbridge.sdk.models.leeloo import (
    Account,
    Channel,
    ChatMessage,
    Comment,
    Connection,
    CustomField,
    Order,
    Person,
    PhoneCall,
    Tag,
    Template,
    TemplateCategory,
    TrafficSource,
    Tunnel,
    TunnelStats,
    User,
)

M = TypeVar("M", bound=BaseModel)

DEFAULT_PAGE_SIZE = 100


def _envelope_error(body: Any) -> bool:
    return isinstance(body, dict) and "status" in body and body["status"] != 1


def _error_details(body: Any) -> ErrorDetails:
    """Leeloo's error envelope, on any HTTP status (200 included)::

        {"status": 0, "error": {"fields": {"authToken": "REQUIRED"}, "code": "FORMAT_ERROR"},
         "message": "…", "code": 400}

    ``error.fields`` become the error's fields (each with its code), ``error.code`` its code
    and the start of its message. Bodies without ``error`` read as other APIs' do.
    """
    details = default_error_details(body)
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return details
    field_errors = dict(details.field_errors)
    fields = error.get("fields")
    if isinstance(fields, dict):
        for name, code in fields.items():
            codes = field_errors.setdefault(str(name), [])
            if str(code) not in codes:  # the older ``errors`` block may say the same
                codes.append(str(code))
    code = error.get("code")
    code = str(code) if isinstance(code, str | int) and not isinstance(code, bool) else None
    message = details.message
    if code and message and code not in message:
        message = f"{code}: {message}"
    elif code and not message:
        message = code + (f" ({', '.join(f'{k}: {v[-1]}' for k, v in field_errors.items())})" if field_errors else "")
    return ErrorDetails(message, field_errors, code)


# The error class of a ``status: 0`` answer that came with a 2xx, by the envelope's code.
_CLASS_BY_CODE: dict[str, type[errors.APIStatusError]] = {
    "UNAUTHORIZED": errors.AuthenticationError,
    "FORBIDDEN": errors.AuthenticationError,
    "NOT_FOUND": errors.NotFoundError,
    "FORMAT_ERROR": errors.ValidationError,
    "VALIDATION_ERROR": errors.ValidationError,
    "TOO_MANY_REQUESTS": errors.RateLimitError,
}


def _error_class(body: Any, details: ErrorDetails) -> type[errors.APIStatusError] | None:
    if details.code in _CLASS_BY_CODE:
        return _CLASS_BY_CODE[details.code]
    status = body.get("code") if isinstance(body, dict) else None  # the envelope's HTTP-like status
    if isinstance(status, int) and not isinstance(status, bool) and status >= 400:
        return errors.error_class_for(status)
    return None


LEELOO = Dialect("Leeloo", body_error=_envelope_error, error_details=_error_details, error_class=_error_class)
# Leeloo allows 300 requests a minute per token, counted in fixed windows the client cannot
# see: spacing them evenly (a small burst at most) keeps any 60 s within the limit.
LEELOO_RATE_LIMIT = RateLimit(300, per=60.0, burst=10)


class _PageMeta(BaseModel):
    model_config = ConfigDict(extra="allow")

    total_count: int | None = Field(default=None, alias="totalCount")
    filtered_count: int | None = Field(default=None, alias="filteredCount")
    limit: int | None = None
    offset: int | None = None

    def page(self, count: int, items: list[Any] | None = None, *, read: Callable[[], list[Any]] | None = None,
             read_part: Callable[[int, int], list[Any]] | None = None) -> Page[Any]:
        """A page of ``count`` records under this block: its ``items``, or how to read them."""
        return Page(
            items,
            total=count if self.total_count is None else self.total_count,
            limit=count if self.limit is None else self.limit,
            offset=self.offset or 0,
            filtered_count=self.filtered_count,
            read=read,
            read_part=read_part,
            count=count,
        )


class _PageEnvelope(BaseModel, Generic[M]):
    """``{"status": 1, "data": [...], "meta": {...}}``: every Leeloo list answer."""

    model_config = ConfigDict(extra="allow")

    status: Literal[1] = 1  # any other status is an error: the bytes path then falls back
    data: list[M]
    meta: _PageMeta | None = None

    def page(self) -> Page[M]:
        return (self.meta or _PageMeta()).page(len(self.data), self.data)


class _Record(BaseModel):
    """Any JSON object: the shape of a list's record before its model is built."""

    model_config = ConfigDict(extra="ignore")


class _PageShape(BaseModel):
    """A list answer's envelope with its records left unread: checked when the page arrives
    (a success, a list of objects, a ``meta`` block), at a fraction of the records' cost."""

    model_config = ConfigDict(extra="ignore")

    status: Literal[1]
    data: list[_Record]
    meta: _PageMeta | None = None


@functools.cache
def _records_adapter(model: type[M]) -> TypeAdapter[list[M]]:
    """Reads a list of ``model`` records (one per model: building an adapter takes milliseconds)."""
    return TypeAdapter(list[model])  # type: ignore[valid-type]


class _Lister(Generic[M]):
    """A Leeloo list ``entry`` (its path filled with ``ids``) with fixed ``filters`` in its query:
    one page of it (:meth:`page`) or every record (:meth:`walk`).

    A page asked for on its own reads its records into models when they are first used
    (:class:`Page`): the bytes are checked for the envelope's shape at once, and read whole
    into models by pydantic-core when the items are wanted. A walk's page is parsed when it
    arrives and its models are built a few records at a time as the walk reaches them
    (:meth:`Page.parts`).
    """

    def __init__(self, entry: Endpoint, model: type[M], *filters: tuple[str, Any], ids: tuple[str, ...] = ()) -> None:
        self.envelope: type[_PageEnvelope[M]] = _PageEnvelope[model]  # type: ignore[valid-type]
        self.records = _records_adapter(model)
        self.method, self.path, self.idempotent = entry.method, entry.url(*ids), entry.idempotent
        self.filters = filters

    def parse(self, body: Any) -> Page[M]:
        return self.envelope.model_validate(body).page()

    def parse_bytes(self, content: bytes) -> Page[M]:
        shape = _PageShape.model_validate_json(content)

        def read() -> list[M]:
            items: list[M] = self.envelope.model_validate_json(content).data
            return items

        return (shape.meta or _PageMeta()).page(len(shape.data), read=read)

    def parse_parts(self, content: bytes) -> Page[M]:
        body = from_json(content)
        shape = _PageShape.model_validate(body)
        records: list[Any] = body["data"]

        def read_part(start: int, stop: int) -> list[M]:
            try:
                return self.records.validate_python(records[start:stop])
            except ValidationError:
                # Read whole, the page's error names the record's place in the body (data.41.id).
                self.envelope.model_validate(body)
                raise

        return (shape.meta or _PageMeta()).page(len(records), read_part=read_part)

    def page(self, offset: int, limit: int, *, parts: bool = False) -> Operation[Page[M]]:
        """The page of ``limit`` records at ``offset``; ``parts``: parsed as it arrives, its models
        built a part at a time (for a walk, which reads every record)."""
        # Leeloo serves at most PAGE_CAP records a page: never ask for more.
        return Operation(self.method, self.path, self.parse,
                         params=query(("limit", min(limit, PAGE_CAP)), ("offset", offset), *self.filters),
                         parse_bytes=self.parse_parts if parts else self.parse_bytes, idempotent=self.idempotent)

    def walk(self, page_size: int, concurrency: int) -> Pager[M]:
        return offset_pager(partial(self.page, parts=True), page_size=page_size, concurrency=concurrency)



def _includes(include: str | Sequence[str] | None) -> str | None:
    """``include=contactedUsers,orders``: a list is comma-joined as the documents show."""
    return comma_joined(include)


def _custom_fields(fields: Sequence[CustomField | Mapping[str, Any]] | None) -> list[dict[str, Any]] | None:
    if fields is None:
        return None
    return [f.model_dump(mode="json") if isinstance(f, CustomField) else dict(f) for f in fields]


def _bool_text(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


class _Listed(Resource[Mode], Generic[Mode, M]):
    """A resource whose list takes no filters (``_records``): one page of it, or every record."""

    _records: ClassVar[_Lister[Any]]

    @endpoint
    def list(self, limit: int = DEFAULT_LIMIT, offset: int = 0) -> Operation[Page[M]]:
        """One page of {records}. GET {path}"""
        return self._records.page(offset, limit)

    @paged
    def iter(self, *, page_size: int = DEFAULT_PAGE_SIZE, concurrency: int = 1) -> Pager[M]:
        """Every {record}. GET {path}"""
        return self._records.walk(page_size, concurrency)


class _ChatHistory(Resource[Mode]):
    """A resource reading the chat history of a channel (v2) or account (v1) by its id."""

    _messages_entry: ClassVar[Endpoint]

    def _messages(self, account_id: str) -> _Lister[ChatMessage]:
        return _Lister(self._messages_entry, ChatMessage, ids=(account_id,))

    @endpoint
    def messages(self, account_id: str, limit: int = DEFAULT_LIMIT, offset: int = 0) -> Operation[Page[ChatMessage]]:
        """One page of the chat history of {owner}. GET {messages_path}"""
        return self._messages(account_id).page(offset, limit)

    @paged
    def iter_messages(self, account_id: str, *, page_size: int = DEFAULT_PAGE_SIZE,
                      concurrency: int = 1) -> Pager[ChatMessage]:
        """The whole chat history of {owner}. GET {messages_path}"""
        return self._messages(account_id).walk(page_size, concurrency)


# --- v2 ----------------------------------------------------------------------------------


class Templates(Resource[Mode]):
    """Message templates and their categories."""

    @endpoint
    def categories(self) -> Operation[list[TemplateCategory]]:
        """The template categories. GET /api/v2/categories/templates"""
        return call(E["template_categories_list"], many(TemplateCategory, "data", "categories"))

    @endpoint
    def list(self, category_id: str) -> Operation[list[Template]]:
        """The templates of one category. GET /api/v2/categories/templates/{category_id}"""
        return call(E["category_templates_list"], many(Template, "data", "templates"), category_id)


class Messages(Resource[Mode]):
    """Sending messages to a communication channel."""

    @endpoint
    def send(self, account_id: str, text: str) -> Operation[None]:
        """Send a text message. POST /api/v2/messages/send-message"""
        return call(E["messages_send_message"], nothing, json={"account_id": account_id, "text": text})

    @endpoint
    def send_template(self, account_id: str, template_id: str,
                      variables: Mapping[str, Any] | None = None) -> Operation[None]:
        """Send a message template, filling its variables. POST /api/v2/messages/send-template"""
        body: dict[str, Any] = {"account_id": account_id, "template_id": template_id}
        if variables is not None:
            body["variables"] = dict(variables)
        return call(E["messages_send_template"], nothing, json=body)


class Channels(_ChatHistory[Mode]):
    """Communication channels (accounts): lists, chat history, the person behind one, subscriptions."""

    _messages_entry = E["chat_messages_list"]
    # The path as the method's parameter names it (the table's template names the person).
    doc_words = words(owner="a channel", messages_path="/api/v2/communication-channels/{account_id}/chat-messages")

    @staticmethod
    def _records(last_message_from: DateLike | None, last_message_to: DateLike | None) -> _Lister[Channel]:
        return _Lister(E["communication_channels_list"], Channel,
                       ("filter[last_message][from]", last_message_from and day_or_instant(last_message_from)),
                       ("filter[last_message][to]", last_message_to and day_or_instant(last_message_to)))

    @endpoint
    def list(self, limit: int = DEFAULT_LIMIT, offset: int = 0, *, last_message_from: DateLike | None = None,
             last_message_to: DateLike | None = None) -> Operation[Page[Channel]]:
        """One page of channels, with their UTM marks. GET /api/v2/communication-channels"""
        return self._records(last_message_from, last_message_to).page(offset, limit)

    @paged
    def iter(self, *, last_message_from: DateLike | None = None, last_message_to: DateLike | None = None,
             page_size: int = DEFAULT_PAGE_SIZE, concurrency: int = 1) -> Pager[Channel]:
        """Every channel, page after page. GET /api/v2/communication-channels"""
        return self._records(last_message_from, last_message_to).walk(page_size, concurrency)

    @endpoint
    def person(self, account_id: str) -> Operation[Person]:
        """The person a channel belongs to. GET /api/v2/communication-channels/{account_id}/person"""
        return call(E["communication_channel_person"], one(Person, side="included"), account_id)

    @endpoint
    def subscribe(self, account_id: str, tunnel_id: str, tunnel_block_id: str) -> Operation[None]:
        """Subscribe a channel to a tunnel block (form-data).
        POST /api/v2/communication-channels/{account_id}/manual-subscribe"""
        return call(E["communication_channels_manual_subscribe"], nothing, account_id,
                    form=form({"tunnel_id": tunnel_id, "tunnel_block_id": tunnel_block_id}))


class Leadgentools(Resource[Mode]):
    """Lead generation tools."""

    @endpoint
    def create_traffic_source(self, leadgentool_id: str, name: str,
                              description: str | None = None) -> Operation[TrafficSource]:
        """Create a traffic source. POST /api/v2/leadgentools/{leadgentool_id}/create-traffic-source"""
        return call(E["leadgentools_create_traffic_source"], one(TrafficSource), leadgentool_id,
                    json=compact({"name": name, "description": description}))


class Orders(_Listed[Mode, Order]):
    """Orders: manual ones created and updated through the API, all of them listed and read."""

    _records = _Lister(E["orders_list"], Order)
    doc_words = words(records="orders", record="order", path=_records.path)

    @endpoint
    def create(self, payment_credits_id: str, offer_id: str, person_id: str, *, email: str | None = None,
               phone: str | None = None, transaction_date: DateLike | None = None,
               is_notify_account: bool | None = None, manager_id: str | None = None) -> Operation[Order]:
        """Create a manual order. POST /api/v2/orders"""
        body = compact({
            "paymentCreditsId": payment_credits_id,
            "email": email,
            "phone": phone,
            "transactionDate": transaction_date and iso_utc(transaction_date),
            "offerId": offer_id,
            # The document sends the flag as the text "true"/"false".
            "isNotifyAccount": _bool_text(is_notify_account),
            "personId": person_id,
            "managerId": manager_id,
        })
        return call(E["orders_create"], one(Order), json=body)

    @endpoint
    def get(self, order_id: str) -> Operation[Order]:
        """One order. GET /api/v2/orders/{order_id}"""
        return call(E["orders_get"], one(Order), order_id)

    @endpoint
    def update(self, order_id: str, status: str, *, payment_date: DateLike | None = None,
               currency: str | None = None, price: float | None = None,
               user_comments: str | None = None) -> Operation[str]:
        """Resolve or reject a manual order without partial payments (form-data); returns its id.
        POST /api/v2/orders/{order_id}"""
        body = form({
            "status": status,
            "paymentDate": payment_date and minutes(payment_date),
            "currency": currency,
            "price": price,
            "userComments": user_comments,
        })
        return call(E["orders_update_manual"], lambda b: str(b["data"]["id"]), order_id, form=body)


class People(Resource[Mode]):
    """People (client cards): lists with filters, cards, tags, comments, SMS connections."""

    @staticmethod
    def _records(tags: Sequence[str] | str | None, last_message_from: DateLike | None,
                 last_message_to: DateLike | None, phone: str | None, email: str | None) -> _Lister[Person]:
        tag_list = [tags] if isinstance(tags, str) else (list(tags) if tags else None)
        return _Lister(E["people_list"], Person,
                       ("filter[tags]", tag_list),  # v2 repeats the key for each tag
                       ("filter[last_message][from]", last_message_from and day_or_instant(last_message_from)),
                       ("filter[last_message][to]", last_message_to and day_or_instant(last_message_to)),
                       ("filter[phone]", phone), ("filter[email]", email))

    @endpoint
    def list(self, limit: int = DEFAULT_LIMIT, offset: int = 0, *, tags: Sequence[str] | str | None = None,
             last_message_from: DateLike | None = None, last_message_to: DateLike | None = None,
             phone: str | None = None, email: str | None = None) -> Operation[Page[Person]]:
        """One page of people, filtered by tags, last message dates, phone or email. GET /api/v2/people"""
        return self._records(tags, last_message_from, last_message_to, phone, email).page(offset, limit)

    @paged
    def iter(self, *, tags: Sequence[str] | str | None = None, last_message_from: DateLike | None = None,
             last_message_to: DateLike | None = None, phone: str | None = None, email: str | None = None,
             page_size: int = DEFAULT_PAGE_SIZE, concurrency: int = 1) -> Pager[Person]:
        """Every person matching the filters; ``concurrency`` pages are fetched at once. GET /api/v2/people"""
        return self._records(tags, last_message_from, last_message_to, phone, email).walk(page_size, concurrency)

    @endpoint
    def get(self, person_id: str, include: str | Sequence[str] | None = None) -> Operation[Person]:
        """One person; ``include`` side-loads "contactedUsers" and/or "orders" into ``.included``.
        GET /api/v2/people/{person_id}"""
        return call(E["people_get"], one(Person, side="included"), person_id,
                    params=query(("include", _includes(include))))

    @endpoint
    def update(self, person_id: str, *, phone: str | None = None, email: str | None = None,
               custom_fields: Sequence[CustomField | Mapping[str, Any]] | None = None) -> Operation[None]:
        """Update a client card's phone, email or custom fields (the document's body has no name).
        PUT /api/v2/people/{person_id}"""
        body = compact({"phone": phone, "email": email, "custom_fields": _custom_fields(custom_fields)})
        # Sets the given fields: sending it twice leaves the same card.
        return call(E["people_update"], nothing, person_id, json=body)

    @endpoint
    def create(self, name: str, leadgentool_id: str, *, email: str | None = None, phone: str | None = None,
               connected_users_ids: Sequence[str] | None = None) -> Operation[Channel]:
        """Add a person; returns the new communication channel (with ``person_id``). POST /api/v2/people"""
        body = compact({
            "name": name, "email": email, "phone": phone, "leadgentool_id": leadgentool_id,
            "connected_users_ids": list(connected_users_ids) if connected_users_ids is not None else None,
        })
        return call(E["people_create"], one(Channel), json=body)

    @endpoint
    def add_sms(self, data: Sequence[Mapping[str, Any]], connection_id: str, leadgentool_id: str,
                tags: Sequence[str] | None = None) -> Operation[int]:
        """Add SMS connections to people (``data``: name, email, phone each); returns how many will be processed.
        POST /api/v2/people/sms"""
        body = compact({"data": [dict(item) for item in data], "connection_id": connection_id,
                        "leadgentool_id": leadgentool_id, "tags": list(tags) if tags is not None else None})
        return call(E["people_sms"], lambda b: int(b["data"]["count_to_process"]), json=body)

    @endpoint
    def add_comment(self, person_id: str, comment: str) -> Operation[Comment]:
        """Add a comment to a person. PUT /api/v2/people/{person_id}/add-comment"""
        # Each request adds a comment: never sent again once it may have arrived.
        return call(E["people_add_comment"], one(Comment), person_id, json={"comment": comment})

    @endpoint
    def add_tag(self, person_id: str, tag_id: str) -> Operation[None]:
        """Tag a person (form-data). PUT /api/v2/people/{person_id}/add-tag"""
        # A person has a tag or not: adding it twice is adding it once.
        return call(E["people_add_tag"], nothing, person_id, form=form({"tag_id": tag_id}))

    @endpoint
    def remove_tag(self, person_id: str, tag_id: str) -> Operation[None]:
        """Remove a tag from a person (form-data). PUT /api/v2/people/{person_id}/remove-tag"""
        return call(E["people_remove_tag"], nothing, person_id, form=form({"tag_id": tag_id}))


class Calls(Resource[Mode]):
    """Phone calls recorded on accounts."""

    @endpoint
    def create(self, user_id: str, from_: str, to: str, date: DateLike, account_id: str, record_link: str,
               status: str, duration: int, type: str) -> Operation[PhoneCall]:
        """Add a call to an account (form-data; ``record_link`` may be "NOT_DEFINED"). POST /api/v2/calls"""
        body = form({"user_id": user_id, "from": from_, "to": to, "date": iso_utc(date), "account_id": account_id,
                     "record_link": record_link, "status": status, "duration": duration, "type": type})
        return call(E["calls_create"], one(PhoneCall), form=body)


class Tags(Resource[Mode]):
    @endpoint
    def list(self) -> Operation[list[Tag]]:
        """Every tag of the company. GET /api/v2/tags"""
        return call(E["tags_list"], many(Tag, "data"))


class Tunnels(_Listed[Mode, Tunnel]):
    """Tunnels (funnels) and their statistics."""

    _records = _Lister(E["tunnels_list"], Tunnel)
    doc_words = words(records="tunnels", record="tunnel", path=_records.path)

    @endpoint
    def get(self, tunnel_id: str, include: str | Sequence[str] | None = None) -> Operation[Tunnel]:
        """One tunnel; ``include="leadgentools"`` side-loads them into ``.linked``. GET /api/v2/tunnels/{tunnel_id}"""
        return call(E["tunnels_get"], one(Tunnel, side="linked"), tunnel_id,
                    params=query(("include", _includes(include))))

    @endpoint
    def stats(self, tunnel_id: str | None = None) -> Operation[builtins.list[TunnelStats]]:
        """Statistics of one tunnel, or of all tunnels without ``tunnel_id``.
        GET /api/v2/tunnels/stats, GET /api/v2/tunnels/{tunnel_id}/stats"""
        if tunnel_id is None:
            return call(E["tunnels_stats"], many(TunnelStats, "data"))
        return call(E["tunnels_get_stats"], many(TunnelStats, "data"), tunnel_id)


class Users(_Listed[Mode, User]):
    """The platform's users (operators)."""

    _records = _Lister(E["users_list"], User)
    doc_words = words(records="users", record="user", path=_records.path)

    @endpoint
    def get(self, user_id: str) -> Operation[User]:
        """One user. GET /api/v2/users/{user_id}"""
        return call(E["users_get"], one(User), user_id)


class Connections(Resource[Mode]):
    @endpoint
    def list(self) -> Operation[list[Connection]]:
        """The company's connections (bots). GET /api/v2/connections"""
        return call(E["connections_list"], many(Connection, "data", "connections"))


# --- v1 ----------------------------------------------------------------------------------


class Accounts(_ChatHistory[Mode]):
    """API v1 client accounts."""

    _messages_entry = E["v1_accounts_chat_messages"]
    doc_words = words(owner="an account", messages_path="/api/v1/accounts/{account_id}/chat-messages")

    @staticmethod
    def _records(tags: Sequence[str] | str | None) -> _Lister[Account]:
        # v1 joins tags with commas
        return _Lister(E["v1_accounts_list"], Account, ("filter[tags]", comma_joined(tags)))

    @endpoint
    def list(self, limit: int = DEFAULT_LIMIT, offset: int = 0, *,
             tags: Sequence[str] | str | None = None) -> Operation[Page[Account]]:
        """One page of accounts, optionally with any of ``tags``. GET /api/v1/accounts"""
        return self._records(tags).page(offset, limit)

    @paged
    def iter(self, *, tags: Sequence[str] | str | None = None, page_size: int = DEFAULT_PAGE_SIZE,
             concurrency: int = 1) -> Pager[Account]:
        """Every account. GET /api/v1/accounts"""
        return self._records(tags).walk(page_size, concurrency)

    @endpoint
    def get(self, account_id: str, include: str | Sequence[str] | None = None) -> Operation[Account]:
        """One account; ``include`` side-loads "contactedUsers" and/or "orders". GET /api/v1/accounts/{id}"""
        return call(E["v1_accounts_get"], one(Account, side="included"), account_id,
                    params=query(("include", _includes(include))))


class V1(Generic[Mode]):
    """Leeloo API v1."""

    def __init__(self, transport: Any) -> None:
        self.accounts: Accounts[Mode] = Accounts(transport)


class _Leeloo(BaseClient[Mode]):
    dialect = LEELOO
    default_base_url = DEFAULT_BASE_URL
    default_rate_limit = LEELOO_RATE_LIMIT

    def __init__(self, token: str, base_url: str | None = None, **settings: Unpack[ClientSettings]) -> None:
        self._setup(HeaderTokenAuth(TOKEN_HEADER, token), base_url, settings)
        transport = self._transport
        self.templates: Templates[Mode] = Templates(transport)
        self.messages: Messages[Mode] = Messages(transport)
        self.channels: Channels[Mode] = Channels(transport)
        self.leadgentools: Leadgentools[Mode] = Leadgentools(transport)
        self.orders: Orders[Mode] = Orders(transport)
        self.people: People[Mode] = People(transport)
        self.calls: Calls[Mode] = Calls(transport)
        self.tags: Tags[Mode] = Tags(transport)
        self.tunnels: Tunnels[Mode] = Tunnels(transport)
        self.users: Users[Mode] = Users(transport)
        self.connections: Connections[Mode] = Connections(transport)
        self.v1: V1[Mode] = V1(transport)


class Leeloo(_Leeloo[Sync], SyncClientMixin):
    """Blocking Leeloo.ai client: ``Leeloo(token="…")``; use ``with`` or call ``close()``."""


class AsyncLeeloo(_Leeloo[Async], AsyncClientMixin):
    """asyncio Leeloo.ai client: ``AsyncLeeloo(token="…")``; use ``async with`` or ``await aclose()``."""
