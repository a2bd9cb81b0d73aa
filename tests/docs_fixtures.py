"""The vendors' documented example requests and responses, one JSON fixture per endpoint.

The fixtures live in ``tests/fixtures/docs/<api>/<name>.json``; their format is described in
``tests/fixtures/docs/README.md``. Import from tests as ``from docs_fixtures import load``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

DOCS_DIR: Final = Path(__file__).parent / "fixtures" / "docs"
APIS: Final = ("leeloo_v2", "leeloo_v1", "neiros", "dialog")
# Files next to the fixtures that are not endpoint fixtures.
CURL_EXAMPLES: Final = "curl_examples"
AUXILIARY: Final = frozenset({CURL_EXAMPLES})


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def load(api: str, name: str) -> dict[str, Any]:
    """One endpoint's fixture, e.g. ``load("leeloo_v2", "people_list")``; a fresh copy on every call."""
    if api not in APIS:
        raise ValueError(f"unknown api {api!r}; expected one of {', '.join(APIS)}")
    if name in AUXILIARY:
        raise ValueError(f"{name!r} is not an endpoint fixture")
    fixture = _read(DOCS_DIR / api / f"{name}.json")
    if not isinstance(fixture, dict):
        raise ValueError(f"fixture {api}/{name} is not a JSON object")
    return fixture


def all_fixtures() -> list[tuple[str, str, dict[str, Any]]]:
    """Every endpoint fixture as ``(api, name, fixture)``, in a stable order."""
    return [
        (api, path.stem, load(api, path.stem))
        for api in APIS
        for path in sorted((DOCS_DIR / api).glob("*.json"))
        if path.stem not in AUXILIARY
    ]


def curl_examples() -> list[dict[str, str]]:
    """The Neiros document's curl commands verbatim, as ``{"name", "command"}`` (name = the fixture's name)."""
    examples = _read(DOCS_DIR / "neiros" / f"{CURL_EXAMPLES}.json")
    if not isinstance(examples, list):
        raise ValueError("neiros/curl_examples.json is not a JSON list")
    return examples
