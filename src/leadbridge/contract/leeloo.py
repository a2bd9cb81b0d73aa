"""Leeloo.ai API v2 and v1: the 33 documented endpoints.

Every answer is ``{"status": 1, "data": …}``; lists add ``meta`` (limit, offset,
filteredCount, totalCount), cards add ``included`` (side-loads) or ``linked``. Dates are ISO
texts in UTC; Leeloo writes ``"NOT_DEFINED"`` for an empty email, phone, gender or image.
Keys are the documents' (camelCase and snake_case mixed, as Leeloo sends them).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from leadbridge.contract import Body, Endpoint, Wire, table

BASE_URL = "https://api.leeloo.ai"
TOKEN_HEADER = "X-Leeloo-AuthToken"
DEFAULT_LIMIT = 20  # a list's page when ``limit`` is left out
PAGE_CAP = 100  # a page holds at most 100 records; a larger limit is served 100 (observed)
NOT_DEFINED = "NOT_DEFINED"  # Leeloo's word for an empty email, phone, gender or image
WEBHOOK_EVENTS = ("ORDER", "SALE", "SUBSCRIPTION", "INCOMING_MESSAGE")

Text = str | None
When = str | None  # an ISO date in UTC, or null where the record has none


# --- records ---------------------------------------------------------------------------------


class LeelooMeta(Wire):
    limit: int
    offset: int
    filteredCount: int
    totalCount: int


class LeelooRef(Wire):
    """A link to another record: ``{"type": "users", "id": …}``."""

    type: str
    id: str


class LeelooUser(Wire):
    id: str
    name: Text
    createdAt: When = None
    updatedAt: When = None


class LeelooAccountLink(Wire):
    account_id: str
    connection_id: Text
    connection_status: Text
    from_: Text = Field(alias="from")


class LeelooSubscribeRecord(Wire):
    tunnelName: Text
    leadgentoolName: Text
    trafficSource: Text
    tunnelId: Text = None
    leadgentoolId: Text = None
    trafficSourceId: Text = None
    accountId: Text = None


class LeelooPersonLinks(Wire):
    contactedUsers: list[LeelooRef] | None = None
    orders: list[LeelooRef] | None = None


class LeelooCustomField(Wire):
    type: str
    name: str
    value: Any = None


class LeelooPersonSummary(Wire):
    """A person in the people list."""

    id: str
    name: Text
    email: Text
    phone: Text
    tags: list[str]
    accounts: list[LeelooAccountLink]
    lastMessageTime: When


class LeelooPerson(Wire):
    """A person's card."""

    id: str
    name: Text
    tags: list[str]
    profileImage: Text
    gender: Text
    phone: Text
    email: Text
    locale: Text
    accounts: list[LeelooAccountLink]
    subscribeHistory: list[LeelooSubscribeRecord]
    links: LeelooPersonLinks
    custom_fields: list[LeelooCustomField]
    created_at: When
    updated_at: When


class LeelooIncludedOrder(Wire):
    id: Text = None
    title: Text = None
    price: float | None = None
    currency: Text = None
    status: Text = None
    paymentMethod: Text = None
    updatedAt: When = None


class LeelooIncluded(Wire):
    users: list[LeelooUser] | None = None
    orders: list[LeelooIncludedOrder] | None = None


class LeelooChannel(Wire):
    """A communication channel (account) in the channels list."""

    id: str
    person_id: str
    name: Text
    from_: Text = Field(alias="from")
    botStatus: Text
    lastMessageTime: When
    createdAt: When
    utmMarks: dict[str, Any]


class LeelooNewChannel(Wire):
    """The account a new person gets (POST /api/v2/people)."""

    id: str
    person_id: str
    name: Text
    tags: list[str]
    from_: Text = Field(alias="from")
    botStatus: Text
    connectionStatus: Text
    gender: Text
    phone: Text
    email: Text
    locale: Text
    subscribeHistory: list[LeelooSubscribeRecord]
    createdAt: When
    updatedAt: When


class LeelooMessageLinks(Wire):
    createdBy: LeelooRef


class LeelooChatMessage(Wire):
    id: str
    text: Text
    type: Text
    read: bool | None
    createdAt: When
    updatedAt: When
    links: LeelooMessageLinks | None = None


class LeelooTemplateCategory(Wire):
    id: str
    name: Text


class LeelooTemplate(Wire):
    id: str
    message_name: Text


class LeelooTemplateCategories(Wire):
    categories: list[LeelooTemplateCategory]


class LeelooTemplates(Wire):
    templates: list[LeelooTemplate]


class LeelooTrafficSource(Wire):
    id: str
    type: Text
    fb_adset_id: Text
    name: Text
    description: Text
    synchronized_with_fb: bool | None
    synchronization_error: bool | None
    disabled: bool | None
    company_id: Text
    leadgentool_id: Text
    tunnel_id: Text
    created_by: Text
    hash: Text
    resubscribe_button_id: Text
    createdAt: When
    updatedAt: When


class LeelooOrderBrief(Wire):
    """An order as created and as listed (the list adds ``person_id``)."""

    id: str
    person_id: Text = None
    title: Text
    price: float | None
    currency: Text
    status: Text
    createdAt: When
    updatedAt: When


class LeelooOrder(Wire):
    id: str
    createdAt: When
    updatedAt: When
    title: Text
    description: Text
    price: float | None
    currency: Text
    status: Text
    paymentMethod: Text


class LeelooOrderId(Wire):
    id: str


class LeelooComment(Wire):
    id: str
    created_by: Text
    company_id: Text
    text: Text
    entity_id: Text
    entity_type: Text
    created_at: When
    updated_at: When


class LeelooCall(Wire):
    id: str
    raw_response: dict[str, Any]
    record_link: Text
    company_id: Text
    user_id: Text
    account_id: Text
    provider_type: Text
    to: Text
    from_: Text = Field(alias="from")
    type: Text
    status: Text
    telephone_connection_id: Text
    call_id: Text
    billsec: int | None
    created_at: When
    updated_at: When
    next_check: When


class LeelooTag(Wire):
    id: str
    name: Text


class LeelooConnection(Wire):
    id: str
    type: Text
    name: Text


class LeelooConnections(Wire):
    connections: list[LeelooConnection]


class LeelooTunnelLinks(Wire):
    leadgentools: list[LeelooRef]
    blocks: list[LeelooRef] | None = None


class LeelooTunnel(Wire):
    id: str
    name: Text
    createdAt: When
    updatedAt: When
    links: LeelooTunnelLinks | None = None


class LeelooLeadgentool(Wire):
    id: str
    name: Text
    type: Text


class LeelooBlock(Wire):
    id: str
    name: Text
    text: Text


class LeelooTunnelLinked(Wire):
    leadgentools: list[LeelooLeadgentool] | None = None
    blocks: list[LeelooBlock] | None = None


class LeelooTunnelStats(Wire):
    subscribers: int
    uniqSubscribers: int
    orders: int
    sales: int
    uniqSales: int
    visits: int
    uniqVisits: int
    shows: int
    uniqShows: int
    totalSale: float
    totalExpenses: float


class LeelooCount(Wire):
    count_to_process: int


class LeelooEmpty(Wire):
    """``data: {}``: the call's effect is the answer."""


class LeelooAccountV1(Wire):
    """An account in the v1 list."""

    id: str
    name: Text
    tags: list[str]
    from_: Text = Field(alias="from")
    botStatus: Text
    lastMessageTime: When
    createdAt: When


class LeelooSubscribeRecordV1(Wire):
    tunnelName: Text
    leadgentoolName: Text
    trafficSource: Text


class LeelooAccountCardV1(Wire):
    id: str
    name: Text
    tags: list[str]
    from_: Text = Field(alias="from")
    botStatus: Text
    gender: Text
    locale: Text
    subscribeHistory: list[LeelooSubscribeRecordV1]
    links: LeelooPersonLinks
    createdAt: When
    updatedAt: When


# --- answers ---------------------------------------------------------------------------------


class LeelooAnswer(Wire):
    status: Literal[1]


class LeelooPeopleList(LeelooAnswer):
    data: list[LeelooPersonSummary]
    meta: LeelooMeta


class LeelooPersonCard(LeelooAnswer):
    data: LeelooPerson
    included: LeelooIncluded


class LeelooNewPerson(LeelooAnswer):
    data: LeelooNewChannel


class LeelooPeopleSms(LeelooAnswer):
    data: LeelooCount


class LeelooCommentAnswer(LeelooAnswer):
    data: LeelooComment


class LeelooDone(LeelooAnswer):
    data: LeelooEmpty


class LeelooChannelList(LeelooAnswer):
    data: list[LeelooChannel]
    meta: LeelooMeta


class LeelooChatPage(LeelooAnswer):
    data: list[LeelooChatMessage]
    meta: LeelooMeta


class LeelooCategoriesAnswer(LeelooAnswer):
    data: LeelooTemplateCategories


class LeelooTemplatesAnswer(LeelooAnswer):
    data: LeelooTemplates


class LeelooTrafficSourceAnswer(LeelooAnswer):
    data: LeelooTrafficSource


class LeelooOrderCreated(LeelooAnswer):
    data: LeelooOrderBrief


class LeelooOrderList(LeelooAnswer):
    data: list[LeelooOrderBrief]
    meta: LeelooMeta


class LeelooOrderAnswer(LeelooAnswer):
    data: LeelooOrder


class LeelooOrderUpdated(LeelooAnswer):
    data: LeelooOrderId


class LeelooCallAnswer(LeelooAnswer):
    data: LeelooCall


class LeelooTagList(LeelooAnswer):
    data: list[LeelooTag]


class LeelooTunnelList(LeelooAnswer):
    data: list[LeelooTunnel]
    meta: LeelooMeta


class LeelooTunnelCard(LeelooAnswer):
    data: LeelooTunnel
    linked: LeelooTunnelLinked


class LeelooTunnelStatsAnswer(LeelooAnswer):
    data: list[LeelooTunnelStats]


class LeelooUserList(LeelooAnswer):
    data: list[LeelooUser]
    meta: LeelooMeta


class LeelooUserAnswer(LeelooAnswer):
    data: LeelooUser


class LeelooConnectionsAnswer(LeelooAnswer):
    data: LeelooConnections


class LeelooAccountListV1(LeelooAnswer):
    data: list[LeelooAccountV1]
    meta: LeelooMeta


class LeelooAccountCardAnswerV1(LeelooAnswer):
    data: LeelooAccountCardV1
    included: LeelooIncluded


# --- request bodies (documented fields; the sandbox's models add the bounds) -------------------


class SendMessageBody(Body):
    account_id: str
    text: str


class SendTemplateBody(Body):
    account_id: str
    template_id: str
    variables: dict[str, Any] | None = None


class ManualSubscribeBody(Body):
    tunnel_id: str
    tunnel_block_id: str


class CreateTrafficSourceBody(Body):
    name: str
    description: str | None = None


class CreateOrderBody(Body):
    paymentCreditsId: str
    offerId: str
    personId: str
    email: str | None = None
    phone: str | None = None
    transactionDate: str | None = None
    isNotifyAccount: bool | str | None = None
    managerId: str | None = None


class UpdateManualOrderBody(Body):
    status: str
    paymentDate: str | None = None
    currency: str | None = None
    price: float | str | None = None
    userComments: str | None = None


class CreatePersonBody(Body):
    name: str
    leadgentool_id: str
    email: str | None = None
    phone: str | None = None
    connected_users_ids: list[str] | None = None


class SmsPersonBody(Body):
    phone: str
    name: str | None = None
    email: str | None = None


class PeopleSmsBody(Body):
    data: list[SmsPersonBody]
    connection_id: str
    leadgentool_id: str
    tags: list[str] | None = None


class CustomFieldBody(Body):
    type: str
    name: str
    value: Any = None


class UpdatePersonBody(Body):
    phone: str | None = None
    email: str | None = None
    custom_fields: list[CustomFieldBody] | None = None


class AddCommentBody(Body):
    comment: str


class TagBody(Body):
    tag_id: str


class CreateCallBody(Body):
    user_id: str
    from_: str = Field(alias="from")
    to: str
    date: str
    account_id: str
    record_link: str | None = None
    status: str
    duration: int | str
    type: str


# --- the table -------------------------------------------------------------------------------


def _get(name: str, path: str, response: type[Wire], *, paging: Literal["none", "offset"] = "none") -> Endpoint:
    return Endpoint("leeloo", name, "GET", path, response, idempotent=True, envelope="leeloo", paging=paging,
                    sdk=SDK_METHODS[name])


NO_API_USER = "The company has no user to act for the API"
NO_SOURCE = "The leadgentool or tunnel has no traffic source to subscribe through"


def _write(name: str, method: Literal["POST", "PUT"], path: str, response: type[Wire], request: type[Body], *,
           idempotent: bool, form: bool = False, conflict: str | None = None) -> Endpoint:
    """Every Leeloo write takes JSON and form data alike; ``form``: the document sends form data."""
    return Endpoint("leeloo", name, method, path, response, idempotent=idempotent, envelope="leeloo",
                    forms=("form", "json") if form else ("json", "form"), request=request,
                    sdk=SDK_METHODS[name], conflict=conflict)


# The SDK's methods calling each endpoint (paged lists have a page and an iterator).
SDK_METHODS: dict[str, tuple[str, ...]] = {
    "template_categories_list": ("templates.categories",),
    "category_templates_list": ("templates.list",),
    "messages_send_template": ("messages.send_template",),
    "messages_send_message": ("messages.send",),
    "communication_channels_list": ("channels.list", "channels.iter"),
    "chat_messages_list": ("channels.messages", "channels.iter_messages"),
    "communication_channel_person": ("channels.person",),
    "communication_channels_manual_subscribe": ("channels.subscribe",),
    "leadgentools_create_traffic_source": ("leadgentools.create_traffic_source",),
    "orders_create": ("orders.create",),
    "orders_list": ("orders.list", "orders.iter"),
    "orders_get": ("orders.get",),
    "orders_update_manual": ("orders.update",),
    "tunnels_list": ("tunnels.list", "tunnels.iter"),
    "tunnels_stats": ("tunnels.stats",),
    "tunnels_get": ("tunnels.get",),
    "tunnels_get_stats": ("tunnels.stats",),
    "people_list": ("people.list", "people.iter"),
    "people_sms": ("people.add_sms",),
    "people_create": ("people.create",),
    "people_get": ("people.get",),
    "people_update": ("people.update",),
    "people_add_comment": ("people.add_comment",),
    "people_add_tag": ("people.add_tag",),
    "people_remove_tag": ("people.remove_tag",),
    "calls_create": ("calls.create",),
    "tags_list": ("tags.list",),
    "users_list": ("users.list", "users.iter"),
    "users_get": ("users.get",),
    "connections_list": ("connections.list",),
    "v1_accounts_list": ("v1.accounts.list", "v1.accounts.iter"),
    "v1_accounts_get": ("v1.accounts.get",),
    "v1_accounts_chat_messages": ("v1.accounts.messages", "v1.accounts.iter_messages"),
}
V2 = "/api/v2"
ENDPOINTS = table(
    # messaging
    _get("template_categories_list", f"{V2}/categories/templates", LeelooCategoriesAnswer),
    _get("category_templates_list", f"{V2}/categories/templates/{{category_id}}", LeelooTemplatesAnswer),
    _write("messages_send_template", "POST", f"{V2}/messages/send-template", LeelooDone, SendTemplateBody,
           idempotent=False, conflict=NO_API_USER),
    _write("messages_send_message", "POST", f"{V2}/messages/send-message", LeelooDone, SendMessageBody,
           idempotent=False, conflict=NO_API_USER),
    _get("communication_channels_list", f"{V2}/communication-channels", LeelooChannelList, paging="offset"),
    _get("chat_messages_list", f"{V2}/communication-channels/{{person_id}}/chat-messages", LeelooChatPage,
         paging="offset"),
    _get("communication_channel_person", f"{V2}/communication-channels/{{account_id}}/person", LeelooPersonCard),
    _write("communication_channels_manual_subscribe", "POST",
           f"{V2}/communication-channels/{{account_id}}/manual-subscribe", LeelooDone, ManualSubscribeBody,
           idempotent=False, form=True, conflict=NO_SOURCE),
    _write("leadgentools_create_traffic_source", "POST", f"{V2}/leadgentools/{{leadgentool_id}}/create-traffic-source",
           LeelooTrafficSourceAnswer, CreateTrafficSourceBody, idempotent=False, conflict=NO_API_USER),
    # sales
    _write("orders_create", "POST", f"{V2}/orders", LeelooOrderCreated, CreateOrderBody, idempotent=False),
    _get("orders_list", f"{V2}/orders", LeelooOrderList, paging="offset"),
    _get("orders_get", f"{V2}/orders/{{order_id}}", LeelooOrderAnswer),
    # Resolving or rejecting a manual order is a one-time transition (a second call is refused).
    _write("orders_update_manual", "POST", f"{V2}/orders/{{order_id}}", LeelooOrderUpdated, UpdateManualOrderBody,
           idempotent=False, form=True, conflict="The order is not a manual order, or is no longer OPENED"),
    _get("tunnels_list", f"{V2}/tunnels", LeelooTunnelList, paging="offset"),
    _get("tunnels_stats", f"{V2}/tunnels/stats", LeelooTunnelStatsAnswer),
    _get("tunnels_get", f"{V2}/tunnels/{{tunnel_id}}", LeelooTunnelCard),
    _get("tunnels_get_stats", f"{V2}/tunnels/{{tunnel_id}}/stats", LeelooTunnelStatsAnswer),
    # people
    _get("people_list", f"{V2}/people", LeelooPeopleList, paging="offset"),
    _write("people_sms", "POST", f"{V2}/people/sms", LeelooPeopleSms, PeopleSmsBody, idempotent=False,
           conflict=NO_SOURCE),
    _write("people_create", "POST", f"{V2}/people", LeelooNewPerson, CreatePersonBody, idempotent=False,
           conflict=NO_SOURCE),
    _get("people_get", f"{V2}/people/{{person_id}}", LeelooPersonCard),
    _write("people_update", "PUT", f"{V2}/people/{{person_id}}", LeelooPersonCard, UpdatePersonBody,
           idempotent=True),
    _write("people_add_comment", "PUT", f"{V2}/people/{{person_id}}/add-comment", LeelooCommentAnswer,
           AddCommentBody, idempotent=False, conflict=NO_API_USER),
    _write("people_add_tag", "PUT", f"{V2}/people/{{person_id}}/add-tag", LeelooDone, TagBody, idempotent=True,
           form=True),
    _write("people_remove_tag", "PUT", f"{V2}/people/{{person_id}}/remove-tag", LeelooDone, TagBody,
           idempotent=True, form=True),
    # platform
    _write("calls_create", "POST", f"{V2}/calls", LeelooCallAnswer, CreateCallBody, idempotent=False, form=True),
    _get("tags_list", f"{V2}/tags", LeelooTagList),
    _get("users_list", f"{V2}/users", LeelooUserList, paging="offset"),
    _get("users_get", f"{V2}/users/{{user_id}}", LeelooUserAnswer),
    _get("connections_list", f"{V2}/connections", LeelooConnectionsAnswer),
    # API v1
    _get("v1_accounts_list", "/api/v1/accounts", LeelooAccountListV1, paging="offset"),
    _get("v1_accounts_get", "/api/v1/accounts/{account_id}", LeelooAccountCardAnswerV1),
    _get("v1_accounts_chat_messages", "/api/v1/accounts/{account_id}/chat-messages", LeelooChatPage,
         paging="offset"),
)
