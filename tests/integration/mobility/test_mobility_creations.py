"""Concurrent creations share statements (group commit) and each is still decided and answered on its own."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec
import pytest
from mobility_helpers import HOME, create_body, key
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from adapters.frameworks import FrameworkRegistry
from contracts.errors import IdempotencyKeyReused
from gateway.audit import verify
from gateway.auth.rfc9068 import Principal
from gateway.mobility import service
from gateway.mobility.creations import GroupedCreations
from gateway.mobility.idempotency import Reply
from gateway.mobility.models import MobilityRequestCreate
from gateway.recognition.service import EngineCache

HOME_CLIENT = "uni-b-registry"


@pytest.fixture
async def pool(database_url: str, tenants: str) -> AsyncIterator[asyncpg.Pool]:
    del tenants  # the two members exist
    pool = await asyncpg.create_pool(database_url, min_size=2, max_size=4)
    yield pool
    await pool.close()


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def creations(pool: asyncpg.Pool, exporter: InMemorySpanExporter) -> GroupedCreations:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return GroupedCreations(pool, acquire_timeout=5.0, tracer=provider.get_tracer("test"))


@pytest.fixture
def engines() -> EngineCache:
    return EngineCache(FrameworkRegistry.from_entry_points())


def home() -> Principal:
    now = time.time()
    return Principal(
        client_id=HOME_CLIENT,
        institution=HOME,
        scopes=frozenset({"mobility:write"}),
        jti="t",
        issued_at=now,
        expires_at=now + 60,
    )


def body(items: int = 1) -> MobilityRequestCreate:
    return msgspec.convert(create_body(items), MobilityRequestCreate)


async def create(
    creations: GroupedCreations, engines: EngineCache, request: MobilityRequestCreate, idem: str
) -> Reply:
    return await service.create(creations, home(), engines, request, idem)


def flush_sizes(exporter: InMemorySpanExporter) -> list[int]:
    spans = [s for s in exporter.get_finished_spans() if s.name == "mobility.create.flush"]
    return [int(s.attributes["db.batch.size"]) for s in spans if s.attributes]  # type: ignore[arg-type]


async def test_concurrent_creations_share_statements_and_each_is_written_whole(
    creations: GroupedCreations, engines: EngineCache, pool: asyncpg.Pool, exporter: InMemorySpanExporter
) -> None:
    await create(creations, engines, body(), key())  # the engine is loaded before the burst
    exporter.clear()
    replies = await asyncio.gather(*(create(creations, engines, body(1 + i % 3), key()) for i in range(24)))
    assert [r.status for r in replies] == [201] * 24
    sizes = flush_sizes(exporter)
    assert sum(sizes) == 24
    assert max(sizes) > 1, sizes  # shared statements, not one each
    ids = [msgspec.json.decode(r.body)["id"] for r in replies]
    assert len(set(ids)) == 24
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            """SELECT r.id::text AS id,
                      (SELECT count(*) FROM mobility_items i WHERE i.request_id = r.id) AS items,
                      (SELECT count(*) FROM events e WHERE e.payload->>'request_id' = r.id::text) AS events,
                      (SELECT count(*) FROM audit_entries a WHERE a.stream = 'mobility:' || r.id) AS audit
               FROM mobility_requests r WHERE r.id = ANY($1::uuid[])""",
            ids,
        )
        by_id = {r["id"]: r for r in rows}
        for i, rid in enumerate(ids):  # every creation's own rows, none of another's
            assert (by_id[rid]["items"], by_id[rid]["events"], by_id[rid]["audit"]) == (1 + i % 3, 1, 1)
        stored = "SELECT count(*) FROM idempotency_keys WHERE client_id = $1"
        assert await conn.fetchval(stored, HOME_CLIENT) == 25
        report = await verify(conn)
        assert report.ok, report
        assert report.entries == 25


async def test_one_key_twice_in_a_batch_is_one_creation_and_a_replay(
    creations: GroupedCreations, engines: EngineCache, pool: asyncpg.Pool, exporter: InMemorySpanExporter
) -> None:
    await create(creations, engines, body(), key())
    exporter.clear()
    same, other = key(), key()
    request = body()
    first, again, unrelated, reused = await asyncio.gather(
        create(creations, engines, request, same),
        create(creations, engines, request, same),
        create(creations, engines, body(), other),
        create(creations, engines, body(2), same),  # the key again, for a different request
        return_exceptions=True,
    )
    assert isinstance(first, Reply)
    assert isinstance(again, Reply)
    assert isinstance(unrelated, Reply)
    assert (first.status, again.status, unrelated.status) == (201, 201, 201)
    assert again.body == first.body  # the stored answer, byte for byte
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert isinstance(reused, IdempotencyKeyReused)
    assert max(flush_sizes(exporter)) > 1  # they did meet in one flush
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM mobility_requests") == 3


async def test_a_key_committed_by_another_writer_mid_batch_fails_only_its_own_creation(
    creations: GroupedCreations, engines: EngineCache, pool: asyncpg.Pool, database_url: str
) -> None:
    await create(creations, engines, body(), key())
    taken = key()
    other = await asyncpg.connect(database_url)
    try:
        # Another process's write of the same key, not yet committed: the batch's insert of it must wait.
        transaction = other.transaction()
        await transaction.start()
        await other.execute(
            """INSERT INTO idempotency_keys (client_id, key, fingerprint, status, headers, body, created_at)
               VALUES ($1, $2, $3, 201, '{}', '{}', now())""",
            HOME_CLIENT,
            taken,
            hashlib.sha256(b"another request").digest(),
        )
        burst: Any = asyncio.gather(
            *(create(creations, engines, body(), key()) for _ in range(3)),
            create(creations, engines, body(), taken),
            *(create(creations, engines, body(), key()) for _ in range(3)),
            return_exceptions=True,
        )
        deadline = time.monotonic() + 10
        waiting = """SELECT count(*) FROM pg_stat_activity
                     WHERE wait_event_type = 'Lock' AND datname = current_database()"""
        while not await other.fetchval(waiting):
            assert time.monotonic() < deadline, "the batch never waited for the other writer"
            await asyncio.sleep(0.01)
        await transaction.commit()  # the batch's statement now fails on the key, as a whole
        replies = await burst
    finally:
        await other.close()
    assert isinstance(replies[3], IdempotencyKeyReused)  # the key holds another request: 422
    assert [r.status for i, r in enumerate(replies) if i != 3] == [201] * 6  # written again, one by one
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM mobility_requests") == 7
        assert (await verify(conn)).ok


async def seq_scans(conn: asyncpg.Connection) -> int:
    """Sequential scans of the idempotency keys so far. One connection: its backend ran the statements."""
    await conn.execute("SELECT pg_stat_force_next_flush()")  # reported at this statement's end
    await conn.execute("SELECT pg_stat_clear_snapshot()")
    query = "SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'idempotency_keys'"
    scans: int = await conn.fetchval(query)
    return scans


async def test_a_batch_finds_stored_keys_by_index_under_the_generic_plan(
    database_url: str, tenants: str, engines: EngineCache, exporter: InMemorySpanExporter
) -> None:
    del tenants
    # What a busy process runs after its first executions: one generic plan, made once per connection and
    # kept until the table is next analysed. Made while the table was small, a plain join hashed a
    # sequential scan of every stored key, for every batch, long after the table had grown.
    generic = await asyncpg.create_pool(
        database_url, min_size=1, max_size=1, server_settings={"plan_cache_mode": "force_generic_plan"}
    )
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    grouped = GroupedCreations(generic, acquire_timeout=5.0, tracer=provider.get_tracer("test"))
    try:
        await create(grouped, engines, body(), key())  # the plan is made: the table holds nothing yet
        async with generic.acquire() as conn:
            await conn.execute(
                """INSERT INTO idempotency_keys (client_id, key, fingerprint, status, body, created_at)
                   SELECT 'elsewhere', g::text, '\\x00', 201, repeat('x', 200), now()
                   FROM generate_series(1, 5000) AS g"""
            )
            before = await seq_scans(conn)
        for _ in range(3):
            replies = await asyncio.gather(*(create(grouped, engines, body(), key()) for _ in range(4)))
            assert [r.status for r in replies] == [201] * 4
        assert sum(flush_sizes(exporter)) == 13
        async with generic.acquire() as conn:
            assert await seq_scans(conn) == before
    finally:
        await generic.close()
