"""Two runners on one PostgreSQL ledger never process the same unit twice."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from flow_helpers import Setup, dialog_rows, form, matching_phones

from leadbridge.flows.ledger import Ledger
from leadbridge.sandbox.server import serve_in_thread
from leadbridge.sandbox.state import MEMORY_URL, Sandbox
from pg_support import private_pg_schema

BIG = {'tags = ["горячий", "vip"]': "tags = []", "batch_size = 25": "batch_size = 20"}


@pytest.fixture
def pg_ledger() -> Iterator[str]:
    with private_pg_schema() as url:
        yield url


@pytest.fixture
def big_setup(tmp_path: Path) -> Iterator[Setup]:
    with serve_in_thread(Sandbox(MEMORY_URL, seed=11, people=1000)) as running:
        setup = Setup(running, tmp_path)
        yield setup
        setup.close()


def two_runners(config: Path, flow: str) -> list[str]:
    command = [sys.executable, "-m", "leadbridge.flows.cli", "run", flow, "--config", str(config), "--workers", "3"]
    env = {**os.environ, "COLUMNS": "200"}
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
                 for _ in range(2)]
    outputs = []
    for process in processes:
        out, _ = process.communicate(timeout=240)
        assert process.returncode == 0, out
        outputs.append(out)
    return outputs


def count(output: str, what: str) -> int:
    match = re.search(rf"{re.escape(what)}\s*│\s*([\d,]+)", output)
    return int(match.group(1).replace(",", "")) if match else 0


@pytest.mark.postgres
def test_two_runners_share_the_work_without_duplicates(big_setup: Setup, pg_ledger: str) -> None:
    setup = big_setup
    config = setup.write_config(pg_ledger, BIG)

    leads = two_runners(config, "call-leads")
    campaigns = setup.requests("/api/campaigns")
    phones = Counter(entry["phone"] for c in campaigns for entry in c["body"]["phones"])
    assert phones and max(phones.values()) == 1, "a phone was queued by both runners"
    assert set(phones) == matching_phones(setup)
    created = [count(out, "campaigns created") for out in leads]
    assert sum(created) == len(campaigns)
    tags = Counter(r["path"] for r in setup.requests("/add-tag", method="PUT"))
    assert len(tags) == len(phones) and max(tags.values()) == 1, "a person was tagged by both runners"

    setup.advance(2 * 86_400)
    results = two_runners(config, "call-results")
    rows = dialog_rows(setup)
    calls = Counter((c["to"], c["date"]) for c in (form(r["body"]) for r in setup.requests("/api/v2/calls")))
    assert len(rows) > 100
    assert all(calls[(row["phone_number"], row["started_at"])] == 1 for row in rows)
    assert sum(calls.values()) == len(rows)
    comments = Counter((r["path"], r["body"]["comment"]) for r in setup.requests("/add-comment", method="PUT"))
    assert sum(comments.values()) == len(rows) and max(comments.values()) == 1
    written = [count(out, "calls added") for out in results]
    assert sum(written) == len(rows)
    with Ledger(pg_ledger) as ledger:
        states = ledger.counts()
    assert states[("call-results", "result")] == {"done": len(rows)}
    print(f"\ncampaigns per runner {created}, dialogs written per runner {written}")
