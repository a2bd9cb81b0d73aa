"""The pytest plugin: ``leadbridge_sandbox`` starts a fresh seeded sandbox for users' tests."""

from __future__ import annotations

import httpx
import pytest

from leadbridge.sandbox.server import RunningSandbox
from leadbridge.sdk.sandbox import SandboxControl

pytest_plugins = ["pytester"]


def test_fixture_yields_url_and_credentials_that_authenticate(leadbridge_sandbox: RunningSandbox) -> None:
    creds = leadbridge_sandbox.credentials
    assert leadbridge_sandbox.url.startswith("http://127.0.0.1:")
    with httpx.Client(base_url=leadbridge_sandbox.url, timeout=30) as http:
        people = http.get("/api/v2/people", params={"limit": 1}, headers={"X-Leeloo-AuthToken": creds.leeloo_token})
        assert people.status_code == 200
        assert 200 <= people.json()["meta"]["totalCount"] < 300  # 200 drawn people and the documents' own

        neiros = http.post("/api/userapi/v1/auth/login",
                           json={"email": creds.neiros_email, "password": creds.neiros_password})
        assert neiros.status_code == 200
        sites = http.get("/api/userapi/v1/sites", headers={"Authorization": f"Bearer {neiros.json()['token']}"})
        assert sites.status_code == 200

        dialog = http.post("/api/login", json={"login": creds.dialog_login, "password": creds.dialog_password})
        assert dialog.status_code == 200
        assert dialog.json()["token"]


def test_control_fixture_drives_the_same_sandbox(leadbridge_sandbox: RunningSandbox,
                                                leadbridge_control: SandboxControl) -> None:
    assert leadbridge_control.base_url == leadbridge_sandbox.url
    assert leadbridge_control.clock.advance(60).offset_seconds == 60
    with httpx.Client(base_url=leadbridge_sandbox.url, timeout=30) as http:
        assert http.get("/_sandbox/clock").json()["offset_seconds"] == 60
        http.get("/api/v2/tags", headers={"X-Leeloo-AuthToken": leadbridge_sandbox.credentials.leeloo_token})
    assert [entry.path for entry in leadbridge_control.requests.list()] == ["/api/v2/tags"]


def test_credentials_repr_hides_secrets(leadbridge_sandbox: RunningSandbox) -> None:
    creds = leadbridge_sandbox.credentials
    text = repr(creds) + repr(leadbridge_sandbox)
    # The demo passwords equal the logins ("demo"), so look for the fields rather than the values.
    assert creds.leeloo_token not in text
    assert "password" not in text and "token" not in text


def test_each_test_gets_a_fresh_sandbox(pytester: pytest.Pytester) -> None:
    """A user's suite, run as its own pytest process: the entry point provides the fixture,
    and a change made in one test is gone in the next."""
    pytester.makepyfile(
        """
        import httpx

        def test_first(leadbridge_sandbox):
            with httpx.Client(base_url=leadbridge_sandbox.url, timeout=60) as http:
                assert http.get("/_sandbox/clock").json()["offset_seconds"] == 0
                http.post("/_sandbox/clock/advance", json={"seconds": 60})
                assert http.get("/_sandbox/clock").json()["offset_seconds"] == 60

        def test_second(leadbridge_sandbox):
            with httpx.Client(base_url=leadbridge_sandbox.url, timeout=60) as http:
                assert http.get("/_sandbox/clock").json()["offset_seconds"] == 0
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(passed=2)
