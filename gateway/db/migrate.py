"""Versioned SQL migrations, applied under an advisory lock and recorded in ``schema_migrations``.

Why our own (about 100 lines) rather than a tool: the maintained Python migration tools either need
SQLAlchemy (alembic) or a synchronous driver (yoyo, caribou), and dbmate/sqitch are not Python packages.
What we need is small: ordered ``NNNN_name.sql`` files, each applied once, in a transaction, with a checksum
so an edited, already-applied file is caught rather than silently skipped.

Two processes starting at once both take ``pg_advisory_xact_lock``; the second waits, then finds nothing
left to apply. PostgreSQL DDL is transactional, so a failed migration leaves no half-applied schema.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

__all__ = ["MIGRATION_LOCK_KEY", "Migration", "MigrationError", "applied_versions", "available", "migrate"]

# An arbitrary, fixed 64-bit key ("cgw-migr" in ASCII) that no other advisory lock of ours uses.
MIGRATION_LOCK_KEY = int.from_bytes(b"cgw-migr", "big") - (1 << 63)

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    """The migration files and the database disagree."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available() -> list[Migration]:
    """The migrations shipped with this version of the gateway, in order."""
    found = []
    for entry in resources.files("gateway.db").joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration versions: {versions}")
    return found


_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    int PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""


async def applied_versions(conn: asyncpg.Connection) -> dict[int, str]:
    """Applied version -> checksum; empty when the table does not exist yet."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return {}
    rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
    return {r["version"]: r["checksum"] for r in rows}


async def migrate(conn: asyncpg.Connection, migrations: list[Migration] | None = None) -> list[Migration]:
    """Apply every pending migration in one transaction; return those applied (empty when current)."""
    migrations = available() if migrations is None else migrations
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
        await conn.execute(_CREATE_TABLE)
        applied = await applied_versions(conn)
        pending = []
        for m in migrations:
            if m.version not in applied:
                pending.append(m)
            elif applied[m.version] != m.checksum:
                raise MigrationError(
                    f"migration {m.version:04d}_{m.name} was edited after it was applied "
                    "(checksum differs); add a new migration instead"
                )
        for m in pending:
            await conn.execute(m.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                m.version,
                m.name,
                m.checksum,
            )
    return pending
