"""The console's people search, over HTTP, on SQLite (in memory and migrated on disk) and PostgreSQL:
what it finds, how it folds case and reads phones, and that its index follows every write."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text

from http_clients import TIMEOUT
from leadbridge.sandbox import search
from leadbridge.sandbox.seed import DOC_IDS, TENANTS
from leadbridge.sandbox.server import RunningSandbox, serve_in_thread
from leadbridge.sandbox.state import MEMORY_URL, Sandbox
from pg_support import private_pg_schema

DEMO = TENANTS[0]
UI = "/_sandbox/ui"
LEADGENTOOL = "609290d3e060416cdea6823e"


@pytest.fixture(scope="module", params=["sqlite-memory", "sqlite-file", "postgresql"])
def running(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    if request.param == "postgresql":
        with private_pg_schema("lb_search") as url, serve_in_thread(Sandbox(url, seed=5, people=40)) as sandbox:
            yield sandbox
        return
    url = MEMORY_URL
    if request.param == "sqlite-file":
        url = f"sqlite:///{tmp_path_factory.mktemp('search') / 'sandbox.sqlite3'}"
    with serve_in_thread(Sandbox(url, seed=5, people=40)) as sandbox:
        yield sandbox


@pytest.fixture
def leeloo(running: RunningSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=running.url, headers={"X-Leeloo-AuthToken": DEMO.leeloo_token},
                      timeout=TIMEOUT) as client:
        yield client


def found(running: RunningSandbox, query: str) -> str:
    response = httpx.get(f"{running.url}{UI}/people", params={"q": query}, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.text


def new_person(leeloo: httpx.Client, name: str, phone: str, email: str) -> str:
    response = leeloo.post("/api/v2/people", json={"name": name, "phone": phone, "email": email,
                                                   "leadgentool_id": LEADGENTOOL})
    assert response.status_code < 300, response.text
    person_id: str = response.json()["data"]["person_id"]
    return person_id


def test_finds_by_any_case_of_a_cyrillic_name_by_email_and_by_a_phone_as_typed(
        running: RunningSandbox, leeloo: httpx.Client) -> None:
    person_id = new_person(leeloo, "Пётр Семёнович Заречный", "+79161234589", "Pyotr.Zarechny@example.org")
    for query in ("заречный", "ЗАРЕЧН", "Заре", "семенович", "Семёнович", "zarechny@EXAMPLE", "pyotr.z",
                  "+7 (916) 123-45-89", "916 123", "1234589"):
        assert f"/people/{person_id}" in found(running, query), query
    page = found(running, "Заречныйй")
    assert f"/people/{person_id}" not in page and "Никого не нашлось" in page


def test_a_changed_phone_is_found_and_the_old_one_no_longer(running: RunningSandbox, leeloo: httpx.Client) -> None:
    person_id = new_person(leeloo, "Олеся Переездова", "+79035550011", "olesya@example.org")
    assert leeloo.put(f"/api/v2/people/{person_id}", json={"phone": "+79267770022"}).status_code == 200
    assert f"/people/{person_id}" in found(running, "79267770022")
    assert f"/people/{person_id}" not in found(running, "79035550011")
    assert f"/people/{person_id}" in found(running, "переездова")  # the name stays searchable


def test_a_change_that_leaves_the_searched_text_keeps_the_person_found(
        running: RunningSandbox, leeloo: httpx.Client) -> None:
    person_id = new_person(leeloo, "Инна Неизменная", "+79035550033", "inna@example.org")
    # The same phone again, then only a custom field: the searched text stays as it was.
    for body in ({"phone": "+79035550033"}, {"custom_fields": [{"type": "KEYWORD", "name": "city", "value": "Тверь"}]}):
        answer = leeloo.put(f"/api/v2/people/{person_id}", json=body)
        assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["custom_fields"] == [{"type": "KEYWORD", "name": "city", "value": "Тверь"}]
    for query in ("неизменная", "inna@example", "79035550033"):
        assert f"/people/{person_id}" in found(running, query), query


def links(page: str) -> int:
    return page.count(f'href="{UI}/people/')


def test_wildcards_and_quotes_are_text_not_patterns(running: RunningSandbox, leeloo: httpx.Client) -> None:
    person_id = new_person(leeloo, 'Ателье "100%_шик"', "+79991110033", "atelier@example.org")
    for query in ('"100%_шик"', "100%_", "%", "%_ш"):
        page = found(running, query)
        assert f"/people/{person_id}" in page and links(page) == 1, query
    for query in ('" OR "', "ъ%ъ", "*", "NEAR(a b)", "'); DROP TABLE leeloo_person; --"):
        assert "Никого не нашлось" in found(running, query), query


def test_a_short_text_says_where_it_looks(running: RunningSandbox) -> None:
    assert "последних людей" in found(running, "ов")
    assert "последних людей" not in found(running, "ова")


def test_many_matches_and_few_matches_give_the_same_pages(running: RunningSandbox, leeloo: httpx.Client,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A text matching many people is read newest first, one matching few through the index:
    the same people either way, in the same order, page by page."""
    for n in range(30):
        new_person(leeloo, f"Многоликий Клиент {n:02d}", f"+7915000{n:04d}", f"many{n}@example.org")
    pages = {}
    for few in (search.FEW_MATCHES, 1):
        monkeypatch.setattr(search, "FEW_MATCHES", few)
        pages[few] = [found(running, "многоликий") for _ in range(1)]
        pages[few] += [httpx.get(f"{running.url}{UI}/people", params={"q": "многоликий", "page": 2},
                                 timeout=TIMEOUT).text]
    assert pages[search.FEW_MATCHES] == pages[1]
    assert pages[1][0].count("Многоликий Клиент") == 25 and pages[1][1].count("Многоликий Клиент") == 5


def test_the_trigram_index_exists(running: RunningSandbox) -> None:
    sandbox = running.sandbox
    with sandbox.engine.connect() as conn:
        if sandbox.engine.dialect.name == "sqlite":
            names = set(sandbox.engine.dialect.get_table_names(conn))
            assert search.FTS_TABLE in names
            # The index answers a substring query by itself, and with the people not indexed yet
            # agrees with the table.
            indexed = conn.scalar(text(f"SELECT count(*) FROM {search.FTS_TABLE} WHERE {search.FTS_TABLE} "
                                       "MATCH '\"ова\"'"))
            waiting = conn.scalar(text(f"SELECT count(*) FROM {search.PENDING_TABLE} JOIN leeloo_person "
                                       f"ON leeloo_person.rowid = person_rowid WHERE search_text LIKE '%ова%'"))
            scanned = conn.scalar(text("SELECT count(*) FROM leeloo_person WHERE search_text LIKE '%ова%'"))
            assert indexed + waiting == scanned and indexed > 0
        else:
            indexes = conn.scalars(text("SELECT indexname FROM pg_indexes WHERE tablename = 'leeloo_person' "
                                        "AND schemaname = current_schema()")).all()
            assert search.PG_INDEX in indexes


def indexed(running: RunningSandbox, phrase: str) -> int:
    with running.sandbox.engine.connect() as conn:
        return int(conn.scalar(text(f"SELECT count(*) FROM {search.FTS_TABLE} WHERE {search.FTS_TABLE} MATCH :phrase"),
                               {"phrase": f'"{phrase}"'}))


def waiting(running: RunningSandbox) -> int:
    with running.sandbox.engine.connect() as conn:
        return int(conn.scalar(text(f"SELECT count(*) FROM {search.PENDING_TABLE}")))


def test_people_are_indexed_a_thousand_at_a_time_and_found_meanwhile(running: RunningSandbox,
                                                                      leeloo: httpx.Client) -> None:
    if running.sandbox.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's FTS5 index only: PostgreSQL's GIN index takes each person as it comes")
    person_id = new_person(leeloo, "Ожидающая Очереди", "+79035550044", "queue@example.org")
    assert indexed(running, "ожидающая") == 0 and f"/people/{person_id}" in found(running, "ожидающая")
    # SMS people fill the queue up: the write that brings it to CATCH_UP_AT indexes them all.
    sms = {"connection_id": DOC_IDS["sms_connection"], "leadgentool_id": DOC_IDS["sms_leadgentool"]}
    wanted = search.CATCH_UP_AT - waiting(running)
    numbers = [f"+7901{n:07d}" for n in range(wanted)]
    for start in range(0, wanted, 200):
        data = [{"phone": phone, "name": f"Очередной {phone}"} for phone in numbers[start:start + 200]]
        answer = leeloo.post("/api/v2/people/sms", json={**sms, "data": data})
        assert answer.status_code < 300, answer.text
    assert waiting(running) == 0
    assert indexed(running, "ожидающая") == 1 and indexed(running, "очередной") == wanted
    assert f"/people/{person_id}" in found(running, "ожидающая")
    # An indexed person whose text changes leaves the index and waits again, found by the new text only.
    assert leeloo.put(f"/api/v2/people/{person_id}", json={"email": "moved@example.org"}).status_code == 200
    assert indexed(running, "queue@example") == 0 and waiting(running) == 1
    assert f"/people/{person_id}" in found(running, "moved@example")
    assert f"/people/{person_id}" not in found(running, "queue@example")


def test_a_reset_sandbox_gets_a_fresh_index() -> None:
    sandbox = Sandbox(MEMORY_URL, seed=5, people=20)
    sandbox.start()
    with sandbox.write() as session:
        session.execute(text("UPDATE leeloo_person SET search_text = 'уникальнейший' WHERE rowid = 1"))
    sandbox.reset()
    with sandbox.engine.connect() as conn:
        indexed = conn.scalar(text(f"SELECT count(*) FROM {search.FTS_TABLE} WHERE {search.FTS_TABLE} "
                                   "MATCH '\"уникальнейш\"'"))
        people = conn.scalar(text("SELECT count(*) FROM leeloo_person"))
    assert indexed == 0 and people
    sandbox.close()


def test_without_fts5_the_search_reads_every_person() -> None:
    """A SQLite built without FTS5's trigram tokenizer (before 3.34) has no index: same answers."""
    with serve_in_thread(Sandbox(MEMORY_URL, seed=5, people=20)) as running:
        with running.sandbox.write() as session:
            names = session.scalars(text("SELECT name FROM leeloo_person WHERE company_id = :company "
                                         "ORDER BY id DESC LIMIT 3"), {"company": DEMO.company_id}).all()
            for trigger in ("insert", "delete", "update"):
                session.execute(text(f"DROP TRIGGER {search.FTS_TABLE}_{trigger}"))
            session.execute(text(f"DROP TABLE {search.FTS_TABLE}"))
        for name in names:
            assert name in found(running, name.split()[-1].upper())
        assert "Никого не нашлось" in found(running, "Щщщщ")
