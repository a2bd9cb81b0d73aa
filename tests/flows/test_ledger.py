"""The ledger's own verdicts: claims handed back, runners gone, schema upgrades."""

from __future__ import annotations

from pathlib import Path

from leadbridge.flows.ledger import Ledger, NewUnit


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
