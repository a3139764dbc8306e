"""R31 race, run 100 times: two registrars of the host decide the same request with the same ETag at the
same moment. Exactly one wins (200), the other gets 412; the request ends with the winner's outcome, and
there is exactly one audit entry and one event for the decision."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from integration.auth.conftest import bearer
from integration.mobility.mobility_helpers import act, approve_all, create, create_body
from litestar.testing import AsyncTestClient
from oauth_helpers import MemberClient

from gateway.audit import verify

RUNS = 100


def _reject(body: dict[str, Any], registrar: str) -> dict[str, Any]:
    items = [
        {"credential_id": i["credential_id"], "decision": "refused", "reason": "level"} for i in body["items"]
    ]
    return {"registrar": registrar, "outcome": "rejected", "items": items}


async def test_two_registrars_one_decision(
    client: AsyncTestClient[Any], uni_a: MemberClient, uni_b: MemberClient, database_url: str
) -> None:
    home, host = await bearer(client, uni_b), await bearer(client, uni_a)
    body = create_body()
    conn = await asyncpg.connect(database_url)
    wins = {"reg-approve": 0, "reg-reject": 0}
    try:
        for _ in range(RUNS):
            rid = (await create(client, home, body))["id"]
            assert (await act(client, host, rid, "review", {"registrar": "reg-0"}, 1)).status_code == 200
            approve, reject = await asyncio.gather(
                act(client, host, rid, "decision", approve_all(body, "reg-approve"), 2),
                act(client, host, rid, "decision", _reject(body, "reg-reject"), 2),
            )
            assert sorted([approve.status_code, reject.status_code]) == [200, 412], (
                approve.text,
                reject.text,
            )
            winner = approve if approve.status_code == 200 else reject
            loser = reject if winner is approve else approve
            assert loser.json()["type"] == "urn:consortium-gateway:problem:precondition-failed"
            assert loser.json()["expected"] == '"v3"'
            wins[winner.json()["decisions"][0]["decided_by"]["registrar"]] += 1

            row = await conn.fetchrow(
                "SELECT state, outcome, version FROM mobility_requests WHERE id = $1", rid
            )
            assert (row["state"], row["outcome"], row["version"]) == ("decided", winner.json()["outcome"], 3)
            stream = f"mobility:{rid}"
            decisions = await conn.fetch(
                "SELECT actor_sub FROM audit_entries WHERE stream = $1 AND action = 'mobility.decide'", stream
            )
            assert [d["actor_sub"] for d in decisions] == [
                winner.json()["decisions"][0]["decided_by"]["registrar"]
            ]
            assert (
                await conn.fetchval(
                    "SELECT count(*) FROM events WHERE payload->>'request_id' = $1"
                    " AND type = 'mobility_request.decided'",
                    rid,
                )
                == 1
            )
            assert (
                await conn.fetchval("SELECT count(*) FROM mobility_decisions WHERE request_id = $1", rid) == 1
            )
            assert (await verify(conn, stream)).ok
    finally:
        await conn.close()
    assert sum(wins.values()) == RUNS
