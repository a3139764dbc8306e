"""The gateway's own signing keys: generated, stored, published and rotated (R12).

Private keys live in files (mode 0600, in a 0700 directory), never in the database and never in logs;
the database holds the public halves and each key's state, so that every process publishes the same
JWKS. There are separate keys per purpose (access tokens, outbound client assertions, webhooks), each
with its own ``kid``, so a signature made for one purpose never verifies for another.

Rotation, one ``keys rotate`` at a time (a cron job runs it once per ``publish_lead``):

1. retired keys whose tokens have all expired are dropped (row and file);
2. a ``next`` key published for at least ``publish_lead`` becomes ``active``; the old active key becomes
   ``retired`` and stays published until ``retire_after`` has passed;
3. a fresh ``next`` key is generated and published, ready for the following rotation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
from joserfc.jwk import ECKey, OKPKey, RSAKey

from gateway.auth import store
from gateway.auth.jose import import_jwk
from gateway.private_files import read_private, write_private

__all__ = [
    "PURPOSES",
    "KeyRing",
    "RotationReport",
    "SigningKey",
    "ensure_active_keys",
    "generate_private_key",
    "key_algorithms",
    "load_key_ring",
    "rotate_keys",
]

PURPOSES = ("access-token", "client-assertion", "webhook")


def key_algorithms(access_token_alg: str) -> dict[str, str]:
    """Which algorithm each purpose's key uses when it is first created (R12: one key per purpose)."""
    return {"access-token": access_token_alg, "client-assertion": "ES256", "webhook": "Ed25519"}


AnyKey = OKPKey | ECKey | RSAKey


def generate_private_key(alg: str, *, kid_prefix: str = "") -> AnyKey:
    """A new private key for ``alg``; its ``kid`` is the RFC 7638 thumbprint (prefixed)."""
    key: AnyKey
    if alg in ("Ed25519", "EdDSA"):
        key = OKPKey.generate_key("Ed25519", private=True)
    elif alg == "ES256":
        key = ECKey.generate_key("P-256", private=True)
    elif alg in ("PS256", "RS256"):
        key = RSAKey.generate_key(3072, private=True)
    else:
        raise ValueError(f"unsupported signing algorithm {alg!r}")
    kid = f"{kid_prefix}{key.thumbprint()[:22]}"
    return type(key).import_key(key.as_dict(private=True, kid=kid, alg=alg))


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    purpose: str
    alg: str
    key: AnyKey


@dataclass(frozen=True, slots=True)
class KeyRing:
    """What one process knows about the gateway's keys: the signer per purpose and what it publishes."""

    signers: dict[str, SigningKey] = field(default_factory=dict)
    published: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    verifiers: dict[str, dict[str, AnyKey]] = field(default_factory=dict)

    def jwks(self, purpose: str) -> dict[str, Any]:
        return {"keys": self.published.get(purpose, [])}


def _private_path(keys_dir: Path, kid: str) -> Path:
    return keys_dir / f"{kid}.jwk.json"


def _write_private(keys_dir: Path, key: AnyKey) -> None:
    # On disk before the key's row commits (PostgreSQL fsyncs its WAL): after a power cut, no published key
    # whose private half was still only in the page cache (R33).
    write_private(_private_path(keys_dir, str(key.kid)), msgspec.json.encode(key.as_dict(private=True)))


def _read_private(keys_dir: Path, kid: str) -> AnyKey:
    return import_jwk(msgspec.json.decode(read_private(_private_path(keys_dir, kid))))


async def _create(conn: asyncpg.Connection, keys_dir: Path, purpose: str, alg: str, state: str) -> str:
    key = generate_private_key(alg, kid_prefix=f"{purpose[:2]}-")
    _write_private(keys_dir, key)  # file first: a row never points at a key that does not exist
    await store.insert_key(
        conn,
        kid=str(key.kid),
        purpose=purpose,
        alg=alg,
        public_jwk=key.as_dict(private=False, use="sig"),
        state=state,
    )
    return str(key.kid)


async def ensure_active_keys(conn: asyncpg.Connection, keys_dir: Path, algs: dict[str, str]) -> list[str]:
    """Give every purpose in ``algs`` an active key if it has none (first start); return new kids."""
    created = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", store.KEYS_LOCK_KEY)
        active = {k.purpose for k in await store.load_keys(conn) if k.state == "active"}
        for purpose, alg in algs.items():
            if purpose not in active:
                created.append(await _create(conn, keys_dir, purpose, alg, "active"))
    return created


class RotationReport(msgspec.Struct, kw_only=True):
    purpose: str
    active: str | None
    next: str | None
    retired: list[str]
    dropped: list[str]
    promoted: bool


async def rotate_keys(
    conn: asyncpg.Connection,
    keys_dir: Path,
    *,
    purpose: str,
    alg: str,
    publish_lead: dt.timedelta,
    retire_after: dt.timedelta,
    now: dt.datetime | None = None,
) -> RotationReport:
    """One rotation step for ``purpose`` (see the module docstring)."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown key purpose {purpose!r}; expected one of {', '.join(PURPOSES)}")
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", store.KEYS_LOCK_KEY)
        now = now or await conn.fetchval("SELECT now()")
        keys = [k for k in await store.load_keys(conn) if k.purpose == purpose]
        dropped = [
            k.kid
            for k in keys
            if k.state == "retired" and k.retired_at and k.retired_at + retire_after <= now
        ]
        if dropped:
            await store.delete_keys(conn, dropped)
        nxt = next((k for k in keys if k.state == "next"), None)
        active = next((k for k in keys if k.state == "active"), None)
        promoted = False
        if nxt is not None and nxt.created_at + publish_lead <= now:
            if active is not None:
                await store.set_key_state(conn, active.kid, "retired")
            await store.set_key_state(conn, nxt.kid, "active")
            active, nxt, promoted = nxt, None, True
        if active is None:
            active_kid: str | None = await _create(conn, keys_dir, purpose, alg, "active")
        else:
            active_kid = active.kid
        next_kid = nxt.kid if nxt is not None else await _create(conn, keys_dir, purpose, alg, "next")
        retired = [
            k.kid for k in await store.load_keys(conn) if k.purpose == purpose and k.state == "retired"
        ]
    for kid in dropped:
        _private_path(keys_dir, kid).unlink(missing_ok=True)
    return RotationReport(
        purpose=purpose, active=active_kid, next=next_kid, retired=retired, dropped=dropped, promoted=promoted
    )


async def load_key_ring(conn: asyncpg.Connection, keys_dir: Path, previous: KeyRing | None = None) -> KeyRing:
    """Read published keys from the database and the active private keys from ``keys_dir``."""
    rows = await store.load_keys(conn)
    known = previous.signers if previous else {}
    signers: dict[str, SigningKey] = {}
    published: dict[str, list[dict[str, Any]]] = {}
    verifiers: dict[str, dict[str, AnyKey]] = {}
    for row in rows:
        published.setdefault(row.purpose, []).append(row.public_jwk)
        verifiers.setdefault(row.purpose, {})[row.kid] = import_jwk(row.public_jwk)
        if row.state == "active":
            cached = known.get(row.purpose)
            if cached is not None and cached.kid == row.kid:
                signers[row.purpose] = cached  # no file read on every refresh
            else:
                signers[row.purpose] = SigningKey(
                    kid=row.kid, purpose=row.purpose, alg=row.alg, key=_read_private(keys_dir, row.kid)
                )
    return KeyRing(signers=signers, published=published, verifiers=verifiers)
