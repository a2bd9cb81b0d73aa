"""Write or check the committed copy of the sandbox's OpenAPI document.

    python -m leadbridge.sandbox.openapi docs/openapi.json          # write
    python -m leadbridge.sandbox.openapi --check docs/openapi.json  # fail if it drifted
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


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    text = render(current_spec())
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
