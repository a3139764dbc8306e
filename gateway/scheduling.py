"""A serving worker's threads under Linux's ``SCHED_BATCH`` policy (``GATEWAY_WORKER_SCHEDULING=batch``).

Each member call crosses threads twice: the worker's Python thread hands the request to the member client's
Tokio thread, and the Tokio thread hands the answer back; granian's threads do the same with each request.
Every hand-off wakes the other thread, and under the default policy a thread that wakes preempts the one
running if the scheduler finds it more deserving, as it usually is after a sleep. So a lookup that calls
five members switches threads for each call, and each switch cuts short the batch of work the other thread
was in the middle of. Under ``SCHED_BATCH`` a waking thread never preempts (the kernel's fair class:
"batch and idle tasks do not preempt non-idle tasks"): it runs when the running thread blocks or its time
slice ends, so the Python thread hands over the calls of a whole loop turn and the Tokio thread sends them in
one go. Nothing else changes: the thread keeps its nice value and its share of the CPU.

A thread of another process (the database, another worker) still preempts the gateway's threads as before;
only the gateway's own wake-ups wait. That is the trade: on a busy CPU a woken worker thread may wait for the
next scheduler tick (1-4 ms) instead of running at once; on an idle CPU it runs at once, as before. Measured
on W1 N=5 on a 2-core VM shared with the database, the mock members and the load generator
(``docs/benchmarks.md``, "workers' threads under SCHED_BATCH"): more lookups a second and a lower p99,
pinned or not. So it is the default for ``serve``'s workers; ``GATEWAY_WORKER_SCHEDULING=normal`` leaves
them under the default policy. It needs no privilege: any thread may put itself under ``SCHED_BATCH``.
"""

from __future__ import annotations

import logging
import os

from gateway.worker_threads import for_each_thread

__all__ = ["batch_worker"]

_log = logging.getLogger(__name__)


def batch_worker() -> bool:
    """Put every thread of this process (and the threads it starts later, which inherit the policy) under
    ``SCHED_BATCH``; ``False`` if this platform has no such policy or the system refuses it (logged: a thread
    left under the default policy works as before)."""
    policy = getattr(os, "SCHED_BATCH", None)
    if policy is None or not hasattr(os, "sched_setscheduler"):  # not Linux
        return False
    try:
        for_each_thread(lambda tid: os.sched_setscheduler(tid, policy, os.sched_param(0)))
    except OSError as exc:  # a tuning knob must not keep a worker from serving
        _log.warning("could not set the worker's threads to SCHED_BATCH", extra={"error": str(exc)})
        return False
    _log.info("worker threads under SCHED_BATCH")
    return True
