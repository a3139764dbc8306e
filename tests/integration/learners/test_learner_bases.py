"""Lawful-basis checks read in batches: each check gets its own learner, links and consent, and concurrent
checks share statements."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from contracts.learners import parse_learner_ref
from gateway.config import Settings
from gateway.db.pool import connect_pool
from gateway.learners import store
from gateway.learners.bases import GroupedBases

HOME, CALLER, OTHER = "uni-home.example", "uni-caller.example", "uni-other.example"
ALICE = "urn:schac:personalUniqueCode:int:esi:uni-home.example:1001"
BOB = "urn:schac:personalUniqueCode:int:esi:uni-home.example:1002"
NOBODY = "urn:schac:personalUniqueCode:int:esi:uni-home.example:1003"
NOW = dt.datetime.now(dt.UTC)


async def consent(
    conn: asyncpg.Connection,
    learner: uuid.UUID,
    *,
    valid_until: dt.datetime,
    purpose: str = "credit-transfer",
) -> uuid.UUID:
    consent_id = uuid.uuid4()
    await store.insert_consent(
        conn,
        {
            "id": consent_id,
            "learner": learner,
            "recipient": CALLER,
            "purpose": purpose,
            "data_categories": ["credentials"],
            "consent_text_version": "v1",
            "method": "online-form",
            "recorded_by_member": HOME,
            "recorded_by_client": "home-registry",
            "given_at": NOW - dt.timedelta(days=2),
            "valid_until": valid_until,
        },
    )
    return consent_id


@pytest.fixture
async def world(conn: asyncpg.Connection) -> dict[str, uuid.UUID]:
    for member in (HOME, CALLER, OTHER):
        await conn.execute(
            "INSERT INTO members (id, name, country, framework_id, connector_id, status) "
            "VALUES ($1, $1, 'GB', 'uk-credits', 'ooapi-v6', 'active')",
            member,
        )
    alice = await store.ensure_learner(conn, parse_learner_ref(ALICE))
    bob = await store.ensure_learner(conn, parse_learner_ref(BOB))
    await store.upsert_link(conn, alice, HOME, "p-1", "home-registry")
    await store.upsert_link(conn, alice, OTHER, "o-7", "other-registry")
    live = await consent(conn, alice, valid_until=NOW + dt.timedelta(days=30))
    await consent(conn, bob, valid_until=NOW - dt.timedelta(days=1))  # expired
    withdrawn = await consent(conn, bob, valid_until=NOW + dt.timedelta(days=30))
    assert await store.withdraw_consent(conn, withdrawn, bob, HOME, "home-registry")
    return {"alice": alice, "bob": bob, "live": live}


@pytest.fixture
async def pool(database_url: str, settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    pool = await connect_pool(database_url, settings)  # as the gateway's role, under row-level security
    try:
        yield pool
    finally:
        await pool.close()


async def test_each_check_of_a_batch_gets_its_own_basis(
    pool: asyncpg.Pool, world: dict[str, uuid.UUID]
) -> None:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    bases = GroupedBases(pool, acquire_timeout=5.0, tracer=provider.get_tracer("test"))
    asked = [
        (ALICE, CALLER, "credit-transfer"),
        (ALICE, OTHER, "credit-transfer"),  # consent was given to CALLER only
        (ALICE, CALLER, "admission"),  # nor for this purpose
        (BOB, CALLER, "credit-transfer"),  # expired, and withdrawn
        (NOBODY, CALLER, "credit-transfer"),  # not known to the consortium
    ] * 4
    found = await asyncio.gather(*(bases.basis(parse_learner_ref(r), c, p) for r, c, p in asked))
    alice_links = {HOME: "p-1", OTHER: "o-7"}
    expected = [
        store.Basis(learner=world["alice"], links=alice_links, consent=world["live"]),
        store.Basis(learner=world["alice"], links=alice_links, consent=None),
        store.Basis(learner=world["alice"], links=alice_links, consent=None),
        store.Basis(learner=world["bob"], links={}, consent=None),
        store.Basis(learner=None, links={}, consent=None),
    ] * 4
    assert found == expected
    assert [b.basis for b in found[:5]] == ["consent", None, None, None, None]
    sizes = [
        s.attributes["db.batch.size"] for s in spans.get_finished_spans() if s.name == "learners.basis.read"
    ]
    assert sum(sizes) == len(asked)
    assert len(sizes) < len(asked)


async def test_one_check_reads_as_a_batch_of_one(
    conn: asyncpg.Connection, world: dict[str, uuid.UUID]
) -> None:
    basis = await store.learner_basis(conn, parse_learner_ref(ALICE.upper()), CALLER, "credit-transfer")
    assert (basis.learner, basis.consent, basis.basis) == (world["alice"], world["live"], "consent")
