"""Decisions about the consortium registry: syncing the declared file, reading the directory."""

from __future__ import annotations

import base64
import binascii

import asyncpg

from contracts.errors import InvalidRequest, NotFound
from contracts.members import MemberPage, MemberProfile
from gateway.members import store
from gateway.members.models import ConsortiumFile, SyncReport

__all__ = ["decode_cursor", "get_member_profile", "list_members", "sync_consortium"]


async def sync_consortium(
    conn: asyncpg.Connection, file: ConsortiumFile, *, prune: bool = False
) -> SyncReport:
    """Make the registry match the file, in one transaction: all members are written, or none.

    Members the file no longer names are reported as ``absent``; with ``prune`` they are also marked
    ``withdrawn`` (never deleted: decisions and audit rows keep referring to them).
    """
    declared = [e.id for e in file.members]
    async with conn.transaction():
        created, updated = await store.upsert_members(conn, file.members)
        clients_written = await store.upsert_clients(conn, file.members)
        clients_disabled = await store.disable_absent_clients(conn, file.members)
        absent = sorted(set(await store.member_ids(conn)) - set(declared))
        withdrawn = await store.withdraw_members(conn, absent) if prune else []
    touched = set(created) | set(updated)
    return SyncReport(
        consortium=file.consortium.id,
        created=created,
        updated=updated,
        unchanged=sorted(set(declared) - touched),
        absent=absent,
        withdrawn=withdrawn,
        clients_written=clients_written,
        clients_disabled=clients_disabled,
    )


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest(
            "the cursor is not one this API returned", field="cursor", expected="a next_cursor value"
        ) from exc


async def list_members(
    conn: asyncpg.Connection, *, cursor: str | None, status: str | None, limit: int
) -> MemberPage:
    after = decode_cursor(cursor)
    items = await store.list_member_profiles(conn, after=after, status=status, limit=limit + 1)
    if len(items) > limit:
        return MemberPage(items=items[:limit], next_cursor=encode_cursor(items[limit - 1].id))
    return MemberPage(items=items)


async def get_member_profile(conn: asyncpg.Connection, member_id: str) -> MemberProfile:
    member = await store.get_member(conn, member_id)
    if member is None:
        raise NotFound(f"no member with id {member_id!r}", field="id")
    return member.profile()
