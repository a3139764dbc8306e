"""Checking the audit chain: recompute every hash, independently of the database's own function.

Each entry's canonical form is rebuilt here from its columns (the same JSON array ``audit_append`` hashes,
rendered as jsonb renders it), then ``sha256(prev_hash || canonical)`` is compared with the stored hash and
with the next entry's ``prev_hash``; sequence gaps and a head that is not the last entry are breaks too.
The first break is reported with its stream and sequence number.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import asyncpg
import msgspec

__all__ = ["BrokenLink", "VerifyReport", "canonical", "verify"]

_BATCH = 1000


class BrokenLink(msgspec.Struct, frozen=True, kw_only=True):
    stream: str
    seq: int
    reason: str


class VerifyReport(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    streams: int
    entries: int
    first_broken: BrokenLink | None = None


def _text(value: Any) -> str:
    # jsonb renders strings with ensure_ascii off and ", " / ": " separators, as json.dumps does here.
    return json.dumps(value, ensure_ascii=False)


def canonical(row: asyncpg.Record | dict[str, Any]) -> bytes:
    """The bytes ``audit_append`` hashed for this entry (after the previous hash)."""
    at: dt.datetime = row["at"]
    stamp = at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    learner = row["learner"]
    scalars = [
        row["stream"],
        row["seq"],
        stamp,
        row["action"],
        row["actor_institution"],
        row["actor_client"],
        row["actor_sub"],
        None if learner is None else str(learner),
        row["resource"],
        row["purpose"],
        row["outcome"],
        row["trace_id"],
    ]
    details: str = row["details_text"]
    return ("[" + ", ".join(_text(v) for v in scalars) + ", " + details + "]").encode()


async def verify(conn: asyncpg.Connection, stream: str | None = None) -> VerifyReport:
    """Walk every chain (or one ``stream``) in order; stop at the first broken link."""
    heads = {
        r["stream"]: (r["seq"], bytes(r["hash"]))
        for r in await conn.fetch(
            "SELECT stream, seq, hash FROM audit_heads WHERE $1::text IS NULL OR stream = $1", stream
        )
    }
    entries = 0
    current: str | None = None
    prev_hash = b""
    expected_seq = 1
    seen: set[str] = set()

    def end_of(name: str | None) -> BrokenLink | None:
        if name is None:
            return None
        head_seq, head_hash = heads.get(name, (0, b""))
        if head_seq != expected_seq - 1 or head_hash != prev_hash:
            return BrokenLink(stream=name, seq=expected_seq, reason="head-mismatch")
        return None

    async with conn.transaction(isolation="repeatable_read", readonly=True):
        cursor = conn.cursor(
            "SELECT stream, seq, at, action, actor_institution, actor_client, actor_sub, learner, resource,"
            " purpose, outcome, trace_id, details::text AS details_text, prev_hash, hash"
            " FROM audit_entries WHERE $1::text IS NULL OR stream = $1 ORDER BY stream, seq",
            stream,
            prefetch=_BATCH,
        )
        async for row in cursor:
            if row["stream"] != current:
                broken = end_of(current)
                if broken is not None:
                    return _report(heads, entries, broken)
                current, prev_hash, expected_seq = row["stream"], b"", 1
                seen.add(current)
            entries += 1
            broken = _check(row, prev_hash, expected_seq)
            if broken is not None:
                return _report(heads, entries, broken)
            prev_hash, expected_seq = bytes(row["hash"]), expected_seq + 1
    broken = end_of(current)
    if broken is None:
        missing = sorted(name for name, (seq, _) in heads.items() if seq > 0 and name not in seen)
        if missing:
            broken = BrokenLink(stream=missing[0], seq=1, reason="entries-missing")
    return _report(heads, entries, broken)


def _check(row: asyncpg.Record, prev_hash: bytes, expected_seq: int) -> BrokenLink | None:
    stream, seq = row["stream"], row["seq"]
    if seq != expected_seq:
        return BrokenLink(stream=stream, seq=expected_seq, reason="sequence-gap")
    if bytes(row["prev_hash"]) != prev_hash:
        return BrokenLink(stream=stream, seq=seq, reason="prev-hash-mismatch")
    if hashlib.sha256(prev_hash + canonical(row)).digest() != bytes(row["hash"]):
        return BrokenLink(stream=stream, seq=seq, reason="hash-mismatch")
    return None


def _report(heads: dict[str, tuple[int, bytes]], entries: int, broken: BrokenLink | None) -> VerifyReport:
    return VerifyReport(ok=broken is None, streams=len(heads), entries=entries, first_broken=broken)
