"""SQL for recognition agreements and equivalences. The only module of ``recognition`` on asyncpg."""

from __future__ import annotations

import datetime as dt

import asyncpg
import msgspec

from gateway.recognition.models import Equivalence, RecognitionAgreement

__all__ = [
    "agreement_versions",
    "current_revision",
    "end_earlier_versions",
    "equivalence_versions",
    "insert_agreement",
    "insert_equivalence",
    "list_agreements",
    "list_equivalences",
    "load_all",
    "lock_document",
]

_encode = msgspec.json.encode

# One statement: the version row and the revision bump commit together.
INSERT_AGREEMENT = """
WITH written AS (
    INSERT INTO recognition_agreements
        (id, version, document, parties, consortium_wide, valid_from, valid_to, status, created_by)
    VALUES ($1, $2, $3::jsonb, $4::text[], $5, $6, $7, $8, $9)
    RETURNING 1
)
UPDATE recognition_revision SET revision = revision + 1 WHERE EXISTS (SELECT 1 FROM written)
"""

INSERT_EQUIVALENCE = """
WITH written AS (
    INSERT INTO recognition_equivalences
        (id, version, document, issuer, recogniser, valid_from, valid_to, created_by)
    VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8)
    RETURNING 1
)
UPDATE recognition_revision SET revision = revision + 1 WHERE EXISTS (SELECT 1 FROM written)
"""

AGREEMENT_VERSIONS = "SELECT document, valid_to FROM recognition_agreements WHERE id = $1 ORDER BY version"
EQUIVALENCE_VERSIONS = "SELECT document FROM recognition_equivalences WHERE id = $1 ORDER BY version"

# Latest version of each agreement visible to a member (party to it, or consortium-wide), keyset-paginated.
LIST_AGREEMENTS = """
SELECT DISTINCT ON (id) id, document, valid_to FROM recognition_agreements
WHERE (consortium_wide OR $1 = ANY(parties))
  AND ($2::text IS NULL OR id > $2)
  AND ($3::text IS NULL OR status = $3)
  AND ($4::date IS NULL OR (valid_from <= $4 AND (valid_to IS NULL OR valid_to >= $4)))
ORDER BY id, version DESC
LIMIT $5
"""

LIST_EQUIVALENCES = """
SELECT DISTINCT ON (id) id, document FROM recognition_equivalences
WHERE (recogniser = $1 OR issuer = $1)
  AND ($2::text IS NULL OR id > $2)
ORDER BY id, version DESC
LIMIT $3
"""

LOAD_AGREEMENTS = "SELECT document, valid_to FROM recognition_agreements ORDER BY id, version"

# A new version supersedes earlier ones from its first day: their validity ends the day before (the terms
# they were agreed on stay as they were; only their end date moves).
END_EARLIER_VERSIONS = """
UPDATE recognition_agreements SET valid_to = $2
WHERE id = $1 AND status = 'active' AND valid_from <= $2 AND (valid_to IS NULL OR valid_to > $2)
"""
LOAD_EQUIVALENCES = "SELECT document FROM recognition_equivalences ORDER BY id, version"
REVISION = "SELECT revision FROM recognition_revision"


async def lock_document(conn: asyncpg.Connection, kind: str, document_id: str) -> None:
    """Serialise writers of one agreement or equivalence id until the transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"{kind}:{document_id}")


def _agreement(row: asyncpg.Record) -> RecognitionAgreement:
    agreement = msgspec.json.decode(row["document"], type=RecognitionAgreement)
    if agreement.valid_to != row["valid_to"]:
        agreement = msgspec.structs.replace(agreement, valid_to=row["valid_to"])
    return agreement


async def agreement_versions(conn: asyncpg.Connection, agreement_id: str) -> list[RecognitionAgreement]:
    return [_agreement(r) for r in await conn.fetch(AGREEMENT_VERSIONS, agreement_id)]


async def end_earlier_versions(conn: asyncpg.Connection, agreement_id: str, last_day: dt.date) -> None:
    await conn.execute(END_EARLIER_VERSIONS, agreement_id, last_day)


async def equivalence_versions(conn: asyncpg.Connection, equivalence_id: str) -> list[Equivalence]:
    rows = await conn.fetch(EQUIVALENCE_VERSIONS, equivalence_id)
    return [msgspec.json.decode(r["document"], type=Equivalence) for r in rows]


async def insert_agreement(
    conn: asyncpg.Connection, agreement: RecognitionAgreement, created_by: str
) -> None:
    parties = list(agreement.parties.members) if hasattr(agreement.parties, "members") else []
    await conn.execute(
        INSERT_AGREEMENT,
        agreement.id,
        agreement.version,
        _encode(agreement).decode(),
        parties,
        not parties,
        agreement.valid_from,
        agreement.valid_to,
        agreement.status,
        created_by,
    )


async def insert_equivalence(conn: asyncpg.Connection, equivalence: Equivalence, created_by: str) -> None:
    await conn.execute(
        INSERT_EQUIVALENCE,
        equivalence.id,
        equivalence.version,
        _encode(equivalence).decode(),
        equivalence.issuer,
        equivalence.recogniser,
        equivalence.valid_from,
        equivalence.valid_to,
        created_by,
    )


async def list_agreements(
    conn: asyncpg.Connection,
    *,
    member: str,
    after: str | None,
    status: str | None,
    valid_on: dt.date | None,
    limit: int,
) -> list[RecognitionAgreement]:
    return [_agreement(r) for r in await conn.fetch(LIST_AGREEMENTS, member, after, status, valid_on, limit)]


async def list_equivalences(
    conn: asyncpg.Connection, *, member: str, after: str | None, limit: int
) -> list[Equivalence]:
    rows = await conn.fetch(LIST_EQUIVALENCES, member, after, limit)
    return [msgspec.json.decode(r["document"], type=Equivalence) for r in rows]


async def load_all(conn: asyncpg.Connection) -> tuple[int, list[RecognitionAgreement], list[Equivalence]]:
    """Everything the engine needs, read in one repeatable-read snapshot."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        revision = await conn.fetchval(REVISION)
        agreements = [_agreement(r) for r in await conn.fetch(LOAD_AGREEMENTS)]
        equivalences = [
            msgspec.json.decode(r["document"], type=Equivalence) for r in await conn.fetch(LOAD_EQUIVALENCES)
        ]
    return revision, agreements, equivalences


async def current_revision(conn: asyncpg.Connection) -> int:
    revision: int = await conn.fetchval(REVISION)
    return revision
