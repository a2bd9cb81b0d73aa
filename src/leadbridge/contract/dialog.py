"""Dialog (Intersvyaz AI assistant): the 2 documented endpoints and the login they need.

Answers are bare objects (FastAPI's). The document does not describe the login: the entry is
our reading of what public integrations send (``documented=False``).
"""

from __future__ import annotations

from typing import Any

from leadbridge.contract import Body, Endpoint, Wire, table

BASE_URL = "https://ai-assistant.is74.ru"
# How a yes/no column of a report (the dialog's goal) may read, in its values and its filters.
TRUE_WORDS = frozenset({"true", "1", "yes", "да"})
FALSE_WORDS = frozenset({"false", "0", "no", "нет"})


def is_true(value: Any) -> bool:
    """A report's yes/no value: a JSON boolean, or one of ``TRUE_WORDS`` in any case."""
    return value if isinstance(value, bool) else str(value).strip().lower() in TRUE_WORDS


class DialogLogin(Wire):
    token: str
    access_token: str | None = None  # the OAuth2 form's name for the same token
    token_type: str | None = None


class DialogCampaignId(Wire):
    id: int


class DialogCampaignCreated(Wire):
    campaign: DialogCampaignId


class DialogReportColumn(Wire):
    field: str
    display_name: str | None
    type: str


class DialogReport(Wire):
    columns: list[DialogReportColumn]
    data: list[dict[str, Any]]  # one object per dialog, keyed by the columns' fields
    total_duration: int | float
    avg_duration: int | float
    count: int


class LoginBody(Body):
    login: str
    password: str


class CreateCampaignBody(Body):
    campaign: dict[str, Any]
    phones: list[dict[str, Any]]


class ReportBody(Body):
    analytics_filter: dict[str, Any]
    columns: list[dict[str, Any]] | None = None


ENDPOINTS = table(
    # A login changes nothing on the server: a second one only issues another token.
    Endpoint("dialog", "login", "POST", "/api/login", DialogLogin, idempotent=True, forms=("json", "form"),
             request=LoginBody, documented=False),
    Endpoint("dialog", "campaigns_create", "POST", "/api/campaigns", DialogCampaignCreated, idempotent=False,
             forms=("json",), request=CreateCampaignBody,
             sdk=("campaigns.create",)),
    # A report reads: asking twice changes nothing.
    Endpoint("dialog", "analytics_report", "POST", "/api/analytics/{project_id}/report", DialogReport,
             idempotent=True, forms=("json",), request=ReportBody, sdk=("analytics.report",)),
)
