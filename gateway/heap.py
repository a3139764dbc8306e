"""The serving worker's garbage collector, settled once start-up is done.

A worker builds its whole app (Litestar, OpenTelemetry, the frameworks, the pool) before it serves, and those
objects live as long as the process. Left in the collector's generations, every full collection walks them
all again: tens of milliseconds each, in the middle of requests. ``settle`` moves them out of the
collector's sight (``gc.freeze``) and lets the youngest generation grow further before it is collected,
because a request's objects are freed by reference counting, not by the collector: the request path makes
no reference cycles (``tests/integration/lookup/test_lookup_cycles.py`` holds the lookup to that).

The collector's count is allocations less deallocations since its last pass, and it never goes below zero,
so objects that die after a pass do not take back what they added before it. With many requests in flight
the count creeps up even though nothing is garbage: at 10,000 a worker still ran ~130 passes of the young
generation in 20 s of W1 N=5 load, collecting nothing (0.45 s, pauses up to 10 ms); at 100,000, none
(``docs/benchmarks.md``, 2026-12-07). A cycle made elsewhere waits for the next pass: at most 100,000
young objects, a few tens of megabytes.
"""

from __future__ import annotations

import gc

__all__ = ["settle"]


def settle(gen0_threshold: int) -> None:
    """Collect once, freeze the survivors, and set the youngest generation's threshold (0: keep it)."""
    gc.collect()
    gc.freeze()
    if gen0_threshold:
        _, gen1, gen2 = gc.get_threshold()
        gc.set_threshold(gen0_threshold, gen1, gen2)
