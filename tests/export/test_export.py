"""The export loads what the API serves, and a second run loads only what changed."""

from __future__ import annotations

from urllib.parse import unquote

import duckdb
import pytest
from export_support import TENANT, ExportSetup, query

from leadbridge.export.pipeline import make_pipeline, run_export
from leadbridge.export.warehouse import DUCKDB_SETTINGS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def pipeline_of(setup: ExportSetup, destination: str | None = None, dataset: str = "leadbridge"):
    config = setup.config(destination, dataset)
    export = config.export
    return make_pipeline(export["destination"], export["dataset"], export["pipelines_dir"])


def assert_matches_api(setup: ExportSetup, pipeline) -> None:
    people = setup.api_people()
    assert query(pipeline, "SELECT COUNT(*), COUNT(DISTINCT id) FROM people") == [(len(people), len(people))]
    accounts = sum(len(p.accounts) for p in people)
    assert query(pipeline, "SELECT COUNT(*) FROM people__accounts")[0][0] == accounts
    orders = setup.api_orders()
    count, revenue = query(pipeline, "SELECT COUNT(*), SUM(price) FROM orders")[0]
    assert count == len(orders)
    assert revenue == pytest.approx(sum(o.price or 0 for o in orders))
    paid = query(pipeline, "SELECT COUNT(*) FROM orders WHERE status IN ('RESOLVED', 'SUCCESS')")[0][0]
    assert paid == sum(1 for o in orders if o.status in ("RESOLVED", "SUCCESS"))
    deals = setup.api_deals()
    count, summ = query(pipeline, "SELECT COUNT(*), SUM(summ) FROM deals")[0]
    assert count == len(deals) > 0
    assert summ == pytest.approx(sum(d.summ or 0 for d in deals))
    rows = setup.api_dialog_rows()
    exported = query(pipeline, "SELECT dialog_id, outcome, goal FROM dialog_results ORDER BY dialog_id")
    assert exported == sorted((int(r["dialog_id"]), r["outcome"], str(r["goal"]).lower() == "true") for r in rows)
    assert len(exported) > 0


def warehouse_settings(pipeline) -> list[tuple[object, ...]]:
    return query(pipeline, "SELECT current_setting('threads'), current_setting('memory_limit')")


def expected_settings() -> list[tuple[object, ...]]:
    """DuckDB's own reading of DUCKDB_SETTINGS (it shows the memory limit in MiB)."""
    with duckdb.connect() as connection:
        for name, value in DUCKDB_SETTINGS.items():
            connection.execute(f"SET {name} = '{value}'")
        return [tuple(row) for row in connection.sql(
            "SELECT current_setting('threads'), current_setting('memory_limit')").fetchall()]


def test_export_into_duckdb_equals_the_api_and_a_second_run_loads_only_changes(setup: ExportSetup) -> None:
    setup.start_campaign(people=8)
    setup.advance(86_400)  # the campaign places all its calls (and then no more, however long the test takes)
    first = run_export(setup.config())
    pipeline = pipeline_of(setup)
    assert warehouse_settings(pipeline) == expected_settings()
    assert first.rows["people"] == len(setup.api_people())
    assert_matches_api(setup, pipeline)
    dialogs_before = len(setup.api_dialog_rows())
    assert first.rows["dialog_results"] == dialogs_before

    # Changes on every platform: a message in one chat, a paid order, a new deal, more calls.
    channel = next(iter(setup.leeloo.channels.iter()))
    setup.leeloo.messages.send(channel.id, "Новое сообщение")
    opened = next(o for o in setup.api_orders() if o.status == "OPENED")
    setup.leeloo.orders.update(opened.id, "RESOLVED")
    new_deal = add_deal(setup)
    setup.start_campaign(people=5)  # a second campaign, exported from the configuration's campaign ids
    setup.advance(86_400)
    dialogs_after = len(setup.api_dialog_rows())
    assert dialogs_after > dialogs_before

    mark = setup.last_request_id()
    second = run_export(setup.config())
    log = setup.requests_since(mark)

    # dlt's load info: only the changes. Paying the order adds a system message to its person's
    # chat (as Leeloo does), so that person and chat changed too.
    chats = [e for e in log if e["path"].endswith("/chat-messages")]
    changed_chats = {e["path"] for e in chats}
    assert second.rows["people"] == len({channel.person_id, opened.person_id})
    assert second.rows["channels"] == len(changed_chats)
    assert second.rows["chat_messages"] == 2  # the message sent and the order's system message
    assert second.rows["orders"] == 1
    assert second.rows["deals"] == 1
    assert second.rows["dialog_results"] == dialogs_after - dialogs_before
    # The request log: only the changed chats' histories read, one deal's details, people and
    # channels asked from the watermark.
    assert f"/api/v2/communication-channels/{channel.id}/chat-messages" in changed_chats
    assert len(changed_chats) <= 2
    details = [e for e in log if e["path"].startswith("/api/userapi/v1/project/")]
    assert [e["path"] for e in details] == [f"/api/userapi/v1/project/{new_deal}"]
    people_calls = [e for e in log if e["path"] == "/api/v2/people"]
    assert people_calls and all("filter[last_message][from]" in unquote(e["query"] or "")
                                   for e in people_calls)
    assert_matches_api(setup, pipeline)
    status = query(pipeline, f"SELECT status FROM orders WHERE id = '{opened.id}'")
    assert status == [("RESOLVED",)]

    third = run_export(setup.config())
    assert {k: v for k, v in third.rows.items() if k in ("people", "orders", "deals", "dialog_results")} == {}


def add_deal(setup: ExportSetup) -> int:
    """A new Neiros deal (Neiros' API creates none: deals come from calls and forms)."""
    from sqlalchemy import func, select

    from leadbridge.sandbox import schema

    sandbox = setup.platform.sandbox
    company = TENANT.company_id
    with sandbox.write(company) as session:
        site = session.scalars(select(schema.Site.id).where(schema.Site.company_id == company)
                               .order_by(schema.Site.id)).first()
        next_id = (session.scalar(select(func.max(schema.Deal.id))) or 0) + 1
        session.add(schema.Deal(id=next_id, company_id=company, site_id=site, neiros_visit="v" * 24,
                                neiros_id="n" * 20, created_at=sandbox.now(),
                                phone="+79161234567", duration=30, record=None, canal="Яндекс Директ",
                                traffic="cpc", summ=4500.0, status="Новая"))
    return next_id


def test_a_field_the_api_starts_sending_becomes_a_column(setup: ExportSetup) -> None:
    from sqlalchemy import update

    from leadbridge.sandbox import schema

    run_export(setup.config(), platforms=["leeloo"])
    pipeline = pipeline_of(setup)
    # The API starts sending a UTM mark nobody used before: a new column, no code change.
    channel = next(iter(setup.leeloo.channels.iter()))
    with setup.platform.sandbox.write(TENANT.company_id) as session:
        session.execute(update(schema.Account).where(schema.Account.id == channel.id)
                        .values(utm_marks={"utm_campaign_group": "весна-2026"}))
    setup.leeloo.messages.send(channel.id, "Здравствуйте")
    run_export(setup.config(), platforms=["leeloo"])
    assert query(pipeline, f"SELECT utm_marks__utm_campaign_group FROM channels WHERE id = '{channel.id}'") == [
        ("весна-2026",)]


def test_full_refresh_loads_everything_again(setup: ExportSetup) -> None:
    run_export(setup.config(), platforms=["leeloo"])
    again = run_export(setup.config(), platforms=["leeloo"])
    assert "people" not in again.rows
    refreshed = run_export(setup.config(), platforms=["leeloo"], full_refresh=True)
    assert refreshed.rows["people"] == len(setup.api_people())
