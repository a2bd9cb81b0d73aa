"""The Neiros document's curl commands, run verbatim with the real ``curl`` (host and token swapped)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import Any

import httpx
import pytest

from docs_fixtures import curl_examples
from http_clients import TIMEOUT
from leadbridge.sandbox.server import RunningSandbox

DOC_HOST = "https://neiros.cloud"
DOC_TOKEN = re.compile(r"\d+\|[A-Za-z0-9]{40}")

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


def command(name: str) -> str:
    return next(example["command"] for example in curl_examples() if example["name"] == name)


def run(text: str, live: RunningSandbox, token: str) -> subprocess.CompletedProcess[str]:
    swapped = DOC_TOKEN.sub(token, text.replace(DOC_HOST, live.url))
    assert DOC_HOST not in swapped
    return subprocess.run(["bash", "-c", swapped], capture_output=True, text=True, timeout=30, check=False)


@pytest.fixture
def token(live: RunningSandbox) -> str:
    creds = live.credentials
    response = httpx.post(f"{live.url}/api/userapi/v1/auth/login",
                          json={"email": creds.neiros_email, "password": creds.neiros_password}, timeout=TIMEOUT)
    value: str = response.json()["token"]
    return value


def output(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_curl_login(live: RunningSandbox, token: str) -> None:
    body = output(run(command("login"), live, token))
    assert body["user"] == {"name": "Тест", "email": "test@test.ru", "id": 176}
    assert DOC_TOKEN.fullmatch(body["token"])


def test_curl_deal(live: RunningSandbox, token: str) -> None:
    body = output(run(command("deals_get"), live, token))
    assert body["data"]["id"] == 8
    assert set(body["data"]) == {"id", "neiros_visit", "neiros_id", "created_at", "phone", "duration", "record",
                                 "canal", "traffic", "summ", "status"}


def test_curl_sites(live: RunningSandbox, token: str) -> None:
    body = output(run(command("sites_list"), live, token))
    names = {site["id"]: site["name"] for site in body["data"]}
    assert {19: "wistis.ru", 53: "autokovrik.ru", 167: "yandex.ru", 174: "plugin.wistis.ru"}.items() <= names.items()


def test_curl_update_then_read_back(live: RunningSandbox, token: str) -> None:
    reset = httpx.post(f"{live.url}/api/userapi/v1/project/100/update", json={"site_id": 100, "summ": 3},
                       headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    assert reset.status_code == 200
    assert output(run(command("deals_update"), live, token)) == {"success": True}
    deal = httpx.get(f"{live.url}/api/userapi/v1/project/100", params={"site_id": 100},
                     headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT).json()["data"]
    assert deal["summ"] == 1500


def test_curl_deals_list_verbatim_is_refused_by_curl_itself(live: RunningSandbox, token: str) -> None:
    """With ``--get``, curl appends the multi-line ``--data`` JSON to the URL, which it then
    refuses as malformed (exit 3) before sending anything: the document's example cannot run."""
    before = httpx.get(f"{live.url}/_sandbox/requests", params={"path": "/projects"}, timeout=TIMEOUT).json()["last_id"]
    result = run(command("deals_list"), live, token)
    assert result.returncode == 3
    after = httpx.get(f"{live.url}/_sandbox/requests", params={"since_id": before, "path": "/projects"},
                      timeout=TIMEOUT).json()
    assert after["count"] == 0


def test_curl_deals_list_as_a_get_with_a_body(live: RunningSandbox, token: str) -> None:
    """The same command without ``--get`` sends what the document means (its JavaScript twin
    does the same): a GET with both the query string and the JSON body; the query string wins."""
    text = command("deals_list").replace("--get ", "")
    body = output(run(text, live, token))
    projects = body["data"]["projects"]
    assert body["total"] >= len(projects) > 0
    assert {deal["site_id"] for deal in projects} == {100}
    assert all("2020-01-01" <= deal["date"] <= "2023-01-01" for deal in projects)
    assert projects[0]["id"] == 1
