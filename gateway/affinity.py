"""A serving worker pinned to one CPU of its own (``GATEWAY_WORKER_CPU_AFFINITY=auto``), as nginx's
``worker_cpu_affinity auto`` pins its workers.

A worker is one Python thread that does nearly all the work and a few threads that hand it I/O: granian's
runtime, the member client's Tokio runtime, the span exporter. Left to the scheduler, a worker's threads
wake on whichever CPU is free and the two workers of a 2-core host at times share one, so each hand-off
between them crosses CPUs. Pinned, each worker keeps a CPU and its threads meet on it. Measured on W1 N=5
(``docs/benchmarks.md``, "workers pinned to CPUs"): 1.07x the lookups a second in the median of eleven
alternated comparisons on a 2-core VM (0.98-1.19x).

It is off by default: on a host shared with other work a pinned worker cannot move to an idle CPU. Turn it on
where the gateway has its CPUs to itself, with no more workers than CPUs.

Which CPU a worker takes is settled by locks, not by counting: a worker holds an exclusive lock on
``cpu-<n>.lock`` (in ``lock_dir``) for the first CPU it can lock among those it may run on, for as long as it
lives. A worker that dies releases its lock with its process, so the worker that replaces it takes the same
CPU; a worker that finds every CPU taken runs unpinned.
"""

from __future__ import annotations

import fcntl
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from gateway.worker_threads import for_each_thread

__all__ = ["PinnedCpu", "pin_worker"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PinnedCpu:
    """The CPU a worker holds; its lock lasts as long as ``lock`` stays open (the worker's life)."""

    cpu: int
    lock: IO[bytes]


def pin_worker(lock_dir: Path) -> PinnedCpu | None:
    """Pin every thread of this process (and the threads it starts later) to the first of its CPUs that no
    other worker holds; ``None`` (nothing changed) if every one is held, this platform cannot pin, or the
    lock directory cannot be written (logged)."""
    if not hasattr(os, "sched_getaffinity"):  # not Linux: nothing to pin with
        return None
    try:
        return _pin_first_free(lock_dir)
    except OSError as exc:  # a tuning knob must not keep a worker from serving
        _log.warning("could not pin the worker to a CPU: it runs unpinned", extra={"error": str(exc)})
        return None


def _pin_first_free(lock_dir: Path) -> PinnedCpu | None:
    lock_dir.mkdir(parents=True, exist_ok=True)
    for cpu in sorted(os.sched_getaffinity(0)):
        lock = open(lock_dir / f"cpu-{cpu}.lock", "ab")  # noqa: SIM115 - held open for the worker's life
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        try:
            _pin_threads(cpu)
        except OSError:
            lock.close()  # the CPU stays free for another worker
            raise
        _log.info("worker pinned to a CPU", extra={"cpu": cpu})
        return PinnedCpu(cpu, lock)
    _log.info("every CPU already has a worker pinned to it: this worker runs unpinned")
    return None


def _pin_threads(cpu: int) -> None:
    for_each_thread(lambda tid: os.sched_setaffinity(tid, {cpu}))
