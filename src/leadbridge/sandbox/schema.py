"""The sandbox's tables: one SQLAlchemy metadata for the three fake services.

Every row carries the ``company_id`` of its tenant, so each query filters on it and
one company can never see another's rows. Leeloo ids are 24-hex strings (Mongo
ObjectIds upstream); Neiros and Dialog ids are integers. Datetimes are stored as naive
UTC and rendered with a ``Z`` by :mod:`leadbridge.sandbox.wire`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Oid = String(24)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON, datetime: DateTime()}


# Columns many tables share, declared once. A mixin's columns come after the table's own,
# so the leading ones say where they stand (``sort_order``): the CREATE TABLE each table
# emits, which the migrations made, stays as it is.


class LeelooRow:
    """A Leeloo object: its 24-hex id and its tenant."""

    id: Mapped[str] = mapped_column(Oid, primary_key=True, sort_order=-2)
    company_id: Mapped[str] = mapped_column(ForeignKey("company.id"), sort_order=-1)


class ListedLeelooRow(LeelooRow):
    """A Leeloo object listed by company through the index on its ``company_id`` alone."""

    company_id: Mapped[str] = mapped_column(ForeignKey("company.id"), index=True, sort_order=-1)


class NamedLeelooRow(ListedLeelooRow):
    """A Leeloo object that is little more than its name (a tag, a tunnel, a user)."""

    name: Mapped[str] = mapped_column(String(200))


class NumberedRow:
    """A Neiros or Dialog object whose integer id the seed (or the caller) gives, and its tenant."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False, sort_order=-2)
    company_id: Mapped[str] = mapped_column(ForeignKey("company.id"), index=True, sort_order=-1)


class CountedRow:
    """A row numbered by the database, and its tenant."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, sort_order=-2)
    company_id: Mapped[str] = mapped_column(ForeignKey("company.id"), index=True, sort_order=-1)


class Timestamps:
    """When the row was created and last changed (naive UTC, as every datetime here)."""

    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Workspace(NumberedRow):
    """A Neiros site or a Dialog project: a company's named container of deals or campaigns."""

    name: Mapped[str] = mapped_column(String(200))


class ApiToken(CountedRow):
    """A bearer token handed out at login, kept as its hash."""

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]


class Company(Base):
    """A tenant: one account on each of the three platforms."""

    __tablename__ = "company"
    id: Mapped[str] = mapped_column(Oid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    leeloo_token: Mapped[str] = mapped_column(String(200), unique=True)
    neiros_email: Mapped[str] = mapped_column(String(200), unique=True)
    neiros_password: Mapped[str] = mapped_column(String(200))
    neiros_user_id: Mapped[int] = mapped_column(Integer)
    neiros_user_name: Mapped[str] = mapped_column(String(200))
    dialog_login: Mapped[str] = mapped_column(String(200), unique=True)
    dialog_password: Mapped[str] = mapped_column(String(200))


class SandboxState(Base):
    """Key/value settings that survive a restart, such as the clock offset."""

    __tablename__ = "sandbox_state"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class WebhookSetting(Base):
    """A company's webhook, as Leeloo's API settings hold it: on or off, one URL, the events."""

    __tablename__ = "webhook_setting"
    company_id: Mapped[str] = mapped_column(ForeignKey("company.id"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[str] = mapped_column(String(200))  # comma-separated event types


# --- Leeloo -----------------------------------------------------------------------------


class User(NamedLeelooRow, Timestamps, Base):
    __tablename__ = "leeloo_user"


class Connection(ListedLeelooRow, Base):
    __tablename__ = "leeloo_connection"
    type: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    messenger: Mapped[str] = mapped_column(String(40))  # the account "from" value this connection yields


class Tag(NamedLeelooRow, Base):
    __tablename__ = "leeloo_tag"


class Tunnel(NamedLeelooRow, Timestamps, Base):
    __tablename__ = "leeloo_tunnel"


class TunnelBlock(ListedLeelooRow, Base):
    __tablename__ = "leeloo_tunnel_block"
    tunnel_id: Mapped[str] = mapped_column(ForeignKey("leeloo_tunnel.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")


class Leadgentool(ListedLeelooRow, Base):
    __tablename__ = "leeloo_leadgentool"
    tunnel_id: Mapped[str] = mapped_column(ForeignKey("leeloo_tunnel.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))


class TrafficSource(ListedLeelooRow, Timestamps, Base):
    __tablename__ = "leeloo_traffic_source"
    # A subscription goes through the first source of its tunnel or leadgentool: read from these
    # in that order, not every source of one sorted (a leadgentool gathers sources over time).
    __table_args__ = (
        Index("ix_traffic_source_tunnel_created_id", "tunnel_id", "created_at", "id"),
        Index("ix_traffic_source_leadgentool_created_id", "leadgentool_id", "created_at", "id"),
    )
    leadgentool_id: Mapped[str] = mapped_column(ForeignKey("leeloo_leadgentool.id"), index=True)
    tunnel_id: Mapped[str] = mapped_column(ForeignKey("leeloo_tunnel.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    type: Mapped[str] = mapped_column(String(20), default="normal")
    hash: Mapped[str] = mapped_column(String(16))
    resubscribe_button_id: Mapped[str] = mapped_column(Oid)
    created_by: Mapped[str] = mapped_column(Oid)
    # Funnel-top figures no documented call can produce; seeded so tunnel stats are realistic.
    visits: Mapped[int] = mapped_column(Integer, default=0)
    uniq_visits: Mapped[int] = mapped_column(Integer, default=0)
    shows: Mapped[int] = mapped_column(Integer, default=0)
    uniq_shows: Mapped[int] = mapped_column(Integer, default=0)
    expenses: Mapped[float] = mapped_column(Float, default=0)


class Person(LeelooRow, Timestamps, Base):
    __tablename__ = "leeloo_person"
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    gender: Mapped[str] = mapped_column(String(20), default="NOT_DEFINED")
    locale: Mapped[str] = mapped_column(String(20), default="")
    profile_image: Mapped[str] = mapped_column(String(300), default="NOT_DEFINED")
    custom_fields: Mapped[list[Any]] = mapped_column(JSON, default=list)
    last_message_time: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)
    # Name, email and phone digits, case-folded, for the console's search (see sandbox/search.py,
    # which also makes its trigram index). Whoever writes name, email or phone writes this too.
    # The last column, after the timestamps, where migration 0004 added it.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="", sort_order=1)

    __table_args__ = (
        Index("ix_person_company_id_id", "company_id", "id"),
        # id last: a lookup by phone or email reads its matches in id order straight from the
        # index, so "the first match" needs no walk over the company's people.
        Index("ix_person_company_phone_id", "company_id", "phone", "id"),
        Index("ix_person_company_email_id", "company_id", "email", "id"),
    )


class PersonTag(Base):
    __tablename__ = "leeloo_person_tag"
    person_id: Mapped[str] = mapped_column(ForeignKey("leeloo_person.id"), primary_key=True)
    tag_id: Mapped[str] = mapped_column(ForeignKey("leeloo_tag.id"), primary_key=True, index=True)


class ContactedUser(Base):
    __tablename__ = "leeloo_contacted_user"
    person_id: Mapped[str] = mapped_column(ForeignKey("leeloo_person.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("leeloo_user.id"), primary_key=True)


class Account(LeelooRow, Timestamps, Base):
    """A communication channel: one person's presence in one messenger."""

    __tablename__ = "leeloo_account"
    person_id: Mapped[str] = mapped_column(ForeignKey("leeloo_person.id"), index=True)
    connection_id: Mapped[str] = mapped_column(ForeignKey("leeloo_connection.id"))
    messenger: Mapped[str] = mapped_column(String(40))  # the documented "from"
    name: Mapped[str] = mapped_column(String(200))
    bot_status: Mapped[str] = mapped_column(String(20), default="BOT")
    connection_status: Mapped[str] = mapped_column(String(20), default="OK")
    utm_marks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_message_time: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)

    __table_args__ = (
        Index("ix_account_company_id_id", "company_id", "id"),
        # The channels list, most recent conversation first, read from the index's end.
        Index("ix_account_company_last_message", "company_id", "last_message_time", "id"),
        # A people page's accounts: its people are one run of the company's ids, so their
        # accounts are one range of this index, in the page's order and read from the index alone.
        Index("ix_account_company_person_page", "company_id", "person_id", "created_at", "id", "connection_id",
              "connection_status", "messenger"),
    )


class Message(LeelooRow, Timestamps, Base):
    __tablename__ = "leeloo_message"
    account_id: Mapped[str] = mapped_column(ForeignKey("leeloo_account.id"))
    text: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(20))
    read: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(Oid, nullable=True)
    template_id: Mapped[str | None] = mapped_column(Oid, nullable=True)

    # id last: a chat page is ordered by (created_at, id), read straight from the index.
    __table_args__ = (Index("ix_message_account_created_id", "account_id", "created_at", "id"),)


class Subscription(CountedRow, Base):
    """An entry of a person's subscribeHistory: account subscribed to a tunnel."""

    __tablename__ = "leeloo_subscription"
    # Whether a person had a subscription, and one in a given tunnel, is asked on every new
    # subscription (tunnel_stats); with an index on the person alone the planner read all of
    # the tunnel's subscriptions for the second question.
    __table_args__ = (Index("ix_subscription_person_tunnel", "person_id", "tunnel_id"),)
    person_id: Mapped[str] = mapped_column(ForeignKey("leeloo_person.id"))
    account_id: Mapped[str] = mapped_column(ForeignKey("leeloo_account.id"), index=True)
    tunnel_id: Mapped[str] = mapped_column(ForeignKey("leeloo_tunnel.id"), index=True)
    leadgentool_id: Mapped[str] = mapped_column(ForeignKey("leeloo_leadgentool.id"))
    traffic_source_id: Mapped[str] = mapped_column(ForeignKey("leeloo_traffic_source.id"))
    tunnel_block_id: Mapped[str | None] = mapped_column(Oid, nullable=True)
    created_at: Mapped[datetime]


class TunnelStats(Base):
    """A tunnel's funnel figures (GET /api/v2/tunnels/{id}/stats), and with ``tunnel_id``
    :data:`ALL_TUNNELS` those of the company's tunnels together (GET /api/v2/tunnels/stats),
    kept up to date by the writes that change them, in the same transaction, so a stats call
    reads one row instead of adding up the company's subscriptions and orders
    (``sandbox/tunnel_stats.py``)."""

    __tablename__ = "leeloo_tunnel_stats"
    company_id: Mapped[str] = mapped_column(ForeignKey("company.id"), primary_key=True)
    # Not a foreign key: the company's row holds a key that is no tunnel's.
    tunnel_id: Mapped[str] = mapped_column(Oid, primary_key=True)
    subscribers: Mapped[int] = mapped_column(Integer)  # subscriptions
    uniq_subscribers: Mapped[int] = mapped_column(Integer)  # people with a subscription
    orders: Mapped[int] = mapped_column(Integer)
    sales: Mapped[int] = mapped_column(Integer)  # paid orders
    uniq_sales: Mapped[int] = mapped_column(Integer)  # people with a paid order
    total_sale: Mapped[float] = mapped_column(Float)  # the paid orders' prices in USD
    # The traffic sources' counters, added up.
    visits: Mapped[int] = mapped_column(Integer)
    uniq_visits: Mapped[int] = mapped_column(Integer)
    shows: Mapped[int] = mapped_column(Integer)
    uniq_shows: Mapped[int] = mapped_column(Integer)
    expenses: Mapped[float] = mapped_column(Float)


ALL_TUNNELS = "*"  # the ``tunnel_id`` of a company's row of TunnelStats: all its tunnels together


class Offer(ListedLeelooRow, Base):
    __tablename__ = "leeloo_offer"
    tunnel_id: Mapped[str | None] = mapped_column(ForeignKey("leeloo_tunnel.id"), nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[float] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(3))


class PaymentCredits(ListedLeelooRow, Base):
    __tablename__ = "leeloo_payment_credits"
    name: Mapped[str] = mapped_column(String(200))
    payment_method: Mapped[str] = mapped_column(String(20))


class Order(LeelooRow, Timestamps, Base):
    __tablename__ = "leeloo_order"
    person_id: Mapped[str | None] = mapped_column(ForeignKey("leeloo_person.id"), nullable=True, index=True)
    offer_id: Mapped[str | None] = mapped_column(Oid, nullable=True)
    tunnel_id: Mapped[str | None] = mapped_column(Oid, nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[float] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(3))
    # Manual orders move OPENED -> RESOLVED | REJECTED; payment-system orders use
    # ORDER / PENDING / FAILED / SUCCESS / REFUNDED (both sets are documented).
    status: Mapped[str] = mapped_column(String(20))
    payment_method: Mapped[str] = mapped_column(String(20))
    payment_credits_id: Mapped[str | None] = mapped_column(Oid, nullable=True)
    manager_id: Mapped[str | None] = mapped_column(Oid, nullable=True)
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    is_notify_account: Mapped[bool] = mapped_column(Boolean, default=False)
    transaction_date: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)
    payment_date: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)
    user_comments: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        Index("ix_order_company_id_id", "company_id", "id"),
        # The orders list, newest first, read from the index's end.
        Index("ix_order_company_created", "company_id", "created_at", "id"),
    )


class Comment(LeelooRow, Timestamps, Base):
    __tablename__ = "leeloo_comment"
    person_id: Mapped[str] = mapped_column(ForeignKey("leeloo_person.id"), index=True)
    created_by: Mapped[str] = mapped_column(Oid)
    text: Mapped[str] = mapped_column(Text)


class Call(ListedLeelooRow, Timestamps, Base):
    __tablename__ = "leeloo_call"
    account_id: Mapped[str] = mapped_column(ForeignKey("leeloo_account.id"), index=True)
    user_id: Mapped[str] = mapped_column(Oid)
    from_number: Mapped[str] = mapped_column(String(40))
    to_number: Mapped[str] = mapped_column(String(40))
    date: Mapped[datetime]
    record_link: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20))
    duration: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(10))
    call_id: Mapped[str] = mapped_column(String(40))
    telephone_connection_id: Mapped[str] = mapped_column(Oid)


class TemplateCategory(NamedLeelooRow, Base):
    __tablename__ = "leeloo_template_category"


class Template(ListedLeelooRow, Base):
    __tablename__ = "leeloo_template"
    category_id: Mapped[str] = mapped_column(ForeignKey("leeloo_template_category.id"), index=True)
    message_name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)


# --- Neiros -----------------------------------------------------------------------------


class Site(Workspace, Base):
    """A website Neiros tracks: its visits end in deals."""

    __tablename__ = "neiros_site"


class Deal(Base):
    """A lead a site brought (a call, a form, a chat), with where it came from and its revenue."""

    __tablename__ = "neiros_deal"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    company_id: Mapped[str] = mapped_column(ForeignKey("company.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("neiros_site.id"))
    neiros_visit: Mapped[str] = mapped_column(String(24))
    neiros_id: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    duration: Mapped[int] = mapped_column(Integer, default=0)
    record: Mapped[str | None] = mapped_column(String(300), nullable=True)
    canal: Mapped[str] = mapped_column(String(100))
    traffic: Mapped[str] = mapped_column(String(100))
    summ: Mapped[float] = mapped_column(Float, default=0)
    status: Mapped[str] = mapped_column(String(100))

    __table_args__ = (
        Index("ix_deal_site_created", "site_id", "created_at"),
        # A page of a site's deals in id order, its window checked on the index alone.
        Index("ix_deal_site_id_created", "site_id", "id", "created_at"),
    )


class NeirosToken(ApiToken, Base):
    __tablename__ = "neiros_token"


# --- Dialog -----------------------------------------------------------------------------


class DialogToken(ApiToken, Base):
    __tablename__ = "dialog_token"


class DialogProject(Workspace, Base):
    __tablename__ = "dialog_project"


class DialogScenario(Base):
    __tablename__ = "dialog_scenario"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    project_id: Mapped[int] = mapped_column(ForeignKey("dialog_project.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    goal: Mapped[str] = mapped_column(String(200))


class DialogStartBlock(Base):
    __tablename__ = "dialog_start_block"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("dialog_scenario.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    params: Mapped[list[Any]] = mapped_column(JSON, default=list)


class DialogCallerPhone(Base):
    __tablename__ = "dialog_caller_phone"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    project_id: Mapped[int] = mapped_column(ForeignKey("dialog_project.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))


class Campaign(NumberedRow, Base):
    __tablename__ = "dialog_campaign"
    project_id: Mapped[int] = mapped_column(ForeignKey("dialog_project.id"))
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    start_block_id: Mapped[int] = mapped_column(ForeignKey("dialog_start_block.id"))
    phone_id: Mapped[int] = mapped_column(ForeignKey("dialog_caller_phone.id"))
    date: Mapped[str] = mapped_column(String(10))
    start_time: Mapped[str] = mapped_column(String(5))
    end_time: Mapped[str] = mapped_column(String(5))
    attempts: Mapped[int] = mapped_column(Integer)
    interval_minutes: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]
    # The sandbox clock up to which calls have been placed (see dialog/backend.py).
    simulated_until: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)


class CampaignPhone(Base):
    __tablename__ = "dialog_campaign_phone"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("dialog_campaign.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    phone: Mapped[str] = mapped_column(String(40))
    add_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DialogCall(CountedRow, Base):
    """One placed call attempt of a campaign, with its outcome."""

    __tablename__ = "dialog_call"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("dialog_campaign.id"), index=True)
    campaign_phone_id: Mapped[int] = mapped_column(ForeignKey("dialog_campaign_phone.id"))
    attempt: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(20))
    duration: Mapped[int] = mapped_column(Integer)
    goal_reached: Mapped[bool] = mapped_column(Boolean)
    transcript: Mapped[str] = mapped_column(Text)
