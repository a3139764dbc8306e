"""Row-level security on the mobility workflow (R14, defence in depth; migration 0011): the gateway's pool
works as an application role that sees only the rows of the institution it names, so a query that lost
its own institution predicate still shows a member nothing of requests it is not party to."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
from db_helpers import row_counts
from integration.auth.conftest import bearer, sync_text
from integration.mobility.mobility_helpers import create, create_body
from litestar.testing import AsyncTestClient
from oauth_helpers import MemberClient, consortium_toml

from gateway.config import Settings
from gateway.db.pool import connect_pool
from gateway.db.tenancy import ALL, APP_ROLE, work_for
from gateway.mobility import store


@pytest.fixture
def uni_c() -> MemberClient:
    return MemberClient("uni-c-registry", "uni-c.ac.uk", alg="ES256")


@pytest.fixture
async def tenants(
    database_url: str, uni_a: MemberClient, uni_b: MemberClient, reader: MemberClient, uni_c: MemberClient
) -> str:
    """The OAuth fixtures' two members, and a third that is party to nothing."""
    members = {"uni-a.ac.uk": [uni_a, reader], "uni-b.ac.uk": [uni_b], "uni-c.ac.uk": [uni_c]}
    return await sync_text(database_url, consortium_toml(members))


def _without_institution_predicates(monkeypatch: pytest.MonkeyPatch) -> None:
    """The store's reads as they would be with the BOLA bug R14 guards against: no institution predicate
    (``$1``/``$2`` still bound, so the statements keep their parameters)."""
    monkeypatch.setattr(
        store,
        "LIST_REQUESTS",
        store.LIST_REQUESTS.replace(
            "WHERE (($6::text IS NULL AND (r.home_member = $1 OR r.host_member = $1))\n"
            "       OR ($6 = 'host' AND r.host_member = $1) OR ($6 = 'home' AND r.home_member = $1))",
            "WHERE $1::text IS NOT NULL AND $6::text IS NULL",
        ),
    )
    monkeypatch.setattr(
        store, "DOCUMENT", store.DOCUMENT.replace("(home_member = $2 OR host_member = $2)", "$2::text <> ''")
    )
    monkeypatch.setattr(
        store, "LIST_EVENTS", store.LIST_EVENTS.replace("members @> ARRAY[$1]::text[]", "$1::text <> ''")
    )
    for name in ("LIST_REQUESTS", "DOCUMENT", "LIST_EVENTS"):
        assert "home_member = $" not in getattr(store, name)
        assert "members @>" not in getattr(store, name)


async def test_a_query_without_its_predicate_still_shows_nothing_of_others(
    client: AsyncTestClient[Any],
    uni_a: MemberClient,
    uni_b: MemberClient,
    uni_c: MemberClient,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = create_body()
    created = await create(client, await bearer(client, uni_b), body)
    _without_institution_predicates(monkeypatch)

    # Run as the tables' owner (not under the policies), the broken statement would hand uni-c the request.
    owner = await asyncpg.connect(database_url)
    try:
        leaked = await owner.fetch(store.LIST_REQUESTS, "uni-c.ac.uk", None, None, None, None, None, 10)
        assert [str(r["id"]) for r in leaked] == [created["id"]]
    finally:
        await owner.close()

    outsider = await bearer(client, uni_c)
    listed = await client.get("/v1/mobility-requests", headers=outsider)
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"] == []
    assert (await client.get(f"/v1/mobility-requests/{created['id']}", headers=outsider)).status_code == 404
    events = await client.get("/v1/events", headers=outsider)
    assert events.status_code == 200, events.text
    assert events.json()["items"] == []

    # The parties still see it, through the same broken statements.
    for member in (uni_a, uni_b):
        headers = await bearer(client, member)
        items = (await client.get("/v1/mobility-requests", headers=headers)).json()["items"]
        assert [r["id"] for r in items] == [created["id"]]
        one = await client.get(f"/v1/mobility-requests/{created['id']}", headers=headers)
        assert one.status_code == 200
        assert len((await client.get("/v1/events", headers=headers)).json()["items"]) == 1


async def test_the_pool_works_as_the_application_role(
    client: AsyncTestClient[Any], uni_b: MemberClient, database_url: str, settings: Settings
) -> None:
    body = create_body()
    created = await create(client, await bearer(client, uni_b), body)
    request_id = uuid.UUID(created["id"])
    pool = await connect_pool(database_url, settings)
    try:
        async with pool.acquire() as conn:
            role = await conn.fetchrow(
                "SELECT current_user AS name, rolsuper, rolbypassrls FROM pg_roles"
                " WHERE rolname = current_user"
            )
            assert (role["name"], role["rolsuper"], role["rolbypassrls"]) == (APP_ROLE, False, False)

            async def visible() -> tuple[int, ...]:
                return await row_counts(
                    conn, "mobility_requests", "mobility_items", "events", "mobility_decisions"
                )

            assert await visible() == (0, 0, 0, 0)  # no institution named yet: nothing
            await work_for(conn, "uni-c.ac.uk")
            assert await visible() == (0, 0, 0, 0)
            updated = await conn.execute(
                "UPDATE mobility_requests SET assigned_to = 'intruder' WHERE id = $1", request_id
            )
            assert updated == "UPDATE 0"
            await work_for(conn, "uni-a.ac.uk")
            assert await visible() == (1, 1, 1, 0)
            await work_for(conn, ALL)
            assert await visible() == (1, 1, 1, 0)

            # Named inside a transaction, the institution ends with it.
            await work_for(conn, "uni-c.ac.uk")
            async with conn.transaction():
                await work_for(conn, "uni-a.ac.uk")
                assert (await visible())[0] == 1
            assert (await visible())[0] == 0
    finally:
        await pool.close()
    owner = await asyncpg.connect(database_url)
    try:
        assigned = await owner.fetchval("SELECT assigned_to FROM mobility_requests WHERE id = $1", request_id)
        assert assigned is None
    finally:
        await owner.close()
