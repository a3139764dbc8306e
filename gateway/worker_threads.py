"""The threads of this process, for settings applied to a serving worker as a whole (``gateway.affinity``,
``gateway.scheduling``)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable

__all__ = ["for_each_thread"]


def for_each_thread(apply: Callable[[int], None]) -> None:
    """``apply`` to the id of every thread of this process; a thread that ends meanwhile is skipped. Threads
    started afterwards inherit CPU affinity and scheduling policy from the thread that starts them."""
    for tid in os.listdir("/proc/self/task"):
        with contextlib.suppress(ProcessLookupError):
            apply(int(tid))
