"""``fan_out``: call every selected member at once, and answer by the overall deadline with what came back.

Every member gets an outcome (R26): ``ok``; ``timeout`` (its deadline or the overall one passed);
``error`` (unavailable, an invalid answer, overloaded, or a bug in its connector); ``circuit_open`` (its
breaker refused the call; nothing was sent); ``forbidden`` (it refused the gateway's credentials);
``skipped`` (not selected for this lookup). ``partial`` is true when any selected member did not answer
``ok``; skipped members do not make an answer partial. Members still running at the overall deadline
are cancelled, so one hung member never holds up the others (R25, R26).

One span per member call (``federation.member``) carries ``member.id``, ``member.connector``,
``member.outcome``, ``member.attempt`` (how many times the connector was called), ``error.type`` (the
reason) and ``http.response.status_code`` when the member answered with one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection, Mapping
from typing import Generic, Literal, TypeVar

import msgspec
from opentelemetry.trace import NoOpTracer, Span, SpanKind, StatusCode, Tracer

from adapters.deadlines import hold_until
from adapters.tracing import child_span
from contracts.errors import CircuitOpen, MemberCallError, MemberRefused, MemberTimeout
from gateway.federation.calls import Call, CallStats, track_stats

__all__ = ["FanOutResult", "MemberOutcome", "OutcomeStatus", "fan_out"]

T = TypeVar("T")

OutcomeStatus = Literal["ok", "timeout", "error", "circuit_open", "skipped", "forbidden"]

SPAN_NAME = "federation.member"
CANCEL_GRACE = 0.01  # seconds given to cancelled members to end their spans; never more


class MemberOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """What became of one member's call. ``problem`` is the member's own RFC 9457 body, when it sent one."""

    member: str
    status: OutcomeStatus
    latency_ms: float = 0.0
    attempts: int = 0
    connector: str | None = None
    reason: str | None = None
    upstream_status: int | None = None
    problem: dict[str, object] | None = None


class FanOutResult(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """Every member's outcome (ordered by member id) and the values of those that answered ``ok``."""

    outcomes: tuple[MemberOutcome, ...]
    values: dict[str, T]
    partial: bool
    elapsed_ms: float

    def outcome(self, member: str) -> MemberOutcome:
        for outcome in self.outcomes:
            if outcome.member == member:
                return outcome
        raise KeyError(member)


async def fan_out(
    members: Mapping[str, Call[T]],
    deadline: float,
    *,
    selected: Collection[str] | None = None,
    connectors: Mapping[str, str] | None = None,
    tracer: Tracer | None = None,
) -> FanOutResult[T]:
    """Run the (composed) call of every selected member concurrently; return by ``deadline`` at the latest.

    ``deadline`` is an absolute ``time.monotonic()`` value and is passed to every call; ``selected``
    defaults to every member; ``connectors`` names each member's connector for the spans.
    """
    started = time.monotonic()
    chosen = sorted(members) if selected is None else sorted(set(selected))
    unknown = set(chosen) - members.keys()
    if unknown:
        raise ValueError(f"selected members without a call: {sorted(unknown)}")
    connector_of = connectors or {}
    span_tracer = tracer or NoOpTracer()
    values: dict[str, T] = {}
    stats = {member: CallStats() for member in chosen}
    outcomes = {
        member: MemberOutcome(member=member, status="skipped", connector=connector_of.get(member))
        for member in members
        if member not in stats
    }
    tasks = {
        member: asyncio.create_task(
            _call_member(
                member,
                members[member],
                deadline,
                stats[member],
                connector_of.get(member),
                span_tracer,
                values,
            ),
            name=f"fan-out:{member}",
        )
        for member in chosen
    }
    if tasks:
        await _settle(tasks, deadline)
        pending = [task for task in tasks.values() if not task.done()]
        if pending:  # cancelled at the deadline and still unwinding
            await asyncio.wait(pending, timeout=CANCEL_GRACE)
            for task in pending:
                task.add_done_callback(_consume)
        latency = _ms(time.monotonic() - started)
        for member, task in tasks.items():
            if task.done() and not task.cancelled() and task.exception() is None:
                outcomes[member] = task.result()
            else:
                outcomes[member] = MemberOutcome(
                    member=member,
                    status="timeout",
                    latency_ms=latency,
                    attempts=stats[member].attempts,
                    connector=connector_of.get(member),
                    reason="overall-deadline",
                )
    ordered = tuple(outcomes[member] for member in sorted(outcomes))
    return FanOutResult(
        outcomes=ordered,
        values={member: values[member] for member in sorted(values) if outcomes[member].status == "ok"},
        partial=any(o.status not in ("ok", "skipped") for o in ordered),
        elapsed_ms=_ms(time.monotonic() - started),
    )


async def _settle(tasks: Mapping[str, asyncio.Task[MemberOutcome]], deadline: float) -> None:
    """Return once every task is done or, at ``deadline``, once the tasks still running have been cancelled
    and have had their next step (a call that ends at once is then done).

    One timer for all the tasks, not one each: six armed and disarmed timers a lookup at N = 5 (five tasks'
    and ``asyncio.wait``'s) were about 4 % of its CPU (``bench.instructions``). Each task holds its calls to
    the deadline (``hold_until``), so the layers inside arm none of their own."""
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()
    running = len(tasks)

    def release() -> None:
        if not waiter.done():
            waiter.set_result(None)

    def finished(_: asyncio.Task[MemberOutcome]) -> None:
        nonlocal running
        running -= 1
        if running == 0:
            release()

    def expire() -> None:
        for task in tasks.values():
            task.cancel()  # a done task ignores it
        # Our wakeup is queued after the steps these cancellations queued: a call that ends at once is done
        # when ``fan_out`` looks (cancelled only once it had looked, W2's p50 was 15 ms past the deadline,
        # not 8); one still unwinding gets CANCEL_GRACE.
        release()

    for task in tasks.values():
        task.add_done_callback(finished)
    timer = loop.call_at(loop.time() + (deadline - time.monotonic()), expire)
    try:
        await waiter
    except BaseException:  # our caller was cancelled: take the members' calls down with us
        for task in tasks.values():
            task.cancel()
        raise
    finally:
        timer.cancel()


async def _call_member(
    member: str,
    call: Call[T],
    deadline: float,
    stats: CallStats,
    connector: str | None,
    tracer: Tracer,
    values: dict[str, T],
) -> MemberOutcome:
    track_stats(stats)  # this task's own context: the innermost layer counts attempts here
    started = time.monotonic()
    with (
        hold_until(deadline),  # ``_settle`` cancels the task then: the layers inside arm no timer for it
        child_span(
            tracer, SPAN_NAME, kind=SpanKind.INTERNAL, record_exception=False, set_status_on_exception=False
        ) as span,
    ):
        try:
            if deadline <= started:
                raise TimeoutError  # expired before the call: send nothing
            value = await call(deadline)
        except asyncio.CancelledError:  # cut off at the deadline (``_settle``), or the lookup was cancelled
            _annotate(
                span,
                MemberOutcome(
                    member=member,
                    status="timeout",
                    reason="overall-deadline",
                    attempts=stats.attempts,
                    connector=connector,
                ),
            )
            raise
        except TimeoutError:
            outcome = MemberOutcome(member=member, status="timeout", reason="overall-deadline")
        except Exception as exc:  # R19: a member's failure is its outcome, never the lookup's
            outcome = _failure(member, exc)
        else:
            values[member] = value
            outcome = MemberOutcome(member=member, status="ok")
        outcome = msgspec.structs.replace(
            outcome, latency_ms=_ms(time.monotonic() - started), attempts=stats.attempts, connector=connector
        )
        _annotate(span, outcome)
    return outcome


def _failure(member: str, exc: Exception) -> MemberOutcome:
    if not isinstance(exc, MemberCallError):
        return MemberOutcome(member=member, status="error", reason="internal")
    status: OutcomeStatus
    if isinstance(exc, CircuitOpen):
        status = "circuit_open"
    elif isinstance(exc, MemberTimeout):
        status = "timeout"
    elif isinstance(exc, MemberRefused):
        status = "forbidden"
    else:
        status = "error"
    return MemberOutcome(
        member=member,
        status=status,
        reason=exc.reason,
        upstream_status=exc.upstream_status,
        problem=exc.member_problem,
    )


def _annotate(span: Span, outcome: MemberOutcome) -> None:
    if not span.is_recording():
        return
    span.set_attribute("member.id", outcome.member)
    if outcome.connector is not None:
        span.set_attribute("member.connector", outcome.connector)
    span.set_attribute("member.outcome", outcome.status)
    span.set_attribute("member.attempt", outcome.attempts)
    if outcome.upstream_status is not None:
        span.set_attribute("http.response.status_code", outcome.upstream_status)
    if outcome.reason is not None:
        span.set_attribute("error.type", outcome.reason)
    if outcome.status not in ("ok", "skipped"):
        span.set_status(StatusCode.ERROR, outcome.status)


def _consume(task: asyncio.Task[MemberOutcome]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved, so a late failure of a cancelled member is not logged as lost


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)
