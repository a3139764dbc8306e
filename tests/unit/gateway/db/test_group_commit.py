"""Group commit without a database: who shares a flush, who hears what, and what a failure reaches."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from gateway.db.group_commit import GroupCommit


class Writer:
    """Records every batch it is given; answers each item doubled, or the exception planned for it."""

    def __init__(self, *, fail_item: int | None = None, fail_batch: Exception | None = None) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()
        self.release.set()
        self.fail_item = fail_item
        self.fail_batch = fail_batch

    async def __call__(self, items: Sequence[int]) -> list[int | Exception]:
        self.batches.append(list(items))
        await self.release.wait()
        if self.fail_batch is not None:
            raise self.fail_batch
        return [ValueError(f"item {i}") if i == self.fail_item else 2 * i for i in items]


def group(
    writer: Writer, exporter: InMemorySpanExporter | None = None, max_batch: int = 8
) -> GroupCommit[int, int]:
    provider = TracerProvider()
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    return GroupCommit(writer, tracer=tracer, span_name="test.flush", max_batch=max_batch)


async def test_a_lone_item_is_flushed_at_once_and_the_ones_that_wait_share_the_next_flush() -> None:
    writer = Writer()
    writer.release.clear()
    commit = group(writer)
    first = asyncio.create_task(commit.submit(1))
    await asyncio.sleep(0)  # the first flush has started, with the only item there was
    rest = [asyncio.create_task(commit.submit(i)) for i in range(2, 6)]
    await asyncio.sleep(0)
    writer.release.set()
    assert await first == 2
    assert await asyncio.gather(*rest) == [4, 6, 8, 10]
    assert writer.batches == [[1], [2, 3, 4, 5]]


async def test_batches_are_cut_at_the_maximum_size() -> None:
    writer = Writer()
    commit = group(writer, max_batch=3)
    assert await asyncio.gather(*(commit.submit(i) for i in range(7))) == [0, 2, 4, 6, 8, 10, 12]
    assert [len(b) for b in writer.batches] == [3, 3, 1]


async def test_an_items_own_failure_reaches_only_its_caller() -> None:
    commit = group(Writer(fail_item=3))
    results = await asyncio.gather(*(commit.submit(i) for i in range(5)), return_exceptions=True)
    assert results[:3] == [0, 2, 4]
    assert results[4] == 8
    assert isinstance(results[3], ValueError)
    assert str(results[3]) == "item 3"


async def test_a_failed_flush_reaches_every_caller_of_its_batch_and_the_next_batch_still_runs() -> None:
    writer = Writer(fail_batch=ConnectionError("database gone"))
    commit = group(writer)
    results = await asyncio.gather(*(commit.submit(i) for i in range(3)), return_exceptions=True)
    assert [type(r) for r in results] == [ConnectionError] * 3
    writer.fail_batch = None
    assert await commit.submit(7) == 14


async def test_a_writer_that_answers_the_wrong_number_of_outcomes_fails_the_batch() -> None:
    async def short(items: Sequence[int]) -> list[int | Exception]:
        return [1]

    commit: GroupCommit[int, int] = GroupCommit(
        short, tracer=TracerProvider().get_tracer("test"), span_name="test.flush", max_batch=8
    )
    results = await asyncio.gather(commit.submit(1), commit.submit(2), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results), results


async def test_a_caller_that_leaves_does_not_stop_the_others() -> None:
    writer = Writer()
    writer.release.clear()
    commit = group(writer)
    leaving = asyncio.create_task(commit.submit(1))
    staying = asyncio.create_task(commit.submit(2))
    await asyncio.sleep(0)
    leaving.cancel()
    writer.release.set()
    assert await staying == 4
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert writer.batches == [[1, 2]]  # the leaver's item was written all the same


async def test_the_flush_span_counts_its_batch() -> None:
    exporter = InMemorySpanExporter()
    commit = group(Writer(), exporter)
    await asyncio.gather(*(commit.submit(i) for i in range(4)))
    spans = [s for s in exporter.get_finished_spans() if s.name == "test.flush"]
    assert [s.attributes["db.batch.size"] for s in spans if s.attributes] == [4]


async def test_a_batch_of_unsampled_requests_opens_no_span_and_runs_under_the_first_request() -> None:
    exporter = InMemorySpanExporter()
    seen: list[SpanContext] = []

    class Seeing(Writer):
        async def __call__(self, items: Sequence[int]) -> list[int | Exception]:
            seen.append(trace.get_current_span().get_span_context())
            return await super().__call__(items)

    commit = group(Seeing(), exporter)
    unsampled = SpanContext(trace_id=0xABC, span_id=0xDEF, is_remote=False, trace_flags=TraceFlags(0))
    with trace.use_span(NonRecordingSpan(unsampled)):
        assert await asyncio.gather(*(commit.submit(i) for i in range(3))) == [0, 2, 4]
    assert exporter.get_finished_spans() == ()
    assert [(c.trace_id, c.span_id) for c in seen] == [(0xABC, 0xDEF)]
