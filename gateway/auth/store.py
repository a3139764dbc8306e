"""SQL for OAuth: clients, assertion ids, signing keys and revocations. The only module here on asyncpg."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import asyncpg
import msgspec

__all__ = [
    "KEYS_LOCK_KEY",
    "ClientRow",
    "KeyRow",
    "delete_keys",
    "insert_key",
    "insert_new_jtis",
    "load_clients",
    "load_keys",
    "load_revocations",
    "purge_expired",
    "revoke_token",
    "set_key_state",
]

# Fixed advisory-lock key ("cgw-keys") so that two processes never generate or rotate keys at once.
KEYS_LOCK_KEY = int.from_bytes(b"cgw-keys", "big") - (1 << 63)


class ClientRow(msgspec.Struct, frozen=True, kw_only=True):
    client_id: str
    member_id: str
    member_status: str
    jwks: dict[str, Any] | None
    jwks_uri: str | None
    scopes: frozenset[str]
    capabilities: frozenset[str]
    status: str
    not_before: dt.datetime


class KeyRow(msgspec.Struct, frozen=True, kw_only=True):
    kid: str
    purpose: str
    alg: str
    public_jwk: dict[str, Any]
    state: str
    created_at: dt.datetime
    retired_at: dt.datetime | None


LOAD_CLIENTS = """
SELECT c.client_id, c.member_id, m.status AS member_status, c.jwks, c.jwks_uri, c.scopes, c.capabilities,
       c.status, c.not_before
FROM oauth_clients c JOIN members m ON m.id = c.member_id
"""

# R4: the insert is the check. Of any number of concurrent requests carrying one assertion, exactly one
# inserts the row; the rest see the conflict and are refused. One statement carries a whole batch.
INSERT_JTIS = """
INSERT INTO oauth_assertion_jtis (client_id, jti, expires_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])
ON CONFLICT DO NOTHING
RETURNING client_id, jti
"""

LOAD_KEYS = """
SELECT kid, purpose, alg, public_jwk, state, created_at, retired_at FROM gateway_signing_keys
ORDER BY purpose, created_at
"""

INSERT_KEY = """
INSERT INTO gateway_signing_keys (kid, purpose, alg, public_jwk, state, activated_at)
VALUES ($1, $2, $3, $4::jsonb, $5, CASE WHEN $5 = 'active' THEN now() END)
"""

SET_KEY_STATE = """
UPDATE gateway_signing_keys SET state = $2,
    activated_at = CASE WHEN $2 = 'active' THEN now() ELSE activated_at END,
    retired_at = CASE WHEN $2 = 'retired' THEN now() ELSE retired_at END
WHERE kid = $1
"""

DELETE_KEYS = "DELETE FROM gateway_signing_keys WHERE kid = ANY($1::text[])"

LOAD_REVOCATIONS = "SELECT jti FROM oauth_revoked_tokens WHERE expires_at > now()"

REVOKE_TOKEN = """
INSERT INTO oauth_revoked_tokens (jti, client_id, expires_at) VALUES ($1, $2, $3)
ON CONFLICT (jti) DO NOTHING
"""

PURGE_JTIS = "DELETE FROM oauth_assertion_jtis WHERE expires_at < now()"
PURGE_REVOCATIONS = "DELETE FROM oauth_revoked_tokens WHERE expires_at < now()"


def _json(value: Any) -> Any:
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


async def load_clients(conn: asyncpg.Connection) -> dict[str, ClientRow]:
    rows = await conn.fetch(LOAD_CLIENTS)
    return {
        r["client_id"]: ClientRow(
            client_id=r["client_id"],
            member_id=r["member_id"],
            member_status=r["member_status"],
            jwks=_json(r["jwks"]) if r["jwks"] is not None else None,
            jwks_uri=r["jwks_uri"],
            scopes=frozenset(r["scopes"]),
            capabilities=frozenset(r["capabilities"]),
            status=r["status"],
            not_before=r["not_before"],
        )
        for r in rows
    }


async def insert_new_jtis(
    conn: asyncpg.Connection, rows: Sequence[tuple[str, str, dt.datetime]]
) -> set[tuple[str, str]]:
    """Insert the (client_id, jti, expires_at) rows not already present; return the keys this call inserted.

    Rows are inserted in the order given: callers sort them, so overlapping batches cannot deadlock."""
    inserted = await conn.fetch(INSERT_JTIS, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    return {(r["client_id"], r["jti"]) for r in inserted}


async def load_keys(conn: asyncpg.Connection) -> list[KeyRow]:
    return [
        KeyRow(
            kid=r["kid"],
            purpose=r["purpose"],
            alg=r["alg"],
            public_jwk=_json(r["public_jwk"]),
            state=r["state"],
            created_at=r["created_at"],
            retired_at=r["retired_at"],
        )
        for r in await conn.fetch(LOAD_KEYS)
    ]


async def insert_key(
    conn: asyncpg.Connection, *, kid: str, purpose: str, alg: str, public_jwk: dict[str, Any], state: str
) -> None:
    await conn.execute(INSERT_KEY, kid, purpose, alg, msgspec.json.encode(public_jwk).decode(), state)


async def set_key_state(conn: asyncpg.Connection, kid: str, state: str) -> None:
    await conn.execute(SET_KEY_STATE, kid, state)


async def delete_keys(conn: asyncpg.Connection, kids: list[str]) -> None:
    await conn.execute(DELETE_KEYS, kids)


async def load_revocations(conn: asyncpg.Connection) -> frozenset[str]:
    return frozenset(r["jti"] for r in await conn.fetch(LOAD_REVOCATIONS))


async def revoke_token(conn: asyncpg.Connection, jti: str, client_id: str, expires_at: dt.datetime) -> None:
    await conn.execute(REVOKE_TOKEN, jti, client_id, expires_at)


async def purge_expired(conn: asyncpg.Connection) -> tuple[int, int]:
    """Remove assertion ids and revocations that can no longer matter; return (jtis, revocations)."""
    jtis = await conn.execute(PURGE_JTIS)
    revocations = await conn.execute(PURGE_REVOCATIONS)
    return int(jtis.split()[-1]), int(revocations.split()[-1])
