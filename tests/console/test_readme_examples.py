"""README's sandbox tour runs as printed, against a sandbox on a loopback port."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from leadbridge.sandbox.server import serve_in_thread
from leadbridge.sandbox.state import MEMORY_URL, Sandbox

README = Path(__file__).resolve().parents[2] / "README.md"
PRINTED_URL = "B=http://127.0.0.1:8765"


def tour() -> str:
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    return next(block for block in blocks if block.startswith(PRINTED_URL))


@pytest.mark.skipif(shutil.which("curl") is None, reason="the tour uses curl")
def test_the_sandbox_tour_runs_as_printed() -> None:
    with serve_in_thread(Sandbox(MEMORY_URL, seed=1, people=60)) as running:
        script = tour().replace(PRINTED_URL, f"B={running.url}", 1)
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True,
                              timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    answers = [json.loads(part) for part in re.sub(r"\}\s*\{", "}\n{", done.stdout).splitlines() if part.strip()]
    # people (filtered by tag, thanks to -g), send-message, chat, Neiros deals, clock, the Dialog report
    assert len(answers) == 6, done.stdout[:2000]
    people, sent, chat, deals, _clock, report = answers
    assert people["status"] == 1 and all("vip" in p["tags"] for p in people["data"])
    assert sent["status"] == 1 and chat["data"][0]["text"] == "Привет!"
    assert deals["data"]
    assert [row["phone_number"] for row in report["data"]][:1] == ["+79999999999"] and report["count"] >= 1
