"""The benches' ratios before and after a change, side by side in one run.

    .venv/bin/python bench/compare.py --before REF [--rounds 2] [--bench sandbox sdk]
                                      [--sandbox-args "…"] [--sdk-args "…"]

REF (a commit, tag or branch of this repository) is checked out into a temporary git
worktree. Each bench script of this tree then runs in turns against REF's sources and
against this tree's (``PYTHONPATH`` puts one ``src`` first), ``--rounds`` times, so load
from other processes falls on both alike. Every figure the benches print is already a
ratio to a baseline measured in the same process (``bench/sandbox.py``: the bare ASGI app
between every two endpoints; ``bench/sdk.py``: raw httpx, or the walk's ideal), so the two
trees' figures compare directly. Printed: each figure's median before and after, and the
change; a figure more than 5% worse is marked. A figure only one side prints (an endpoint
the older sources do not serve) is left out.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
TREE = HERE.parent
TOLERANCE = 0.05  # a figure may be this much worse than before

# bench/sandbox.py: "  GET people   12,345 req/s  0.612 of the bare app  (target …)"
SANDBOX_LINE = re.compile(r"^\s+(?P<name>\S.*?)\s+[\d,]+ req/s\s+(?P<value>\d+\.\d+) of the bare app")
# bench/sdk.py's summary: "  people list      1.043x (1.021–1.060)   target …"
SDK_LINE = re.compile(r"^\s+(?P<name>\S.*?)\s+(?P<value>\d+\.\d+)x \(")


@dataclass(frozen=True)
class Bench:
    script: str
    default_args: str
    line: re.Pattern[str]
    higher_is_better: bool  # sandbox: req/s ratio to the bare app; SDK: time ratio to raw httpx

    def worse(self, before: float, after: float) -> float:
        """How much worse ``after`` is than ``before`` (negative: better)."""
        return (before - after) / before if self.higher_is_better else (after - before) / before


BENCHES = {
    "sandbox": Bench("sandbox.py", "--people 20000 --small 0 --seconds 1.5", SANDBOX_LINE, higher_is_better=True),
    "sdk": Bench("sdk.py", "--people 20000 --runs 1 --part ab --calls 800", SDK_LINE, higher_is_better=False),
}


def run(bench: Bench, args: str, source: Path, echo: Callable[[str], None]) -> dict[str, float]:
    """One run of a bench against the sources in ``source``: its figures by name."""
    environment = dict(os.environ, PYTHONPATH=str(source / "src"))
    command = [sys.executable, str(HERE / bench.script), *shlex.split(args)]
    done = subprocess.run(command, env=environment, capture_output=True, text=True, cwd=TREE)
    if done.returncode not in (0, 1):  # 1: the bench missed one of its own targets, which is no failure here
        raise SystemExit(f"{bench.script} against {source} failed:\n{done.stderr[-3000:]}")
    figures: dict[str, float] = {}
    for line in done.stdout.splitlines():
        match = bench.line.match(line)
        if match:
            figures[match["name"]] = float(match["value"])  # the last printing of a name wins: the summary
    # Each run's figures as they come, so that a stopped comparison still shows what it measured.
    echo(f"  {bench.script} on {source.name}: " + "; ".join(f"{name} {value:.4g}" for name, value in figures.items()))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="the commit to compare this tree with")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--bench", nargs="*", choices=sorted(BENCHES), default=sorted(BENCHES))
    parser.add_argument("--sandbox-args", default=BENCHES["sandbox"].default_args)
    parser.add_argument("--sdk-args", default=BENCHES["sdk"].default_args)
    options = parser.parse_args()
    extra = {"sandbox": options.sandbox_args, "sdk": options.sdk_args}
    worst = -1.0  # the largest worsening seen (negative: every figure better)
    with tempfile.TemporaryDirectory(prefix="leadbridge-before-") as folder:
        before = Path(folder) / "before"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(before), options.before], cwd=TREE, check=True)
        try:
            for name in options.bench:
                bench = BENCHES[name]
                print(f"{bench.script} {extra[name]}, {options.rounds} round(s), before = {options.before}", flush=True)
                sides: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
                for round_number in range(options.rounds):
                    print(f" round {round_number + 1}", flush=True)
                    # Alternate which side goes first, so a drift in the machine's load favours neither.
                    order = [("before", before), ("after", TREE)]
                    for side, source in order if round_number % 2 == 0 else reversed(order):
                        sides[side].append(run(bench, extra[name], source, lambda text: print(text, flush=True)))
                common = [key for key in sides["after"][0] if all(key in figures for figures in
                                                                  sides["before"] + sides["after"])]
                print(f"\n{'figure':<30} {'before':>9} {'after':>9}  change, + is better (medians of {options.rounds})")
                for key in common:
                    old = statistics.median(figures[key] for figures in sides["before"])
                    new = statistics.median(figures[key] for figures in sides["after"])
                    worse = bench.worse(old, new)
                    worst = max(worst, worse)
                    mark = "  WORSE" if worse > TOLERANCE else ""
                    print(f"{key:<30} {old:>9.4g} {new:>9.4g}  {-worse:+.1%}{mark}")
                print()
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=TREE, check=False)
    print(f"worst change: {-worst:+.1%} (tolerance: {TOLERANCE:.0%} worse)")
    return 1 if worst > TOLERANCE else 0


if __name__ == "__main__":
    raise SystemExit(main())
