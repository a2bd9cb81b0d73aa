"""Killing the runner with SIGKILL at random moments loses nothing and repeats nothing.

The runner (``leadbridge flows run call-leads call-results``) is a child process killed
at a random instant, again and again, while the sandbox clock moves so campaigns keep
producing dialogs; then it runs to completion. Read back from the platforms: no phone is
in two campaigns, every dialog is written to Leeloo exactly once unless the ledger
marked it uncertain (then at most once), and nothing is missing.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from flow_helpers import Setup, dialog_rows, form, matching_phones

from leadbridge.flows.ledger import Ledger
from leadbridge.sandbox.server import serve_in_thread
from leadbridge.sandbox.state import MEMORY_URL, Sandbox

TRIALS = 30
PEOPLE = 1200
BIG = {'tags = ["горячий", "vip"]': "tags = []", "batch_size = 25": "batch_size = 20"}


@pytest.fixture
def big_setup(tmp_path: Path) -> Iterator[Setup]:
    with serve_in_thread(Sandbox(MEMORY_URL, seed=5, people=PEOPLE)) as running:
        setup = Setup(running, tmp_path)
        yield setup
        setup.close()


def runner(config: Path, *flows: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "leadbridge.flows.cli", "run", *flows, "--config", str(config),
                             "--workers", "4"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "COLUMNS": "200"})


def uncertain_keys(ledger_url: str, flow: str, kind: str) -> set[str]:
    with Ledger(ledger_url) as ledger:
        return {u.key for u in ledger.units(flow, kind, ["uncertain"])}


@pytest.mark.slow
def test_sigkill_at_random_points_loses_and_repeats_nothing(big_setup: Setup) -> None:
    setup = big_setup
    ledger_url = f"sqlite:///{setup.folder / 'ledger.sqlite3'}"
    config = setup.write_config(ledger_url, BIG)
    rng = random.Random(os.environ.get("LEADBRIDGE_CRASH_SEED", "flows"))
    killed_while_working = 0
    deadline = time.monotonic() + 240
    for trial in range(TRIALS):
        process = runner(config, "call-leads", "call-results")
        time.sleep(rng.uniform(0.3, 2.5))
        if process.poll() is None:
            process.kill()
            killed_while_working += 1
        process.communicate(timeout=60)
        if trial % 3 == 2:
            setup.advance(rng.uniform(600, 3 * 3600))
        assert time.monotonic() < deadline, "crash trials exceed their time bound"
    assert killed_while_working >= TRIALS // 2, "most kills must land while the runner works"

    for _ in range(8):
        setup.advance(86_400)
        finished = subprocess.run(runner(config, "call-leads", "call-results").args, capture_output=True, text=True,
                                  timeout=180, env={**os.environ, "COLUMNS": "200"})
        assert finished.returncode == 0, finished.stdout + finished.stderr
        if "campaigns still running" not in finished.stdout and "new dialog results" not in finished.stdout:
            break
    else:
        pytest.fail("the campaigns did not finish")

    # No phone in two campaigns; every matching phone in one, or in an uncertain batch.
    campaigns = setup.requests("/api/campaigns")
    phones = Counter(entry["phone"] for c in campaigns for entry in c["body"]["phones"])
    assert phones and max(phones.values()) == 1, [p for p, n in phones.items() if n > 1]
    with Ledger(ledger_url) as ledger:
        uncertain_leads = {u.payload["phone"] for u in ledger.units("call-leads", "lead", ["uncertain"])}
        left = [u for u in ledger.units("call-leads", "lead", ["pending", "claimed"])]
    assert not left, "leads left unprocessed"
    assert set(phones) | uncertain_leads == matching_phones(setup)
    # An uncertain lead's campaign may exist (the POST may have landed): then it is in it once, never again.

    # Every dialog written back exactly once, or at most once when uncertain; none missing.
    uncertain_results = uncertain_keys(ledger_url, "call-results", "result")
    calls = Counter((c["to"], c["date"]) for c in (form(r["body"]) for r in setup.requests("/api/v2/calls")))
    comments = Counter((r["path"], r["body"]["comment"]) for r in setup.requests("/add-comment", method="PUT"))
    rows = dialog_rows(setup)
    assert len(rows) > 200
    for row in rows:
        key = f"{row['campaign_id']}:{row['dialog_id']}"
        written = calls[(row["phone_number"], row["started_at"])]
        if key in uncertain_results:
            assert written <= 1, row
        else:
            assert written == 1, row
    assert sum(calls.values()) <= len(rows)
    assert max(comments.values()) == 1, "a comment was written twice"
    print(f"\n{TRIALS} kills ({killed_while_working} mid-run): {len(campaigns)} campaigns, {len(phones)} phones, "
          f"{len(rows)} dialogs; uncertain: {len(uncertain_leads)} leads, {len(uncertain_results)} results")


def test_a_killed_runner_claims_go_back_to_pending(setup: Setup) -> None:
    """The liveness lock: a dead runner's claims are taken back at once, a live one's are not."""
    url = f"sqlite:///{setup.folder / 'ledger.sqlite3'}"
    code = ("import sys, time; from leadbridge.flows.ledger import Ledger, NewUnit\n"
            f"l = Ledger({url!r}); l.add_units('f', 'k', [NewUnit(str(i), {{}}) for i in range(10)])\n"
            "print(len(l.claim('f', 'k', 4)), flush=True); time.sleep(60)\n")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "4"
        with Ledger(url) as ledger:
            assert ledger.reclaim_stale("f") == 0, "a live runner's claims were taken"
            assert len(ledger.claim("f", "k", 100)) == 6
            child.kill()
            child.wait()
            assert ledger.reclaim_stale("f") == 4
            assert len(ledger.claim("f", "k", 100)) == 4
    finally:
        child.kill()


