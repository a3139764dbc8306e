"""Syncing a consortium file into PostgreSQL: atomic, idempotent, and loud about bad files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg

from gateway.members.consortium_file import load_consortium_file, parse_consortium
from gateway.members.service import sync_consortium


async def _snapshot(conn: asyncpg.Connection) -> list[tuple[object, ...]]:
    rows = await conn.fetch("SELECT * FROM members ORDER BY id")
    return [tuple(r.values()) for r in rows]


async def test_sync_creates_then_changes_nothing(
    conn: asyncpg.Connection, demo_consortium_file: Path
) -> None:
    file = load_consortium_file(demo_consortium_file)
    first = await sync_consortium(conn, file)
    assert sorted(first.created) == sorted(m.id for m in file.members)
    assert first.updated == []
    assert first.unchanged == []
    before = await _snapshot(conn)

    second = await sync_consortium(conn, file)
    assert second.created == []
    assert second.updated == []
    assert sorted(second.unchanged) == sorted(m.id for m in file.members)
    assert await _snapshot(conn) == before  # not even updated_at moved


async def test_sync_updates_only_what_changed(conn: asyncpg.Connection, demo_consortium_file: Path) -> None:
    text = demo_consortium_file.read_text()
    await sync_consortium(conn, parse_consortium(text))
    changed = text.replace('name = "Lakeside Community College"', 'name = "Lakeside College"')
    report = await sync_consortium(conn, parse_consortium(changed))
    assert report.updated == ["lakeside-college.edu"]
    assert report.created == []
    assert (
        await conn.fetchval("SELECT name FROM members WHERE id = 'lakeside-college.edu'")
        == "Lakeside College"
    )


async def test_absent_members_are_reported_and_pruned_only_on_request(
    conn: asyncpg.Connection, demo_consortium_file: Path
) -> None:
    await sync_consortium(conn, load_consortium_file(demo_consortium_file))
    smaller = parse_consortium(
        '[consortium]\nid = "demo-consortium"\nname = "Demo"\n'
        '[[members]]\nid = "uni-avalon.ac.uk"\nname = "University of Avalon"\ncountry = "GB"\n'
        'framework = "uk-fheq"\nconnector = { id = "ooapi" }\n'
    )
    report = await sync_consortium(conn, smaller)
    assert "uni-rheinland.de" in report.absent
    assert report.withdrawn == []
    assert await conn.fetchval("SELECT status FROM members WHERE id = 'uni-rheinland.de'") == "active"

    pruned = await sync_consortium(conn, smaller, prune=True)
    assert sorted(pruned.withdrawn) == sorted(pruned.absent)
    assert await conn.fetchval("SELECT status FROM members WHERE id = 'uni-rheinland.de'") == "withdrawn"


def _cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_cli_bad_file_writes_nothing_and_names_the_field(
    conn: asyncpg.Connection, database_url: str, demo_consortium_file: Path, tmp_path: Path
) -> None:
    ok = _cli("members", "sync", str(demo_consortium_file), database_url=database_url)
    assert ok.returncode == 0, ok.stderr
    before = await _snapshot(conn)

    # The first member changes (a write would show), the third is broken: nothing may be written.
    bad = demo_consortium_file.read_text()
    bad = bad.replace('name = "University of Avalon"', 'name = "Avalon University"')
    bad = bad.replace('country = "DE"', 'country = "Germany"')
    path = tmp_path / "bad.toml"
    path.write_text(bad)
    result = _cli("members", "sync", str(path), database_url=database_url)
    assert result.returncode == 2
    assert "uni-rheinland.de" in result.stderr
    assert "members[2].country" in result.stderr
    assert await _snapshot(conn) == before


async def test_cli_sync_prints_report(database_url: str, demo_consortium_file: Path) -> None:
    result = _cli("members", "sync", str(demo_consortium_file), database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert '"consortium": "demo-consortium"' in result.stdout
    assert "uni-caledonia.ac.uk" in result.stdout
