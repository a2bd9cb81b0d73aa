"""Fuzzing: schemathesis drives every operation of the OpenAPI document over real HTTP.

One schemathesis run (its command line, as CI or a developer would run it) against a sandbox
of its own: all checks (no 5xx, status codes, content types, headers and bodies as
documented, schema-violating input refused, auth enforced, Allow on 405…), the phases
examples, fuzzing and stateful (chaining operations through the links schemathesis infers),
at least 100 examples per operation, seeded so a run is reproducible, and bounded: the run
is stopped and the test fails past 10 minutes. The coverage phase (boundary values of every
parameter: its cases are in test_hostile) adds minutes on a loaded 2-core machine, so it runs
only with ``LEADBRIDGE_FUZZ_COVERAGE=1``.

One worker: schemathesis' threaded workers share hypothesis strategies, and under CPython 3.11
two of them compiling at once fail with "AST constructor recursion depth mismatch".

The run uses SQLite, which fits the bound on a loaded 2-core machine beside the rest of the
suite; ``LEADBRIDGE_FUZZ_POSTGRES=1`` runs the same on PostgreSQL too (it found that a
Neiros site id beyond the INTEGER column was a 500 there only).

Valid credentials come from the security schemes the document declares (schemathesis.toml
``[auth.openapi.*]``), so requests get past the 401s. Three control paths are left out:
``POST /_sandbox/faults`` answers later requests with injected 5xx by design (test_control
covers it), ``POST /_sandbox/reset`` drops the Bearer tokens the run authenticates with, and
``/_sandbox/webhooks`` would post the run's writes as webhooks to whatever URL it drew, which
may be no address of this machine (test_webhooks covers it, with a receiver on 127.0.0.1).

One reading differs from schemathesis' default: input that fits the document's JSON schema
may still break a rule a JSON schema cannot state (a reference to a record that does not
exist or is another company's, an end before its start, a date outside the accepted
window), and the APIs refuse those with a 422 naming the field, so 422 counts as an
acceptable answer to schema-valid input.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from leadbridge.sandbox import openapi
from leadbridge.sandbox.server import RunningSandbox, serve_in_thread
from leadbridge.sandbox.state import MEMORY_URL, Sandbox
from pg_support import private_pg_schema

EXAMPLES_PER_OPERATION = 100
TIME_BOUND_SECONDS = 600
EXCLUDED = "^/_sandbox/(faults|reset|webhooks)$"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
PHASES = ("examples,coverage,fuzzing,stateful" if os.environ.get("LEADBRIDGE_FUZZ_COVERAGE") == "1"
          else "examples,fuzzing,stateful")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzz_sandbox(request: pytest.FixtureRequest) -> Iterator[RunningSandbox]:
    if request.param == "postgresql":
        if os.environ.get("LEADBRIDGE_FUZZ_POSTGRES") != "1":
            pytest.skip("the PostgreSQL fuzz run is opt-in: LEADBRIDGE_FUZZ_POSTGRES=1")
        # A schema of its own: the session's pg_schema_url holds the shared live sandbox.
        with private_pg_schema("lb_fuzz") as url, serve_in_thread(Sandbox(url, seed=5, people=60)) as running:
            yield running
    else:
        with serve_in_thread(Sandbox(MEMORY_URL, seed=5, people=60)) as running:
            yield running


def bearer_tokens(sandbox: RunningSandbox) -> tuple[str, str]:
    creds = sandbox.credentials
    with httpx.Client(base_url=sandbox.url, timeout=30) as http:
        neiros = http.post("/api/userapi/v1/auth/login",
                           json={"email": creds.neiros_email, "password": creds.neiros_password})
        dialog = http.post("/api/login", json={"login": creds.dialog_login, "password": creds.dialog_password})
    assert neiros.status_code == dialog.status_code == 200, (neiros.text, dialog.text)
    return neiros.json()["token"], dialog.json()["token"]


def write_config(path: Path, sandbox: RunningSandbox) -> Path:
    neiros, dialog = bearer_tokens(sandbox)
    path.write_text(f"""\
[auth.openapi.LeelooToken]
api_key = "{sandbox.credentials.leeloo_token}"

[auth.openapi.NeirosBearer]
bearer = "{neiros}"

[auth.openapi.DialogBearer]
bearer = "{dialog}"

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "404", "409", "422", "429"]
""", encoding="utf-8")
    return path


def test_fuzzed_document_is_the_served_one(fuzz_sandbox: RunningSandbox) -> None:
    served = httpx.get(f"{fuzz_sandbox.url}/openapi.json", timeout=30).json()
    assert served == openapi.current_spec()


@pytest.mark.slow
def test_schemathesis_finds_nothing(fuzz_sandbox: RunningSandbox, tmp_path: Path) -> None:
    config = write_config(tmp_path / "schemathesis.toml", fuzz_sandbox)
    command = [
        str(SCHEMATHESIS), "--config-file", str(config), "--no-color",
        "run", f"{fuzz_sandbox.url}/openapi.json",
        "--checks", "all",
        "--phases", PHASES,
        "--max-examples", str(EXAMPLES_PER_OPERATION),
        "--exclude-path-regex", EXCLUDED,
        "--seed", "20261202", "--generation-database", "none",
        "--workers", "1", "--request-timeout", "60",
        "--report", "junit", "--report-junit-path", str(tmp_path / "junit.xml"),
    ]
    started = time.monotonic()
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=TIME_BOUND_SECONDS,
                                cwd=tmp_path, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout if isinstance(exc.stdout, str) else (exc.stdout or b"").decode("utf-8", "replace")
        pytest.fail(f"schemathesis ran past {TIME_BOUND_SECONDS} s:\n{output[-5000:]}")
    elapsed = time.monotonic() - started
    report = result.stdout[-20000:] + result.stderr[-3000:]
    assert result.returncode == 0, f"schemathesis found failures in {elapsed:.0f} s:\n{report}"
    assert "No issues found" in result.stdout or "passed" in result.stdout, report
    print(f"schemathesis: {EXAMPLES_PER_OPERATION} examples per operation, all checks, phases {PHASES}, "
          f"in {elapsed:.0f} s")
