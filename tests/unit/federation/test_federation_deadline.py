"""The deadline layer: the member's deadline is min(overall, now + per-member timeout), enforced, never
later."""

from __future__ import annotations

import asyncio
import time

import pytest
from federation_fakes import MEMBER, FakeClock, Script, never

from contracts.errors import MemberTimeout, MemberUnavailable
from gateway.federation import member_deadline, with_deadline


def test_member_deadline_is_the_earlier_one() -> None:
    assert member_deadline(10.0, 2.0, now=5.0) == 7.0
    assert member_deadline(6.0, 2.0, now=5.0) == 6.0


@pytest.mark.parametrize(("overall", "expected"), [(1000.5, 1000.5), (1005.0, 1002.0)])
async def test_inner_call_gets_the_member_deadline(overall: float, expected: float) -> None:
    inner = Script("ok")
    call = with_deadline(2.0, member=MEMBER, clock=FakeClock(1000.0))(inner)
    assert await call(overall) == "ok"
    assert inner.deadlines == [expected]


async def test_per_member_timeout_raises_member_timeout() -> None:
    call = with_deadline(0.05, member=MEMBER)(never())
    started = time.monotonic()
    with pytest.raises(MemberTimeout) as caught:
        await call(started + 30)
    assert time.monotonic() - started < 2.0
    assert (caught.value.member, caught.value.reason, caught.value.status) == (MEMBER, "deadline", 504)


async def test_overall_deadline_wins_over_a_longer_member_timeout() -> None:
    call = with_deadline(30.0, member=MEMBER)(never())
    started = time.monotonic()
    with pytest.raises(MemberTimeout):
        await call(started + 0.05)
    assert time.monotonic() - started < 2.0


async def test_expired_deadline_does_not_call() -> None:
    inner = Script("ok")
    call = with_deadline(1.0, member=MEMBER)(inner)
    with pytest.raises(MemberTimeout) as caught:
        await call(time.monotonic() - 0.1)
    assert caught.value.reason == "expired"
    assert inner.calls == 0


async def test_member_errors_pass_through() -> None:
    failure = MemberUnavailable("down", member=MEMBER, reason="status", upstream_status=503)
    call = with_deadline(1.0, member=MEMBER)(Script(failure))
    with pytest.raises(MemberUnavailable) as caught:
        await call(time.monotonic() + 5)
    assert caught.value is failure


async def test_a_caller_cancellation_is_not_a_timeout() -> None:
    call = with_deadline(30.0, member=MEMBER)(never())
    task = asyncio.create_task(call(time.monotonic() + 30))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        with_deadline(0, member=MEMBER)
