"""The production sampler: a per-process budget of traces a second, parent-based, shared with callers."""

from __future__ import annotations

import logging
import sys
import threading
from importlib.metadata import entry_points

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.sampling import Decision, Sampler
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState

from gateway.sampling import DEFAULT_TRACES_PER_SECOND, RateLimitingSampler, parentbased_ratelimiting
from gateway.telemetry import configure_telemetry


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def sampled(sampler: Sampler, parent: SpanContext | None = None) -> bool:
    context = trace.set_span_in_context(NonRecordingSpan(parent)) if parent is not None else None
    result = sampler.should_sample(context, trace_id=0x1234, name="GET /v1/learners/{ref}/credentials")
    return result.decision is Decision.RECORD_AND_SAMPLE


def parent(*, remote: bool, sampled_flag: bool, state: TraceState | None = None) -> SpanContext:
    return SpanContext(
        trace_id=0xABC,
        span_id=0xDEF,
        is_remote=remote,
        trace_flags=TraceFlags(TraceFlags.SAMPLED if sampled_flag else TraceFlags.DEFAULT),
        trace_state=state,
    )


def test_a_second_holds_the_rate_and_the_budget_refills_with_time() -> None:
    clock = Clock()
    budget = RateLimitingSampler(10, clock=clock)
    assert [sampled(budget) for _ in range(11)] == [True] * 10 + [False]
    clock.now += 0.1  # a tenth of a second at 10/s: one more
    assert [sampled(budget) for _ in range(2)] == [True, False]
    clock.now += 60  # idle time does not bank more than a second's worth
    assert sum(sampled(budget) for _ in range(30)) == 10


def test_a_rate_below_one_a_second_samples_one_then_waits() -> None:
    clock = Clock()
    budget = RateLimitingSampler(0.5, clock=clock)
    assert [sampled(budget) for _ in range(3)] == [True, False, False]
    clock.now += 1.0
    assert not sampled(budget)
    clock.now += 1.0
    assert sampled(budget)


def test_a_rate_of_zero_samples_nothing() -> None:
    assert not any(sampled(RateLimitingSampler(0, clock=Clock())) for _ in range(5))


@pytest.mark.parametrize("rate", [-1.0, float("inf"), float("nan")])
def test_an_impossible_rate_is_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="traces per second"):
        RateLimitingSampler(rate)


def test_threads_share_one_budget() -> None:
    budget = RateLimitingSampler(50, clock=Clock())  # the clock stands still: exactly 50 to share
    counts: list[int] = []

    def decide() -> None:
        counts.append(sum(sampled(budget) for _ in range(2000)))

    threads = [threading.Thread(target=decide) for _ in range(8)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch between any two bytecodes, inside a decision too
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert sum(counts) == 50


def test_callers_sampled_traces_are_followed_within_the_same_budget() -> None:
    sampler = parentbased_ratelimiting("2")
    caller = parent(remote=True, sampled_flag=True, state=TraceState([("member", "a1")]))
    context = trace.set_span_in_context(NonRecordingSpan(caller))
    first = sampler.should_sample(context, trace_id=caller.trace_id, name="GET /v1/credentials/{id}")
    assert first.decision is Decision.RECORD_AND_SAMPLE
    assert first.trace_state == caller.trace_state
    assert sampled(sampler)  # a new trace takes the second of two
    assert not sampled(sampler, caller)  # so the caller's flag cannot force a third
    assert not sampled(sampler)


def test_unsampled_callers_and_local_parents_decide_for_themselves() -> None:
    sampler = parentbased_ratelimiting("1")
    assert not sampled(sampler, parent(remote=True, sampled_flag=False))  # budget untouched
    assert sampled(sampler)  # the one trace of this second
    # a child of a sampled span in this process is sampled whatever the budget: traces stay whole
    assert sampled(sampler, parent(remote=False, sampled_flag=True))
    assert not sampled(sampler, parent(remote=False, sampled_flag=False))


@pytest.mark.parametrize("arg", ["many", "-3", "inf"])
def test_a_bad_argument_falls_back_to_the_default_with_a_warning(
    arg: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway.sampling"):
        sampler = parentbased_ratelimiting(arg)
    assert f"{{{DEFAULT_TRACES_PER_SECOND:g}/s}}" in sampler.get_description()
    assert repr(arg) in caplog.text


def test_with_an_otlp_exporter_and_no_sampler_named_the_gateway_samples_by_budget() -> None:
    telemetry = configure_telemetry(env={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    try:
        description = telemetry.provider.sampler.get_description()
        assert description.startswith("ParentBased{root:RateLimitingSampler{10/s}")
    finally:
        telemetry.shutdown()


COLLECTOR = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}


@pytest.mark.parametrize(
    ("named", "arg", "expected"),
    [
        ("parentbased_traceidratio", "0.25", "ParentBased{root:TraceIdRatioBased{0.25}"),
        ("traceidratio", "not a ratio", "TraceIdRatioBased{1.0}"),
        ("always_off", None, "AlwaysOffSampler"),
        (" ParentBased_RateLimiting ", "3", "ParentBased{root:RateLimitingSampler{3/s}"),
    ],
)
def test_a_named_sampler_is_made_from_the_given_settings(
    named: str, arg: str | None, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``env`` decides, not the process's environment (which says otherwise here)."""
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_on")
    env = {**COLLECTOR, "OTEL_TRACES_SAMPLER": named}
    if arg is not None:
        env["OTEL_TRACES_SAMPLER_ARG"] = arg
    telemetry = configure_telemetry(env=env)
    try:
        assert telemetry.provider.sampler.get_description().startswith(expected)
    finally:
        telemetry.shutdown()


def test_an_unknown_sampler_leaves_the_default_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway.telemetry"):
        telemetry = configure_telemetry(env={**COLLECTOR, "OTEL_TRACES_SAMPLER": "sometimes"})
    try:
        description = telemetry.provider.sampler.get_description()
        assert description.startswith("ParentBased{root:RateLimitingSampler{10/s}")
        assert "'sometimes'" in caplog.text
    finally:
        telemetry.shutdown()


def test_spans_for_a_reader_are_all_kept_and_none_without_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")  # not read when the settings are given
    reading = configure_telemetry(trace_console=True, env={})
    assert reading.provider.sampler.get_description().startswith("ParentBased{root:AlwaysOnSampler")
    quiet = configure_telemetry(env={})
    assert quiet.provider.sampler.get_description().startswith("ParentBased{root:AlwaysOffSampler")


def test_the_sampler_is_an_opentelemetry_entry_point() -> None:
    (found,) = [
        e for e in entry_points(group="opentelemetry_traces_sampler") if e.name == "parentbased_ratelimiting"
    ]
    assert found.load() is parentbased_ratelimiting
