"""How long a fresh seeded in-memory sandbox takes to be ready: Sandbox() + start() + create_app().

    .venv/bin/python bench/startup.py [--people 1000] [--runs 9]

Prints every run and the median (target: under 0.3 s for 1,000 people, so users' test
suites that start a sandbox per test stay fast). The first run, which also pays for
importing the package, is shown apart and left out of the median.
"""

from __future__ import annotations

import argparse
import statistics
import time

TARGET_SECONDS = 0.3


def ready_in(people: int, seed: int) -> float:
    started = time.perf_counter()
    from leadbridge.sandbox.app import create_app
    from leadbridge.sandbox.state import MEMORY_URL, Sandbox

    sandbox = Sandbox(MEMORY_URL, seed=seed, people=people)
    create_app(sandbox)  # starts the sandbox: schema, demo data, routes
    elapsed = time.perf_counter() - started
    sandbox.engine.dispose()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    cold = ready_in(args.people, args.seed)
    print(f"first run, imports included: {cold:.3f} s")
    runs = [ready_in(args.people, args.seed) for _ in range(args.runs)]
    print("runs: " + ", ".join(f"{run:.3f}" for run in runs))
    median = statistics.median(runs)
    verdict = "meets" if median < TARGET_SECONDS else "MISSES"
    print(f"fresh seeded in-memory sandbox, {args.people:,} people: median {median:.3f} s "
          f"({verdict} the {TARGET_SECONDS} s target)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
