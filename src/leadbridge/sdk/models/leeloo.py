"""Leeloo.ai API v1 and v2 records, as the documents show them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from leadbridge.sdk.models._base import Model, Undefinable, UTCDateTime, alias

Messenger = Literal["TELEGRAM", "VKONTAKTE", "FACEBOOK", "VIBER", "WHATSAPP", "INSTAGRAM", "MANUAL", "SMS"] | str
BotStatus = Literal["BOT", "ADMIN"] | str
MessageType = Literal["SYSTEM_MESSAGE", "BOT_MESSAGE", "YOUR_MESSAGE", "FRIEND_MESSAGE"] | str
Gender = Literal["MALE", "FEMALE", "OTHER", "NO_DATA"] | str  # "NOT_DEFINED" reads as None
ManualOrderStatus = Literal["OPENED", "RESOLVED", "REJECTED"] | str
OrderStatus = Literal["OPENED", "RESOLVED", "REJECTED", "ORDER", "PENDING", "FAILED", "SUCCESS", "REFUNDED"] | str
Currency = Literal["USD", "EUR", "UAH", "RUB"] | str
PaymentMethod = Literal["WAYFORPAY", "YANDEX_MONEY", "ASSET_PAYMENT", "MANUAL"] | str
CustomFieldType = Literal["EMAIL", "PHONE", "DATE", "KEYWORD", "NUMBER"] | str
CallStatus = Literal["TALKING", "SUCCESS", "NO_ANSWER", "CLOSED_BY_SYSTEM"] | str
CallType = Literal["INBOUND", "OUTBOUND"] | str
LeadgentoolType = Literal["LINK", "QR", "WIDGET", "POPUP", "FORM", "FB_AD", "DEFAULT"] | str


class TemplateCategory(Model):
    id: str
    name: str | None = None


class Template(Model):
    id: str
    message_name: str | None = None


class Link(Model):
    type: str | None = None
    id: str


class ChatMessage(Model):
    id: str
    text: str | None = None
    type: MessageType | None = None
    read: bool | None = None
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None
    links: dict[str, Link] | None = None


class AccountLink(Model):
    """A person's communication channel as listed in ``accounts``."""

    account_id: str
    connection_id: str | None = None
    connection_status: str | None = None
    from_: Messenger | None = alias("from", default=None)


class SubscribeRecord(Model):
    tunnel_name: str | None = None
    leadgentool_name: str | None = None
    traffic_source: str | None = None
    tunnel_id: str | None = None
    leadgentool_id: str | None = None
    traffic_source_id: str | None = None
    account_id: str | None = None


class CustomField(Model):
    type: CustomFieldType
    name: str
    value: Any = None


class User(Model):
    """A user (operator) of the Leeloo platform."""

    id: str
    name: str | None = None
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None


class Order(Model):
    """An order. Single orders use ORDER…REFUNDED statuses, manual ones OPENED/RESOLVED/REJECTED."""

    id: str | None = None
    person_id: str | None = None
    title: str | None = None
    description: str | None = None
    price: float | None = None
    currency: Currency | None = None
    status: OrderStatus | None = None
    payment_method: PaymentMethod | None = None
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None


class Included(Model):
    """Side-loaded records (``included``): the people's operators and orders."""

    users: list[User] = Field(default_factory=list)
    orders: list[Order] = Field(default_factory=list)


class Person(Model):
    """A person (client card): the list shows a summary, the single read adds the rest.

    ``email``, ``phone``, ``profile_image`` and ``gender`` are ``None`` where Leeloo writes "NOT_DEFINED".
    """

    id: str
    name: str | None = None
    email: Undefinable[str] = None
    phone: Undefinable[str] = None
    tags: list[str] = Field(default_factory=list)
    accounts: list[AccountLink] = Field(default_factory=list)
    last_message_time: UTCDateTime | None = None
    profile_image: Undefinable[str] = None
    gender: Undefinable[Gender] = None
    locale: str | None = None
    subscribe_history: list[SubscribeRecord] = Field(default_factory=list)
    links: dict[str, list[Link]] = Field(default_factory=dict)
    custom_fields: list[CustomField] = Field(default_factory=list)
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None
    included: Included | None = None


class Channel(Model):
    """A communication channel (account) of a person in one messenger ("NOT_DEFINED" reads as ``None``)."""

    id: str
    person_id: str | None = None
    name: str | None = None
    from_: Messenger | None = alias("from", default=None)
    bot_status: BotStatus | None = None
    connection_status: str | None = None
    last_message_time: UTCDateTime | None = None
    tags: list[str] = Field(default_factory=list)
    gender: Undefinable[Gender] = None
    phone: Undefinable[str] = None
    email: Undefinable[str] = None
    locale: str | None = None
    subscribe_history: list[SubscribeRecord] = Field(default_factory=list)
    utm_marks: dict[str, Any] = Field(default_factory=dict)
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None


class Account(Model):
    """A client account of API v1 (the v2 communication channel; "NOT_DEFINED" gender reads as ``None``)."""

    id: str
    name: str | None = None
    tags: list[str] = Field(default_factory=list)
    from_: Messenger | None = alias("from", default=None)
    bot_status: BotStatus | None = None
    gender: Undefinable[Gender] = None
    locale: str | None = None
    last_message_time: UTCDateTime | None = None
    subscribe_history: list[SubscribeRecord] = Field(default_factory=list)
    links: dict[str, list[Link]] = Field(default_factory=dict)
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None
    included: Included | None = None


class TrafficSource(Model):
    id: str
    name: str | None = None
    description: str | None = None
    type: str | None = None
    fb_adset_id: str | None = None
    synchronized_with_fb: bool | None = None
    synchronization_error: bool | None = None
    disabled: bool | None = None
    company_id: str | None = None
    leadgentool_id: str | None = None
    tunnel_id: str | None = None
    created_by: str | None = None
    hash: str | None = None
    resubscribe_button_id: str | None = None
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None


class Comment(Model):
    id: str
    text: str | None = None
    created_by: str | None = None
    company_id: str | None = None
    entity_id: str | None = None
    entity_type: str | None = None
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None


class PhoneCall(Model):
    """A call added to an account (POST /api/v2/calls); a "NOT_DEFINED" ``record_link`` reads as ``None``."""

    id: str
    call_id: str | None = None
    user_id: str | None = None
    account_id: str | None = None
    company_id: str | None = None
    from_: str | None = alias("from", default=None)
    to: str | None = None
    type: CallType | None = None
    status: CallStatus | None = None
    record_link: Undefinable[str] = None
    provider_type: str | None = None
    telephone_connection_id: str | None = None
    billsec: int | None = None
    raw_response: dict[str, Any] | None = None
    next_check: UTCDateTime | None = None
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None


class Tag(Model):
    id: str
    name: str | None = None


class Leadgentool(Model):
    id: str
    name: str | None = None
    type: LeadgentoolType | None = None


class TunnelLinked(Model):
    """Side-loaded records of a tunnel (``linked``)."""

    leadgentools: list[Leadgentool] = Field(default_factory=list)


class Tunnel(Model):
    id: str
    name: str | None = None
    links: dict[str, list[Link]] = Field(default_factory=dict)
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None
    linked: TunnelLinked | None = None


class TunnelStats(Model):
    """Funnel counters of one tunnel or of all (totals in USD)."""

    subscribers: int | None = None
    uniq_subscribers: int | None = None
    orders: int | None = None
    sales: int | None = None
    uniq_sales: int | None = None
    visits: int | None = None
    uniq_visits: int | None = None
    shows: int | None = None
    uniq_shows: int | None = None
    total_sale: float | None = None
    total_expenses: float | None = None


class Connection(Model):
    """A connection (bot) of the company: telegram, sendGrid, …"""

    id: str
    type: str | None = None
    name: str | None = None
