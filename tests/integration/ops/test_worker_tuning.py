"""Serving workers pinned to CPUs (``GATEWAY_WORKER_CPU_AFFINITY=auto``, ``gateway.affinity``) and their
threads under ``SCHED_BATCH`` (``GATEWAY_WORKER_SCHEDULING``, ``gateway.scheduling``).

Each worker is a child interpreter running ``worker_app``'s lifespan, as granian runs it, and kept in it until
the test lets go, so several hold their CPUs at once. Each child first narrows itself to the same two CPUs:
a 2-CPU host, whatever this machine has."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2, reason="needs 2 CPUs to pin to"
)

_CHILD = """
import asyncio, json, os, sys, threading
os.sched_setaffinity(0, set(json.loads(sys.argv[1])))
from gateway.serve import worker_app

def affinities():
    return sorted({tuple(sorted(os.sched_getaffinity(int(t)))) for t in os.listdir("/proc/self/task")})

def policies():
    return sorted({os.sched_getscheduler(int(t)) for t in os.listdir("/proc/self/task")})

async def main():
    # a thread the server started before the app (granian's runtime threads are)
    done = threading.Event()
    threading.Thread(target=done.wait, daemon=True).start()
    app = worker_app()
    async with app.lifespan():
        later = []
        started = threading.Thread(
            target=lambda: later.append((sorted(os.sched_getaffinity(0)), os.sched_getscheduler(0))))
        started.start()
        started.join()
        print(json.dumps({"cpu": app.state.pinned_cpu and app.state.pinned_cpu.cpu,
                          "threads": len(os.listdir("/proc/self/task")), "affinities": affinities(),
                          "later": later[0][0], "batch": app.state.batch_scheduled, "policies": policies(),
                          "later_policy": later[0][1]}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

asyncio.run(main())
"""


def _two_cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))[:2]


class _Worker:
    """One child worker, in its lifespan once constructed (its report read), until ``stop``."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, json.dumps(_two_cpus())],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(self.proc.communicate(timeout=60)[1][-2000:])
        self.report: dict[str, Any] = json.loads(line)

    def stop(self) -> None:
        self.proc.communicate(timeout=60)


@contextmanager
def _workers(env: dict[str, str]) -> Iterator[Callable[[], _Worker]]:
    """A starter of workers; every one still running is stopped at the end."""
    started: list[_Worker] = []

    def start() -> _Worker:
        started.append(_Worker(env))
        return started[-1]

    try:
        yield start
    finally:
        for worker in started:
            if worker.proc.poll() is None:
                worker.proc.kill()
                worker.proc.communicate()


def _env(database_url: str, data_dir: Path, affinity: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "GATEWAY_MIGRATE_ON_START": "false",
        "GATEWAY_DATA_DIR": str(data_dir),
        "GATEWAY_RELAY_ENABLED": "false",
        "GATEWAY_WORKER_CPU_AFFINITY": affinity,
        "OTEL_TRACES_EXPORTER": "none",
    }


def test_each_worker_takes_a_cpu_of_its_own_and_a_replacement_takes_the_freed_one(
    database_url: str, tmp_path: Path
) -> None:
    first, second = _two_cpus()
    with _workers(_env(database_url, tmp_path, "auto")) as start:
        a, b = start(), start()
        assert (a.report["cpu"], b.report["cpu"]) == (first, second)
        for worker in (a, b):
            cpu = worker.report["cpu"]
            # every thread of the worker, those started before it was pinned too, and one started later
            assert worker.report["threads"] > 1
            assert worker.report["affinities"] == [[cpu]]
            assert worker.report["later"] == [cpu]
        extra = start()  # more workers than CPUs: this one runs where the scheduler puts it
        assert extra.report["cpu"] is None
        assert extra.report["affinities"] == [[first, second]]
        a.stop()
        replacement = start()
        assert replacement.report["cpu"] == first
        assert replacement.report["affinities"] == [[first]]


def test_workers_are_not_pinned_by_default(database_url: str, tmp_path: Path) -> None:
    env = _env(database_url, tmp_path, "off")
    del env["GATEWAY_WORKER_CPU_AFFINITY"]
    with _workers(env) as start:
        worker = start()
        assert worker.report["cpu"] is None
        assert worker.report["affinities"] == [sorted(_two_cpus())]
    assert not (tmp_path / "run" / "cpus").exists()


def test_every_thread_of_a_worker_runs_under_sched_batch_by_default(
    database_url: str, tmp_path: Path
) -> None:
    with _workers(_env(database_url, tmp_path, "off")) as start:
        worker = start()
        assert worker.report["batch"] is True
        # every thread, those started before start-up was done too, and one started later
        assert worker.report["threads"] > 1
        assert worker.report["policies"] == [os.SCHED_BATCH]
        assert worker.report["later_policy"] == os.SCHED_BATCH


def test_normal_scheduling_leaves_the_default_policy(database_url: str, tmp_path: Path) -> None:
    with _workers({**_env(database_url, tmp_path, "off"), "GATEWAY_WORKER_SCHEDULING": "normal"}) as start:
        worker = start()
        assert worker.report["batch"] is False
        inherited = os.sched_getscheduler(0)  # this process's: SCHED_OTHER unless the tests run otherwise
        assert worker.report["policies"] == [inherited]
        assert worker.report["later_policy"] == inherited
