"""The export's cost next to the SDK's own walk of the same records, measured side by side.

    .venv/bin/python bench/export.py [--people 100000] [--concurrency 4] [--database FILE]

The sandbox runs in a child process on 127.0.0.1 with ``--people`` demo people (seeding
prints its progress), in memory, or in the SQLite file ``--database``, which is seeded only
while it is empty: seeding 100k people takes minutes, so runs can share one (the export and
the walks only read). Then, each in a fresh child process so their peak memories are
their own: the SDK walks people, channels and orders (``iter()``, models built, nothing
kept); the export loads the same three lists into a new DuckDB file (``duckdb_destination``:
the settings `leadbridge export` loads with); the SDK walks again. Printed: the export's
time as a ratio to the mean of the two walks (target <= 1.5x) and the export's peak memory
(maximum resident set, target <= 400 MB), with the peak of each dlt stage (extract,
normalize, load) and its time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sdk import TOKEN, start_sandbox  # the same sandbox launcher as bench/sdk.py

WALK = """
import json, resource, sys, time
from leadbridge import Leeloo
url, token, concurrency = sys.argv[1], sys.argv[2], int(sys.argv[3])
started = time.perf_counter()
counts = {}
with Leeloo(token, base_url=url, rate_limit=None, timeout=120) as client:
    for name, walk in (("people", client.people.iter), ("channels", client.channels.iter),
                       ("orders", client.orders.iter)):
        counts[name] = sum(1 for _ in walk(concurrency=concurrency))
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "rows": counts,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

EXPORT = """
import json, os, resource, sys, threading, time
os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
import dlt
from leadbridge.export import duckdb_destination, leeloo_source
url, token, concurrency, folder = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
# The sources in a pipeline of one's own (docs/export.md), into DuckDB with `leadbridge export`'s settings.
pipeline = dlt.pipeline("bench_export", destination=duckdb_destination(os.path.join(folder, "bench.duckdb")),
                        dataset_name="leadbridge", pipelines_dir=os.path.join(folder, "pipelines"))
source = leeloo_source(token, url, concurrency=concurrency, client_options={"timeout": 120}).with_resources(
    "people", "channels", "orders")
samples = []  # (time, resident MB), read from /proc where there is one, to tell the stages' peaks apart
def sample():
    while True:
        with open("/proc/self/statm") as statm:
            samples.append((time.time(), int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20))
        time.sleep(0.05)
if os.path.exists("/proc/self/statm"):
    threading.Thread(target=sample, daemon=True).start()
started = time.perf_counter()
pipeline.run(source)
seconds = time.perf_counter() - started
trace = pipeline.last_trace
rows = trace.last_normalize_info.row_counts
stages = {step.step: {"seconds": step.finished_at.timestamp() - step.started_at.timestamp(),
                      "peak_mb": max((mb for moment, mb in list(samples)
                                      if step.started_at.timestamp() <= moment <= step.finished_at.timestamp()),
                                     default=None)}
          for step in trace.steps if step.step != "run"}
print(json.dumps({"seconds": seconds, "rows": {k: v for k, v in rows.items() if not k.startswith("_dlt")},
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "stages": stages}))
"""


def stage_peaks(export: dict[str, object]) -> str:
    """Each dlt stage's time and peak resident memory (sampled every 50 ms, where /proc allows)."""
    stages: dict[str, dict[str, float | None]] = export.get("stages") or {}  # type: ignore[assignment]
    shown = [f"{stage} {figures['seconds']:.1f} s"
             + ("" if figures["peak_mb"] is None else f" {figures['peak_mb']:.0f} MB")
             for stage, figures in stages.items()]
    return f"; by stage: {', '.join(shown)}" if shown else ""


def child(code: str, *args: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the child process failed:\n{done.stderr[-3000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--export-only", action="store_true",
                        help="Only the export (its time and peak memory), without the walks to compare with")
    parser.add_argument("--database", type=Path,
                        help="A SQLite file for the sandbox, seeded with --people only while it is empty")
    options = parser.parse_args()
    database = f"sqlite:///{options.database.resolve()}" if options.database else None
    process, url = start_sandbox(options.people, database)
    try:
        with tempfile.TemporaryDirectory(prefix="leadbridge-bench-export-") as folder:
            if options.export_only:
                export = child(EXPORT, url, TOKEN, str(options.concurrency), folder)
                print(f"export:       {export['seconds']:.1f} s  {export['rows']}; peak memory "
                      f"{float(export['peak_mb']):.0f} MB (target <= 400 MB){stage_peaks(export)}",  # type: ignore[arg-type]
                      flush=True)
                return
            walk_before = child(WALK, url, TOKEN, str(options.concurrency))
            print(f"SDK walk:     {walk_before['seconds']:.1f} s  {walk_before['rows']}", flush=True)
            export = child(EXPORT, url, TOKEN, str(options.concurrency), folder)
            print(f"export:       {export['seconds']:.1f} s  {export['rows']}", flush=True)
            walk_after = child(WALK, url, TOKEN, str(options.concurrency))
            print(f"SDK walk:     {walk_after['seconds']:.1f} s", flush=True)
    finally:
        process.terminate()
        process.wait(timeout=30)
    walk = (float(walk_before["seconds"]) + float(walk_after["seconds"])) / 2  # type: ignore[arg-type]
    ratio = float(export["seconds"]) / walk  # type: ignore[arg-type]
    peak = float(export["peak_mb"])  # type: ignore[arg-type]
    print(f"export / SDK walk: {ratio:.2f}x (target <= 1.5x); export peak memory {peak:.0f} MB (target <= 400 MB)"
          f"{stage_peaks(export)}")


if __name__ == "__main__":
    main()
