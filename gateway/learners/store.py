"""SQL for learners, links, consents and the access report. The only module of ``learners`` that talks to
asyncpg."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
import msgspec

from contracts.learners import LearnerKey

__all__ = [
    "Basis",
    "access_entries",
    "consents",
    "ensure_learner",
    "find_learner",
    "get_link",
    "insert_consent",
    "learner_bases",
    "learner_basis",
    "learner_by_local_id",
    "link_of",
    "remember_links",
    "unlink",
    "upsert_link",
    "withdraw_consent",
]

DISCOVERED = "gateway:esi-discovery"  # created_by of links the gateway found, not a member made
# Through the one function that may find a learner the caller has not linked yet (migration 0012).
ENSURE_LEARNER = "SELECT gateway_enrol_learner($1, $2, $3)"
FIND_LEARNER = "SELECT id FROM learners WHERE ref = $1"
LEARNER_BY_LOCAL_ID = """
SELECT l.id, l.ref FROM learner_links k JOIN learners l ON l.id = k.learner
WHERE k.member_id = $1 AND k.local_id = $2
"""
# The lawful basis of one lookup and what the fan-out needs, in one round trip: the learner, every
# member's local id for them, and the caller's live consent for this purpose (R21).
# The lawful basis of each (learner ref, caller, purpose) asked, in the order asked: one statement serves
# a batch of concurrent lookups (gateway.learners.bases) as well as one.
LEARNER_BASES = """
SELECT l.id,
       (SELECT coalesce(jsonb_object_agg(k.member_id, k.local_id), '{}'::jsonb)
          FROM learner_links k WHERE k.learner = l.id) AS links,
       (SELECT c.id FROM learner_consents c
         WHERE c.learner = l.id AND c.recipient = q.caller AND c.purpose = q.purpose
           AND c.given_at <= now() AND c.valid_until > now()
           AND NOT EXISTS (SELECT 1 FROM learner_consent_withdrawals w WHERE w.consent = c.id)
         ORDER BY c.valid_until DESC LIMIT 1) AS consent,
       (SELECT m.id FROM mobility_requests m
         WHERE m.learner_ref = q.ref AND q.caller IN (m.home_member, m.host_member)
           AND m.state NOT IN ('withdrawn', 'closed') AND q.purpose = 'credit-transfer'
         ORDER BY m.id LIMIT 1) AS mobility
FROM ROWS FROM (json_to_recordset($1::json) AS (ref text, caller text, purpose text))
     WITH ORDINALITY AS q(ref, caller, purpose, ord)
LEFT JOIN learners l ON l.ref = q.ref
ORDER BY q.ord
"""
UPSERT_LINK = """
INSERT INTO learner_links (learner, member_id, local_id, created_by) VALUES ($1, $2, $3, $4)
ON CONFLICT (learner, member_id) DO UPDATE SET local_id = EXCLUDED.local_id, created_by = EXCLUDED.created_by
RETURNING local_id, created_at, (xmax = 0) AS inserted
"""
# Links the gateway found by asking members for an ESI: kept so the next lookup (and a lookup of one
# credential by id) knows the learner there without asking again. A member's own link always wins.
REMEMBER_LINKS = """
INSERT INTO learner_links (learner, member_id, local_id, created_by)
SELECT $1, x.member_id, x.local_id, $3
FROM jsonb_to_recordset($2::jsonb) AS x(member_id text, local_id text)
ON CONFLICT DO NOTHING
"""
MEMBER_LINKED = """
SELECT EXISTS (SELECT 1 FROM learner_links WHERE learner = $1 AND member_id = $2 AND created_by <> $3)
"""
GET_LINK = "SELECT local_id, created_at FROM learner_links WHERE learner = $1 AND member_id = $2"
UNLINK = "DELETE FROM learner_links WHERE learner = $1 AND member_id = $2"
INSERT_CONSENT = """
INSERT INTO learner_consents (id, learner, recipient, purpose, data_categories, consent_text_version, method,
                              recorded_by_member, recorded_by_client, given_at, valid_until)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, coalesce($10, now()), $11)
"""
CONSENTS = """
SELECT c.id, c.recipient, c.purpose, c.data_categories, c.consent_text_version, c.method,
       c.recorded_by_member, c.given_at, c.valid_until, w.withdrawn_at
FROM learner_consents c LEFT JOIN learner_consent_withdrawals w ON w.consent = c.id
WHERE c.learner = $1 AND ($2::uuid IS NULL OR c.id = $2)
ORDER BY c.given_at DESC, c.id
"""
WITHDRAW = """
INSERT INTO learner_consent_withdrawals (consent, withdrawn_by_member, withdrawn_by_client)
SELECT id, $3, $4 FROM learner_consents WHERE id = $1 AND learner = $2
ON CONFLICT (consent) DO NOTHING
"""
ACCESS_ENTRIES = """
SELECT stream, seq, at, action, actor_institution, actor_client, purpose, outcome, resource, details
FROM audit_entries
WHERE learner = $1 AND ($2::timestamptz IS NULL OR (at, stream, seq) < ($2, $3, $4))
ORDER BY at DESC, stream DESC, seq DESC
LIMIT $5
"""


class Basis(msgspec.Struct, frozen=True, kw_only=True):
    """The learner (if known), each member's local id for them, and the caller's consent (if any)."""

    learner: uuid.UUID | None
    links: dict[str, str]
    consent: uuid.UUID | None
    mobility: uuid.UUID | None = None  # an open credit-transfer request between the caller and the learner

    @property
    def basis(self) -> str | None:
        """The lawful basis (R21), when there is one."""
        if self.consent is not None:
            return "consent"
        return "mobility-request" if self.mobility is not None else None


async def find_learner(conn: asyncpg.Connection, key: LearnerKey) -> uuid.UUID | None:
    learner: uuid.UUID | None = await conn.fetchval(FIND_LEARNER, key.value)
    return learner


async def ensure_learner(conn: asyncpg.Connection, key: LearnerKey) -> uuid.UUID:
    learner: uuid.UUID = await conn.fetchval(ENSURE_LEARNER, uuid.uuid4(), key.value, key.kind)
    return learner


async def learner_by_local_id(
    conn: asyncpg.Connection, member: str, local_id: str
) -> tuple[uuid.UUID, str] | None:
    row = await conn.fetchrow(LEARNER_BY_LOCAL_ID, member, local_id)
    return None if row is None else (row["id"], row["ref"])


async def learner_basis(conn: asyncpg.Connection, key: LearnerKey, caller: str, purpose: str) -> Basis:
    """The caller's lawful basis (R21) for the learner's data, for the purpose."""
    (basis,) = await learner_bases(conn, [(key.value, caller, purpose)])
    return basis


async def learner_bases(conn: asyncpg.Connection, asked: Sequence[tuple[str, str, str]]) -> list[Basis]:
    """``learner_basis`` of each (learner key's value, caller, purpose), in one statement, in order."""
    # One JSON document, not three arrays: asyncpg's array encoding checks every element against abstract
    # base classes, which cost more than the statement's round trip (see gateway.audit.grouped).
    checks = [{"ref": ref, "caller": caller, "purpose": purpose} for ref, caller, purpose in asked]
    rows = await conn.fetch(LEARNER_BASES, msgspec.json.encode(checks).decode())
    return [
        Basis(
            learner=row["id"],
            links=msgspec.json.decode(row["links"]) if row["links"] is not None else {},
            consent=row["consent"],
            mobility=row["mobility"],
        )
        for row in rows
    ]


async def upsert_link(
    conn: asyncpg.Connection, learner: uuid.UUID, member: str, local_id: str, client_id: str
) -> tuple[dt.datetime, bool]:
    row = await conn.fetchrow(UPSERT_LINK, learner, member, local_id, client_id)
    return row["created_at"], row["inserted"]


async def remember_links(conn: asyncpg.Connection, learner: uuid.UUID, found: dict[str, str]) -> None:
    """Record the local ids members gave for the learner's ESI (none replaces an existing link)."""
    if found:
        rows = [{"member_id": m, "local_id": local} for m, local in sorted(found.items())]
        await conn.execute(REMEMBER_LINKS, learner, msgspec.json.encode(rows).decode(), DISCOVERED)


async def get_link(
    conn: asyncpg.Connection, learner: uuid.UUID, member: str
) -> tuple[str, dt.datetime] | None:
    row = await conn.fetchrow(GET_LINK, learner, member)
    return None if row is None else (row["local_id"], row["created_at"])


async def link_of(conn: asyncpg.Connection, learner: uuid.UUID, member: str) -> bool:
    """Whether the member itself linked the learner (a link the gateway discovered does not count: it
    gives no right to manage the learner's consent)."""
    return bool(await conn.fetchval(MEMBER_LINKED, learner, member, DISCOVERED))


async def unlink(conn: asyncpg.Connection, learner: uuid.UUID, member: str) -> bool:
    return bool(await conn.execute(UNLINK, learner, member) == "DELETE 1")


async def insert_consent(conn: asyncpg.Connection, values: dict[str, Any]) -> None:
    await conn.execute(
        INSERT_CONSENT,
        values["id"],
        values["learner"],
        values["recipient"],
        values["purpose"],
        values["data_categories"],
        values["consent_text_version"],
        values["method"],
        values["recorded_by_member"],
        values["recorded_by_client"],
        values["given_at"],
        values["valid_until"],
    )


async def consents(
    conn: asyncpg.Connection, learner: uuid.UUID, consent: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    return list(await conn.fetch(CONSENTS, learner, consent))


async def withdraw_consent(
    conn: asyncpg.Connection, consent: uuid.UUID, learner: uuid.UUID, member: str, client_id: str
) -> bool:
    """True when this call withdrew it (false when it already was, or is not this learner's)."""
    return bool(await conn.execute(WITHDRAW, consent, learner, member, client_id) == "INSERT 0 1")


async def access_entries(
    conn: asyncpg.Connection,
    learner: uuid.UUID,
    after: tuple[dt.datetime, str, int] | None,
    limit: int,
) -> list[asyncpg.Record]:
    at, stream, seq = after if after is not None else (None, None, None)
    return list(await conn.fetch(ACCESS_ENTRIES, learner, at, stream, seq, limit))
