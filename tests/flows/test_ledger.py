"""The ledger's own verdicts: claims handed back, runners gone, schema upgrades."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from flow_helpers import Setup

from leadbridge.flows import migrations
from leadbridge.flows.ledger import Base, Ledger, NewUnit
from pg_support import private_pg_schema

Cli = Callable[..., subprocess.CompletedProcess[str]]
FIXTURES = Path(__file__).parent.parent / "fixtures"


def _leads(n: int) -> list[NewUnit]:
    return [NewUnit(f"p{i}", {"person_id": f"p{i}", "phone": f"+7916000000{i}"}, dedupe=f"+7916000000{i}")
            for i in range(n)]


def test_release_claims_hands_back_only_this_runners_claims(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    with Ledger(url) as first, Ledger(url) as second:
        first.add_units("call-leads", "lead", _leads(4))
        mine = first.claim("call-leads", "lead", 2)
        theirs = second.claim("call-leads", "lead", 1)
        first.mark(mine[0].id, "tag:x", "done")

        assert first.release_claims() == 2

        assert {first.get(u.id).state for u in mine} == {"pending"}  # type: ignore[union-attr]
        assert first.get(theirs[0].id).state == "claimed"  # type: ignore[union-attr]
        assert first.effects(mine[0].id)["tag:x"].state == "done", "recorded effects must survive a release"
        assert second.release_claims(second.runner) == 1
        assert first.release_claims() == 0


def test_a_runner_that_died_is_marked_gone_and_a_running_one_is_not(setup: Setup, cli: Cli) -> None:
    url = f"sqlite:///{setup.folder / 'ledger.sqlite3'}"
    config = setup.write_config(url)
    with Ledger(url) as ledger:
        ledger.add_units("deals-to-leeloo", "deal", [NewUnit(f"100:{n}", {"site_id": 100, "deal_id": n})
                                                     for n in range(6)])
    # A runner claims two units and dies without a word (no close: as killed).
    script = ("import os, sys\nfrom leadbridge.flows.ledger import Ledger\n"
              "ledger = Ledger(sys.argv[1])\nledger.claim('deals-to-leeloo', 'deal', 2)\n"
              "print(ledger.runner, flush=True)\nos._exit(0)\n")
    dead = subprocess.run([sys.executable, "-c", script, url], capture_output=True, text=True, timeout=120,
                          check=True).stdout.strip()
    with Ledger(url) as alive:
        held = alive.claim("deals-to-leeloo", "deal", 1)
        status = cli("status", "--config", str(config))
        assert status.returncode == 0, status.stdout + status.stderr
        lines = status.stdout.splitlines()
        gone_line = next(line for line in lines if dead in line)
        assert gone_line.lstrip().startswith("gone") and "pid " in gone_line and "2 deals-to-leeloo/deal" in gone_line
        running_line = next(line for line in lines if alive.runner in line)
        assert running_line.lstrip().startswith("running") and "1 deals-to-leeloo/deal" in running_line
        assert sum("claimed by a gone runner #" in line for line in lines) == 2

        assert alive.reclaim_stale("deals-to-leeloo") == 2, "only the gone runner's claims are taken back"
        assert alive.get(held[0].id).state == "claimed"  # type: ignore[union-attr]
        assert [r.id for r in alive.runners()] == [alive.runner]


def test_resolve_refuses_a_unit_a_running_runner_holds(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    with Ledger(url) as runner, Ledger(url) as person:
        runner.add_units("call-leads", "lead", _leads(1))
        (unit,) = runner.claim("call-leads", "lead", 1)
        with pytest.raises(ValueError, match="running runner"):
            person.resolve(unit.id, "skip")
        runner.close()  # its lock is gone: the claim can now be settled by hand
        assert person.resolve(unit.id, "skip").endswith(": skipped")


def test_a_second_unit_with_a_taken_dedupe_is_a_skipped_duplicate_of_the_first(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    with Ledger(url) as ledger:
        first, second = _leads(2)
        ledger.add_units("call-leads", "lead", [first])
        twin = NewUnit("twin", {"person_id": "twin"}, dedupe=first.dedupe)
        added = ledger.add_units("call-leads", "lead", [second, twin])
        assert [u.key for u in added.duplicates] == ["twin"] and added.duplicates[0].duplicate_of == first.key
        stored = {u.key: u for u in ledger.units("call-leads", "lead")}
        assert stored["twin"].state == "skipped" and stored["twin"].duplicate_of == first.key
        assert stored[second.key].duplicate_of is None and stored[second.key].state == "pending"
        # The duplicate holds no dedupe of its own: a third unit with it is a duplicate of the first too.
        again = ledger.add_units("call-leads", "lead", [NewUnit("third", {}, dedupe=first.dedupe)])
        assert [u.duplicate_of for u in again.duplicates] == [first.key]


def test_a_leads_retry_takes_it_out_of_its_campaign_by_its_flows_rule(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    with Ledger(url) as ledger:
        ledger.add_units("call-leads", "lead", _leads(2))
        ledger.add_units("deals-to-leeloo", "deal", [NewUnit("100:1", {})])
        leads = ledger.claim("call-leads", "lead", 2)
        batch = ledger.create_claimed("call-leads", "campaign", "b1", {}, children=[u.id for u in leads])
        (deal,) = ledger.claim("deals-to-leeloo", "deal", 1)
        ledger.finish([leads[0].id, deal.id], "failed", error="refused")
        ledger.finish(batch.id, "uncertain")
        ledger.resolve(leads[0].id, "retry")
        assert ledger.get(leads[0].id).parent_id is None  # type: ignore[union-attr]
        assert ledger.resolve(batch.id, "retry").endswith(": failed"), "a campaign is not created again as such"
        assert ledger.get(leads[1].id).state == "pending"  # type: ignore[union-attr]
        ledger.resolve(deal.id, "retry")
        assert ledger.get(deal.id).state == "pending"  # type: ignore[union-attr]


@pytest.mark.parametrize(("url", "expected"), [
    ("mysql://ledger@localhost/ledger", "must start with sqlite:/// or postgresql://"),
    ("sqlite:////nonexistent-folder/below/ledger.sqlite3", "ledger.url: cannot open the ledger"),
    ("postgresql://nobody:secret-word@127.0.0.1:1/none", "ledger.url: cannot open the ledger"),
])
def test_a_bad_ledger_url_is_one_line_and_exit_2(setup: Setup, cli: Cli, url: str, expected: str) -> None:
    config = setup.write_config(url)
    for command in (["run", "deals-to-leeloo"], ["status"], ["resolve", "1", "--done"]):
        result = cli(*command, "--config", str(config))
        output = (result.stdout + result.stderr).strip()
        assert result.returncode == 2, output
        assert len(output.splitlines()) == 1 and "ledger.url: " in output and expected in output, output
        assert "Traceback" not in output and "secret-word" not in output


def _load_legacy_sqlite(path: Path) -> str:
    """A ledger file as the release before the versioned ledger left it (schema 0001, no version table)."""
    with sqlite3.connect(path) as db:
        db.executescript((FIXTURES / "ledger-0001.sql").read_text(encoding="utf-8"))
    return f"sqlite:///{path}"


def _rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            return {table: sorted(tuple(str(v) for v in row) for row in conn.execute(sqlalchemy.text(
                f"SELECT {columns} FROM {table}")))
                for table, columns in (("lb_unit", "id, flow, kind, key, dedupe, parent_id, state, owner, attempts, "
                                                   "payload, result, error"),
                                       ("lb_effect", "id, unit_id, name, state, detail, error"),
                                       ("lb_deal_index", "site_id, deal_id, phone, created_at"))}
    finally:
        engine.dispose()


def _assert_upgraded_in_place(url: str, before: dict[str, list[tuple[object, ...]]]) -> None:
    assert sum(len(rows) for rows in before.values()) >= 8, "the old ledger must hold data to lose"
    with Ledger(url) as ledger:
        assert _rows(url) == before, "upgrading changed or lost records"
        with ledger.engine.connect() as conn:
            assert migrations.current_revision(conn) == migrations.HEAD
            assert "lb_runner" in sqlalchemy.inspect(conn).get_table_names()
        counts = ledger.counts()
        # The old ledger's units go on: a pending lead is claimed, an old dead runner's claim comes back.
        assert counts[("call-leads", "lead")]["claimed"] == 1
        assert ledger.reclaim_stale("call-leads") == 1
        assert [u.key for u in ledger.claim("call-leads", "lead", 5)] == ["p2"]
        assert ledger.effects(1)["tag:t1"].detail == {"x": 1}
        # A duplicate, told by its error alone before revision 0005, names the unit it duplicates.
        assert [(u.key, u.duplicate_of) for u in ledger.units("call-leads", "lead", ["skipped"])] == [
            ("p3", None), ("p5", "p1")]
    with Ledger(url):  # and opens again at head, untouched
        pass


def test_a_ledger_of_the_previous_release_upgrades_in_place_on_sqlite(tmp_path: Path) -> None:
    url = _load_legacy_sqlite(tmp_path / "ledger.sqlite3")
    _assert_upgraded_in_place(url, _rows(url))


def test_a_ledger_of_the_previous_release_upgrades_in_place_on_postgresql(tmp_path: Path) -> None:
    legacy = _rows(_load_legacy_sqlite(tmp_path / "legacy.sqlite3"))
    with private_pg_schema() as url:
        engine = sqlalchemy.create_engine(url)
        try:
            with engine.begin() as conn:
                migrations.upgrade(conn, migrations.FIRST)
                conn.execute(sqlalchemy.text(f"DROP TABLE {migrations.VERSION_TABLE}"))
            # The same records as the SQLite fixture, written through the 0001 schema.
            with sqlite3.connect(tmp_path / "legacy.sqlite3") as db, engine.begin() as conn:
                for table in ("lb_unit", "lb_effect", "lb_deal_index"):
                    cursor = db.execute(f"SELECT * FROM {table}")
                    names = [d[0] for d in cursor.description]
                    rows = [dict(zip(names, row, strict=True)) for row in cursor]
                    for row in rows:
                        for key in ("payload", "result", "detail"):
                            if key in row and row[key] is not None:
                                row[key] = json.loads(row[key])
                        for key in ("created_at", "updated_at"):
                            if key in row:
                                row[key] = datetime.fromisoformat(row[key])
                    conn.execute(Base.metadata.tables[table].insert(), rows)
                conn.execute(sqlalchemy.text("SELECT setval('lb_unit_id_seq', 100)"))
                conn.execute(sqlalchemy.text("SELECT setval('lb_effect_id_seq', 100)"))
        finally:
            engine.dispose()
        before = _rows(url)
        assert before["lb_unit"] and len(before["lb_unit"]) == len(legacy["lb_unit"])
        _assert_upgraded_in_place(url, before)


def test_the_models_and_the_migrations_describe_the_same_schema(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    try:
        with engine.begin() as conn:
            migrations.upgrade(conn)
            context = MigrationContext.configure(conn, opts={"version_table": migrations.VERSION_TABLE})
            assert compare_metadata(context, Base.metadata) == []
            assert ScriptDirectory.from_config(migrations.alembic_config(conn)).get_current_head() == migrations.HEAD
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
        return
    with private_pg_schema() as url:
        yield url


def test_the_driver_statements_store_what_sqlalchemy_reads_back(ledger_url: str) -> None:
    """Effects and settlements go to the driver directly; read through SQLAlchemy they are the same values."""
    with Ledger(ledger_url) as ledger:
        ledger.add_units("f", "k", [NewUnit("a", {"n": 1}), NewUnit("b", {"n": 2}), NewUnit("c", {"n": 3})])
        first, second, third = ledger.claim("f", "k", 3)
        before = datetime.now(UTC).replace(tzinfo=None)
        ledger.mark(first.id, "call", "intended", {"имя": "Анна", "n": [1, 2]})
        ledger.mark(first.id, "call", "done", {"call_id": "c-1"}, defer=True)
        ledger.finish(first.id, "done", result={"campaign_id": 7, "note": "ж"}, defer=True)
        # Deferred records ride with this thread's next write, here a settlement with an error.
        ledger.finish(second.id, "failed", error="refused: 422")
        assert ledger.effects(first.id)["call"].state == "done"
        ledger.finish(third.id, "pending")
        effect = ledger.effects(first.id)["call"]
        settled = ledger.get(first.id)
        assert settled is not None and settled.state == "done" and settled.result == {"campaign_id": 7, "note": "ж"}
        assert effect.detail == {"call_id": "c-1"} and effect.error is None and effect.updated_at >= before
        failed = ledger.get(second.id)
        assert failed is not None and (failed.state, failed.error) == ("failed", "refused: 422")
        assert ledger.owner(third.id) is None and ledger.claim("f", "k", 5)[0].id == third.id
        # The dates sort with the ones SQLAlchemy writes (same text on SQLite, same type on PostgreSQL).
        assert [u.key for u in sorted(ledger.units("f", "k"), key=lambda u: u.updated_at)][-1] == "c"


def test_a_driver_error_comes_out_as_sqlalchemys_and_leaves_nothing_half_written(ledger_url: str) -> None:
    with Ledger(ledger_url) as ledger:
        ledger.add_units("f", "k", [NewUnit("a", {})])
        (unit,) = ledger.claim("f", "k", 1)
        ledger.finish(unit.id, "done", defer=True)
        with ledger.engine.begin() as conn:  # the table the effect goes to is gone
            conn.execute(sqlalchemy.text("ALTER TABLE lb_effect RENAME TO lb_effect_gone"))
        with pytest.raises(sqlalchemy.exc.SQLAlchemyError, match="lb_effect"):
            ledger.mark(unit.id, "call", "intended", {})
        # The deferred settlement was in the same transaction: rolled back with it.
        still = ledger.get(unit.id)
        assert still is not None and still.state == "claimed"
        with ledger.engine.begin() as conn:
            conn.execute(sqlalchemy.text("ALTER TABLE lb_effect_gone RENAME TO lb_effect"))
