"""SQL for the consortium registry. The only module of ``members`` that talks to asyncpg."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from contracts.members import Member, MemberConnector, MemberProfile
from gateway.members.models import ClientEntry, MemberEntry

__all__ = [
    "disable_absent_clients",
    "get_member",
    "list_member_profiles",
    "member_frameworks",
    "member_ids",
    "upsert_clients",
    "upsert_members",
    "withdraw_members",
]

_encode = msgspec.json.encode

# One round trip for the whole file. `IS DISTINCT FROM` makes a re-sync of an unchanged file touch no row,
# and `xmax = 0` tells an inserted row from an updated one.
UPSERT_MEMBERS = """
WITH input AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(
        id text, name text, country text, framework_id text, connector_id text,
        connector_settings jsonb, endpoints jsonb, jwks jsonb, jwks_uri text, webhook_url text, status text)
), written AS (
    INSERT INTO members AS m (id, name, country, framework_id, connector_id, connector_settings, endpoints,
                              jwks, jwks_uri, webhook_url, status)
    SELECT id, name, country, framework_id, connector_id, connector_settings, endpoints,
           jwks, jwks_uri, webhook_url, status
    FROM input
    ON CONFLICT (id) DO UPDATE SET
        name = EXCLUDED.name, country = EXCLUDED.country, framework_id = EXCLUDED.framework_id,
        connector_id = EXCLUDED.connector_id, connector_settings = EXCLUDED.connector_settings,
        endpoints = EXCLUDED.endpoints, jwks = EXCLUDED.jwks, jwks_uri = EXCLUDED.jwks_uri,
        webhook_url = EXCLUDED.webhook_url, status = EXCLUDED.status, updated_at = now()
    WHERE (m.name, m.country, m.framework_id, m.connector_id, m.connector_settings, m.endpoints, m.jwks,
           m.jwks_uri, m.webhook_url, m.status)
          IS DISTINCT FROM
          (EXCLUDED.name, EXCLUDED.country, EXCLUDED.framework_id, EXCLUDED.connector_id,
           EXCLUDED.connector_settings, EXCLUDED.endpoints, EXCLUDED.jwks, EXCLUDED.jwks_uri,
           EXCLUDED.webhook_url, EXCLUDED.status)
    RETURNING m.id, (m.xmax = 0) AS inserted
)
SELECT id, inserted FROM written
"""

LIST_MEMBER_PROFILES = """
SELECT id, name, country, framework_id, status FROM members
WHERE ($1::text IS NULL OR id > $1) AND ($2::text IS NULL OR status = $2)
ORDER BY id
LIMIT $3
"""

MEMBER_EXISTS = "SELECT EXISTS (SELECT 1 FROM members WHERE id = $1)"
GET_MEMBER = """
SELECT id, name, country, framework_id, connector_id, connector_settings, status FROM members WHERE id = $1
"""

MEMBER_IDS = "SELECT id FROM members ORDER BY id"

MEMBER_FRAMEWORKS = "SELECT id, framework_id FROM members"

BUMP_RECOGNITION_REVISION = "UPDATE recognition_revision SET revision = revision + 1"

# A client that changes institution, or stops being active, gets a new `not_before`: every token issued
# to it before that moment stops working at the resource server (R7). Token `iat` has whole seconds, so
# the cut-off is rounded up to the next second (a token minted in that same second is refused too).
UPSERT_CLIENTS = """
WITH input AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(
        client_id text, member_id text, jwks jsonb, jwks_uri text, scopes text[], capabilities text[],
        status text)
), written AS (
    INSERT INTO oauth_clients AS c (client_id, member_id, jwks, jwks_uri, scopes, capabilities, status)
    SELECT client_id, member_id, jwks, jwks_uri, scopes, capabilities, status FROM input
    ON CONFLICT (client_id) DO UPDATE SET
        member_id = EXCLUDED.member_id, jwks = EXCLUDED.jwks, jwks_uri = EXCLUDED.jwks_uri,
        scopes = EXCLUDED.scopes, capabilities = EXCLUDED.capabilities, status = EXCLUDED.status,
        updated_at = now(),
        not_before = CASE
            WHEN c.member_id <> EXCLUDED.member_id OR EXCLUDED.status <> 'active'
            THEN date_trunc('second', now()) + interval '1 second'
            ELSE c.not_before END
    WHERE (c.member_id, c.jwks, c.jwks_uri, c.scopes, c.capabilities, c.status)
          IS DISTINCT FROM
          (EXCLUDED.member_id, EXCLUDED.jwks, EXCLUDED.jwks_uri, EXCLUDED.scopes, EXCLUDED.capabilities,
           EXCLUDED.status)
    RETURNING c.client_id
)
SELECT client_id FROM written
"""

DISABLE_ABSENT_CLIENTS = """
UPDATE oauth_clients
SET status = 'disabled', not_before = date_trunc('second', now()) + interval '1 second', updated_at = now()
WHERE member_id = ANY($1::text[]) AND NOT (client_id = ANY($2::text[])) AND status = 'active'
RETURNING client_id
"""

WITHDRAW_MEMBERS = """
UPDATE members SET status = 'withdrawn', updated_at = now()
WHERE id = ANY($1::text[]) AND status <> 'withdrawn'
RETURNING id
"""


def _row(entry: MemberEntry) -> dict[str, Any]:
    keys = entry.keys
    return {
        "id": entry.id,
        "name": entry.name,
        "country": entry.country,
        "framework_id": entry.framework,
        "connector_id": entry.connector.id,
        "connector_settings": entry.connector.settings,
        "endpoints": msgspec.to_builtins(entry.endpoints),
        "jwks": keys.jwks if keys else None,
        "jwks_uri": keys.jwks_uri if keys else None,
        "webhook_url": entry.webhook_url,
        "status": entry.status,
    }


async def upsert_members(conn: asyncpg.Connection, entries: list[MemberEntry]) -> tuple[list[str], list[str]]:
    """Insert or update members; return (created ids, updated ids). Unchanged members are not touched."""
    rows = await conn.fetch(UPSERT_MEMBERS, _encode([_row(e) for e in entries]).decode())
    created = sorted(r["id"] for r in rows if r["inserted"])
    updated = sorted(r["id"] for r in rows if not r["inserted"])
    if created or updated:  # recognition engines know members' frameworks: tell them to rebuild
        await conn.execute(BUMP_RECOGNITION_REVISION)
    return created, updated


def _client_row(member_id: str, client: ClientEntry) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "member_id": member_id,
        "jwks": client.keys.jwks,
        "jwks_uri": client.keys.jwks_uri,
        "scopes": sorted(client.scopes),
        "capabilities": sorted(client.capabilities),
        "status": client.status,
    }


async def upsert_clients(conn: asyncpg.Connection, entries: list[MemberEntry]) -> list[str]:
    """Insert or update every member's clients; return the ids of clients written."""
    rows = [_client_row(e.id, c) for e in entries for c in e.clients]
    if not rows:
        return []
    return sorted(r["client_id"] for r in await conn.fetch(UPSERT_CLIENTS, _encode(rows).decode()))


async def disable_absent_clients(conn: asyncpg.Connection, entries: list[MemberEntry]) -> list[str]:
    """Disable clients of the declared members that the file no longer lists."""
    member_ids = [e.id for e in entries]
    declared = [c.client_id for e in entries for c in e.clients]
    return sorted(r["client_id"] for r in await conn.fetch(DISABLE_ABSENT_CLIENTS, member_ids, declared))


async def member_frameworks(conn: asyncpg.Connection) -> dict[str, str]:
    """Member id -> credit framework id, for every registered member."""
    return {r["id"]: r["framework_id"] for r in await conn.fetch(MEMBER_FRAMEWORKS)}


async def member_ids(conn: asyncpg.Connection) -> list[str]:
    return [r["id"] for r in await conn.fetch(MEMBER_IDS)]


async def withdraw_members(conn: asyncpg.Connection, ids: list[str]) -> list[str]:
    return sorted(r["id"] for r in await conn.fetch(WITHDRAW_MEMBERS, ids))


async def list_member_profiles(
    conn: asyncpg.Connection, *, after: str | None, status: str | None, limit: int
) -> list[MemberProfile]:
    rows = await conn.fetch(LIST_MEMBER_PROFILES, after, status, limit)
    return [
        MemberProfile(
            id=r["id"], name=r["name"], country=r["country"], framework=r["framework_id"], status=r["status"]
        )
        for r in rows
    ]


async def member_exists(conn: asyncpg.Connection, member_id: str) -> bool:
    """Whether the consortium has (or had: any status) a member with this id."""
    return bool(await conn.fetchval(MEMBER_EXISTS, member_id))


async def get_member(conn: asyncpg.Connection, member_id: str) -> Member | None:
    r = await conn.fetchrow(GET_MEMBER, member_id)
    if r is None:
        return None
    return Member(
        id=r["id"],
        name=r["name"],
        country=r["country"],
        framework=r["framework_id"],
        connector=MemberConnector(
            id=r["connector_id"], settings=msgspec.json.decode(r["connector_settings"])
        ),
        status=r["status"],
    )
