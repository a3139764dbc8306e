"""The audit log: chains that verify, concurrent appends without gaps, append-only, tampering found."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid

import asyncpg
import pytest

from gateway.audit import AuditEntry, append, entry_params, first_entry_sql, verify
from gateway.cli import main


def entry(stream: str, n: int, **extra: object) -> AuditEntry:
    fields: dict[str, object] = {
        "stream": stream,
        "action": "mobility.transition",
        "institution": "uni-avalon.ac.uk",
        "client_id": "avalon-registry",
        "resource": f"mobility-requests/{stream}",
        "outcome": "ok",
        "details": {"to": "under_review", "n": n, "note": "réexamen"},
    }
    fields.update(extra)
    return AuditEntry(**fields)  # type: ignore[arg-type]


async def test_entries_chain_per_stream_and_verify(conn: asyncpg.Connection) -> None:
    learner = uuid.uuid4()
    for n in range(3):
        assert await append(conn, entry("a", n)) == n + 1
    assert await append(conn, entry("b", 0, learner=learner, purpose="credit-transfer", sub="r1")) == 1
    report = await verify(conn)
    assert report.ok, report
    assert (report.streams, report.entries) == (2, 4)
    rows = await conn.fetch("SELECT seq, prev_hash, hash FROM audit_entries WHERE stream = 'a' ORDER BY seq")
    assert bytes(rows[0]["prev_hash"]) == b""
    assert [bytes(r["prev_hash"]) for r in rows[1:]] == [bytes(r["hash"]) for r in rows[:-1]]
    assert await conn.fetchval("SELECT learner FROM audit_entries WHERE stream = 'b'") == learner


async def test_concurrent_appends_to_one_stream_leave_no_gap(database_url: str) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=10, max_size=10)
    try:

        async def one(n: int) -> int:
            async with pool.acquire() as c, c.transaction():
                return await append(c, entry("hot", n))

        seqs = await asyncio.gather(*(one(n) for n in range(60)))
        assert sorted(seqs) == list(range(1, 61))
        async with pool.acquire() as c:
            report = await verify(c, "hot")
        assert report.ok
        assert report.entries == 60
    finally:
        await pool.close()


@pytest.mark.parametrize("first_commits", [True, False])
async def test_two_writers_starting_one_stream_chain_in_order(database_url: str, first_commits: bool) -> None:
    """The second writer's head insert waits for the first; it then appends after it (or starts the stream
    itself if the first rolled back)."""
    first, second = await asyncpg.connect(database_url), await asyncpg.connect(database_url)
    try:
        opened = first.transaction()
        await opened.start()
        assert await append(first, entry("fresh", 0)) == 1
        async with second.transaction():
            waiting = asyncio.create_task(append(second, entry("fresh", 1)))
            await asyncio.sleep(0.3)
            assert not waiting.done()  # blocked on the first writer's uncommitted head
            await (opened.commit() if first_commits else opened.rollback())
            assert await waiting == (2 if first_commits else 1)
        report = await verify(second, "fresh")
        assert report.ok, report
        assert report.entries == (2 if first_commits else 1)
    finally:
        await first.close()
        await second.close()


async def test_a_rolled_back_append_leaves_nothing(conn: asyncpg.Connection) -> None:
    async def failing_change() -> None:
        async with conn.transaction():
            await append(conn, entry("r", 0))
            raise RuntimeError("the business change failed")

    with pytest.raises(RuntimeError):
        await failing_change()
    assert await conn.fetchval("SELECT count(*) FROM audit_entries") == 0
    assert await append(conn, entry("r", 1)) == 1
    assert (await verify(conn)).ok


def _first_entry_statement() -> str:
    # A writer's statement: a business row in ``go`` (here: one row when $1 is true), then the stream's start.
    return f"""
WITH go AS (SELECT 1 AS one WHERE $1::boolean), {first_entry_sql(entry_params(3), "$2::timestamptz", "go")}
SELECT (SELECT count(*) FROM audit) AS written
"""  # noqa: S608


async def test_a_stream_started_inside_a_statement_verifies_and_chains_on(conn: asyncpg.Connection) -> None:
    at = dt.datetime(2026, 11, 23, 9, 30, 15, 123456, tzinfo=dt.UTC)
    started = entry(
        "in-statement", 0, learner=uuid.uuid4(), purpose="credit-transfer", sub="r1", trace_id="ab" * 16
    )
    assert await conn.fetchval(_first_entry_statement(), True, at, *started.args()) == 1
    row = await conn.fetchrow("SELECT * FROM audit_entries WHERE stream = 'in-statement'")
    # Stored at millisecond precision, as audit_append stores its entries.
    assert (row["seq"], row["at"], bytes(row["prev_hash"])) == (1, at.replace(microsecond=123000), b"")
    assert json.loads(row["details"]) == {"to": "under_review", "n": 0, "note": "réexamen"}
    head = await conn.fetchrow("SELECT seq, hash FROM audit_heads WHERE stream = 'in-statement'")
    assert (head["seq"], bytes(head["hash"])) == (1, bytes(row["hash"]))
    report = await verify(conn)  # every hash recomputed independently, in Python
    assert report.ok, report
    assert report.entries == 1
    # audit_append goes on from it.
    assert await append(conn, entry("in-statement", 1)) == 2
    report = await verify(conn, "in-statement")
    assert report.ok, report
    assert report.entries == 2


async def test_a_batch_statement_starts_a_stream_per_row_and_each_verifies(conn: asyncpg.Connection) -> None:
    # A batch writer passes one array per field and starts one stream for each row it writes.
    entries = [entry(f"batch-{i}", i, learner=uuid.uuid4() if i else None) for i in range(3)]
    columns = list(zip(*(e.args() for e in entries), strict=True))
    names = ["stream", "action", "inst", "client", "sub", "learner", "resource", "purpose", "outcome"]
    names += ["trace", "details"]
    types = ["text"] * 5 + ["uuid"] + ["text"] * 5
    arrays = ", ".join(f"${i + 2}::{t}[]" for i, t in enumerate(types))
    statement = f"""
WITH go AS (SELECT * FROM unnest({arrays}) AS g({", ".join(names)}) WHERE g.stream <> 'batch-1'),
{first_entry_sql([f"go.{n}" for n in names], "$1::timestamptz", "go")}
SELECT array_agg(stream ORDER BY stream) FROM audit
"""  # noqa: S608
    at = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
    assert await conn.fetchval(statement, at, *(list(c) for c in columns)) == ["batch-0", "batch-2"]
    rows = await conn.fetch("SELECT stream, seq, learner FROM audit_entries ORDER BY stream")
    assert [(r["stream"], r["seq"], r["learner"]) for r in rows] == [
        ("batch-0", 1, None),
        ("batch-2", 1, entries[2].learner),
    ]
    report = await verify(conn)
    assert report.ok, report
    assert report.entries == 2


async def test_a_statement_that_writes_nothing_starts_no_stream(conn: asyncpg.Connection) -> None:
    written = await conn.fetchval(
        _first_entry_statement(), False, dt.datetime.now(dt.UTC), *entry("no", 0).args()
    )
    assert written == 0
    assert await conn.fetchval("SELECT count(*) FROM audit_heads") == 0


async def test_starting_a_stream_that_exists_fails_and_forks_nothing(conn: asyncpg.Connection) -> None:
    assert await append(conn, entry("taken", 0)) == 1
    with pytest.raises(asyncpg.UniqueViolationError):
        await conn.fetchval(
            _first_entry_statement(), True, dt.datetime.now(dt.UTC), *entry("taken", 1).args()
        )
    assert await conn.fetchval("SELECT count(*) FROM audit_entries WHERE stream = 'taken'") == 1
    assert (await verify(conn, "taken")).ok


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_entries SET outcome = 'denied'",
        "DELETE FROM audit_entries",
        "TRUNCATE audit_entries",
    ],
)
async def test_entries_are_append_only(conn: asyncpg.Connection, sql: str) -> None:
    await append(conn, entry("a", 0))
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await conn.execute(sql)
    assert await conn.fetchval("SELECT count(*) FROM audit_entries") == 1


async def _tamper(conn: asyncpg.Connection, sql: str) -> None:
    """What an attacker with the table owner's rights could do: switch the guard off and edit."""
    await conn.execute("ALTER TABLE audit_entries DISABLE TRIGGER USER")
    await conn.execute(sql)
    await conn.execute("ALTER TABLE audit_entries ENABLE TRIGGER USER")


@pytest.mark.parametrize(
    ("sql", "seq", "reason"),
    [
        ("UPDATE audit_entries SET outcome = 'denied' WHERE seq = 3", 3, "hash-mismatch"),
        ('UPDATE audit_entries SET details = \'{"to": "approved"}\' WHERE seq = 2', 2, "hash-mismatch"),
        ("UPDATE audit_entries SET at = at + interval '1 second' WHERE seq = 4", 4, "hash-mismatch"),
        (
            "UPDATE audit_entries SET hash = set_byte(hash, 0, get_byte(hash, 0) # 1) WHERE seq = 2",
            2,
            "hash-mismatch",
        ),
        ("DELETE FROM audit_entries WHERE seq = 3", 3, "sequence-gap"),
        ("DELETE FROM audit_entries WHERE seq = 5", 5, "head-mismatch"),
    ],
)
async def test_tampering_is_reported_at_the_first_broken_link(
    conn: asyncpg.Connection, sql: str, seq: int, reason: str
) -> None:
    for n in range(5):
        await append(conn, entry("m", n))
    await append(conn, entry("z", 0))
    await _tamper(conn, sql)
    report = await verify(conn)
    assert not report.ok
    assert report.first_broken is not None
    assert (report.first_broken.stream, report.first_broken.seq, report.first_broken.reason) == (
        "m",
        seq,
        reason,
    )


async def test_a_stream_whose_entries_all_vanished_is_reported(conn: asyncpg.Connection) -> None:
    await append(conn, entry("gone", 0))
    await _tamper(conn, "DELETE FROM audit_entries")
    report = await verify(conn)
    assert report.first_broken is not None
    assert report.first_broken.reason == "entries-missing"


async def test_cli_exit_code_follows_the_chain(
    conn: asyncpg.Connection,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    await append(conn, entry("c", 0))
    await append(conn, entry("c", 1))
    assert await asyncio.to_thread(main, ["audit", "verify"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    await _tamper(conn, "UPDATE audit_entries SET action = 'x' WHERE seq = 1")
    assert await asyncio.to_thread(main, ["audit", "verify", "--stream", "c"]) == 3
    assert json.loads(capsys.readouterr().out)["first_broken"] == {
        "stream": "c",
        "seq": 1,
        "reason": "hash-mismatch",
    }
