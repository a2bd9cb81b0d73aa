"""``engine.parallel``: the flows' worker threads, on real threads (no stand-ins)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from leadbridge.flows.engine import parallel


def test_every_item_is_worked_once_and_each_worker_finishes_once() -> None:
    finished: Counter[str] = Counter()
    lock = threading.Lock()

    def finish() -> None:
        with lock:
            finished[threading.current_thread().name] += 1

    results = list(parallel(range(500), lambda n: n * 2, 4, finish))
    assert sorted(results) == [n * 2 for n in range(500)]
    assert len(finished) == 4 and set(finished.values()) == {1}


def workers_running() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("flow-")}


def test_a_failure_reaches_the_consumer_and_no_worker_takes_many_more_items() -> None:
    before = workers_running()
    taken = 0

    def items() -> Iterator[int]:
        nonlocal taken
        for n in range(1000):
            taken += 1
            yield n

    def work(n: int) -> int:
        if n == 3:
            raise ValueError("refused")
        time.sleep(0.005)
        return n

    with pytest.raises(ValueError, match="refused"):
        list(parallel(items(), work, 4))
    assert taken < 1000, "the workers went on through every item after the failure"
    assert workers_running() <= before, "a worker is still running"


def test_a_failure_of_the_items_themselves_reaches_the_consumer() -> None:
    def items() -> Iterator[int]:
        yield from range(10)
        raise RuntimeError("the ledger refused the claim")

    before = workers_running()
    done: list[int] = []
    with pytest.raises(RuntimeError, match="refused the claim"):
        for result in parallel(items(), lambda n: n, 3):
            done.append(result)
    assert set(done) <= set(range(10))  # results still in flight when the failure came may be dropped
    assert workers_running() <= before, "a worker is still running"
