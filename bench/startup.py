"""How long a fresh seeded in-memory sandbox takes to be ready, and how long seeding a large one takes.

    .venv/bin/python bench/startup.py [--people 1000] [--runs 9] [--seeded 100000 1000000] [--db URL]

First: Sandbox() + start() + create_app() in memory, every run and the median (target:
under 0.3 s for 1,000 people, so users' test suites that start a sandbox per test stay
fast), twice: with the data drawn (the first sandbox of a seed and size in a process) and
copied from the image a process keeps of it (every later one; see seed.copy_image). The
first run, which also pays for importing the package, is shown apart and left out of the
medians.

Then, for each size of ``--seeded`` (``--seeded`` with no size skips this), seeding a new
database from nothing in a child process: the time, the CPU time (on a loaded machine the
wall time is mostly waiting for a core) and the peak memory, the loader process's included
where a SQLite file is written by one (seed.LOADER_FROM; its CPU time and peak are also shown
apart, and the peak counted is the two peaks added up, as if they came at the same moment).
Targets: 100,000 people within 6 s, 1,000,000 within 60 s, peak memory within 500 MB. The database is a
SQLite file in a temporary folder unless ``--db`` names a PostgreSQL database (its tables
are dropped first and after).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

TARGET_SECONDS = 0.3
SEED_TARGETS = {100_000: 6.0, 1_000_000: 60.0}  # seconds
PEAK_MEMORY_TARGET_MB = 500


def ready_in(people: int, seed: int, *, drawn: bool) -> float:
    from leadbridge.sandbox import seed as seeding

    if drawn:
        seeding.forget_images()
    started = time.perf_counter()
    from leadbridge.sandbox.app import create_app
    from leadbridge.sandbox.state import MEMORY_URL, Sandbox

    sandbox = Sandbox(MEMORY_URL, seed=seed, people=people)
    create_app(sandbox)  # starts the sandbox: schema, demo data, routes
    elapsed = time.perf_counter() - started
    sandbox.engine.dispose()
    return elapsed


def seed_child(people: int, url: str) -> None:
    """Seed a new database at ``url``; prints {"seconds", "cpu_seconds", "peak_mb", "loader_cpu_seconds",
    "loader_peak_mb"} as JSON (CPU and peak of this process and the loader process together)."""
    from leadbridge.sandbox.state import Sandbox

    sandbox = Sandbox(url, seed=1, people=people)
    started, cpu = time.perf_counter(), time.process_time()
    sandbox.start(reset=True)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if url.startswith("postgresql"):
        sandbox._drop_all()  # leave the database as found
    sandbox.close()
    loader = resource.getrusage(resource.RUSAGE_CHILDREN)  # the loader, ended and waited for
    loader_cpu = loader.ru_utime + loader.ru_stime
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu + loader_cpu,
                      "peak_mb": (peak_kb + loader.ru_maxrss) / 1024,
                      "loader_cpu_seconds": loader_cpu, "loader_peak_mb": loader.ru_maxrss / 1024}))


def seeded(people: int, db: str | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        url = db or f"sqlite:///{os.path.join(folder, 'seed.sqlite3')}"
        out = subprocess.run([sys.executable, __file__, "--seed-child", str(people), url],
                             capture_output=True, text=True, check=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seeded", type=int, nargs="*", default=[100_000, 1_000_000],
                        help="sizes to seed from nothing (none: skip)")
    parser.add_argument("--db", help="PostgreSQL URL for the seeding runs (default: a SQLite file)")
    parser.add_argument("--seed-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_child:
        seed_child(int(args.seed_child[0]), args.seed_child[1])
        return 0

    cold = ready_in(args.people, args.seed, drawn=True)
    print(f"first run, imports included: {cold:.3f} s")
    for drawn, how in ((True, "data drawn"), (False, "copied from the kept image")):
        runs = [ready_in(args.people, args.seed, drawn=drawn) for _ in range(args.runs)]
        print(f"runs, {how}: " + ", ".join(f"{run:.3f}" for run in runs))
        median = statistics.median(runs)
        verdict = "meets" if median < TARGET_SECONDS else "MISSES"
        print(f"fresh seeded in-memory sandbox, {args.people:,} people, {how}: median {median:.3f} s "
              f"(min {min(runs):.3f}, max {max(runs):.3f}; {verdict} the {TARGET_SECONDS} s target)")
    for people in args.seeded:
        result = seeded(people, args.db)
        goal = SEED_TARGETS.get(people)
        time_verdict = "" if goal is None else f" ({'meets' if result['seconds'] <= goal else 'MISSES'} {goal:g} s)"
        memory_verdict = "meets" if result["peak_mb"] <= PEAK_MEMORY_TARGET_MB else "MISSES"
        loader = result.get("loader_cpu_seconds", 0.0)
        loader_share = (f" (loader {loader:.1f} s, {result.get('loader_peak_mb', 0.0):.0f} MB)" if loader else "")
        print(f"seeding {people:,} people from nothing ({args.db or 'SQLite file'}): {result['seconds']:.1f} s"
              f"{time_verdict}, {people / result['seconds']:,.0f} people/s, CPU {result['cpu_seconds']:.1f} s, "
              f"peak memory {result['peak_mb']:.0f} MB ({memory_verdict} {PEAK_MEMORY_TARGET_MB} MB){loader_share}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
