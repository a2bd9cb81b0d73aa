"""``leadbridge.toml``: credentials, filters, field mappings, outcome maps and schedules.

The file is read with :mod:`tomllib` and validated by pydantic models that forbid unknown
keys, so a typo or a missing key is reported with its dotted path (``flows.call-leads.
batch_size``) before any call is made. Secrets may stay out of the file: a missing
``token`` / ``password`` is taken from ``LEADBRIDGE_<SECTION>_<KEY>`` (for example
``LEADBRIDGE_LEELOO_TOKEN``), and any string value written as ``"env:NAME"`` is read from
the environment variable ``NAME``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from leadbridge.contract import dialog, leeloo, neiros

DEFAULT_PATH = Path("leadbridge.toml")
CONFIG_ENV = "LEADBRIDGE_CONFIG"
FLOW_NAMES = ("call-leads", "call-results", "deals-to-leeloo", "revenue-to-neiros")
WORKERS = 8  # units a run works on at once (--workers)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")


class ConfigError(Exception):
    """The configuration is wrong; the message names every offending key."""


def parse_duration(value: str | int | float) -> timedelta:
    """``"90s"``, ``"5m"``, ``"2h"``, ``"1d"`` or a number of seconds."""
    if isinstance(value, int | float):
        return timedelta(seconds=float(value))
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a duration such as '30s', '5m', '2h' or '1d'")
    unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2) or "s"]
    return timedelta(seconds=float(match.group(1)) * unit)


def _duration(value: str) -> str:
    parse_duration(value)
    return value


# A duration written as text ("30d"), checked when the file is read.
Duration = Annotated[str, AfterValidator(_duration)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class LedgerConfig(Section):
    url: str = Field(default="sqlite:///leadbridge-ledger.sqlite3",
                     description="SQLAlchemy URL of the ledger: sqlite:///file or postgresql://…")

    @field_validator("url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        # Checked here so a typo is a configuration error naming the key, before any call is made.
        if not re.match(r"^(sqlite|postgresql(\+psycopg)?)://", value):
            raise ValueError("must start with sqlite:/// or postgresql:// (for example sqlite:///ledger.sqlite3)")
        return value


class LeelooConfig(Section):
    token: SecretStr
    base_url: str = leeloo.BASE_URL
    user_id: str | None = Field(default=None, description="Leeloo user recorded on calls (default: the first user)")
    # Left out: the SDK's default for Leeloo (300 requests a minute, smoothly); a number: requests
    # per second; false: no client-side limit (a sandbox that is not realistic).
    rate_limit: Literal[False] | Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="Requests per second, client side (false: none; default: Leeloo's 300 a minute)")
    timeout: float = Field(default=30.0, gt=0, le=600, description="Seconds to wait for each answer")


class SignInConfig(Section):
    """A platform signed in to with a token, or with a user name and a password."""

    USER: ClassVar[str]  # the name of the user-name key
    password: SecretStr | None = None
    token: SecretStr | None = None
    rate_limit: float | None = Field(default=None, gt=0)
    timeout: float = Field(default=30.0, gt=0, le=600, description="Seconds to wait for each answer")

    @model_validator(mode="after")
    def _credentials(self) -> Self:
        if self.token is None and (self.user is None or self.password is None):
            raise ValueError(f"give either token, or {self.USER} and password")
        return self

    @property
    def user(self) -> str | None:
        value: str | None = getattr(self, self.USER)
        return value

    def credentials(self) -> dict[str, Any]:
        """The client's sign-in arguments: the token, or the user name and the password."""
        if self.token is not None:
            return {"token": self.token.get_secret_value()}
        assert self.password is not None
        return {self.USER: self.user, "password": self.password.get_secret_value()}


class NeirosConfig(SignInConfig):
    USER = "email"
    email: str | None = None
    base_url: str = neiros.BASE_URL


class DialogConfig(SignInConfig):
    USER = "login"
    login: str | None = None
    base_url: str = dialog.BASE_URL


class PhonesConfig(Section):
    default_region: str = Field(default="RU", min_length=2, max_length=2,
                                description="Region of numbers written without a country code")


class CallLeadsConfig(Section):
    """Leeloo people → one Dialog campaign per batch."""

    enabled: bool = True
    tags: list[str] = Field(default_factory=list, description="Only people with any of these tags")
    exclude_tags: list[str] = Field(default_factory=list, description="Skip people with any of these tags")
    last_message_within: Duration = Field(default="30d", description="Only people who wrote within this window")
    queued_tag: str | None = Field(default=None, description="Leeloo tag put on each person once queued")
    project_id: int
    start_block_id: int
    phone_id: int
    campaign_name: str = "leadbridge {date}"
    start_time: str = Field(default="09:00", pattern=r"^\d\d:\d\d$")
    end_time: str = Field(default="20:00", pattern=r"^\d\d:\d\d$")
    attempts: int = Field(default=2, ge=1, le=5)
    interval_minutes: int = Field(default=30, ge=1)
    batch_size: int = Field(default=1000, ge=1, le=100_000, description="Phones per campaign")
    # `flows serve` gathers the leads webhooks bring for this long before it creates their campaign.
    batch_window: Duration = Field(default="5s", description="flows serve: how long leads gather into one campaign")
    add_data: dict[str, str] = Field(
        default_factory=lambda: {"name": "name", "person_id": "id"},
        description="Start-block parameter → person field: id, name, phone, email or custom:<name>",
    )

    @field_validator("add_data")
    @classmethod
    def _fields(cls, value: dict[str, str]) -> dict[str, str]:
        for key, source in value.items():
            if source not in ("id", "name", "phone", "email") and not source.startswith("custom:"):
                raise ValueError(f"add_data.{key}: {source!r} is not id, name, phone, email or custom:<name>")
        return value


class OutcomeConfig(Section):
    status: Literal["TALKING", "SUCCESS", "NO_ANSWER", "CLOSED_BY_SYSTEM"]
    tags: list[str] = Field(default_factory=list)
    final: bool = Field(default=True, description="Whether this outcome ends the number's attempts")


def _default_outcomes() -> dict[str, OutcomeConfig]:
    return {
        "answered": OutcomeConfig(status="SUCCESS"),
        "no_answer": OutcomeConfig(status="NO_ANSWER", final=False),
        "busy": OutcomeConfig(status="NO_ANSWER", final=False),
        "voicemail": OutcomeConfig(status="CLOSED_BY_SYSTEM", final=False),
    }


class CallResultsConfig(Section):
    """Dialog campaign reports → calls, comments and tags on the Leeloo people."""

    enabled: bool = True
    scenario_id: int
    outcomes: dict[str, OutcomeConfig] = Field(default_factory=_default_outcomes,
                                               description="Dialog outcome → Leeloo call status and tags")
    goal_tag: str | None = Field(default=None, description="Tag for people whose dialog reached the goal")
    template_id: str | None = Field(default=None, description="Message template sent after a call")
    template_outcomes: list[str] = Field(default_factory=lambda: ["answered"])
    call_from: str = Field(default="Dialog", description="The 'from' of the Leeloo call")


class DealsToLeelooConfig(Section):
    """Neiros deals → Leeloo people, calls and comments."""

    enabled: bool = True
    sites: list[int] = Field(default_factory=list, description="Neiros site ids (default: every site)")
    window: Duration = Field(default="30d", description="Deals created within this window before now")
    leadgentool_id: str = Field(description="Leeloo lead-generation tool of the people created")
    person_name: str = "Neiros {phone}"


class RevenueToNeirosConfig(Section):
    """Paid Leeloo orders → the sum of the person's Neiros deal."""

    enabled: bool = True
    paid_statuses: list[str] = Field(default_factory=lambda: ["RESOLVED", "SUCCESS"])
    attribution: Literal["last-before-order", "first", "last"] = "last-before-order"
    sites: list[int] = Field(default_factory=list, description="Neiros site ids (default: every site)")
    window: Duration = Field(default="365d", description="Deals created within this window are candidates")


class FlowsConfig(Section):
    call_leads: CallLeadsConfig | None = Field(default=None, alias="call-leads")
    call_results: CallResultsConfig | None = Field(default=None, alias="call-results")
    deals_to_leeloo: DealsToLeelooConfig | None = Field(default=None, alias="deals-to-leeloo")
    revenue_to_neiros: RevenueToNeirosConfig | None = Field(default=None, alias="revenue-to-neiros")


class ScheduleConfig(Section):
    every: Duration = "5m"


class Config(Section):
    ledger: LedgerConfig = Field(default_factory=LedgerConfig)
    leeloo: LeelooConfig | None = None
    neiros: NeirosConfig | None = None
    dialog: DialogConfig | None = None
    phones: PhonesConfig = Field(default_factory=PhonesConfig)
    flows: FlowsConfig = Field(default_factory=FlowsConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    # Read and validated by leadbridge.export (its extra may not be installed where the flows run).
    export: dict[str, Any] = Field(default_factory=dict, description="[export]: see docs/export.md")

    def flow(self, name: str) -> Section | None:
        """The section of flow ``name`` (None when absent)."""
        section: Section | None = getattr(self.flows, name.replace("-", "_"))
        return section

    def enabled_flows(self) -> list[str]:
        return [name for name in FLOW_NAMES if (s := self.flow(name)) is not None and getattr(s, "enabled", True)]

    def require(self, flow: str) -> None:
        """Fail, naming the key, when a flow lacks its section or the platforms it talks to."""
        if self.flow(flow) is None:
            raise ConfigError(f"flows.{flow}: section is missing")
        needs = {"call-leads": ("leeloo", "dialog"), "call-results": ("leeloo", "dialog"),
                 "deals-to-leeloo": ("neiros", "leeloo"), "revenue-to-neiros": ("leeloo", "neiros")}[flow]
        missing = [platform for platform in needs if getattr(self, platform) is None]
        if missing:
            raise ConfigError(f"flow {flow} needs the [{'] and ['.join(missing)}] section(s)")


# --- loading ----------------------------------------------------------------------------

_SECRET_KEYS = {"leeloo": ("token",), "neiros": ("password", "token"), "dialog": ("password", "token")}


def _resolve_env(value: Any, path: str, environ: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: _resolve_env(item, f"{path}.{key}" if path else key, environ) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve_env(item, f"{path}[{i}]", environ) for i, item in enumerate(value)]
    if isinstance(value, str) and value.startswith("env:"):
        name = value[4:]
        if name not in environ:
            raise ConfigError(f"{path}: environment variable {name} is not set")
        return environ[name]
    return value


def _secrets_from_env(data: dict[str, Any], environ: Mapping[str, str]) -> None:
    for section, keys in _SECRET_KEYS.items():
        block = data.get(section)
        if not isinstance(block, dict):
            continue
        for key in keys:
            variable = f"LEADBRIDGE_{section.upper()}_{key.upper()}"
            if key not in block and variable in environ:
                block[key] = environ[variable]


def _describe(error: PydanticValidationError) -> str:
    lines = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"])
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        elif item["type"] == "missing":
            section = path.split(".")[0]
            key = path.rsplit(".", 1)[-1]
            secret = key in _SECRET_KEYS.get(section, ())
            hint = f" (or set LEADBRIDGE_{section.upper()}_{key.upper()})" if secret else ""
            message = f"missing{hint}"
        lines.append(f"{path}: {message}" if path else message)
    return "; ".join(lines)


def parse_config(data: dict[str, Any], environ: Mapping[str, str] | None = None, *, source: str = "config") -> Config:
    """Validate a decoded ``leadbridge.toml``; raise :class:`ConfigError` naming each bad key."""
    environ = os.environ if environ is None else environ
    resolved = _resolve_env(data, "", environ)
    _secrets_from_env(resolved, environ)
    try:
        return Config.model_validate(resolved)
    except PydanticValidationError as exc:
        raise ConfigError(f"{source}: {_describe(exc)}") from None


def config_path(path: str | Path | None = None) -> Path:
    return Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_PATH)


def load_config(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate the configuration file (``$LEADBRIDGE_CONFIG`` or ./leadbridge.toml by default)."""
    file = config_path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such configuration file (see docs/flows.md for an example)") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    return parse_config(data, environ, source=str(file))
