"""Migrations: applied once, recorded, safe under concurrency, and strict about edited files."""

from __future__ import annotations

import asyncio
import os
import sys

import asyncpg
import pytest

from gateway.db.migrate import Migration, MigrationError, applied_versions, available, migrate


async def test_fresh_database_gets_every_migration_recorded(empty_database_url: str) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        applied = await migrate(conn)
        assert [m.version for m in applied] == [m.version for m in available()]
        recorded = await applied_versions(conn)
        assert recorded == {m.version: m.checksum for m in available()}
        assert await conn.fetchval("SELECT to_regclass('members') IS NOT NULL")
        assert await migrate(conn) == []  # a second run is a no-op
    finally:
        await conn.close()


async def test_two_concurrent_migrate_runs_end_with_one_applied_set(empty_database_url: str) -> None:
    conns = [await asyncpg.connect(empty_database_url) for _ in range(2)]
    try:
        results = await asyncio.gather(*(migrate(c) for c in conns))
        # Exactly one of the runs applied the migrations; the other found nothing to do.
        assert sorted(len(r) for r in results) == [0, len(available())]
        count = await conns[0].fetchval("SELECT count(*) FROM schema_migrations")
        assert count == len(available())
    finally:
        for c in conns:
            await c.close()


async def test_concurrent_cli_migrate_processes(empty_database_url: str) -> None:
    """Two real processes, as two gateway replicas starting at once would be."""
    env = {**os.environ, "DATABASE_URL": empty_database_url}
    procs = [
        await asyncio.create_subprocess_exec(
            *_cli(), "migrate", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        for _ in range(2)
    ]
    outputs = await asyncio.gather(*(p.communicate() for p in procs))
    assert [p.returncode for p in procs] == [0, 0], outputs
    conn = await asyncpg.connect(empty_database_url)
    try:
        rows = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in rows] == [m.version for m in available()]
    finally:
        await conn.close()


async def test_edited_applied_migration_is_refused(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        first = available()[0]
        edited = Migration(first.version, first.name, first.sql + "\n-- edited")
        with pytest.raises(MigrationError, match="edited after it was applied"):
            await migrate(conn, [edited])
    finally:
        await conn.close()


async def test_failed_migration_leaves_nothing_behind(empty_database_url: str) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        broken = [
            Migration(1, "good", "CREATE TABLE a (id int)"),
            Migration(2, "bad", "CREATE TABLE b (id nonexistent_type)"),
        ]
        with pytest.raises(asyncpg.PostgresError):
            await migrate(conn, broken)
        assert await conn.fetchval("SELECT to_regclass('a') IS NULL")
        assert await applied_versions(conn) == {}
    finally:
        await conn.close()


def _cli() -> list[str]:
    return [sys.executable, "-m", "gateway.cli"]
