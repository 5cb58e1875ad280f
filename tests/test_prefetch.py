"""The read-ahead thread of `score_files`: order, errors where they happened, nothing left running."""

from __future__ import annotations

import threading
import time

import pytest

from sesqa.scoring.prefetch import prefetched


def test_items_come_in_order_and_complete():
    assert list(prefetched(range(100), depth=3)) == list(range(100))
    assert list(prefetched([], depth=1)) == []


def test_an_error_is_raised_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise OSError("disk gone")

    got = []
    with pytest.raises(OSError, match="disk gone"):
        for item in prefetched(items()):
            got.append(item)
    assert got == [1, 2]


def test_leaving_the_loop_early_stops_the_producer_and_runs_its_cleanup():
    cleaned = threading.Event()

    def endless():
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            cleaned.set()

    for item in prefetched(endless(), depth=2):
        if item == 5:
            break
    assert cleaned.wait(2.0), "the producer's finally block did not run"
    deadline = time.monotonic() + 2.0
    while any(t.name == "sesqa-prefetch" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not any(t.name == "sesqa-prefetch" for t in threading.enumerate())


def test_producer_is_at_most_depth_ahead():
    produced = []

    def counting():
        for n in range(50):
            produced.append(n)
            yield n

    stream = prefetched(counting(), depth=2)
    assert next(stream) == 0
    time.sleep(0.3)
    assert len(produced) <= 1 + 2 + 1  # the one consumed, the queue, the one waiting to be put
    stream.close()


def test_depth_must_be_positive():
    with pytest.raises(ValueError, match="depth"):
        list(prefetched([1], depth=0))
