"""``gateway.scheduling.batch_worker`` in this process: only where it changes nothing (putting the test run
under ``SCHED_BATCH`` would change how every later test is scheduled). The policy itself is tested on workers
in ``tests/integration/ops/test_worker_tuning.py``."""

from __future__ import annotations

import logging
import os

import pytest

from gateway.scheduling import batch_worker

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_getscheduler"), reason="Linux only")


def test_nothing_changes_where_the_platform_has_no_batch_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    before = os.sched_getscheduler(0)
    monkeypatch.delattr(os, "SCHED_BATCH")
    assert batch_worker() is False
    assert os.sched_getscheduler(0) == before


def test_a_refused_policy_leaves_the_worker_serving_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A tuning knob the system refuses (a seccomp profile, say) is logged, not raised."""

    def refuse(tid: int, policy: int, param: os.sched_param) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_setscheduler", refuse)
    with caplog.at_level(logging.WARNING, logger="gateway.scheduling"):
        assert batch_worker() is False
    assert "SCHED_BATCH" in caplog.records[-1].getMessage()
    assert caplog.records[-1].error == "[Errno 1] Operation not permitted"  # type: ignore[attr-defined]
