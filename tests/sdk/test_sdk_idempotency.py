"""Whether a call may be sent again is declared by each endpoint, as the project decided
(never guessed from the HTTP method: add-comment is a PUT that creates a comment)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from leadbridge import Dialog, Leeloo, Neiros
from leadbridge.sdk._core import Operation


def built(resource: Any, name: str, *args: Any, **kwargs: Any) -> Operation[Any]:
    """The Operation an endpoint method describes, without running it."""
    return getattr(type(resource), name).build(resource, *args, **kwargs)


# Only used to describe requests: nothing is sent, and their pools close after the module.
LEELOO = Leeloo(token="t", rate_limit=None)
NEIROS = Neiros(token="t")
DIALOG = Dialog(token="t")


@pytest.fixture(scope="module", autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    for client in (LEELOO, NEIROS, DIALOG):
        client.close()

NOT_REPEATABLE: dict[str, Callable[[], Operation[Any]]] = {
    "people.add_comment (a PUT)": lambda: built(LEELOO.people, "add_comment", "p", "text"),
    "calls.create": lambda: built(LEELOO.calls, "create", "u", "1", "2", "2030-01-01T00:00:00Z", "a", "NOT_DEFINED",
                                  "SUCCESS", 1, "OUTBOUND"),
    "people.create": lambda: built(LEELOO.people, "create", "n", "lgt"),
    "people.add_sms": lambda: built(LEELOO.people, "add_sms", [{"phone": "+7"}], "c", "lgt"),
    "orders.create": lambda: built(LEELOO.orders, "create", "pc", "of", "p"),
    "messages.send": lambda: built(LEELOO.messages, "send", "a", "text"),
    "messages.send_template": lambda: built(LEELOO.messages, "send_template", "a", "t"),
    "campaigns.create": lambda: built(DIALOG.campaigns, "create", 1, "n", 10, 5, ["+7999"], "2030-01-01", "09:00",
                                      "17:00"),
}
REPEATABLE: dict[str, Callable[[], Operation[Any]]] = {
    "people.add_tag": lambda: built(LEELOO.people, "add_tag", "p", "t"),
    "people.remove_tag": lambda: built(LEELOO.people, "remove_tag", "p", "t"),
    "people.update (a PUT)": lambda: built(LEELOO.people, "update", "p", email="a@b.c"),
    "people.get": lambda: built(LEELOO.people, "get", "p"),
    "people.list": lambda: built(LEELOO.people, "list"),
    "orders.get": lambda: built(LEELOO.orders, "get", "o"),
    "tags.list": lambda: built(LEELOO.tags, "list"),
    "v1.accounts.get": lambda: built(LEELOO.v1.accounts, "get", "a"),
    "neiros.sites.list": lambda: built(NEIROS.sites, "list"),
    "neiros.deals.get": lambda: built(NEIROS.deals, "get", 1, 2),
    "dialog analytics.report (a POST that reads)": lambda: built(DIALOG.analytics, "report", 1, 2, 3, 4,
                                                                 "2030-01-01", "2030-01-02"),
}


@pytest.mark.parametrize("name", list(NOT_REPEATABLE))
def test_calls_with_an_effect_each_time_are_not_repeatable(name: str) -> None:
    assert NOT_REPEATABLE[name]().idempotent is False


@pytest.mark.parametrize("name", list(REPEATABLE))
def test_reads_and_calls_that_set_a_state_are_repeatable(name: str) -> None:
    assert REPEATABLE[name]().idempotent is True

