"""What an interrupted run leaves behind is settled from the ledger: checked, repeated or shown."""

from __future__ import annotations

import io

from flow_helpers import Setup
from rich.console import Console

from leadbridge.flows.ledger import Ledger, NewUnit
from leadbridge.flows.phones import normalise
from leadbridge.flows.runner import run_flows


def test_a_campaign_interrupted_mid_creation_is_uncertain_until_resolved(setup: Setup) -> None:
    url = f"sqlite:///{setup.folder / 'ledger.sqlite3'}"
    config = setup.config(url)
    people = setup.leeloo.get("/api/v2/people", params={"limit": 50, "filter[last_message][from]": "2010-01-01",
                                                        "filter[tags]": "vip"}).json()["data"]
    chosen = [p for p in people if p.get("phone") not in (None, "", "NOT_DEFINED")][:3]
    phones = {normalise(p["phone"]).e164 for p in chosen}
    # A runner claims three leads and records the campaign as intended, then dies before Dialog answers.
    dead = Ledger(url)
    dead.add_units("call-leads", "lead", [NewUnit(p["id"], {"person_id": p["id"], "name": p["name"],
                                                           "phone": normalise(p["phone"]).e164, "account_id": None,
                                                           "add_data": {}}, dedupe=normalise(p["phone"]).e164)
                                          for p in chosen])
    leads = dead.claim("call-leads", "lead", 10)
    batch = dead.create_claimed("call-leads", "campaign", "batch-1", {"name": "x", "phones": 3},
                                children=[u.id for u in leads], effect="create")
    dead.close()

    report = run_flows(config, ["call-leads"], console=Console(file=io.StringIO()))[0]
    queued = {e["phone"] for c in setup.requests("/api/campaigns") for e in c["body"]["phones"]}
    assert not phones & queued, "the phones of an uncertain campaign were queued again"
    assert report.counts["campaigns uncertain"] == 1
    assert any("batch-1" in text and "no call to check" in text for _, text in report.messages)
    with Ledger(url) as ledger:
        assert ledger.get(batch.id).state == "uncertain"  # type: ignore[union-attr]
        assert {ledger.get(u.id).state for u in leads} == {"uncertain"}  # type: ignore[union-attr]
        ledger.resolve(batch.id, "retry")

    run_flows(config, ["call-leads"], console=Console(file=io.StringIO()))
    queued_after = [e["phone"] for c in setup.requests("/api/campaigns") for e in c["body"]["phones"]]
    assert all(queued_after.count(phone) == 1 for phone in phones), "resolved leads must be queued exactly once"


def test_interrupted_tags_are_repeated_and_messages_checked_in_the_chat(setup: Setup) -> None:
    url = f"sqlite:///{setup.folder / 'ledger.sqlite3'}"
    config = setup.config(url)
    run_flows(config, ["call-leads"], console=Console(file=io.StringIO()))
    setup.advance(86_400)
    run_flows(config, ["call-results"], console=Console(file=io.StringIO()))
    with Ledger(url) as ledger:
        answered = [u for u in ledger.units("call-results", "result", ["done"]) if "template" in ledger.effects(u.id)]
        first, second = answered[:2]
        tags = {u.key: [n for n in ledger.effects(u.id) if n.startswith("tag:")] for u in (first, second)}
        # As if a runner died after the call and the comment, with the tags and the message in flight:
        # the first message did reach the chat (it has more messages than counted before), the second did not.
        for unit in (first, second):
            ledger.reopen("call-results", "result", unit.key, {**unit.payload, "replayed": True})
        claimed = {u.key: u for u in ledger.claim("call-results", "result", 2)}
        assert set(claimed) == {first.key, second.key}
        for unit, before in ((first, 0), (second, 10_000)):
            unit_id = claimed[unit.key].id
            ledger.mark(unit_id, "call", "done")
            ledger.mark(unit_id, "comment", "done")
            for tag in tags[unit.key]:
                ledger.mark(unit_id, tag, "intended")
            ledger.mark(unit_id, "template", "intended", {"messages_before": before})
        ledger.release([u.id for u in claimed.values()])
    calls_before = len(setup.requests("/api/v2/calls"))
    templates_before = len(setup.requests("/messages/send-template"))
    tags_before = len(setup.requests("/add-tag", method="PUT"))

    report = run_flows(config, ["call-results"], console=Console(file=io.StringIO()))[0]

    assert report.counts["new dialog results"] == 0, report.counts
    assert len(setup.requests("/api/v2/calls")) == calls_before, "a done call was made again"
    added = len(setup.requests("/add-tag", method="PUT")) - tags_before
    assert added == len(tags[first.key]) + len(tags[second.key]), "interrupted tags are simply put again"
    assert len(setup.requests("/messages/send-template")) == templates_before + 1, "only the lost message is resent"
    assert report.counts["template messages sent (verified after interruption)"] == 1
