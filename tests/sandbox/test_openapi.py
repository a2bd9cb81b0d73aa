"""The OpenAPI document: all three APIs described, served, and the committed copy up to date."""

from __future__ import annotations

from pathlib import Path

import httpx

from leadbridge.sandbox import openapi

COMMITTED = Path(__file__).parents[2] / "docs" / "openapi.json"


def test_document_describes_all_three_apis(anon: httpx.Client) -> None:
    response = anon.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    assert "Leeloo" in spec["info"]["title"] and "Neiros" in spec["info"]["title"]
    assert "Dialog" in spec["info"]["title"]
    paths = set(spec["paths"])
    assert "/api/v2/people" in paths  # Leeloo
    assert any(path.startswith("/api/userapi/v1/") for path in paths)  # Neiros
    assert "/api/login" in paths  # Dialog
    assert "/_sandbox/reset" in paths  # control API
    tags = {tag for item in spec["paths"].values() for op in item.values() for tag in op.get("tags", [])}
    assert {"Leeloo", "Neiros", "sandbox control"} <= tags


def test_docs_page_serves(anon: httpx.Client) -> None:
    response = anon.get("/docs")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "/openapi.json" in response.text and "swagger" in response.text.lower()


def test_served_document_is_the_one_written_to_docs(anon: httpx.Client) -> None:
    served = anon.get("/openapi.json").json()
    assert openapi.render(served) == openapi.render(openapi.current_spec())


def test_committed_copy_matches_the_app() -> None:
    assert openapi.main(["--check", str(COMMITTED)]) == 0, (
        "docs/openapi.json is out of date: run python -m leadbridge.sandbox.openapi docs/openapi.json")


def test_check_fails_on_drift(tmp_path: Path) -> None:
    stale = tmp_path / "openapi.json"
    stale.write_text(COMMITTED.read_text(encoding="utf-8").replace('"/api/v2/people"', '"/api/v2/persons"'),
                     encoding="utf-8")
    assert openapi.main(["--check", str(stale)]) == 1
    assert openapi.main([str(stale)]) == 0
    assert openapi.main(["--check", str(stale)]) == 0
