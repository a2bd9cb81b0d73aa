"""Write or check the committed copy of the sandbox's OpenAPI document.

    python -m leadbridge.sandbox.openapi docs/openapi.json          # write
    python -m leadbridge.sandbox.openapi --check docs/openapi.json  # fail if it drifted

The copy describes the three vendors' APIs, the fakes whose fidelity a reviewer reads it
for. The control API (``/_sandbox``) is left out: its document is its contract table
(``contract/sandbox.py``), from which the served ``/openapi.json`` describes it, and
``tests/sandbox/test_control_contract.py`` holds the table and the routes to each other.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def current_spec() -> dict[str, Any]:
    from leadbridge.sandbox.app import create_app
    from leadbridge.sandbox.state import Sandbox

    app = create_app(Sandbox(people=0), start=False)
    spec: dict[str, Any] = app.openapi()
    return spec


CONTROL_PREFIX = "/_sandbox"
REF = "#/components/schemas/"


def committed_spec() -> dict[str, Any]:
    """The served document without the control API's paths and the schemas only they used."""
    spec = current_spec()
    spec["paths"] = {path: item for path, item in spec["paths"].items() if not path.startswith(CONTROL_PREFIX)}
    schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})
    used: set[str] = set()
    pending: list[Any] = [spec["paths"]]
    while pending:  # every schema the kept paths refer to, directly or through other schemas
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(REF) and ref[len(REF):] not in used:
                used.add(ref[len(REF):])
                pending.append(schemas.get(ref[len(REF):]))
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    if schemas:
        spec["components"]["schemas"] = {name: schema for name, schema in schemas.items() if name in used}
    return spec


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    text = render(committed_spec())
    if args.check:
        committed = args.path.read_text(encoding="utf-8") if args.path.exists() else ""
        if committed != text:
            print(f"{args.path} is out of date: run python -m leadbridge.sandbox.openapi {args.path}",
                  file=sys.stderr)
            return 1
        print(f"{args.path} matches the app")
        return 0
    args.path.write_text(text, encoding="utf-8")
    print(f"wrote {args.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
