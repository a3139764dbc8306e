"""Row-level security on the learner tables (R14, defence in depth; migration 0012): as the application
role, a member's connection sees the learners it has linked, its own links and those learners' consents,
and nothing without an institution named; a statement that lost its member predicate shows it nothing of
another member's. And the role may only append to the audit entries, consents and withdrawals (migration
0013)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
import pytest
from integration.auth.conftest import bearer
from litestar.testing import AsyncTestClient
from oauth_helpers import MemberClient

from adapters.connectors.sandbox import esi_urn
from contracts.learners import parse_learner_ref
from gateway.config import Settings
from gateway.db.pool import connect_pool
from gateway.db.tenancy import ALL, work_for
from gateway.learners import store

A, B, C = "uni-a.ac.uk", "uni-b.ac.uk", "uni-c.ac.uk"
SHARED = esi_urn(A, "shared-1")  # linked at A and at B
ONLY_A = esi_urn(A, "only-a-2")


def _stored(ref: str) -> str:
    return parse_learner_ref(ref).value  # as the learners table holds it (normalised)


async def _link(client: AsyncTestClient[Any], headers: dict[str, str], ref: str, local_id: str) -> None:
    response = await client.put(f"/v1/learners/{ref}/link", json={"local_id": local_id}, headers=headers)
    assert response.status_code == 201, response.text


async def _consent(client: AsyncTestClient[Any], headers: dict[str, str], ref: str, recipient: str) -> str:
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
    body = {
        "recipient": recipient,
        "purpose": "credit-transfer",
        "valid_until": until,
        "consent_text_version": "v1",
    }
    response = await client.post(f"/v1/learners/{ref}/consents", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.fixture
async def linked(client: AsyncTestClient[Any], uni_a: MemberClient, uni_b: MemberClient) -> dict[str, str]:
    """A links both learners and records a consent for each; B links the shared learner (the same one: its
    link finds the learner A enrolled, which B could not see before) and records one consent."""
    a, b = await bearer(client, uni_a), await bearer(client, uni_b)
    await _link(client, a, SHARED, "a-local-1")
    await _link(client, a, ONLY_A, "a-local-2")
    await _link(client, b, SHARED, "b-local-1")
    return {
        "a_shared": await _consent(client, a, SHARED, B),
        "a_only": await _consent(client, a, ONLY_A, B),
        "b_shared": await _consent(client, b, SHARED, A),
    }


async def test_each_member_sees_its_learners_links_and_their_consents(
    linked: dict[str, str], database_url: str, settings: Settings
) -> None:
    pool = await connect_pool(database_url, settings)
    try:
        async with pool.acquire() as conn:

            async def visible() -> tuple[list[str], list[tuple[str, str]], list[str], int]:
                learners = await conn.fetch("SELECT * FROM learners ORDER BY ref")
                links = await conn.fetch("SELECT * FROM learner_links ORDER BY member_id, local_id")
                consents = await conn.fetch("SELECT * FROM learner_consents")
                withdrawals = await conn.fetchval("SELECT count(*) FROM learner_consent_withdrawals")
                return (
                    [r["ref"] for r in learners],
                    [(r["member_id"], r["local_id"]) for r in links],
                    sorted(str(r["id"]) for r in consents),
                    withdrawals,
                )

            assert await visible() == ([], [], [], 0)  # no institution named: nothing
            await work_for(conn, A)
            assert await visible() == (
                sorted([_stored(SHARED), _stored(ONLY_A)]),
                [(A, "a-local-1"), (A, "a-local-2")],
                sorted(linked.values()),  # every consent of both its learners, B's too
                0,
            )
            await work_for(conn, B)
            assert await visible() == (
                [_stored(SHARED)],
                [(B, "b-local-1")],
                sorted([linked["a_shared"], linked["b_shared"]]),
                0,
            )
            await work_for(conn, C)
            assert await visible() == ([], [], [], 0)
            moved = await conn.execute("UPDATE learner_links SET local_id = 'stolen' WHERE member_id = $1", A)
            assert moved == "UPDATE 0"
            with pytest.raises(asyncpg.InsufficientPrivilegeError):  # a link for another member
                await conn.execute(
                    "INSERT INTO learner_links (learner, member_id, local_id, created_by)"
                    " SELECT gateway_enrol_learner(gen_random_uuid(), $1, 'esi'), $2, 'forged', 'c'",
                    ONLY_A,
                    A,
                )
            await work_for(conn, ALL)
            everything = await visible()
            assert (len(everything[0]), len(everything[1]), len(everything[2])) == (2, 3, 3)
    finally:
        await pool.close()
    owner = await asyncpg.connect(database_url)
    try:
        local_ids = await owner.fetch("SELECT local_id FROM learner_links ORDER BY local_id")
        assert [r["local_id"] for r in local_ids] == ["a-local-1", "a-local-2", "b-local-1"]
    finally:
        await owner.close()


async def test_a_link_read_without_its_member_predicate_still_shows_only_the_callers(
    linked: dict[str, str],
    client: AsyncTestClient[Any],
    uni_b: MemberClient,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``GET_LINK`` as it would be with the BOLA bug R14 guards against: the learner's links at every
    member, the caller's first only by chance."""
    broken = store.GET_LINK.replace(
        "WHERE learner = $1 AND member_id = $2", "WHERE learner = $1 AND $2::text <> '' ORDER BY member_id"
    )
    assert "member_id = $2" not in broken
    monkeypatch.setattr(store, "GET_LINK", broken)

    owner = await asyncpg.connect(database_url)
    try:  # as the tables' owner (not under the policies), B would be handed A's local id
        learner = await owner.fetchval("SELECT id FROM learners WHERE ref = $1", _stored(SHARED))
        assert (await owner.fetchrow(broken, learner, B))["local_id"] == "a-local-1"
    finally:
        await owner.close()

    b = await bearer(client, uni_b)
    mine = await client.get(f"/v1/learners/{SHARED}/link", headers=b)
    assert mine.status_code == 200, mine.text
    assert mine.json()["local_id"] == "b-local-1"
    other = await client.get(f"/v1/learners/{ONLY_A}/link", headers=b)
    assert other.status_code == 404, other.text
    assert "a-local-2" not in other.text


async def test_consents_of_a_learner_the_member_has_not_linked_stay_hidden(
    linked: dict[str, str],
    client: AsyncTestClient[Any],
    uni_b: MemberClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the service's own "has this member linked the learner" check gone, B still reads no consent of
    the learner only A linked: the learner, and so their consents, are not visible to B's connection."""

    async def linked_anywhere(conn: asyncpg.Connection, learner: Any, member: str) -> bool:
        return True

    monkeypatch.setattr(store, "link_of", linked_anywhere)
    b = await bearer(client, uni_b)
    response = await client.get(f"/v1/learners/{ONLY_A}/consents", headers=b)
    assert response.status_code == 403, response.text
    assert response.json()["type"].endswith("learner-not-linked")
    shared = await client.get(f"/v1/learners/{SHARED}/consents", headers=b)
    assert shared.status_code == 200, shared.text
    assert sorted(c["id"] for c in shared.json()["items"]) == sorted([linked["a_shared"], linked["b_shared"]])


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_entries SET outcome = 'denied'",
        "DELETE FROM audit_entries",
        "TRUNCATE audit_entries",
        "UPDATE learner_consents SET purpose = 'admission'",
        "DELETE FROM learner_consents",
        "UPDATE learner_consent_withdrawals SET withdrawn_by_member = 'x'",
        "DELETE FROM learner_consent_withdrawals",
    ],
)
async def test_the_application_role_may_only_append_to_the_records(
    linked: dict[str, str], database_url: str, settings: Settings, sql: str
) -> None:
    """R21/R22: refused by privilege (whatever the triggers do), even working for every member."""
    pool = await connect_pool(database_url, settings)
    try:
        async with pool.acquire() as conn:
            await work_for(conn, ALL)
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await conn.execute(sql)
    finally:
        await pool.close()
