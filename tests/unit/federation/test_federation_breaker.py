"""The circuit breaker: opens after N member failures, fails fast while open, closes after a background
probe."""

from __future__ import annotations

import asyncio
import time

import pytest
from federation_fakes import MEMBER, FakeClock, GatedSleep, Script, never, until

from contracts.errors import (
    CircuitOpen,
    MemberOverloaded,
    MemberRefused,
    MemberResponseInvalid,
    MemberTimeout,
    MemberUnavailable,
)
from gateway.federation import CircuitBreaker, with_deadline

FAR = 1e9  # a deadline that never matters in these tests


def unavailable() -> MemberUnavailable:
    return MemberUnavailable("down", member=MEMBER, reason="status", upstream_status=503)


class ScriptedProbe:
    def __init__(self, *answers: bool | Exception) -> None:
        self.answers = list(answers)
        self.calls = 0
        self.hold: asyncio.Event | None = None

    async def __call__(self, deadline: float) -> bool:
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        if self.hold is not None:
            await self.hold.wait()
        if isinstance(answer, Exception):
            raise answer
        return answer


def breaker(probe: ScriptedProbe, sleep: GatedSleep, clock: FakeClock | None = None) -> CircuitBreaker:
    return CircuitBreaker(
        MEMBER,
        probe=probe,
        failure_threshold=3,
        window=10.0,
        open_for=5.0,
        clock=clock or FakeClock(),
        sleep=sleep,
    )


async def fail_times(call: object, n: int) -> None:
    for _ in range(n):
        with pytest.raises(MemberUnavailable):
            await call(FAR)  # type: ignore[operator]


@pytest.mark.parametrize(
    "failure",
    [
        unavailable(),
        MemberTimeout("slow", member=MEMBER, reason="deadline"),
        MemberResponseInvalid("bad", member=MEMBER, reason="not-json"),
    ],
)
async def test_opens_after_threshold_and_fails_fast(failure: Exception) -> None:
    sleep = GatedSleep()
    cb = breaker(ScriptedProbe(True), sleep)
    inner = Script(failure)
    call = cb.wrap(inner)
    for _ in range(3):
        with pytest.raises(type(failure)):
            await call(FAR)
    assert cb.state == "open"
    with pytest.raises(CircuitOpen) as caught:
        await call(FAR)
    assert inner.calls == 3  # the fourth call never reached the member
    assert (caught.value.member, caught.value.reason, caught.value.status) == (MEMBER, "open", 503)
    assert caught.value.retry_after == pytest.approx(5.0)
    await cb.aclose()


@pytest.mark.parametrize(
    "failure",
    [
        MemberRefused("no", member=MEMBER, reason="status", upstream_status=403),
        MemberOverloaded("busy", member=MEMBER, reason="queue-full"),
        ValueError("a bug, not the member"),
    ],
)
async def test_refusals_and_gateway_errors_do_not_count(failure: Exception) -> None:
    cb = breaker(ScriptedProbe(True), GatedSleep())
    call = cb.wrap(Script(failure))
    for _ in range(10):
        with pytest.raises(type(failure)):
            await call(FAR)
    assert cb.state == "closed"


async def test_a_success_resets_the_count() -> None:
    cb = breaker(ScriptedProbe(True), GatedSleep())
    inner = Script(unavailable(), unavailable(), "ok", unavailable(), unavailable(), "ok")
    call = cb.wrap(inner)
    for _ in range(2):
        await fail_times(call, 2)
        assert await call(FAR) == "ok"
    assert cb.state == "closed"


async def test_failures_older_than_the_window_are_forgotten() -> None:
    clock = FakeClock()
    cb = breaker(ScriptedProbe(True), GatedSleep(), clock)
    call = cb.wrap(Script(unavailable()))
    for _ in range(6):
        await fail_times(call, 1)
        clock.advance(6.0)  # three failures never fall within one 10 s window (until below)
    assert cb.state == "closed"
    await fail_times(call, 2)
    assert cb.state == "open"
    await cb.aclose()


async def test_background_probe_closes_and_reopens() -> None:
    sleep = GatedSleep()
    probe = ScriptedProbe(False, True)
    cb = breaker(probe, sleep)
    inner = Script(unavailable(), unavailable(), unavailable(), "back")
    call = cb.wrap(inner)
    await fail_times(call, 3)
    await until(lambda: sleep.sleeping == 1)
    assert probe.calls == 0  # no probe before open_for has passed

    sleep.release()  # first probe: still down
    await until(lambda: probe.calls == 1 and sleep.sleeping == 1)
    assert cb.state == "open"
    with pytest.raises(CircuitOpen):
        await call(FAR)
    assert inner.calls == 3

    sleep.release()  # second probe: up
    await until(lambda: cb.state == "closed")
    assert cb.probes == 2
    assert await call(FAR) == "back"
    assert inner.calls == 4  # no user request was ever used as a probe


async def test_half_open_still_fails_fast_while_the_probe_runs() -> None:
    sleep = GatedSleep()
    probe = ScriptedProbe(True)
    probe.hold = asyncio.Event()
    cb = breaker(probe, sleep)
    inner = Script(unavailable(), unavailable(), unavailable(), "ok")
    call = cb.wrap(inner)
    await fail_times(call, 3)
    await until(lambda: sleep.sleeping == 1)
    sleep.release()
    await until(lambda: probe.calls == 1)
    assert cb.state == "half-open"
    with pytest.raises(CircuitOpen) as caught:
        await call(FAR)
    assert caught.value.reason == "half-open"
    assert inner.calls == 3
    probe.hold.set()
    await until(lambda: cb.state == "closed")


async def test_a_probe_that_raises_means_still_down() -> None:
    sleep = GatedSleep()
    probe = ScriptedProbe(RuntimeError("boom"), True)
    cb = breaker(probe, sleep)
    await fail_times(cb.wrap(Script(unavailable())), 3)
    await until(lambda: sleep.sleeping == 1)
    sleep.release()
    await until(lambda: probe.calls == 1 and sleep.sleeping == 1)
    assert cb.state == "open"
    await cb.aclose()
    assert sleep.sleeping == 0


async def test_a_call_cut_off_at_its_deadline_counts_as_a_failure() -> None:
    cb = CircuitBreaker(MEMBER, probe=ScriptedProbe(True), failure_threshold=1, open_for=60.0)
    call = with_deadline(0.02, member=MEMBER)(cb.wrap(never()))
    with pytest.raises(MemberTimeout):
        await call(time.monotonic() + 30)
    assert cb.state == "open"
    await cb.aclose()


async def test_a_caller_cancellation_before_the_deadline_does_not_count() -> None:
    cb = CircuitBreaker(MEMBER, probe=ScriptedProbe(True), failure_threshold=1)
    task = asyncio.create_task(cb.wrap(never())(time.monotonic() + 30))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cb.state == "closed"


def test_invalid_settings() -> None:
    with pytest.raises(ValueError, match="failure_threshold"):
        CircuitBreaker(MEMBER, probe=ScriptedProbe(True), failure_threshold=0)
    with pytest.raises(ValueError, match="positive"):
        CircuitBreaker(MEMBER, probe=ScriptedProbe(True), open_for=0)
