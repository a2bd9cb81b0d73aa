"""The sandbox console in a real headless Chromium: what a person does there, end to end."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from console_support import PHONE, screenshot
from playwright.sync_api import expect
from sqlalchemy import func, select

from http_clients import TIMEOUT
from leadbridge.sandbox import schema
from leadbridge.sandbox.seed import TENANTS
from leadbridge.sandbox.server import RunningSandbox, serve_in_thread
from leadbridge.sandbox.state import MEMORY_URL, Sandbox
from leadbridge.sdk import Dialog
from webhook_support import receiving

DEMO = TENANTS[0]
UI = "/_sandbox/ui"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with serve_in_thread(Sandbox(MEMORY_URL, seed=7, people=60)) as running:
        yield running


def a_person_with_chat(running: RunningSandbox) -> tuple[str, str, str]:
    """(id, name, phone) of a demo person whose first account has messages."""
    with running.sandbox.read() as session:
        row = session.execute(
            select(schema.Person.id, schema.Person.name, schema.Person.phone)
            .join(schema.Account, schema.Account.person_id == schema.Person.id)
            .join(schema.Message, schema.Message.account_id == schema.Account.id)
            .where(schema.Person.company_id == DEMO.company_id, schema.Person.phone.is_not(None),
                   schema.Message.text != "")
            .group_by(schema.Person.id, schema.Person.name, schema.Person.phone)
            .order_by(func.count().desc(), schema.Person.id).limit(1)).one()
    return row[0], row[1], row[2]


def test_find_a_person_read_the_chat_write_as_them_and_tag_them(sandbox: RunningSandbox, page: Any) -> None:
    person_id, name, phone = a_person_with_chat(sandbox)
    page.goto(sandbox.url + "/")
    expect(page).to_have_url(re.compile(UI + "$"))
    expect(page.get_by_role("heading", name="Песочница")).to_be_visible()
    screenshot(page, "sandbox-overview")

    page.get_by_role("link", name="Люди", exact=True).click()
    page.get_by_role("searchbox").fill(name.split()[-1])
    page.get_by_role("button", name="Найти").click()
    expect(page.get_by_role("link", name=name).first).to_be_visible()
    screenshot(page, "sandbox-people")
    # The phone finds the same person (the search covers name, phone and email).
    page.get_by_role("searchbox").fill(phone[-7:])
    page.get_by_role("button", name="Найти").click()
    page.get_by_role("link", name=name).first.click()
    expect(page).to_have_url(re.compile(f"/people/{person_id}$"))

    thread = page.locator("ol.thread").first
    with sandbox.sandbox.read() as session:
        first_account = session.scalar(select(schema.Account.id).where(schema.Account.person_id == person_id)
                                       .order_by(schema.Account.created_at))
        texts = session.scalars(select(schema.Message.text).where(
            schema.Message.account_id == first_account, schema.Message.text != "")).all()
    expect(thread).to_contain_text(texts[0][:30])

    chat = page.locator(f"#chat-{first_account}")
    chat.get_by_role("textbox").fill("Здравствуйте! Хочу записаться на пятницу")
    chat.get_by_role("button", name=re.compile("^Отправить как")).click()
    expect(page.locator(f"#chat-{first_account} li.friend_message").last).to_contain_text(
        "Хочу записаться на пятницу")
    with sandbox.sandbox.read() as session:
        newest = session.execute(select(schema.Message.type, schema.Message.text)
                                 .where(schema.Message.account_id == first_account)
                                 .order_by(schema.Message.created_at.desc()).limit(1)).one()
    assert newest == ("FRIEND_MESSAGE", "Здравствуйте! Хочу записаться на пятницу")

    tags = page.locator("#tags")
    chosen = tags.get_by_role("combobox").locator("option").first.inner_text()
    tags.get_by_role("button", name="Добавить тег").click()
    expect(page.locator("#tags .tag", has_text=chosen)).to_be_visible()
    person = httpx.get(f"{sandbox.url}/api/v2/people/{person_id}",
                       headers={"X-Leeloo-AuthToken": DEMO.leeloo_token}, timeout=TIMEOUT).json()["data"]
    assert chosen in person["tags"]
    page.set_viewport_size({"width": 1366, "height": 900})
    screenshot(page, "sandbox-person")
    page.get_by_role("button", name=f"Снять тег {chosen}").click()
    expect(page.locator("#tags .tag", has_text=chosen)).to_have_count(0)


def test_move_the_clock_and_watch_a_campaign_progress(sandbox: RunningSandbox, page: Any) -> None:
    today = date.fromisoformat(httpx.get(sandbox.url + "/_sandbox/clock", timeout=TIMEOUT).json()["now"][:10])
    phones = [(f"+7999000{n:04d}", {"name": f"Клиент {n}"}) for n in range(12)]
    with Dialog(base_url=sandbox.url, login=DEMO.dialog_login, password=DEMO.dialog_password) as dialog:
        campaign_id = dialog.campaigns.create(DEMO.dialog_project_id, "Обзвон из браузерного теста",
                                              DEMO.dialog_start_block_id, DEMO.dialog_phone_id, phones,
                                              today + timedelta(days=1), "09:00", "18:00",
                                              attempts=2, interval=30)
    page.goto(f"{sandbox.url}{UI}/dialog/{campaign_id}")
    expect(page.locator("#called")).to_have_text("0")
    page.get_by_role("link", name="Обзор").click()
    page.get_by_role("button", name="+1 день").click()
    expect(page.locator(".flash.ok")).to_contain_text("Часы песочницы")
    page.get_by_role("button", name="+1 день").click()
    page.goto(f"{sandbox.url}{UI}/dialog")
    row = page.locator("tr", has_text="Обзвон из браузерного теста")
    expect(row).to_contain_text("12 / 12 номеров")
    row.get_by_role("link").click()
    expect(page.locator("#called")).to_have_text("12")
    expect(page.locator("#campaign-state")).to_have_text("Завершено")
    first = page.locator("ol.numbers > li").first
    expect(first.locator(".track .dot").first).to_be_visible()
    first.locator("summary").click()
    expect(first.locator(".attempt").first).to_contain_text("Попытка 1")
    screenshot(page, "sandbox-campaign")


def test_a_fault_is_marked_in_the_live_log(sandbox: RunningSandbox, page: Any) -> None:
    page.goto(f"{sandbox.url}{UI}")
    form = page.locator("#fault-form")
    form.get_by_label("Пути").fill("^/api/v2/tags")
    form.get_by_label("Доля ошибок").fill("1")
    form.get_by_role("button", name="Добавить сбой").click()
    expect(page.locator("td.mono", has_text="^/api/v2/tags")).to_be_visible()

    page.goto(f"{sandbox.url}{UI}/log")
    expect(page.locator("#live")).to_have_text("● вживую")
    headers = {"X-Leeloo-AuthToken": DEMO.leeloo_token}
    assert httpx.get(f"{sandbox.url}/api/v2/tags", headers=headers, timeout=TIMEOUT).status_code == 503
    assert httpx.post(f"{sandbox.url}/api/v2/people", headers=headers, timeout=TIMEOUT,
                      json={"name": "Журнал", "phone": "+79990001122", "password": "секрет"}).status_code < 500
    faulted = page.locator("#log-rows tr.entry.fault", has_text="/api/v2/tags")
    expect(faulted).to_be_visible()
    expect(faulted).to_contain_text("сбой: error")
    page.get_by_label("только сбои").check()
    expect(page.locator("#log-rows tr.entry:visible", has_text="/api/v2/people")).to_have_count(0)
    page.get_by_label("только сбои").uncheck()
    created = page.locator('#log-rows tr.entry[data-method="POST"]', has_text="/api/v2/people").first
    expect(created).to_be_visible()  # it arrives by the live stream
    created.click()
    body = page.locator("#log-rows tr.body").first
    expect(body).to_contain_text("Журнал")
    expect(body).not_to_contain_text("секрет")
    screenshot(page, "sandbox-log")
    page.goto(f"{sandbox.url}{UI}")
    page.get_by_role("button", name="Снять все сбои").click()
    assert httpx.get(f"{sandbox.url}/_sandbox/faults", timeout=TIMEOUT).json()["faults"] == []


def test_pages_read_well_on_a_phone(sandbox: RunningSandbox, browser: Any) -> None:
    context = browser.new_context(viewport=PHONE, locale="ru-RU", device_scale_factor=2)
    try:
        phone = context.new_page()
        person_id, name, _ = a_person_with_chat(sandbox)
        phone.goto(f"{sandbox.url}{UI}/people/{person_id}")
        expect(phone.get_by_role("heading", name=name)).to_be_visible()
        # Nothing wider than the screen: the page never scrolls sideways.
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(phone, "sandbox-person-phone")
        phone.goto(f"{sandbox.url}{UI}/people")
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()


def test_a_dropped_delivery_is_sent_again_from_the_log(sandbox: RunningSandbox) -> None:
    # Plain HTTP, as the page's form posts: the button is a form, no script.
    control = httpx.Client(base_url=sandbox.url, timeout=TIMEOUT, follow_redirects=True)
    with control, receiving() as receiver:
        assert control.put("/_sandbox/webhooks", json={"url": receiver.url, "events": ["INCOMING_MESSAGE"],
                                                       "enabled": True}).status_code == 200
        assert control.post("/_sandbox/faults", json={"pattern": "^INCOMING_MESSAGE$", "target": "webhooks",
                                                      "drop_rate": 1}).status_code == 200
        _, account_id = a_person_and_account(sandbox)
        assert control.post("/_sandbox/incoming-messages",
                            json={"account_id": account_id, "text": "Потерянное"}).status_code == 200
        assert control.delete("/_sandbox/faults").status_code == 200
        [dropped] = control.get("/_sandbox/webhooks/deliveries").json()["data"]

        action = f"{UI}/webhooks/{dropped['id']}/redeliver"
        assert f'action="{action}"' in control.get(f"{UI}/webhooks").text
        answer = control.post(action)
        assert answer.status_code == 200 and "Событие отправлено ещё раз" in answer.text
        assert receiver.wait_event("INCOMING_MESSAGE", lambda data: data["text"] == "Потерянное")
        assert control.put("/_sandbox/webhooks", json={"url": receiver.url, "events": [],
                                                       "enabled": False}).status_code == 200


def a_person_and_account(running: RunningSandbox) -> tuple[str, str]:
    with running.sandbox.read() as session:
        row = session.execute(select(schema.Account.person_id, schema.Account.id)
                              .where(schema.Account.company_id == DEMO.company_id)
                              .order_by(schema.Account.id).limit(1)).one()
    return row[0], row[1]
