"""The serving worker's garbage collector, settled once start-up is done.

A worker builds its whole app (Litestar, OpenTelemetry, the frameworks, the pool) before it serves, and those
objects live as long as the process. Left in the collector's generations, every full collection walks them
all again: tens of milliseconds each, in the middle of requests. ``settle`` moves them out of the
collector's sight (``gc.freeze``) and lets the youngest generation grow further before it is collected,
because a request's objects are nearly all freed by reference counting, not by the collector. Measured on
W1 N=5 (``docs/benchmarks.md``): the collector took about 14 % of a worker's CPU before, under 1 % after.
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
