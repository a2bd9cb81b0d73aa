"""Changes and reads no vendor API offers, shared by the control API and the console.

Leeloo makes tags and templates in its web interface and a person's incoming message
arrives from a messenger; none of that has an API call, yet tests and the console need it.
Each write is one transaction (:meth:`Sandbox.write`), bounded and checked like any API input.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadbridge.sandbox import schema as s
from leadbridge.sandbox.leeloo.backend.core import append_message, defined, find
from leadbridge.sandbox.seed import TENANTS
from leadbridge.sandbox.state import Sandbox
from leadbridge.sandbox.webhooks import emit
from leadbridge.sandbox.wire import ApiError, is_oid, iso, new_oid

NAME_MAX = 200
TEXT_MAX = 4096
INCOMING = "FRIEND_MESSAGE"  # what Leeloo calls a message the person wrote to the bot
DEFAULT_COMPANY = TENANTS[0].company_id


def _name(value: str, field: str, limit: int = NAME_MAX) -> str:
    text = value.strip()
    if not text:
        raise ApiError(422, f"{field} is required", field=field)
    if len(text) > limit:
        raise ApiError(422, f"{field} is longer than {limit} characters", field=field)
    return text


def require_company(sandbox: Sandbox, company_id: str) -> str:
    if not is_oid(company_id):
        raise ApiError(422, "company_id is not a company id", field="company_id")
    with sandbox.read() as session:
        if session.get(s.Company, company_id) is None:
            raise ApiError(404, "Company not found", field="company_id")
    return company_id


def create_tag(sandbox: Sandbox, company_id: str, name: str) -> dict[str, Any]:
    """A tag of the company; a tag of that name already there is returned as it is (harmless twice)."""
    name = _name(name, "name")
    require_company(sandbox, company_id)
    with sandbox.write(company_id) as session:
        existing = session.scalar(select(s.Tag.id).where(s.Tag.company_id == company_id, s.Tag.name == name))
        if existing is not None:
            return {"id": existing, "name": name, "created": False}
        tag_id = new_oid(sandbox.now())
        session.add(s.Tag(id=tag_id, company_id=company_id, name=name))
    return {"id": tag_id, "name": name, "created": True}


def create_template(sandbox: Sandbox, company_id: str, category: str, message_name: str,
                    text: str) -> dict[str, Any]:
    """A message template in the category of that name (made when missing); ``{name}`` style placeholders."""
    category = _name(category, "category")
    message_name = _name(message_name, "message_name")
    text = _name(text, "text", TEXT_MAX)
    require_company(sandbox, company_id)
    with sandbox.write(company_id) as session:
        category_id = session.scalar(select(s.TemplateCategory.id).where(
            s.TemplateCategory.company_id == company_id, s.TemplateCategory.name == category))
        if category_id is None:
            category_id = new_oid(sandbox.now())
            session.add(s.TemplateCategory(id=category_id, company_id=company_id, name=category))
            session.flush()
        template_id = new_oid(sandbox.now())
        session.add(s.Template(id=template_id, company_id=company_id, category_id=category_id,
                               message_name=message_name, text=text))
    return {"id": template_id, "category_id": category_id, "category": category, "message_name": message_name,
            "text": text}


def templates(sandbox: Sandbox, company_id: str) -> list[dict[str, Any]]:
    with sandbox.read() as session:
        rows = session.execute(
            select(s.Template.id, s.Template.message_name, s.Template.text, s.TemplateCategory.name)
            .join(s.TemplateCategory, s.TemplateCategory.id == s.Template.category_id)
            .where(s.Template.company_id == company_id)
            .order_by(s.TemplateCategory.name, s.Template.message_name)).all()
    return [{"id": r[0], "message_name": r[1], "text": r[2], "category": r[3]} for r in rows]


def tags(sandbox: Sandbox, company_id: str) -> list[dict[str, Any]]:
    """Tags with how many people carry each."""
    with sandbox.read() as session:
        rows = session.execute(
            select(s.Tag.id, s.Tag.name, func.count(s.PersonTag.person_id))
            .outerjoin(s.PersonTag, s.PersonTag.tag_id == s.Tag.id)
            .where(s.Tag.company_id == company_id).group_by(s.Tag.id, s.Tag.name).order_by(s.Tag.name)).all()
    return [{"id": r[0], "name": r[1], "people": r[2]} for r in rows]


def add_incoming_message(sandbox: Sandbox, account_id: str, text: str, *,
                         now: datetime | None = None) -> dict[str, Any]:
    """A message from the person, as if written in the messenger: the account's chat and times
    follow, and the company's INCOMING_MESSAGE webhook fires. ``now``: when it was written
    (default the sandbox clock; the activity gives each event its own time)."""
    text = _name(text, "text", TEXT_MAX)
    if not is_oid(account_id):
        raise ApiError(404, "Communication channel not found", field="account_id")
    with sandbox.read() as session:
        company_id = session.scalar(select(s.Account.company_id).where(s.Account.id == account_id))
    if company_id is None:
        raise ApiError(404, "Communication channel not found", field="account_id")
    now = now or sandbox.now()
    with sandbox.write(company_id) as session:
        message_id, person_id = append_message(session, company_id, account_id, text, INCOMING, now,
                                               field="account_id")
        emit(session, company_id, "INCOMING_MESSAGE", lambda: incoming_event(session, account_id, message_id,
                                                                            person_id, text, now))
    return {"account_id": account_id, "type": INCOMING, "text": text, "createdAt": iso(now)}


def incoming_event(session: Session, account_id: str, message_id: str, person_id: str, text: str,
                   now: datetime) -> dict[str, Any]:
    """The data of an INCOMING_MESSAGE webhook (our reading: the wiki's copy ends before its example)."""
    row = session.execute(select(s.Person.email, s.Person.phone).where(s.Person.id == person_id)).first()
    return {"message_id": message_id, "account_id": account_id, "person_id": person_id, "text": text,
            "email": defined(row.email if row else None), "phone": defined(row.phone if row else None),
            "created_at": iso(now)}


def person_company(sandbox: Sandbox, person_id: str) -> str:
    if is_oid(person_id):
        with sandbox.read() as session:
            company_id = session.scalar(select(s.Person.company_id).where(s.Person.id == person_id))
        if company_id is not None:
            return str(company_id)
    raise ApiError(404, "Person not found")


def person_comments(sandbox: Sandbox, person_id: str) -> list[dict[str, Any]]:
    company_id = person_company(sandbox, person_id)
    with sandbox.read() as session:
        find(session, s.Person, company_id, person_id, what="Person")
        rows = session.execute(select(s.Comment.id, s.Comment.text, s.Comment.created_by, s.Comment.created_at)
                               .where(s.Comment.person_id == person_id)
                               .order_by(s.Comment.created_at.desc(), s.Comment.id.desc())).all()
    return [{"id": r[0], "text": r[1], "created_by": r[2], "created_at": iso(r[3])} for r in rows]


def person_calls(sandbox: Sandbox, person_id: str) -> list[dict[str, Any]]:
    """Calls logged on the person's accounts (Leeloo's add-call), newest first."""
    person_company(sandbox, person_id)
    with sandbox.read() as session:
        rows = session.execute(
            select(s.Call.id, s.Call.account_id, s.Call.from_number, s.Call.to_number, s.Call.date, s.Call.status,
                   s.Call.duration, s.Call.type, s.Call.record_link)
            .join(s.Account, s.Account.id == s.Call.account_id)
            .where(s.Account.person_id == person_id).order_by(s.Call.date.desc(), s.Call.id.desc())).all()
    return [{"id": r[0], "account_id": r[1], "from": r[2], "to": r[3], "date": iso(r[4]), "status": r[5],
             "duration": r[6], "type": r[7], "record_link": r[8]} for r in rows]
