"""SIGTERM stops a runner gracefully: calls in flight end and are recorded, the rest goes back to pending."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from flow_helpers import Setup, matching_phones

from leadbridge.flows.ledger import Ledger

BOUND = 300.0  # seconds: a bound against hanging, never a pace
EVERY_PERSON = {'tags = ["горячий", "vip"]': "tags = []", "batch_size = 25": "batch_size = 20"}


def flows_command(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "leadbridge.flows.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, "COLUMNS": "200"})


def campaigns_done(ledger_file: Path) -> int:
    if not ledger_file.exists():
        return 0
    with sqlite3.connect(f"file:{ledger_file}?mode=ro", uri=True, timeout=60) as db:
        try:
            return int(db.execute("SELECT count(*) FROM lb_unit WHERE flow = 'call-leads' AND kind = 'campaign' "
                                  "AND state = 'done'").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def test_sigterm_finishes_the_calls_in_flight_and_hands_back_the_rest(setup: Setup) -> None:
    ledger_file = setup.folder / "ledger.sqlite3"
    ledger_url = f"sqlite:///{ledger_file}"
    config = setup.write_config(ledger_url, EVERY_PERSON)
    # Slow side effects keep the runner busy long enough to be stopped in the middle of its work.
    setup.control.post("/_sandbox/faults", json={"pattern": r"^/api/campaigns$|/add-tag$", "latency_ms": 150,
                                                 "methods": ["POST", "PUT"]}).raise_for_status()
    runner = flows_command("run", "call-leads", "--config", str(config), "--workers", "4")
    deadline = time.monotonic() + BOUND
    while runner.poll() is None and campaigns_done(ledger_file) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert runner.poll() is None, "the runner ended before it could be stopped"
    runner.send_signal(signal.SIGTERM)
    output, _ = runner.communicate(timeout=BOUND)
    assert runner.returncode == 128 + signal.SIGTERM, output
    assert "SIGTERM: finishing the calls in flight" in output
    assert "stopped before the end" in output

    with Ledger(ledger_url) as ledger:
        counts = ledger.counts()
        leads = counts[("call-leads", "lead")]
        assert counts[("call-leads", "campaign")].get("claimed", 0) == leads.get("claimed", 0) == 0, counts
        assert not leads.get("uncertain") and not counts[("call-leads", "campaign")].get("uncertain"), counts
        assert leads.get("pending", 0) > 0, "the runner did not stop early"
        leads_and_campaigns = [*ledger.units("call-leads", "lead"), *ledger.units("call-leads", "campaign")]
        intended = [(unit.key, name) for unit in leads_and_campaigns
                    for name, effect in ledger.effects(unit.id).items() if effect.state == "intended"]
        assert not intended, intended

    setup.control.delete("/_sandbox/faults").raise_for_status()
    again = flows_command("run", "call-leads", "--config", str(config), "--workers", "4")
    output, _ = again.communicate(timeout=BOUND)
    assert again.returncode == 0, output
    phones = Counter(entry["phone"] for c in setup.requests("/api/campaigns") for entry in c["body"]["phones"])
    assert set(phones) == matching_phones(setup), "a lead was lost"
    assert max(phones.values()) == 1, "a lead was queued twice"


def test_sigterm_ends_watch_between_runs(setup: Setup) -> None:
    config = setup.write_config()
    watcher = flows_command("watch", "call-leads", "--every", "1h", "--config", str(config))
    assert watcher.stdout is not None
    deadline = time.monotonic() + BOUND
    for line in watcher.stdout:
        if "next run at" in line or time.monotonic() > deadline:
            break
    watcher.send_signal(signal.SIGTERM)
    rest, _ = watcher.communicate(timeout=BOUND)
    assert watcher.returncode == 0, rest
    assert "stopped" in rest
