"""Leeloo request bodies: one pydantic model per write, accepted as JSON or form data.

The documents send some bodies as JSON and others as form-data; :func:`wire.parse_body`
turns either into a dict. Form data cannot nest, so bracketed keys
(``variables[key1]``, ``data[0][phone]``, ``tags[]``) are folded back into objects and
lists here, and a list or object field may also arrive as a JSON string.
"""

from __future__ import annotations

import contextlib
import math
import re
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    model_validator,
)

from leadbridge.sandbox import schema
from leadbridge.sandbox.wire import check_value, is_oid, to_utc_naive

CURRENCIES = ("USD", "EUR", "UAH", "RUB")
Currency = Literal["USD", "EUR", "UAH", "RUB"]
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{4,24}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_BRACKETED = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])+)$")


def _oid(value: str) -> str:
    if not is_oid(value):
        raise ValueError("must be a 24-character lowercase hexadecimal id")
    return value


def _phone(value: str) -> str:
    value = value.strip()
    if not _PHONE.match(value):
        raise ValueError("must be a phone number such as +380669999777")
    return value


def _email(value: str) -> str:
    value = value.strip()
    if not _EMAIL.match(value):
        raise ValueError("must be an email address")
    return value


def _blank_is_not_defined(value: Any) -> Any:
    return "NOT_DEFINED" if value is None or (isinstance(value, str) and not value.strip()) else value


def parse_utc(value: Any) -> Any:
    """A documented date ('2020-02-04T11:46:48.803Z', '2018-06-27 07:32', '2020-02-10') as naive UTC,
    within wire.DATE_WINDOW."""
    if isinstance(value, datetime):
        value = value.isoformat()
    if not isinstance(value, str):
        raise ValueError("must be a UTC date string")
    try:
        return to_utc_naive(value)
    except ValueError as exc:
        if str(exc).startswith(("must", "is too")):
            raise
        raise ValueError("must be a UTC date such as 2020-02-04T11:46:48.803Z") from None


def column_length(column: Any) -> int:
    """The length of a ``String(n)`` column of schema.py: a body's string is bounded by where it is stored."""
    length = column.property.columns[0].type.length
    assert isinstance(length, int)
    return length


MAX_PRICE = 10**12
MAX_INT32 = 2**31 - 1


Oid = Annotated[str, AfterValidator(_oid)]
Phone = Annotated[str, AfterValidator(_phone)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                        max_length=column_length(schema.Person.name))]
Email = Annotated[str, StringConstraints(max_length=column_length(schema.Person.email)), AfterValidator(_email)]
Number = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                          max_length=column_length(schema.Call.from_number))]
UtcDatetime = Annotated[datetime, BeforeValidator(parse_utc)]


def _fold_brackets(data: dict[str, Any]) -> dict[str, Any]:
    """``{"a[0][b]": 1}`` -> ``{"a": [{"b": 1}]}``; plain keys pass through unchanged."""
    folded: dict[str, Any] = {}
    for key, value in data.items():
        # A plain key (every key of a JSON body, as a rule) is known without the pattern.
        match = _BRACKETED.match(key) if isinstance(key, str) and "[" in key else None
        if match is None:
            folded[key] = value
            continue
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = folded
        for index, part in enumerate(parts[:-1]):
            following = parts[index + 1]
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
            if following == "":  # "tags[]" appended by position
                parts[index + 1] = str(len(node))
        node[parts[-1]] = value
    return {key: _listify(value) for key, value in folded.items()}


def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        value = {key: _listify(item) for key, item in value.items()}
        if value and all(isinstance(key, str) and key.isdigit() for key in value):
            return [value[key] for key in sorted(value, key=int)]
    return value


class Body(BaseModel):
    """Unknown fields are refused (a misspelt field must not be dropped silently)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _from_form(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = _fold_brackets(data)
        for key in _container_keys(cls):
            value = data.get(key)
            if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
                with contextlib.suppress(orjson.JSONDecodeError):  # else validation names the field
                    data[key] = orjson.loads(value)
                    # JSON inside a form field is bounded like a JSON body (wire.read_body).
                    check_value(data[key], [key])
        return data


def _is_container(annotation: Any) -> bool:
    text = str(annotation)
    return "list" in text or "dict" in text


@cache
def _container_keys(model: type[BaseModel]) -> tuple[str, ...]:
    """The keys of the model's list and object fields (a form may send JSON text in them), found
    once per model rather than on every body."""
    return tuple(field.alias or name for name, field in model.model_fields.items() if _is_container(field.annotation))


class SendMessage(Body):
    account_id: Oid = Field(description="Communication channel (account) id")
    text: Text = Field(description="Message text")


class SendTemplate(Body):
    account_id: Oid = Field(description="Communication channel (account) id")
    template_id: Oid = Field(description="Message template id")
    # Strict: JSON true/false is not a value to substitute (lax mode would read it as 1/0).
    variables: dict[str, StrictStr | StrictInt | StrictFloat] = Field(
        default_factory=dict, description="Values substituted for {name} placeholders in the template text"
    )


class ManualSubscribe(Body):
    tunnel_id: Oid
    tunnel_block_id: Oid = Field(description="A block of that tunnel (see GET /api/v2/tunnels/{id}?include=blocks)")


class CreateTrafficSource(Body):
    name: Annotated[Name, StringConstraints(max_length=column_length(schema.TrafficSource.name))]
    description: str | None = None


class CreateOrder(Body):
    paymentCreditsId: Oid = Field(description="A manual payment system of the company")
    offerId: Oid
    personId: Oid
    email: Email | None = None
    phone: Phone | None = None
    transactionDate: UtcDatetime | None = Field(default=None, description="UTC, e.g. 2020-02-04T11:46:48.803Z "
                                                "or 2024-03-22 15:30")
    isNotifyAccount: bool = Field(default=False, description="true/false, also as the strings 'true'/'false'")
    managerId: Oid | None = Field(default=None, description="User the sale is credited to (default: System)")


class UpdateManualOrder(Body):
    status: Literal["RESOLVED", "REJECTED"]
    paymentDate: UtcDatetime | None = Field(default=None, description="UTC, e.g. '2018-06-27 07:32'")
    currency: Currency | None = None
    price: Annotated[float, Field(ge=0, le=MAX_PRICE)] | None = Field(default=None,
                                                                      description="Amount actually received")
    userComments: str | None = None


CustomFieldType = Literal["EMAIL", "PHONE", "DATE", "KEYWORD", "NUMBER"]


class CustomField(Body):
    type: CustomFieldType
    name: Annotated[Text, StringConstraints(max_length=200)]
    value: str | Annotated[int, Field(ge=-(2**53), le=2**53)] | Annotated[float, Field(ge=-1e15, le=1e15)]

    @model_validator(mode="after")
    def _value_matches_type(self) -> CustomField:
        value = self.value
        if self.type == "NUMBER" and isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                raise ValueError("value of a NUMBER field must be a number") from None
            if not math.isfinite(number):
                raise ValueError("value of a NUMBER field must be a finite number")
        elif self.type == "EMAIL":
            _email(str(value))
        elif self.type == "PHONE":
            _phone(str(value))
        elif self.type == "DATE":
            parse_utc(str(value))
        return self


class UpdatePerson(Body):
    phone: Phone | None = None
    email: Email | None = None
    custom_fields: list[CustomField] | None = Field(
        default=None, description="Merged by name: a field of the same name is replaced, others are kept"
    )


class CreatePerson(Body):
    name: Name
    email: Email | None = None
    phone: Phone | None = None
    leadgentool_id: Oid = Field(description="The person is subscribed through this leadgentool")
    connected_users_ids: list[Oid] = Field(default_factory=list, description="Optional platform users")


class SmsPerson(Body):
    name: Annotated[str, StringConstraints(max_length=column_length(schema.Person.name))] | None = None
    email: Email | None = None
    phone: Phone


class PeopleSms(Body):
    data: list[SmsPerson] = Field(min_length=1, description="People to reach by SMS; matched by phone")
    connection_id: Oid = Field(description="An SMS connection of the company")
    leadgentool_id: Oid
    tags: list[Oid] = Field(default_factory=list, description="Tag ids applied to every person")


class AddComment(Body):
    comment: Text


class TagRef(Body):
    tag_id: Oid


class CreateCall(Body):
    user_id: Oid
    from_: Number = Field(alias="from")
    to: Number
    date: UtcDatetime
    account_id: Oid
    record_link: Annotated[Text, BeforeValidator(_blank_is_not_defined),
                           StringConstraints(max_length=column_length(schema.Call.record_link))] = Field(
        default="NOT_DEFINED", description="URL of the recording, or NOT_DEFINED (also when left out)")
    status: Literal["TALKING", "SUCCESS", "NO_ANSWER", "CLOSED_BY_SYSTEM"]
    duration: Annotated[int, Field(ge=0, le=MAX_INT32, description="Seconds")]
    type: Literal["INBOUND", "OUTBOUND"]


# The documents' example bodies, shown in the OpenAPI document.
EXAMPLES: dict[str, dict[str, Any]] = {
    "send_template": {
        "account_id": "5e42be688d4fff000cafe5cc",
        "template_id": "5e42be758d4fff000cafe6ef",
        "variables": {"key1": "value1", "key2": "value2"},
    },
    "send_message": {"account_id": "5b3f543bb2737000133d25b0", "text": "текст сообщения"},
    "manual_subscribe": {"tunnel_id": "5b3f543bb2737000133d25b0", "tunnel_block_id": "5b3f543bb2737000133d25b0"},
    "create_traffic_source": {"name": "some ts", "description": "some ts description"},
    "create_order": {
        "paymentCreditsId": "5e3c3533f04b1f000c27b534",
        "email": "email123@gmail.com",
        "phone": "+380669999777",
        "transactionDate": "2020-02-04T11:46:48.803Z",
        "offerId": "5e3c357bf04b1f000c27b83a",
        "isNotifyAccount": "false",
        "personId": "5e1c4676b70fb2001279c268",
        "managerId": "5e1c1236b70fb3331279c444",
    },
    "update_order": {
        "status": "RESOLVED",
        "paymentDate": "2018-06-27 07:32",
        "currency": "RUB",
        "price": "100",
        "userComments": "actual date dont match",
    },
    "update_person": {
        "phone": "+380669991876",
        "email": "newmail@gmail.com",
        "custom_fields": [{"type": "EMAIL", "name": "emailcust", "value": "customemail@gmail.com"}],
    },
    "create_person": {
        "name": "Feliks",
        "email": "feliks@gmail.com",
        "phone": "+380953066789",
        "leadgentool_id": "609290d3e060416cdea6823e",
        "connected_users_ids": ["609290d3e060416cdea68444"],
    },
    "people_sms": {
        "data": [{"name": "test123", "email": "test123@example.com", "phone": "+380667772233"}],
        "connection_id": "5dbfe6c5fb73e101720b3dc7",
        "leadgentool_id": "5e1f119d6c384804b31e945e",
        "tags": ["5cf7a18586236d000b1256b2"],
    },
    "add_comment": {"comment": "some text"},
    "tag": {"tag_id": "5b3f543bb2737000133d25b0"},
    "create_call": {
        "user_id": "5b0d313b307879002915b3cc",
        "from": "606",
        "to": "607",
        "date": "2024-03-22T15:30:17.339Z",
        "account_id": "6b0d313b307879002915b3c1",
        "record_link": "https://file-examples.com/storage/2017/11/file_example_MP3_5MG.mp3",
        "status": "SUCCESS",
        "duration": "100",
        "type": "OUTBOUND",
    },
}
