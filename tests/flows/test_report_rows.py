"""A Dialog report's row as call-results records it."""

from __future__ import annotations

import pytest

from leadbridge.flows.call_results import _result_payload


@pytest.mark.parametrize(("written", "reached"), [
    (True, True), ("true", True), ("1", True), ("Yes", True), ("да", True),
    (False, False), ("false", False), ("0", False), ("нет", False), (None, False), ("", False),
])
def test_the_goal_is_read_in_every_way_a_report_writes_it(written: object, reached: bool) -> None:
    row = {"campaign_id": 7, "dialog_id": 1, "phone_number": "+79160000001", "outcome": "answered", "goal": written}
    assert _result_payload(row, None)["goal"] is reached
