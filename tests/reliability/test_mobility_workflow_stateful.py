"""R31: a Hypothesis state machine drives the workflow over HTTP (submit, review, request and answer
information, assign, decide, appeal, withdraw, close, stale-ETag replays, idempotent retries, the appeal
window passing) against its own model of the workflow, and checks after every step:

- every request is in a reachable state, the one the model expects;
- its version strictly increases, by one per successful transition, and only then;
- at most one final decision per round (per item: the database's primary key; per round: the document);
- the audit entries of its stream equal its successful transitions, and the hash chain is intact.

The model below is written independently of ``gateway.mobility.workflow``: it is the oracle.
"""

from __future__ import annotations

import asyncio
import collections
import os
import uuid
from typing import Any

import asyncpg
from hypothesis import HealthCheck
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)
from integration.mobility.mobility_helpers import approve_all, create_body
from litestar.testing import TestClient
from oauth_helpers import MemberClient
from reliability.conftest import run_machine, sync_bearer

from gateway.audit import verify

# R31 asks for >= 500 programs: MOBILITY_STATEFUL_EXAMPLES=500 (about 2 minutes here); the suite runs fewer.
EXAMPLES = int(os.environ.get("MOBILITY_STATEFUL_EXAMPLES", "120"))

# (state, action) -> next state, by hand from the text.
MODEL: dict[tuple[str, str], str] = {
    ("submitted", "review"): "under_review",
    ("appealed", "review"): "under_review",
    ("under_review", "info-request"): "info_requested",
    ("info_requested", "info-response"): "under_review",
    ("under_review", "decision"): "decided",
    ("decided", "appeal"): "appealed",
    ("decided", "closure"): "closed",
}
for _open in ("submitted", "under_review", "info_requested", "appealed"):
    MODEL[(_open, "withdrawal")] = "withdrawn"
    MODEL[(_open, "assignment")] = _open
REACHABLE = {"submitted", "under_review", "info_requested", "decided", "appealed", "withdrawn", "closed"}
HOST_ONLY = {"review", "info-request", "assignment", "decision", "closure"}
HOME_ONLY = {"appeal"}
# The actions that move a request towards its end, per state (closed and withdrawn have none).
FORWARD: dict[str, list[str]] = {
    "submitted": ["review"],
    "under_review": ["decision", "info-request"],
    "info_requested": ["info-response"],
    "decided": ["appeal", "closure"],
    "appealed": ["review"],
    "withdrawn": ["review"],
    "closed": ["appeal"],
}
ACTIONS = sorted({a for (_, a) in MODEL} | {"info-response"})
BODY = create_body()
# How deep the programs went: the test fails if they never reached the far end of the workflow.
REACHED: collections.Counter[str] = collections.Counter()


def _body(action: str, outcome: str) -> dict[str, Any]:
    if action == "decision":
        if outcome == "approved":
            return approve_all(BODY)
        item = {"credential_id": BODY["items"][0]["credential_id"], "decision": "refused", "reason": "grade"}
        return {"registrar": "reg-1", "outcome": "rejected", "items": [item]}
    if action == "assignment":
        return {"registrar": "reg-1", "assign_to": "reg-2"}
    return {"registrar": "reg-1", "note": "because"}


class Tracked:
    def __init__(self, rid: str) -> None:
        self.id = rid
        self.state = "submitted"
        self.version = 1
        self.round = 1
        self.window_open = False
        self.transitions = 1  # the submission
        self.last: tuple[str, dict[str, Any], str, str, bytes] | None = None  # for idempotent retries


def run_workflow_machine(
    client: TestClient[Any], home: dict[str, str], host: dict[str, str], dsn: str
) -> None:
    loop = asyncio.new_event_loop()
    conn: asyncpg.Connection = loop.run_until_complete(asyncpg.connect(dsn))

    class Workflow(RuleBasedStateMachine):
        requests = Bundle("requests")

        def __init__(self) -> None:
            super().__init__()
            self.tracked: list[Tracked] = []

        @precondition(lambda self: len(self.tracked) < 3)  # a few requests, taken deep
        @rule(target=requests)
        def submit(self) -> Tracked:
            response = client.post(
                "/v1/mobility-requests", json=BODY, headers={**home, "Idempotency-Key": str(uuid.uuid4())}
            )
            assert response.status_code == 201, response.text
            tracked = Tracked(response.json()["id"])
            self.tracked.append(tracked)
            return tracked

        @rule(request=requests, data=st.data(), outcome=st.sampled_from(["approved", "rejected"]))
        def act(self, request: Tracked, data: st.DataObject, outcome: str) -> None:
            # Mostly actions the model allows from the current state, by the party allowed to take them, so
            # programs get deep into the workflow; sometimes anything, by anyone (illegal, forbidden).
            legal = sorted(a for (s, a) in MODEL if s == request.state)
            pick = data.draw(st.integers(0, 5), label="pick")
            if pick == 0 or not legal:
                action = data.draw(st.sampled_from(ACTIONS), label="any action")
            elif pick == 1:
                action = data.draw(st.sampled_from(legal), label="a legal action")
            else:
                action = data.draw(st.sampled_from(FORWARD[request.state]), label="forward")
            as_host = action not in HOME_ONLY and (
                action in HOST_ONLY or data.draw(st.booleans(), label="host")
            )
            if data.draw(st.integers(0, 9), label="wrong party") == 0:
                as_host = not as_host
            key = str(uuid.uuid4())
            body = _body(action, outcome)
            headers = {
                **(host if as_host else home),
                "If-Match": f'"v{request.version}"',
                "Idempotency-Key": key,
            }
            response = client.post(f"/v1/mobility-requests/{request.id}/{action}", json=body, headers=headers)
            target = MODEL.get((request.state, action))
            if (action in HOST_ONLY and not as_host) or (action in HOME_ONLY and as_host):
                assert response.status_code == 403, response.text
                return
            if action == "appeal" and target and (request.round > 1 or not request.window_open):
                target = None  # once only, within the window
            if action == "closure" and target and request.round == 1 and request.window_open:
                target = None  # not while an appeal is still possible
            if target is None:
                assert response.status_code == 409, (request.state, action, response.text)
                return
            assert response.status_code == 200, (request.state, action, response.text)
            document = response.json()
            request.version += 1
            request.transitions += 1
            assert document["version"] == request.version
            assert document["state"] == target
            if action == "decision":
                request.window_open = True
                assert document["outcome"] == outcome
            if action == "appeal":
                request.round += 1
                request.window_open = False
            request.state = target
            REACHED[target] += 1
            request.last = (action, body, key, "host" if as_host else "home", response.content)

        @rule(request=requests, action=st.sampled_from(["review", "decision", "withdrawal", "assignment"]))
        def stale_replay(self, request: Tracked, action: str) -> None:
            if request.version == 1:
                return
            headers = {**host, "If-Match": f'"v{request.version - 1}"', "Idempotency-Key": str(uuid.uuid4())}
            response = client.post(
                f"/v1/mobility-requests/{request.id}/{action}",
                json=_body(action, "approved"),
                headers=headers,
            )
            assert response.status_code == 412, response.text

        @rule(request=requests)
        def retry_last(self, request: Tracked) -> None:
            """A client that lost the response retries with its key: the same answer, no second effect."""
            if request.last is None:
                return
            action, body, key, side, content = request.last
            headers = {**(host if side == "host" else home), "If-Match": '"v1"', "Idempotency-Key": key}
            response = client.post(f"/v1/mobility-requests/{request.id}/{action}", json=body, headers=headers)
            assert response.status_code == 200
            assert response.content == content

        @rule(request=requests)
        def appeal_window_passes(self, request: Tracked) -> None:
            if request.state != "decided" or not request.window_open:
                return
            loop.run_until_complete(
                conn.execute(
                    "UPDATE mobility_requests SET document = jsonb_set(document::jsonb, '{appeal_until}',"
                    " '\"2000-01-01T00:00:00Z\"')::json WHERE id = $1",
                    uuid.UUID(request.id),
                )
            )
            request.window_open = False

        @rule(request=requests)
        def close_once_the_window_passed(self, request: Tracked) -> None:
            """The way to ``closed`` without luck: the appeal window passes, then the host closes."""
            if request.state != "decided":
                return
            self.appeal_window_passes(request)
            key = str(uuid.uuid4())
            body = _body("closure", "approved")
            headers = {**host, "If-Match": f'"v{request.version}"', "Idempotency-Key": key}
            response = client.post(f"/v1/mobility-requests/{request.id}/closure", json=body, headers=headers)
            assert response.status_code == 200, response.text
            request.version += 1
            request.transitions += 1
            assert response.json()["version"] == request.version
            assert response.json()["state"] == "closed"
            request.state = "closed"
            REACHED["closed"] += 1
            request.last = ("closure", body, key, "host", response.content)

        @invariant()
        def matches_the_database(self) -> None:
            if not self.tracked:
                return
            rows = loop.run_until_complete(
                conn.fetch(
                    "SELECT r.id::text AS id, r.state, r.version, r.document::jsonb AS doc,"
                    " (SELECT count(*) FROM audit_entries a WHERE a.stream = 'mobility:' || r.id) AS audited,"
                    " (SELECT count(*) FROM events e WHERE e.payload->>'request_id' = r.id::text) AS events"
                    " FROM mobility_requests r WHERE r.id = ANY($1::uuid[])",
                    [uuid.UUID(t.id) for t in self.tracked],
                )
            )
            by_id = {r["id"]: r for r in rows}
            for tracked in self.tracked:
                row = by_id[tracked.id]
                assert row["state"] in REACHABLE
                assert row["state"] == tracked.state
                assert row["version"] == tracked.version
                assert row["audited"] == tracked.transitions
                assert row["events"] == tracked.transitions  # one outbox event per change (R30)
                doc = asyncio_json(row["doc"])
                assert [h["version"] for h in doc["history"]] == list(range(1, tracked.version + 1))
                rounds = [d["round"] for d in doc.get("decisions", [])]
                assert len(rounds) == len(set(rounds))  # at most one final decision per round

        def teardown(self) -> None:
            for tracked in self.tracked:
                report = loop.run_until_complete(verify(conn, f"mobility:{tracked.id}"))
                assert report.ok, report

    try:
        # MOBILITY_STATEFUL_RANDOM=1 explores new programs.
        run_machine(
            Workflow,
            examples=EXAMPLES,
            steps=20,
            explore=bool(os.environ.get("MOBILITY_STATEFUL_RANDOM")),
            also_suppress=(HealthCheck.filter_too_much,),
        )
    finally:
        loop.run_until_complete(conn.close())
        loop.close()


def asyncio_json(value: Any) -> Any:
    import json

    return json.loads(value) if isinstance(value, str) else value


def test_workflow_keeps_its_invariants(
    sync_client: TestClient[Any], uni_a: MemberClient, uni_b: MemberClient, database_url: str
) -> None:
    REACHED.clear()
    run_workflow_machine(
        sync_client, sync_bearer(sync_client, uni_b), sync_bearer(sync_client, uni_a), database_url
    )
    assert set(REACHED) | {"submitted"} == REACHABLE, REACHED
