"""The control API's contract table (contract/sandbox.py) and the control routes describe each
other: every /_sandbox operation has its entry and every entry its route, each example fits
its answer model with unknown keys refused, and the vendor-fidelity lists leave them out."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from leadbridge.contract import Endpoint, all_endpoints, by_key, control_endpoints
from leadbridge.sandbox.openapi import committed_spec

CONTROL = control_endpoints()


def test_every_control_route_has_an_entry_and_every_entry_a_route(anon: httpx.Client) -> None:
    served = anon.get("/openapi.json").json()["paths"]
    routes = {f"{method.upper()} {path}" for path, item in served.items() if path.startswith("/_sandbox")
              for method in item}
    assert routes == {entry.key for entry in CONTROL}


def test_control_entries_stay_out_of_the_vendor_lists() -> None:
    assert {entry.platform for entry in all_endpoints()} == {"leeloo", "neiros", "dialog"}
    assert {entry.platform for entry in CONTROL} == {"sandbox"}
    assert all(entry.path.startswith("/_sandbox/") and entry.document == "sandbox" for entry in CONTROL)
    assert set(by_key()) == {entry.key for entry in [*all_endpoints(), *CONTROL]}


def test_committed_document_leaves_the_control_api_to_its_table() -> None:
    spec = committed_spec()
    assert not [path for path in spec["paths"] if path.startswith("/_sandbox")]
    assert not [name for name in spec["components"]["schemas"] if name.startswith("Sandbox")]


def test_an_entry_without_its_example_answer_is_refused() -> None:
    with pytest.raises(ValueError, match="carry their example answer"):
        Endpoint("sandbox", "nothing", "GET", "/_sandbox/nothing", CONTROL[0].response, idempotent=True)


@pytest.mark.parametrize("entry", CONTROL, ids=[entry.key for entry in CONTROL])
def test_example_fits_the_answer_model_and_is_served(entry: Endpoint, anon: httpx.Client) -> None:
    entry.response.model_validate(entry.example_response)
    assert entry.example["response"] == {"status": 200, "body": entry.example_response}
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        entry.response.model_validate({**entry.example_response, "undocumentedKey": 1})
    operation = anon.get("/openapi.json").json()["paths"][entry.path][entry.method.lower()]
    assert operation["responses"]["200"]["content"]["application/json"]["example"] == entry.example_response
