"""``fan_out`` with fake members: per-member outcomes, the overall deadline, ordering, attempts and spans."""

from __future__ import annotations

import asyncio
import time

import pytest
from federation_fakes import FakeClock, GatedSleep, Script, never, until
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from contracts.errors import CircuitOpen, MemberOverloaded, MemberRefused, MemberTimeout, MemberUnavailable
from gateway.federation import Bulkhead, CircuitBreaker, MemberPolicy, RetryBudget, fan_out
from gateway.federation.calls import Call

PROBLEM: dict[str, object] = {"type": "urn:x:fault", "title": "Service Unavailable", "status": 503}


def down(member: str) -> MemberUnavailable:
    return MemberUnavailable(
        "down", member=member, reason="status", upstream_status=503, member_problem=dict(PROBLEM)
    )


async def test_all_members_answer() -> None:
    members: dict[str, Call[str]] = {"c.edu": Script("C"), "a.edu": Script("A"), "b.edu": Script("B")}
    result = await fan_out(members, time.monotonic() + 5)
    assert [o.member for o in result.outcomes] == ["a.edu", "b.edu", "c.edu"]
    assert all(o.status == "ok" for o in result.outcomes)
    assert list(result.values.items()) == [("a.edu", "A"), ("b.edu", "B"), ("c.edu", "C")]
    assert not result.partial


async def test_a_hung_member_does_not_hold_the_answer() -> None:
    members: dict[str, Call[str]] = {"a.edu": Script("A"), "hung.edu": never()}
    started = time.monotonic()
    result = await fan_out(members, started + 0.2)
    assert time.monotonic() - started <= 0.2 + 0.5
    assert result.partial
    hung = result.outcome("hung.edu")
    assert (hung.status, hung.reason) == ("timeout", "overall-deadline")
    assert result.values == {"a.edu": "A"}


async def test_one_timer_cuts_off_every_hung_member_and_their_calls_are_over_on_return(
    armed: list[float],
) -> None:
    ended: list[str] = []

    def hanging(member: str) -> Call[str]:
        async def hang(deadline: float) -> str:
            try:
                await asyncio.Event().wait()
            finally:
                ended.append(member)
            raise AssertionError("unreachable")

        return hang

    members: dict[str, Call[str]] = {f"hung-{i}.edu": hanging(f"hung-{i}.edu") for i in range(4)}
    members["a.edu"] = Script("A")
    started = time.monotonic()
    result = await fan_out(members, started + 0.1)
    assert sorted(ended) == [f"hung-{i}.edu" for i in range(4)]  # unwound before fan_out returned
    assert len(armed) == 1  # the fan-out's, not one per member
    assert 0.09 <= time.monotonic() - started < 0.6
    for i in range(4):
        hung = result.outcome(f"hung-{i}.edu")
        assert (hung.status, hung.reason, hung.attempts) == ("timeout", "overall-deadline", 0)
        assert hung.latency_ms >= 90
    assert result.values == {"a.edu": "A"}
    assert result.partial


async def test_a_member_call_that_ignores_its_cancellation_does_not_hold_the_answer() -> None:
    release = asyncio.Event()

    async def stubborn(deadline: float) -> str:
        while True:
            try:
                await release.wait()
                return "late"
            except asyncio.CancelledError:
                continue  # a connector bug: the cancellation is swallowed

    started = time.monotonic()
    lookup = fan_out({"stubborn.edu": stubborn, "a.edu": Script("A")}, started + 0.05)
    result = await asyncio.wait_for(lookup, 5)  # a failure, not a hang, if it waits for the member
    assert time.monotonic() - started < 0.5  # the deadline, then CANCEL_GRACE at most
    assert (result.outcome("stubborn.edu").status, result.values) == ("timeout", {"a.edu": "A"})
    release.set()  # let the abandoned call end


async def test_a_cancelled_lookup_cancels_its_member_calls_and_goes_on_being_cancelled() -> None:
    cancelled: list[str] = []
    running = asyncio.Event()

    async def hang(deadline: float) -> str:
        running.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append("member")
            raise
        raise AssertionError("unreachable")

    lookup = asyncio.create_task(fan_out({"a.edu": hang, "b.edu": hang}, time.monotonic() + 5))
    await running.wait()
    lookup.cancel()
    with pytest.raises(asyncio.CancelledError):
        await lookup
    await until(lambda: len(cancelled) == 2)
    assert lookup.cancelled()


async def test_failures_become_outcomes() -> None:
    members: dict[str, Call[str]] = {
        "down.edu": Script(down("down.edu")),
        "open.edu": Script(CircuitOpen("open", member="open.edu", reason="open")),
        "refused.edu": Script(
            MemberRefused("no", member="refused.edu", reason="status", upstream_status=403)
        ),
        "slow.edu": Script(MemberTimeout("slow", member="slow.edu", reason="deadline")),
        "busy.edu": Script(MemberOverloaded("busy", member="busy.edu", reason="queue-full")),
        "bug.edu": Script(ValueError("a connector bug")),
    }
    result = await fan_out(members, time.monotonic() + 5)
    got = {o.member: (o.status, o.reason) for o in result.outcomes}
    assert got == {
        "bug.edu": ("error", "internal"),
        "busy.edu": ("error", "queue-full"),
        "down.edu": ("error", "status"),
        "open.edu": ("circuit_open", "open"),
        "refused.edu": ("forbidden", "status"),
        "slow.edu": ("timeout", "deadline"),
    }
    failed = result.outcome("down.edu")
    assert (failed.upstream_status, failed.problem) == (503, PROBLEM)
    assert result.partial
    assert result.values == {}


async def test_unselected_members_are_skipped() -> None:
    skipped = Script("never called")
    members: dict[str, Call[str]] = {"a.edu": Script("A"), "z.edu": skipped}
    result = await fan_out(members, time.monotonic() + 5, selected=["a.edu"])
    assert [(o.member, o.status) for o in result.outcomes] == [("a.edu", "ok"), ("z.edu", "skipped")]
    assert skipped.calls == 0
    assert not result.partial  # nobody asked was missing
    with pytest.raises(ValueError, match="nobody"):
        await fan_out(members, time.monotonic() + 5, selected=["nobody"])


async def test_an_expired_deadline_calls_nobody() -> None:
    script = Script("A")
    result = await fan_out({"a.edu": script}, time.monotonic() - 1)
    assert result.outcome("a.edu").status == "timeout"
    assert result.partial
    assert script.calls == 0


async def test_attempts_are_counted_through_the_composed_stack() -> None:
    clock = FakeClock()
    sleep = GatedSleep()

    async def probe(deadline: float) -> bool:
        return True

    policy = MemberPolicy(
        member="flaky.edu",
        connector="fake",
        timeout=5.0,
        breaker=CircuitBreaker("flaky.edu", probe=probe, failure_threshold=1, clock=clock, sleep=sleep),
        bulkhead=Bulkhead("flaky.edu", max_in_flight=2, max_queue_wait=0.1),
        budget=RetryBudget(min_per_second=10.0),
        attempts=3,
    )
    flaky = Script(down("flaky.edu"), "F")
    result = await fan_out({"flaky.edu": policy.bind(flaky)}, time.monotonic() + 5)
    outcome = result.outcome("flaky.edu")
    assert (outcome.status, outcome.attempts, result.values) == ("ok", 2, {"flaky.edu": "F"})

    broken = policy.bind(
        Script(MemberUnavailable("x", member="flaky.edu", reason="status", upstream_status=500))
    )
    assert (await fan_out({"flaky.edu": broken}, time.monotonic() + 5)).outcome("flaky.edu").attempts == 1
    assert policy.breaker is not None
    assert policy.breaker.state == "open"
    refused = (await fan_out({"flaky.edu": broken}, time.monotonic() + 5)).outcome("flaky.edu")
    assert (refused.status, refused.attempts) == ("circuit_open", 0)
    await policy.aclose()


async def test_one_span_per_member_call() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    members: dict[str, Call[str]] = {
        "a.edu": Script("A"),
        "down.edu": Script(down("down.edu")),
        "hung.edu": never(),
        "z.edu": Script("Z"),
    }
    await fan_out(
        members,
        time.monotonic() + 0.2,
        selected=["a.edu", "down.edu", "hung.edu"],
        connectors={"a.edu": "ooapi", "down.edu": "ooapi", "hung.edu": "ooapi"},
        tracer=provider.get_tracer("test"),
    )
    spans = {s.attributes["member.id"]: s.attributes for s in exporter.get_finished_spans() if s.attributes}
    assert set(spans) == {"a.edu", "down.edu", "hung.edu"}  # skipped members are not called: no span
    assert spans["a.edu"]["member.outcome"] == "ok"
    assert spans["a.edu"]["member.connector"] == "ooapi"
    assert "http.response.status_code" not in spans["a.edu"]
    assert spans["down.edu"]["member.outcome"] == "error"
    assert spans["down.edu"]["http.response.status_code"] == 503
    assert spans["hung.edu"]["member.outcome"] == "timeout"
    assert all(s.name == "federation.member" for s in exporter.get_finished_spans())
