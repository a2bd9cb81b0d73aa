"""The SDK's walk as the list grows: records a second and the walking process's peak memory.

    .venv/bin/python bench/growth_sdk.py [--sizes 100000,1000000] [--concurrency 8] [--page-size 100]
                                         [--rounds 1] [--keep DIR]

For each size a sandbox with that many demo people runs in a child process on 127.0.0.1
(seeding prints its progress; in memory, or with ``--keep DIR`` on the SQLite file
bench/growth.py keeps there, ``growth-<people>.sqlite3``, seeded only if it is not yet), and
a second child walks every person ``--rounds`` times (min-max shown) with
``Leeloo.people.iter()`` (no rate limit, no added latency), so that its peak resident memory
(``ru_maxrss``) is the walk's alone. The walk yields each person once while remembering only
the keys of its last pages, so its memory should stay flat: the last line compares each
size's peak with the first size's (target: within 1.5x).

Records a second are the sandbox's pace as much as the SDK's: the sandbox serves one request
at a time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from sdk import TOKEN, start_sandbox  # bench/sdk.py: the same child-process sandbox

WALKER = """
import json, resource, sys, time
from leadbridge import Leeloo
url, token, page_size, concurrency = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
with Leeloo(token=token, base_url=url, rate_limit=None, timeout=120) as lee:
    total = lee.people.list(limit=1).total
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    count = 0
    ids = 0
    for person in lee.people.iter(page_size=page_size, concurrency=concurrency):
        count += 1
        ids ^= hash(person.id)  # every record is read, none is kept
    seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"total": total, "count": count, "seconds": seconds, "before_kib": before, "peak_kib": peak}))
"""

MEMORY_TARGET = 1.5  # peak at the largest size / peak at the smallest


def walk(url: str, page_size: int, concurrency: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", WALKER, url, TOKEN, str(page_size), str(concurrency)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the walk failed:\n{done.stderr}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated numbers of people")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=1, help="walks of each size")
    parser.add_argument("--keep", help="folder of bench/growth.py's seeded databases (seeded there if missing)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    rows: list[tuple[int, list[float], list[float]]] = []  # size, records/s and peak MiB of each walk
    for size in sizes:
        print(f"starting a sandbox with {size:,} people on 127.0.0.1 …", flush=True)
        database = f"sqlite:///{Path(args.keep) / f'growth-{size}.sqlite3'}" if args.keep else None
        process, url = start_sandbox(size, database)
        paces: list[float] = []
        peaks: list[float] = []
        try:
            for _ in range(args.rounds):
                result = walk(url, args.page_size, args.concurrency)
                if result["count"] != result["total"]:
                    raise SystemExit(f"walked {result['count']:,} of {result['total']:,} people")
                paces.append(result["count"] / result["seconds"])
                peaks.append(result["peak_kib"] / 1024)
                print(f"  walked {result['count']:,.0f} people in {result['seconds']:.1f} s: {paces[-1]:,.0f} "
                      f"records/s; peak memory {peaks[-1]:.0f} MiB ({result['before_kib'] / 1024:.0f} MiB before "
                      "the walk)", flush=True)
        finally:
            process.terminate()
            process.wait(timeout=30)
        rows.append((size, paces, peaks))
    print(f"\nthe walk (concurrency {args.concurrency}, pages of {args.page_size}) as the list grows, "
          f"median (min-max) of {args.rounds} walks")
    print(f"  {'people':>10} {'records/s':>24} {'peak MiB':>18} {'peak / first':>13}")
    first_peak = statistics.median(rows[0][2])
    for size, paces, peaks in rows:
        print(f"  {size:>10,} {statistics.median(paces):>9,.0f} ({min(paces):,.0f}-{max(paces):,.0f})".ljust(37)
              + f"{statistics.median(peaks):>6.0f} ({min(peaks):.0f}-{max(peaks):.0f})".rjust(18)
              + f"{statistics.median(peaks) / first_peak:>13.2f}x")
    growth = max(statistics.median(peaks) for _, _, peaks in rows) / first_peak
    verdict = "ok" if growth <= MEMORY_TARGET else "over target"
    print(f"  peak memory, largest / smallest size: {growth:.2f}x (target <= {MEMORY_TARGET}x: {verdict})")


if __name__ == "__main__":
    main()
