"""No test leans on httpx's 5 s default timeout, which a loaded machine exceeds (see http_clients.py)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent
HTTPX_CALLS = {"Client", "AsyncClient", "get", "post", "put", "patch", "delete", "request", "stream", "head",
               "options"}


def calls_without_timeout(source: str) -> list[int]:
    """Lines calling ``httpx.<Client|get|post…>(…)`` without a ``timeout=`` argument."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "httpx"
                and node.func.attr in HTTPX_CALLS
                and not any(keyword.arg in ("timeout", None) for keyword in node.keywords)):
            lines.append(node.lineno)
    return lines


def test_the_check_sees_a_missing_timeout() -> None:
    assert calls_without_timeout("import httpx\nhttpx.Client(base_url='x')\nhttpx.get('u', timeout=1)\n") == [2]


def test_every_test_client_sets_its_timeout() -> None:
    offenders = [f"{path.relative_to(TESTS)}:{line}" for path in sorted(TESTS.rglob("*.py"))
                 for line in calls_without_timeout(path.read_text(encoding="utf-8"))]
    assert not offenders, f"give these a timeout (http_clients.TIMEOUT): {offenders}"
