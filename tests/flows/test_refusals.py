"""What the platforms refuse: the unit waits for a fix, takes the current configuration, and stops at its cap."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Callable

from flow_helpers import Setup
from rich.console import Console

from leadbridge.flows.ledger import MAX_ATTEMPTS, Ledger, NewUnit
from leadbridge.flows.phones import normalise
from leadbridge.flows.runner import run_flows

Cli = Callable[..., subprocess.CompletedProcess[str]]
# A start-block parameter that Dialog's start block 10 does not have: Dialog refuses the campaign (422).
BAD_ADD_DATA = {'person_id = "id"\n': 'person_id = "id"\ncity = "name"\n'}


def queued(setup: Setup) -> list[dict[str, object]]:
    """Every phone entry of every campaign Dialog accepted, as sent."""
    return [entry for request in setup.requests("/api/campaigns") for entry in request["body"]["phones"]]


def hot_phones(setup: Setup) -> set[str]:
    people = setup.leeloo.get("/api/v2/people", params=[
        ("filter[tags]", "горячий"), ("filter[tags]", "vip"), ("limit", 500),
        ("filter[last_message][from]", "2010-01-01"), ("filter[last_message][to]", "2100-01-01")]).json()["data"]
    return {e for p in people if (e := normalise(p.get("phone")).e164)}


def test_a_lead_whose_campaign_was_refused_is_queued_once_the_config_is_fixed(setup: Setup, cli: Cli) -> None:
    bad = setup.write_config(replace=BAD_ADD_DATA, name="bad.toml")
    refused = cli("run", "call-leads", "--config", str(bad))
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "campaigns refused" in refused.stdout and "phones.0.add_data.city" in refused.stdout
    assert refused.stdout.strip().splitlines()[-1].startswith("flows failed: 1 campaigns refused (call-leads)")
    assert not queued(setup), "a refused campaign was created"
    assert setup.requests("/api/campaigns", ok_only=False), "the campaign was never even asked for"

    fixed = setup.write_config()  # the same file without the parameter Dialog refused
    result = cli("run", "call-leads", "--config", str(fixed))

    assert result.returncode == 0, result.stdout + result.stderr
    entries = queued(setup)
    assert sorted(str(e["phone"]) for e in entries) == sorted(hot_phones(setup)), \
        "every lead, the refused batch's included, must be queued exactly once"
    assert all(set(e["add_data"]) == {"name", "person_id", "phone"} for e in entries), \
        "the refused leads kept the add_data of the configuration Dialog refused"


def test_refused_leads_stop_at_the_attempt_cap_and_a_resolve_requeues_them(setup: Setup, cli: Cli) -> None:
    url = f"sqlite:///{setup.folder / 'ledger.sqlite3'}"
    bad = setup.config(url, replace={**BAD_ADD_DATA, "batch_size = 25": "batch_size = 3"})
    for _ in range(MAX_ATTEMPTS + 1):
        run_flows(bad, ["call-leads"], console=Console(file=io.StringIO()))
    with Ledger(url) as ledger:
        failed = list(ledger.units("call-leads", "lead", ["failed"]))
        waiting = list(ledger.units("call-leads", "lead", ["pending"]))
    # The first batch was refused five times and failed; the next batch had its one try in run six.
    assert len(failed) == 3 and all(u.attempts == MAX_ATTEMPTS for u in failed)
    assert all("refused its campaign 5 times" in (u.error or "") for u in failed)
    assert waiting and max(u.attempts for u in waiting) == 1
    config = setup.write_config(url, replace={"batch_size = 25": "batch_size = 3"})
    status = cli("status", "--config", str(config))
    assert all(f"failed #{u.id} call-leads/lead {u.key}" in status.stdout for u in failed), status.stdout

    fixed = cli("run", "call-leads", "--config", str(config))
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    failed_phones = {u.payload["phone"] for u in failed}
    assert not failed_phones & {e["phone"] for e in queued(setup)}, "a lead past its attempts was queued again"

    resolved = cli("resolve", *(str(u.id) for u in failed), "--retry", "--config", str(config))
    assert resolved.returncode == 0, resolved.stdout
    again = cli("run", "call-leads", "--config", str(config))

    assert again.returncode == 0, again.stdout + again.stderr
    phones = [str(e["phone"]) for e in queued(setup)]
    assert sorted(phones) == sorted(hot_phones(setup)), "each lead queued exactly once in the end"
    assert all(set(e["add_data"]) == {"name", "person_id", "phone"} for e in queued(setup))


def test_resolve_settles_pending_and_refuses_settled_units(setup: Setup, cli: Cli) -> None:
    url = f"sqlite:///{setup.folder / 'ledger.sqlite3'}"
    bad = setup.write_config(url, replace=BAD_ADD_DATA)
    assert cli("run", "call-leads", "--config", str(bad)).returncode == 1
    with Ledger(url) as ledger:
        pending = list(ledger.units("call-leads", "lead", ["pending"]))
    first, second = pending[0], pending[1]

    skipped = cli("resolve", str(first.id), "--skip", "--config", str(bad))
    done = cli("resolve", str(second.id), "--done", "--config", str(bad))
    again = cli("resolve", str(first.id), "--retry", "--config", str(bad))
    both = cli("resolve", str(first.id), "--retry", "--done", "--config", str(bad))

    assert skipped.returncode == 0 and f"unit #{first.id} call-leads/lead {first.key}: skipped" in skipped.stdout
    assert done.returncode == 0 and ": done" in done.stdout
    assert again.returncode == 1 and "is skipped" in again.stdout
    assert both.returncode == 2 and "exactly one of" in both.stdout
    assert cli("run", "call-leads", "--config", str(setup.write_config(url))).returncode == 0
    phones = {e["phone"] for e in queued(setup)}
    assert first.payload["phone"] not in phones and second.payload["phone"] not in phones


def test_a_campaign_its_runner_left_mid_call_is_settled_by_hand(setup: Setup, cli: Cli) -> None:
    url = f"sqlite:///{setup.folder / 'ledger.sqlite3'}"
    config = setup.write_config(url)
    people = [p for p in setup.leeloo.get("/api/v2/people", params={
        "limit": 50, "filter[last_message][from]": "2010-01-01", "filter[tags]": "vip"}).json()["data"]
        if normalise(p.get("phone")).e164][:4]
    dead = Ledger(url)  # a runner that dies while Dialog creates the campaign (claims still held)
    dead.add_units("call-leads", "lead", [NewUnit(p["id"], {"person_id": p["id"], "name": p["name"],
                                                           "phone": normalise(p["phone"]).e164, "account_id": None},
                                                  dedupe=normalise(p["phone"]).e164) for p in people])
    leads = dead.claim("call-leads", "lead", 10)
    batch = dead.create_claimed("call-leads", "campaign", "batch-1", {"name": "x", "phones": 4},
                                children=[u.id for u in leads], effect="create")
    dead.close()
    status = cli("status", "--config", str(config))
    assert f"claimed by a gone runner #{batch.id} call-leads/campaign batch-1" in status.stdout, status.stdout

    # Checked in Dialog: the campaign exists. Its leads must never be queued again.
    settled = cli("resolve", str(batch.id), "--done", "--config", str(config))
    assert settled.returncode == 0, settled.stdout
    assert cli("run", "call-leads", "--config", str(config)).returncode == 0

    phones = {e["phone"] for e in queued(setup)}
    assert phones and not phones & {normalise(p["phone"]).e164 for p in people}
    with Ledger(url) as ledger:
        assert {ledger.get(u.id).state for u in leads} == {"done"}  # type: ignore[union-attr]
