"""``gateway.affinity.pin_worker`` in this process: only where it changes nothing (pinning this process would
hold every later test to one CPU). Pinning itself is tested on workers in
``tests/integration/ops/test_worker_affinity.py``."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

import pytest

from gateway.affinity import pin_worker

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="Linux only")


def test_no_cpu_is_pinned_when_every_one_is_held(tmp_path: Path) -> None:
    """Locks held elsewhere (here by this process, on other open files) leave the caller as it was."""
    before = os.sched_getaffinity(0)
    held: list[IO[bytes]] = []
    for cpu in before:
        lock = open(tmp_path / f"cpu-{cpu}.lock", "ab")  # noqa: SIM115
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.append(lock)
    try:
        assert pin_worker(tmp_path) is None
        assert os.sched_getaffinity(0) == before
    finally:
        for lock in held:
            lock.close()


def test_nothing_is_pinned_where_the_platform_cannot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "sched_getaffinity")
    assert pin_worker(tmp_path / "cpus") is None
    assert not (tmp_path / "cpus").exists()


def test_a_lock_directory_that_cannot_be_made_leaves_the_worker_unpinned(tmp_path: Path) -> None:
    """A worker still serves when its tuning cannot be applied (here a file is where the directory goes)."""
    (tmp_path / "run").write_text("not a directory")
    before = os.sched_getaffinity(0)
    assert pin_worker(tmp_path / "run" / "cpus") is None
    assert os.sched_getaffinity(0) == before
