"""Mobility requests over HTTP: the workflow end to end, conditional changes (R31), idempotency keys (R29),
the queue view, events, audit entries, and two-tenant isolation (R14)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import asyncpg
from integration.auth.conftest import bearer
from litestar.testing import AsyncTestClient
from mobility_helpers import (
    HOME,
    HOST,
    PSEUDONYM,
    act,
    approve_all,
    create,
    create_body,
    key,
)
from oauth_helpers import MemberClient, consortium_toml

from gateway.audit import verify
from gateway.members.consortium_file import parse_consortium
from gateway.members.service import sync_consortium

PROBLEM = "urn:consortium-gateway:problem:"


async def test_request_from_submission_to_closure(
    client: AsyncTestClient[Any], uni_a: MemberClient, uni_b: MemberClient, database_url: str
) -> None:
    home, host = await bearer(client, uni_b), await bearer(client, uni_a)
    body = create_body(2, learner=PSEUDONYM)
    created = await create(client, home, body)
    rid = created["id"]
    assert created["state"] == "submitted"
    assert created["version"] == 1
    # Every item was pre-evaluated for the host, with the explanation attached (same framework: 20 credits).
    assert [i["evaluation"]["status"] for i in created["items"]] == ["not_recognised", "not_recognised"]
    assert created["items"][0]["evaluation"]["explanation"]["rules"]
    assert created["items"][1]["record"]["id"] == "uni-b.ac.uk:mc-2"
    due = dt.datetime.fromisoformat(created["due_at"])
    assert due - dt.datetime.fromisoformat(created["created_at"]) == dt.timedelta(days=20)

    fetched = await client.get(f"/v1/mobility-requests/{rid}", headers=host)
    assert fetched.status_code == 200
    assert fetched.headers["etag"] == '"v1"'

    review = await act(client, host, rid, "review", {"registrar": "reg-7"}, 1)
    assert review.status_code == 200, review.text
    assert review.json()["assigned_to"] == "reg-7"  # starting the review claims it
    asked = await act(client, host, rid, "info-request", {"registrar": "reg-7", "note": "syllabus?"}, 2)
    assert asked.json()["state"] == "info_requested"
    answered = await act(client, home, rid, "info-response", {"registrar": "adm-1", "note": "attached"}, 3)
    assert answered.status_code == 200, answered.text
    assert answered.json()["state"] == "under_review"
    moved = await act(client, host, rid, "assignment", {"registrar": "reg-7", "assign_to": "reg-9"}, 4)
    assert moved.json()["assigned_to"] == "reg-9"

    decision = {
        "registrar": "reg-9",
        "outcome": "partially_approved",
        "items": [
            {
                "credential_id": "uni-b.ac.uk:mc-1",
                "decision": "granted",
                "credits": {"amount": 20, "unit": "uk-credit", "framework": "uk-fheq"},
                "level": {"framework": "uk-fheq", "code": "6"},
            },
            {"credential_id": "uni-b.ac.uk:mc-2", "decision": "refused", "reason": "currency", "note": "old"},
        ],
    }
    decided = await act(client, host, rid, "decision", decision, 5)
    assert decided.status_code == 200, decided.text
    result = decided.json()
    assert result["state"] == "decided"
    assert result["outcome"] == "partially_approved"
    assert result["decisions"][0]["items"][1]["reason"] == "currency"
    assert "due_at" not in result
    assert result["appeal_until"]

    appealed = await act(client, home, rid, "appeal", {"registrar": "adm-1", "note": "it is current"}, 6)
    assert appealed.json()["state"] == "appealed"
    assert appealed.json()["round"] == 2
    again = await act(client, home, rid, "appeal", {"registrar": "adm-1", "note": "again"}, 7)
    assert again.status_code == 409
    assert again.json()["type"] == PROBLEM + "illegal-transition"
    await act(client, host, rid, "review", {"registrar": "reg-9"}, 7)
    final = await act(client, host, rid, "decision", approve_all(body, "reg-9"), 8)
    assert final.status_code == 200, final.text
    # The one appeal is used: no appeal window is left, so the host may close at once.
    closed = await act(client, host, rid, "closure", {"registrar": "reg-9"}, 9)
    assert closed.status_code == 200, closed.text
    assert closed.json()["state"] == "closed"

    conn = await asyncpg.connect(database_url)
    try:
        entries = await conn.fetch(
            "SELECT action, actor_sub, learner, outcome FROM audit_entries WHERE stream = $1 ORDER BY seq",
            f"mobility:{rid}",
        )
        assert [e["action"] for e in entries] == [
            "mobility.submit",
            "mobility.review",
            "mobility.request_info",
            "mobility.respond",
            "mobility.assign",
            "mobility.decide",
            "mobility.appeal",
            "mobility.review",
            "mobility.decide",
            "mobility.close",
        ]
        assert entries[5]["outcome"] == "decided:partially_approved"
        assert entries[5]["actor_sub"] == "reg-9"
        assert str(entries[0]["learner"]) == PSEUDONYM.rsplit(":", 1)[1]  # a pseudonym, never an ESI
        assert (await verify(conn, f"mobility:{rid}")).ok
        decisions = await conn.fetch(
            "SELECT round, position, decision, reason_code FROM mobility_decisions ORDER BY round, position"
        )
        assert [tuple(d) for d in decisions] == [
            (1, 0, "granted", None),
            (1, 1, "refused", "currency"),
            (2, 0, "granted", None),
            (2, 1, "granted", None),
        ]
    finally:
        await conn.close()

    events = (await client.get("/v1/events", headers=home)).json()
    assert [e["version"] for e in events["items"]] == list(range(1, 11))
    assert events["items"][0]["type"] == "mobility_request.submitted"
    assert set(events["items"][0]) == {"seq", "id", "type", "timestamp", "request_id", "version"}
    later = (await client.get(f"/v1/events?after={events['next_after']}", headers=host)).json()
    assert later == {"items": [], "next_after": events["next_after"]}


async def test_conditional_changes(
    client: AsyncTestClient[Any], uni_a: MemberClient, uni_b: MemberClient
) -> None:
    home, host = await bearer(client, uni_b), await bearer(client, uni_a)
    rid = (await create(client, home, create_body()))["id"]
    path = f"/v1/mobility-requests/{rid}/review"
    missing = await client.post(path, json={"registrar": "r1"}, headers=host)
    assert missing.status_code == 428
    assert missing.json()["type"] == PROBLEM + "precondition-required"
    stale = await act(client, host, rid, "review", {"registrar": "r1"}, 7)
    assert stale.status_code == 412
    assert stale.json()["expected"] == '"v1"'
    illegal = await act(client, host, rid, "decision", approve_all(create_body()), 1)
    assert illegal.status_code == 409
    assert illegal.json()["type"] == PROBLEM + "illegal-transition"
    assert "review" in illegal.json()["expected"]
    # Only the host decides; only the home member appeals.
    wrong_party = await act(client, home, rid, "review", {"registrar": "r1"}, 1)
    assert wrong_party.status_code == 403
    assert (await act(client, host, rid, "review", {"registrar": "r1"}, 1)).status_code == 200
    # A decision without an Idempotency-Key is refused before anything else (R29).
    no_key = await client.post(
        f"/v1/mobility-requests/{rid}/decision",
        json=approve_all(create_body()),
        headers={**host, "If-Match": '"v2"'},
    )
    assert no_key.status_code == 400
    assert no_key.json()["field"] == "Idempotency-Key"


async def test_decision_must_cover_every_item_consistently(
    client: AsyncTestClient[Any], uni_a: MemberClient, uni_b: MemberClient, database_url: str
) -> None:
    home, host = await bearer(client, uni_b), await bearer(client, uni_a)
    body = create_body(2)
    rid = (await create(client, home, body))["id"]
    await act(client, host, rid, "review", {"registrar": "r1"}, 1)
    partial = approve_all(body)
    partial["items"] = partial["items"][:1]
    cases: list[tuple[dict[str, Any], str]] = [(partial, "items")]
    wrong_outcome = approve_all(body) | {"outcome": "rejected"}
    cases.append((wrong_outcome, "outcome"))
    no_reason = approve_all(body)
    no_reason["items"][1] = {"credential_id": "uni-b.ac.uk:mc-2", "decision": "refused"}
    cases.append((no_reason | {"outcome": "partially_approved"}, "items[1].reason"))
    unknown = approve_all(body)
    unknown["items"][0]["credential_id"] = "elsewhere:1"
    cases.append((unknown, "items[0].credential_id"))
    bad_code = approve_all(body)
    bad_code["items"][1] = {"credential_id": "uni-b.ac.uk:mc-2", "decision": "refused", "reason": "vibes"}
    cases.append((bad_code | {"outcome": "partially_approved"}, "items[1].reason"))
    for decision, field in cases:
        response = await act(client, host, rid, "decision", decision, 2)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["field"] == field
    # Nothing was written by any refused decision.
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM mobility_decisions") == 0
        assert await conn.fetchval("SELECT version FROM mobility_requests") == 2
        assert await conn.fetchval("SELECT count(*) FROM audit_entries") == 2
        assert await conn.fetchval("SELECT count(*) FROM events") == 2
    finally:
        await conn.close()


async def test_bad_creations_are_problems_and_write_nothing(
    client: AsyncTestClient[Any], uni_a: MemberClient, uni_b: MemberClient, database_url: str
) -> None:
    home = await bearer(client, uni_b)
    cases: list[tuple[dict[str, Any], int, str]] = [
        (create_body(learner="not-a-learner"), 400, "learner"),
        (create_body() | {"host_member": HOME}, 400, "host_member"),
        (create_body() | {"host_member": "uni-z.ac.uk"}, 400, "host_member"),
        (create_body() | {"items": []}, 400, "items"),
        (create_body() | {"purpose": "marketing"}, 400, "purpose"),
    ]
    mismatched = create_body()
    mismatched["items"][0]["credential_id"] = "other"
    cases.append((mismatched, 400, "items[0].credential_id"))
    twice = create_body()
    twice["items"] = twice["items"] * 2
    cases.append((twice, 400, "items[1].credential_id"))
    no_title = create_body()
    del no_title["items"][0]["record"]["credential"]["title"]
    cases.append((no_title, 400, "items[0].record.credential"))  # "missing required field `title`"
    for body, status, field in cases:
        response = await client.post(
            "/v1/mobility-requests", json=body, headers={**home, "Idempotency-Key": key()}
        )
        assert response.status_code == status, (field, response.text)
        assert response.json()["field"] == field
    conn = await asyncpg.connect(database_url)
    try:
        for table in ("mobility_requests", "mobility_items", "events", "audit_entries", "idempotency_keys"):
            assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0, table  # noqa: S608
    finally:
        await conn.close()


async def test_idempotency_keys(
    client: AsyncTestClient[Any], uni_a: MemberClient, uni_b: MemberClient
) -> None:
    """R29: missing 400; same key and body replays the same bytes; another body 422; keys are per client."""
    home, host = await bearer(client, uni_b), await bearer(client, uni_a)
    body = create_body()
    missing = await client.post("/v1/mobility-requests", json=body, headers=home)
    assert missing.status_code == 400
    assert missing.json()["type"] == PROBLEM + "idempotency-key-required"
    assert missing.json()["field"] == "Idempotency-Key"
    malformed = await client.post(
        "/v1/mobility-requests", json=body, headers={**home, "Idempotency-Key": "a b"}
    )
    assert malformed.status_code == 400

    k = key()
    first = await client.post("/v1/mobility-requests", json=body, headers={**home, "Idempotency-Key": k})
    assert first.status_code == 201
    # Key order and whitespace do not change the fingerprint: the canonical body does.
    reordered = dict(reversed(list(body.items())))
    again = await client.post("/v1/mobility-requests", json=reordered, headers={**home, "Idempotency-Key": k})
    assert again.status_code == 201
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"

    other = await client.post(
        "/v1/mobility-requests", json=create_body(2), headers={**home, "Idempotency-Key": k}
    )
    assert other.status_code == 422
    assert other.json()["type"] == PROBLEM + "idempotency-key-reused"
    # The same key from another client is another key.
    host_side = await client.post("/v1/mobility-requests", json=body, headers={**host, "Idempotency-Key": k})
    assert host_side.status_code == 201
    assert host_side.json()["id"] != first.json()["id"]

    # Actions: a retried decision replays; the ETag it carried is stale by then, and that does not matter.
    rid = first.json()["id"]
    await act(client, host, rid, "review", {"registrar": "r1"}, 1)
    dk = key()
    decided = await act(client, host, rid, "decision", approve_all(body), 2, dk)
    retried = await act(client, host, rid, "decision", approve_all(body), 2, dk)
    assert decided.status_code == retried.status_code == 200
    assert retried.content == decided.content
    listed = (await client.get("/v1/mobility-requests", headers=home)).json()["items"]
    assert len(listed) == 2


async def test_concurrent_identical_creations_have_one_effect(
    client: AsyncTestClient[Any], uni_b: MemberClient, database_url: str
) -> None:
    """R29: 20 concurrent identical requests -> exactly 1 effect, the rest 409 or the replayed response."""
    home = await bearer(client, uni_b)
    body, k = create_body(), key()
    responses = await asyncio.gather(
        *(
            client.post("/v1/mobility-requests", json=body, headers={**home, "Idempotency-Key": k})
            for _ in range(20)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, statuses
    created = [r for r in responses if r.status_code == 201]
    assert len({r.content for r in created}) == 1
    conflicts = [r for r in responses if r.status_code == 409]
    assert all(r.json()["type"] == PROBLEM + "idempotency-key-in-use" for r in conflicts)
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM mobility_requests") == 1
        assert await conn.fetchval("SELECT count(*) FROM events") == 1
        assert await conn.fetchval("SELECT count(*) FROM audit_entries") == 1
    finally:
        await conn.close()
    retry = await client.post("/v1/mobility-requests", json=body, headers={**home, "Idempotency-Key": k})
    assert retry.status_code == 201
    assert retry.content == created[0].content


async def test_queue_filters_and_pagination(
    client: AsyncTestClient[Any], uni_a: MemberClient, uni_b: MemberClient
) -> None:
    home, host = await bearer(client, uni_b), await bearer(client, uni_a)
    ids = [(await create(client, home, create_body()))["id"] for _ in range(5)]
    await act(client, host, ids[0], "review", {"registrar": "reg-1"}, 1)
    await act(client, host, ids[1], "review", {"registrar": "reg-2"}, 1)

    def listed(page: Any) -> list[str]:
        return [item["id"] for item in page["items"]]

    first = (await client.get("/v1/mobility-requests?limit=2", headers=host)).json()
    assert listed(first) == ids[:2]  # arrival order: ids are UUIDv7
    second = (
        await client.get(f"/v1/mobility-requests?limit=2&cursor={first['next_cursor']}", headers=host)
    ).json()
    assert listed(second) == ids[2:4]
    reviewing = (await client.get("/v1/mobility-requests?state=under_review", headers=host)).json()
    assert listed(reviewing) == ids[:2]
    both = (await client.get("/v1/mobility-requests?state=under_review&state=submitted", headers=host)).json()
    assert listed(both) == ids
    mine = (await client.get("/v1/mobility-requests?assigned_to=reg-2", headers=host)).json()
    assert listed(mine) == [ids[1]]
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat().replace("+00:00", "Z")
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=21)).isoformat().replace("+00:00", "Z")
    assert listed((await client.get(f"/v1/mobility-requests?due_before={soon}", headers=host)).json()) == []
    assert (
        len(listed((await client.get(f"/v1/mobility-requests?due_before={later}", headers=host)).json())) == 5
    )
    assert listed((await client.get("/v1/mobility-requests?role=home", headers=host)).json()) == []
    assert listed((await client.get("/v1/mobility-requests?role=home", headers=home)).json()) == ids
    summary = reviewing["items"][0]
    assert summary["items"] == 1
    assert summary["due_at"]
    assert (await client.get("/v1/mobility-requests?state=nonsense", headers=host)).status_code == 400
    assert (await client.get("/v1/mobility-requests?cursor=%%%", headers=host)).status_code == 400


async def test_members_see_only_requests_they_are_party_to(
    client: AsyncTestClient[Any], uni_a: MemberClient, uni_b: MemberClient, database_url: str
) -> None:
    """R14: a third member cannot list, read, act on or poll the events of A and B's request; what it gets
    for their request is byte for byte what it gets for an id that does not exist."""
    uni_c = MemberClient("uni-c-registry", "uni-c.ac.uk", alg="ES256")
    text = consortium_toml({"uni-a.ac.uk": [uni_a], "uni-b.ac.uk": [uni_b], "uni-c.ac.uk": [uni_c]})
    conn = await asyncpg.connect(database_url)
    try:
        await sync_consortium(conn, parse_consortium(text))
    finally:
        await conn.close()
    home = await bearer(client, uni_b)
    for _ in range(50):  # the new client is trusted after the next refresh
        token = await client.post("/oauth/token", data=uni_c.token_form())
        if token.status_code == 200:
            break
        await asyncio.sleep(0.1)
    other = {"Authorization": f"Bearer {token.json()['access_token']}"}
    rid = (await create(client, home, create_body()))["id"]
    unknown = str(uuid.uuid4())

    def same(a: Any, b: Any) -> None:
        assert a.status_code == b.status_code == 404
        assert a.json() | {"instance": "", "trace_id": ""} == b.json() | {"instance": "", "trace_id": ""}

    same(
        await client.get(f"/v1/mobility-requests/{rid}", headers=other),
        await client.get(f"/v1/mobility-requests/{unknown}", headers=other),
    )
    for segment, body in (("withdrawal", {"registrar": "x"}), ("review", {"registrar": "x"})):
        same(
            await act(client, other, rid, segment, body, 1),
            await act(client, other, unknown, segment, body, 1),
        )
    assert (await client.get("/v1/mobility-requests/not-a-uuid", headers=other)).status_code == 404
    assert (await client.get("/v1/mobility-requests", headers=other)).json()["items"] == []
    assert (await client.get("/v1/events", headers=other)).json()["items"] == []
    # A request between two other members cannot be created by a third.
    refused = await client.post(
        "/v1/mobility-requests", json=create_body(), headers={**other, "Idempotency-Key": key()}
    )
    assert refused.status_code == 403
    assert HOST != "uni-c.ac.uk"
