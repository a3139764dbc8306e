"""Decisions about the consortium registry: syncing the declared file, reading the directory."""

from __future__ import annotations

import asyncpg

from contracts.errors import NotFound
from contracts.members import MemberPage, MemberProfile
from gateway.members import store
from gateway.members.models import ConsortiumFile, SyncReport
from gateway.pagination import decode_cursor, split_page

__all__ = ["get_member_profile", "list_members", "sync_consortium"]


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


async def list_members(
    conn: asyncpg.Connection, *, cursor: str | None, status: str | None, limit: int
) -> MemberPage:
    rows = await store.list_member_profiles(conn, after=decode_cursor(cursor), status=status, limit=limit + 1)
    items, next_cursor = split_page(rows, limit, lambda m: m.id)
    return MemberPage(items=items, next_cursor=next_cursor)


async def get_member_profile(conn: asyncpg.Connection, member_id: str) -> MemberProfile:
    member = await store.get_member(conn, member_id)
    if member is None:
        raise NotFound(f"no member with id {member_id!r}", field="id")
    return member.profile()
