"""``gateway.worker_threads.for_each_thread``: each thread of the process, skipping one that has ended."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from gateway.worker_threads import for_each_thread

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads threads from /proc")


def test_every_thread_is_visited_and_one_that_ended_is_skipped() -> None:
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    seen: list[int] = []

    def apply(tid: int) -> None:
        if tid == other.native_id:
            raise ProcessLookupError  # as the kernel answers for a thread that has just ended
        seen.append(tid)

    try:
        for_each_thread(apply)
        threads = {int(task.name) for task in Path("/proc/self/task").iterdir()}
    finally:
        release.set()
        other.join()
    assert threading.get_native_id() in seen
    assert other.native_id not in seen
    assert set(seen) == threads - {other.native_id}
