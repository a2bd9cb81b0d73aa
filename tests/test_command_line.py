"""``leadbridge`` as a user runs it: options refused in one line before any seeding, SIGTERM, --version."""

from __future__ import annotations

import importlib.metadata
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import leadbridge
from http_clients import TIMEOUT
from leadbridge.sandbox.server import free_port
from webhook_support import receiving

STARTUP_BOUND = 180.0  # seconds a loaded machine may take to seed and start; only a bound, never a pace


def leadbridge_command(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leadbridge.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "COLUMNS": "200"})


def test_version_is_the_package_metadata() -> None:
    assert leadbridge.__version__ == importlib.metadata.version("leadbridge")
    shown = leadbridge_command("--version")
    assert shown.returncode == 0
    assert shown.stdout.strip() == f"leadbridge {leadbridge.__version__}"


def test_the_library_logger_prints_nothing_unless_the_application_configures_logging() -> None:
    assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger("leadbridge").handlers)


@pytest.mark.parametrize("port", ["0", "99999", "65536", "-1", "http"])
def test_a_port_out_of_range_is_refused_before_anything_is_created(tmp_path: Path, port: str) -> None:
    database = tmp_path / "sandbox.sqlite3"
    result = leadbridge_command("sandbox", "--port", port, "--db", f"sqlite:///{database}", "--people", "5")
    assert result.returncode == 2
    assert "--port" in result.stdout + result.stderr
    assert not database.exists(), "the database was created before the port was checked"


@pytest.mark.parametrize(("url", "says"), [
    ("nonsense", "not a database URL"),
    ("mysql://user@localhost/db", "'mysql' is not supported"),
    ("sqlite:////nonexistent-folder/sub/sandbox.sqlite3", "cannot open"),
    ("postgresql://user:hunter2-secret@127.0.0.1:1/db", "cannot open"),
])
def test_a_bad_database_url_is_one_line_and_exit_2(url: str, says: str) -> None:
    result = leadbridge_command("sandbox", "--db", url, "--port", str(free_port()), "--people", "5")
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("leadbridge sandbox: --db:") and says in lines[0]
    assert "hunter2-secret" not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "Preparing the sandbox database" not in result.stdout, "seeding began before the URL was checked"


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_a_port_in_use_is_told_before_seeding(tmp_path: Path, busy_port: int) -> None:
    database = tmp_path / "sandbox.sqlite3"
    result = leadbridge_command("sandbox", "--port", str(busy_port), "--db", f"sqlite:///{database}")
    assert result.returncode == 1
    assert result.stderr.strip() == f"leadbridge sandbox: port {busy_port} on 127.0.0.1 is in use"
    assert not database.exists(), "the sandbox seeded a database it could not serve"


def test_sigterm_stops_the_sandbox_gracefully(tmp_path: Path) -> None:
    database = tmp_path / "sandbox.sqlite3"
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "leadbridge.cli", "sandbox", "--port", str(port), "--db",
                               f"sqlite:///{database}", "--people", "20"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "COLUMNS": "200"})
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_BOUND
        with httpx.Client(base_url=base, timeout=TIMEOUT,
                          headers={"X-Leeloo-AuthToken": "demo-leeloo-token"}) as client:
            while True:
                assert server.poll() is None, server.communicate()
                assert time.monotonic() < deadline, "the sandbox did not start"
                try:
                    answer = client.get("/api/v2/people", params={"limit": 1})
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            assert answer.status_code == 200
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=120)
    finally:
        server.kill()
    assert server.returncode == 0, out + err
    assert "sandbox stopped (SIGTERM)" in out
    assert "Traceback" not in err
    with sqlite3.connect(database) as db:  # closed cleanly: the database is whole and holds the seeded people
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM leeloo_person").fetchone()[0] >= 20


def test_ctrl_c_stops_seeding_and_the_next_start_seeds_again(tmp_path: Path) -> None:
    """SIGINT (Ctrl-C) during seeding ends the command between two batches, leaving a database
    marked unfinished; the next start drops it and seeds again from the start."""
    from leadbridge.sandbox.seed import FLUSH_ROWS, SEEDING_MARK

    database = tmp_path / "sandbox.sqlite3"
    server = subprocess.Popen([sys.executable, "-m", "leadbridge.cli", "sandbox", "--port", str(free_port()), "--db",
                               f"sqlite:///{database}", "--people", "1000000"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "COLUMNS": "200"})
    try:
        deadline = time.monotonic() + STARTUP_BOUND
        people = 0
        while people < FLUSH_ROWS // 10:  # a first batch is in: seeding is under way
            assert server.poll() is None, server.communicate()
            assert time.monotonic() < deadline, "seeding did not begin"
            time.sleep(0.2)
            try:
                with sqlite3.connect(database, timeout=30) as db:
                    people = db.execute("SELECT count(*) FROM leeloo_person").fetchone()[0]
            except sqlite3.OperationalError:  # the tables are not there yet
                people = 0
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=120)
    finally:
        server.kill()
    assert server.returncode == 130, out + err
    assert "Seeding stopped" in out and "Traceback" not in err
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM sandbox_state WHERE key = ?", (SEEDING_MARK,)).fetchone() == (1,)
        assert db.execute("SELECT count(*) FROM leeloo_person").fetchone()[0] < 1_000_000

    from leadbridge.sandbox.state import Sandbox

    counted = "SELECT count(*) FROM leeloo_person"
    again, reference = Sandbox(f"sqlite:///{database}", people=30), Sandbox(people=30)
    again.start()
    reference.start()
    with again.engine.connect() as conn, reference.engine.connect() as fresh:
        assert conn.exec_driver_sql(counted).scalar() == fresh.exec_driver_sql(counted).scalar()
    again.close()
    reference.close()


@pytest.mark.parametrize(("option", "value", "says"), [
    ("--webhook", "ftp://example.ru/", "--webhook: url must be an http or https URL"),
    ("--webhook", "http://", "--webhook: url must be an http or https URL"),
    ("--activity", "lively", "--activity: activity must be calm, busy or a number"),
    ("--activity", "0", "--activity: activity must be between 0 and"),
])
def test_a_bad_webhook_or_activity_is_refused_before_seeding(tmp_path: Path, option: str, value: str,
                                                              says: str) -> None:
    database = tmp_path / "sandbox.sqlite3"
    result = leadbridge_command("sandbox", option, value, "--db", f"sqlite:///{database}", "--port",
                                str(free_port()), "--people", "5")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().startswith(f"leadbridge sandbox: {says}"), result.stderr
    assert not database.exists()


def test_a_living_sandbox_sends_its_webhooks(tmp_path: Path) -> None:
    port = free_port()
    with receiving() as receiver:
        server = subprocess.Popen([sys.executable, "-m", "leadbridge.cli", "sandbox", "--port", str(port), "--db",
                                   f"sqlite:///{tmp_path / 'sandbox.sqlite3'}", "--people", "20", "--activity",
                                   "600", "--webhook", receiver.url],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env={**os.environ, "COLUMNS": "200"})
        try:
            receiver.wait_for(lambda r: len(r.events()) >= 3, "the activity's webhooks")
            server.send_signal(signal.SIGTERM)
            out, err = server.communicate(timeout=120)
        finally:
            server.kill()
    assert server.returncode == 0, out + err
    assert f"webhooks of the demo tenant go to {receiver.url}" in out and "activity: 600 events a minute" in out
    assert {event["type"] for event in receiver.events()} <= {"ORDER", "SALE", "SUBSCRIPTION", "INCOMING_MESSAGE"}
