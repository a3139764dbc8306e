"""Grouped audit appends: concurrent entries share statements, chain in arrival order, every field arrives as
given, and a refused entry fails alone."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from opentelemetry.trace import NoOpTracer

from gateway.audit import AuditEntry, verify
from gateway.audit.grouped import GroupedAudit


def entry(stream: str, n: int, *, resource: str = "learners/x/credentials") -> AuditEntry:
    return AuditEntry(
        stream=stream,
        action="learner.credentials.read",
        institution="uni-avalon.ac.uk",
        client_id="avalon-registry",
        resource=resource,
        outcome="ok",
        purpose="credit-transfer",
        details={"n": n},
    )


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    try:
        yield pool
    finally:
        await pool.close()


def grouped(pool: asyncpg.Pool) -> GroupedAudit:
    return GroupedAudit(pool, acquire_timeout=5.0, tracer=NoOpTracer())


async def numbered(conn: asyncpg.Connection, stream: str) -> list[tuple[int, int]]:
    rows = await conn.fetch(
        "SELECT seq, (details->>'n')::int AS n FROM audit_entries WHERE stream = $1 ORDER BY seq", stream
    )
    return [(r["seq"], r["n"]) for r in rows]


async def test_concurrent_entries_share_statements_and_chain_in_arrival_order(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    audit = grouped(pool)
    # Streams interleaved and out of name order: the batch sorts them, each stream keeps arrival order.
    entries = [entry(stream, n) for n in range(10) for stream in ("s-c", "s-a", "s-b")]
    seqs = await asyncio.gather(*(audit.append(e) for e in entries))
    for e, seq in zip(entries, seqs, strict=True):
        assert seq == e.details["n"] + 1, (e.stream, e.details, seq)
    for stream in ("s-a", "s-b", "s-c"):
        assert await numbered(conn, stream) == [(n + 1, n) for n in range(10)]
    report = await verify(conn)
    assert report.ok, report
    assert report.entries == 30
    # One statement per batch, one transaction per statement: far fewer transactions than entries.
    transactions = await conn.fetchval("SELECT count(DISTINCT xmin::text) FROM audit_entries")
    assert transactions < 30


async def test_two_writers_over_the_same_streams_both_finish(
    database_url: str, conn: asyncpg.Connection
) -> None:
    pools = [await asyncpg.create_pool(database_url, min_size=1, max_size=2) for _ in range(2)]
    try:
        first, second = grouped(pools[0]), grouped(pools[1])
        streams = [f"hot-{i}" for i in range(8)]
        seqs = await asyncio.gather(
            *(first.append(entry(s, 0)) for _ in range(5) for s in streams),
            *(second.append(entry(s, 1)) for _ in range(5) for s in reversed(streams)),
        )
    finally:
        for p in pools:
            await p.close()
    assert len(seqs) == 80
    for stream in streams:
        assert [seq for seq, _ in await numbered(conn, stream)] == list(range(1, 11))
    report = await verify(conn)
    assert report.ok, report
    # Each writer's batch takes its streams' locks in name order, so neither waits for the other in a
    # cycle: no deadlock, whose victim would have had to write its entries again one at a time.
    transactions = await conn.fetchval("SELECT count(DISTINCT xmin::text) FROM audit_entries")
    assert transactions <= 10


async def test_an_entry_the_database_refuses_fails_alone(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    audit = grouped(pool)
    # PostgreSQL text cannot hold NUL: the batch's statement fails, then each entry is written alone.
    entries = [entry("ok-1", 0), entry("bad", 1, resource="learners/\x00"), entry("ok-2", 2)]
    outcomes = await asyncio.gather(*(audit.append(e) for e in entries), return_exceptions=True)
    assert outcomes[0] == 1
    assert isinstance(outcomes[1], asyncpg.DataError)
    assert outcomes[2] == 1
    assert await numbered(conn, "bad") == []
    assert [s for (s,) in await conn.fetch("SELECT stream FROM audit_entries ORDER BY stream")] == [
        "ok-1",
        "ok-2",
    ]
    assert (await verify(conn)).ok


async def test_every_field_of_a_batched_entry_is_written_as_given(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    learner = uuid.uuid4()
    full = AuditEntry(
        stream="learners/full",
        action="learner.credentials.read",
        institution="uni-avalon.ac.uk",
        client_id="avalon-registry",
        sub="registrar-7",
        learner=learner,
        resource=f"learners/{learner}/credentials",
        outcome="partial",
        purpose="credit-transfer",
        trace_id="0af7651916cd43dd8448eb211c80319c",
        details={"answered": ["a.example", "b.example"], "quote": 'say "hi"\n', "n": 1.5, "none": None},
    )
    bare = AuditEntry(
        stream="learners/bare", action="x", institution="i", client_id="c", resource="r", outcome="ok"
    )
    audit = grouped(pool)
    assert await asyncio.gather(audit.append(full), audit.append(bare)) == [1, 1]
    rows = {
        r["stream"]: r
        for r in await conn.fetch(
            "SELECT stream, action, actor_institution, actor_client, actor_sub, learner, resource, purpose,"
            " outcome, trace_id, details::text AS details FROM audit_entries"
        )
    }
    for e in (full, bare):
        row = rows[e.stream]
        assert (row["action"], row["actor_institution"], row["actor_client"], row["actor_sub"]) == (
            e.action,
            e.institution,
            e.client_id,
            e.sub,
        )
        assert (row["learner"], row["resource"], row["purpose"], row["outcome"], row["trace_id"]) == (
            e.learner,
            e.resource,
            e.purpose,
            e.outcome,
            e.trace_id,
        )
        assert json.loads(row["details"]) == e.details
    assert (await verify(conn)).ok


async def test_an_entry_that_cannot_be_sent_fails_alone(pool: asyncpg.Pool, conn: asyncpg.Connection) -> None:
    audit = grouped(pool)
    # A lone surrogate cannot be written as UTF-8: the batch is not sent, then each entry goes alone.
    entries = [entry("ok-1", 0), entry("bad", 1, resource="learners/\udc80"), entry("ok-2", 2)]
    outcomes = await asyncio.gather(*(audit.append(e) for e in entries), return_exceptions=True)
    assert outcomes[0] == 1
    assert isinstance(outcomes[1], (asyncpg.DataError, UnicodeEncodeError))
    assert outcomes[2] == 1
    assert [s for (s,) in await conn.fetch("SELECT stream FROM audit_entries ORDER BY stream")] == [
        "ok-1",
        "ok-2",
    ]
