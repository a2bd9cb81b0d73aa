"""The command line: dry runs change nothing, status shows the ledger, resolve settles uncertain units."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

from flow_helpers import Setup

from leadbridge.flows.ledger import Ledger, NewUnit

Cli = Callable[..., subprocess.CompletedProcess[str]]


def writes(setup: Setup) -> int:
    return len([e for method in ("POST", "PUT") for e in setup.requests("/api/", method=method)
                if "login" not in e["path"] and "report" not in e["path"]])


def test_dry_run_plans_without_changing_anything(setup: Setup, cli: Cli) -> None:
    config = setup.write_config()
    result = cli("run", "--all", "--dry-run", "--config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dry run" in result.stdout and "leads to queue" in result.stdout
    assert "deals to bring to Leeloo" in result.stdout
    assert writes(setup) == 0, "a dry run changed a platform"
    status = cli("status", "--config", str(config))
    assert "The ledger is empty" in status.stdout


def test_run_then_status_then_nothing_twice(setup: Setup, cli: Cli) -> None:
    config = setup.write_config()
    first = cli("run", "call-leads", "deals-to-leeloo", "--config", str(config))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "campaigns created" in first.stdout and "calls added" in first.stdout
    made = writes(setup)
    status = cli("status", "--config", str(config))
    assert "call-leads" in status.stdout and "lead" in status.stdout and "deals-to-leeloo" in status.stdout
    again = cli("run", "call-leads", "deals-to-leeloo", "--config", str(config))
    assert again.returncode == 0
    assert writes(setup) == made, "the second run changed something again"


def test_resolve_settles_an_uncertain_unit(setup: Setup, cli: Cli) -> None:
    config = setup.write_config()
    url = f"sqlite:///{setup.folder / 'ledger.sqlite3'}"
    with Ledger(url) as ledger:
        ledger.add_units("call-results", "result", [NewUnit("1:1", {}), NewUnit("1:2", {})])
        first, second = ledger.claim("call-results", "result", 2)
        for unit in (first, second):
            ledger.mark(unit.id, "call", "uncertain", {}, "interrupted")
            ledger.finish(unit.id, "uncertain", error="call: interrupted")
    status = cli("status", "--config", str(config))
    assert f"uncertain #{first.id} call-results/result 1:1" in status.stdout
    assert cli("resolve", str(first.id), "--done", "--config", str(config)).returncode == 0
    assert cli("resolve", str(second.id), "--retry", "--config", str(config)).returncode == 0
    refused = cli("resolve", str(first.id), "--retry", "--config", str(config))
    assert refused.returncode == 1 and "is done" in refused.stdout
    with Ledger(url) as ledger:
        assert ledger.get(first.id).state == "done"  # type: ignore[union-attr]
        assert ledger.get(second.id).state == "pending"  # type: ignore[union-attr]
        assert ledger.effects(second.id) == {}, "a retried unit keeps no uncertain effect"


def test_watch_runs_on_a_schedule(setup: Setup, cli: Cli) -> None:
    config = setup.write_config()
    result = cli("watch", "deals-to-leeloo", "--every", "1s", "--runs", "2", "--config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "run 1 at" in result.stdout and "run 2 at" in result.stdout and "next run at" in result.stdout
    assert result.stdout.count("calls added") == 1, "the second run repeated the first one's calls"
    bad = cli("watch", "--every", "often", "--config", str(config))
    assert bad.returncode == 2 and "'often' is not a duration" in bad.stdout
