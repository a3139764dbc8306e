"""Audit entries of concurrent requests share statements and commits, and every stream still chains."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.audit import AuditEntry, verify
from gateway.audit.grouped import GroupedAudit


@pytest.fixture
async def pools(database_url: str) -> AsyncIterator[list[asyncpg.Pool]]:
    # Two pools: the connections of two serving processes.
    pools = [await asyncpg.create_pool(database_url, min_size=1, max_size=2) for _ in range(2)]
    yield pools
    for pool in pools:
        await pool.close()


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


def grouped(pool: asyncpg.Pool, exporter: InMemorySpanExporter) -> GroupedAudit:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return GroupedAudit(pool, acquire_timeout=5.0, tracer=provider.get_tracer("test"))


def entry(stream: str, n: int) -> AuditEntry:
    return AuditEntry(
        stream=stream,
        action="learner.credentials.read",
        institution="uni-avalon.ac.uk",
        client_id="avalon-registry",
        resource=f"learners/{stream}/credentials",
        outcome="ok",
        purpose="credit-transfer",
        details={"n": n},
    )


def flush_sizes(exporter: InMemorySpanExporter) -> list[int]:
    spans = [s for s in exporter.get_finished_spans() if s.name == "audit.append.flush"]
    return [int(s.attributes["db.batch.size"]) for s in spans if s.attributes]  # type: ignore[arg-type]


async def test_concurrent_entries_share_statements_and_each_stream_chains(
    pools: list[asyncpg.Pool], exporter: InMemorySpanExporter
) -> None:
    audit = grouped(pools[0], exporter)
    streams = ["learner:a", "learner:b", "learner:c"]
    seqs = await asyncio.gather(*(audit.append(entry(streams[i % 3], i)) for i in range(30)))
    for k, stream in enumerate(streams):  # ten entries each, numbered 1..10 in the order they were taken
        assert sorted(seqs[k::3]) == list(range(1, 11)), stream
    sizes = flush_sizes(exporter)
    assert sum(sizes) == 30
    assert max(sizes) > 1, sizes
    async with pools[0].acquire() as conn:
        rows = await conn.fetch("SELECT stream, seq, details->>'n' AS n FROM audit_entries")
        # Each caller heard its own entry's number.
        assert {(r["stream"], r["seq"]): int(r["n"]) for r in rows} == {
            (streams[i % 3], seqs[i]): i for i in range(30)
        }
        report = await verify(conn)
    assert report.ok, report
    assert report.entries == 30


async def test_two_processes_appending_to_the_same_streams_never_deadlock(
    pools: list[asyncpg.Pool], exporter: InMemorySpanExporter
) -> None:
    first, second = grouped(pools[0], exporter), grouped(pools[1], exporter)
    streams = [f"learner:{c}" for c in "abcde"]
    # Opposite orders in the two processes: unsorted, their batches would lock the heads crosswise.
    calls = [first.append(entry(streams[i % 5], i)) for i in range(50)]
    calls += [second.append(entry(streams[4 - i % 5], 100 + i)) for i in range(50)]
    seqs = await asyncio.wait_for(asyncio.gather(*calls), timeout=30)
    assert len(seqs) == 100
    async with pools[0].acquire() as conn:
        per_stream = "SELECT stream, count(*) AS n, max(seq) AS last FROM audit_entries GROUP BY 1"
        counts = await conn.fetch(per_stream)
        assert {(r["stream"], r["n"], r["last"]) for r in counts} == {(s, 20, 20) for s in streams}
        report = await verify(conn)
    assert report.ok, report


async def test_an_entry_the_database_refuses_fails_alone(
    pools: list[asyncpg.Pool], exporter: InMemorySpanExporter
) -> None:
    audit = grouped(pools[0], exporter)
    bad = entry("x" * 201, 0)  # longer than a stream name may be
    results = await asyncio.gather(
        *(audit.append(entry("learner:a", i)) for i in range(3)),
        audit.append(bad),
        *(audit.append(entry("learner:b", i)) for i in range(3)),
        return_exceptions=True,
    )
    assert isinstance(results[3], asyncpg.CheckViolationError)
    assert sorted(r for i, r in enumerate(results) if i != 3) == [1, 1, 2, 2, 3, 3]  # type: ignore[type-var]
    async with pools[0].acquire() as conn:
        report = await verify(conn)
    assert report.ok, report
    assert report.entries == 6
