"""Fuzzing: schemathesis drives every operation of the OpenAPI document over real HTTP.

Whatever the generated input, the sandbox must never answer 5xx, and its responses must
match what the document declares. The run is bounded (a few examples per operation,
derandomised so CI is reproducible) and uses its own sandbox, since it calls
``/_sandbox/reset`` and injects faults; faults are cleared after every case so an
injected 5xx is never mistaken for a crash.

The document is built from the app when the module is collected (the served
/openapi.json is the same document: see test_openapi.py, and the first test here):
schemathesis' lazy fixture loader does not work with this pytest version.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from http_clients import TIMEOUT
from leadbridge.sandbox import openapi
from leadbridge.sandbox.server import RunningSandbox, serve_in_thread
from leadbridge.sandbox.state import MEMORY_URL, Sandbox

EXAMPLES_PER_OPERATION = 12


@dataclass
class Tokens:
    """Valid credentials for each API, renewed after a reset drops the issued ones."""

    sandbox: RunningSandbox
    bearer: dict[str, str] = field(default_factory=dict)

    def renew(self) -> None:
        creds = self.sandbox.credentials
        with httpx.Client(base_url=self.sandbox.url, timeout=30) as http:
            neiros = http.post("/api/userapi/v1/auth/login",
                               json={"email": creds.neiros_email, "password": creds.neiros_password})
            dialog = http.post("/api/login", json={"login": creds.dialog_login, "password": creds.dialog_password})
        assert neiros.status_code == dialog.status_code == 200, (neiros.text, dialog.text)
        self.bearer = {"neiros": neiros.json()["token"], "dialog": dialog.json()["token"]}

    def headers_for(self, path: str) -> dict[str, str]:
        if path.startswith(("/api/v1/", "/api/v2/")):
            return {"X-Leeloo-AuthToken": self.sandbox.credentials.leeloo_token}
        if path.startswith("/api/userapi/"):
            return {"Authorization": f"Bearer {self.bearer['neiros']}"}
        if path.startswith("/api/") and path != "/api/login":
            return {"Authorization": f"Bearer {self.bearer['dialog']}"}
        return {}


@pytest.fixture(scope="module")
def fuzz_sandbox() -> Iterator[RunningSandbox]:
    with serve_in_thread(Sandbox(MEMORY_URL, seed=5, people=60)) as running:
        yield running


@pytest.fixture(scope="module")
def tokens(fuzz_sandbox: RunningSandbox) -> Tokens:
    tokens = Tokens(fuzz_sandbox)
    tokens.renew()
    return tokens


schema = schemathesis.openapi.from_dict(openapi.current_spec())


def test_fuzzed_document_is_the_served_one(fuzz_sandbox: RunningSandbox) -> None:
    served = httpx.get(f"{fuzz_sandbox.url}/openapi.json", timeout=TIMEOUT).json()
    assert served == schema.raw_schema


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
def test_no_server_error(case: schemathesis.Case, fuzz_sandbox: RunningSandbox, tokens: Tokens) -> None:
    headers = tokens.headers_for(case.path)
    if case.headers:
        for name in headers:  # a generated token header would only ever test the 401 path
            case.headers.pop(name, None)
    try:
        case.call_and_validate(base_url=fuzz_sandbox.url, headers=headers, timeout=30,
                               checks=[not_a_server_error, response_schema_conformance])
    finally:
        if case.path.startswith("/_sandbox/"):
            httpx.delete(f"{fuzz_sandbox.url}/_sandbox/faults", timeout=TIMEOUT)
            if case.path == "/_sandbox/reset":
                tokens.renew()
