"""R22 (and R21, R14): a Hypothesis state machine drives the learner routes over HTTP (link, read the
link, unlink, record, list and withdraw consents, read the access report) as two members over three
learners, against its own model of who has linked whom and which consents exist, and checks after every
step:

- each answer's status is the one the model expects (a member that has not linked a learner gets 403 or
  404, and what it sent changes nothing);
- the audit log holds exactly one entry per learner-data access the model counted, in the learner's stream,
  and nothing for a refused one;
- a consent list is the learner's consents with the model's statuses; every learner's hash chain is intact.

The model is written from the routes' documented behaviour, not from ``gateway.learners.service``.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import os
from typing import Any

import asyncpg
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from litestar.testing import TestClient
from oauth_helpers import MemberClient
from reliability.conftest import run_machine, sync_bearer

from adapters.connectors.sandbox import esi_urn
from contracts.learners import parse_learner_ref
from gateway.audit import verify

# R22 asks for >= 1,000 operations: the default makes about 2,000 requests (40 programs of up to 50 steps).
EXAMPLES = int(os.environ.get("LEARNER_STATEFUL_EXAMPLES", "40"))
MEMBERS = ("uni-a.ac.uk", "uni-b.ac.uk")
LEARNERS = tuple(esi_urn("uni-a.ac.uk", f"stateful-{i}") for i in range(3))
UNTIL = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
STEPS: collections.Counter[str] = collections.Counter()  # which accesses succeeded, over all programs


class Model:
    """Links are per (member, learner); consents belong to a learner, withdrawn or not."""

    def __init__(self) -> None:
        self.links: set[tuple[str, str]] = set()
        self.consents: dict[str, tuple[str, bool]] = {}  # id -> (learner, withdrawn)
        self.audited: collections.Counter[str] = collections.Counter()  # learner -> entries

    def linked(self, member: str, learner: str) -> bool:
        return (member, learner) in self.links

    def access(self, learner: str, step: str) -> None:
        self.audited[learner] += 1
        STEPS[step] += 1


def run_learner_machine(client: TestClient[Any], tokens: dict[str, dict[str, str]], dsn: str) -> None:
    loop = asyncio.new_event_loop()
    conn: asyncpg.Connection = loop.run_until_complete(asyncpg.connect(dsn))
    refs = {learner: parse_learner_ref(learner).value for learner in LEARNERS}

    def streams() -> dict[str, int]:
        """Audit entries per learner (by their reference), and of unknown learners (``None``)."""
        rows = loop.run_until_complete(
            conn.fetch(
                "SELECT l.ref, count(*) AS n FROM audit_entries a LEFT JOIN learners l ON l.id = a.learner"
                " GROUP BY l.ref"
            )
        )
        return {row["ref"]: row["n"] for row in rows}

    member_st = st.sampled_from(MEMBERS)
    learner_st = st.sampled_from(LEARNERS)

    class Learners(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            # Each program starts from empty learner tables: its model starts empty too.
            loop.run_until_complete(
                conn.execute(
                    "ALTER TABLE audit_entries DISABLE TRIGGER USER;"
                    " TRUNCATE audit_entries, audit_heads, learner_consent_withdrawals, learner_consents,"
                    " learner_links, learners;"
                    " ALTER TABLE audit_entries ENABLE TRIGGER USER"
                )
            )
            self.model = Model()

        def _pair(self, data: st.DataObject) -> tuple[str, str]:
            """Mostly a member and a learner it has linked (so programs get past the refusals), sometimes
            any."""
            if self.model.links and data.draw(st.integers(0, 3), label="linked?") > 0:
                member, learner = data.draw(st.sampled_from(sorted(self.model.links)), label="linked pair")
                return member, learner
            return data.draw(member_st, label="member"), data.draw(learner_st, label="learner")

        def _call(self, member: str, method: str, path: str, body: Any = None) -> Any:
            STEPS["requests"] += 1
            return client.request(method, path, json=body, headers=tokens[member])

        def _answer(
            self,
            member: str,
            learner: str,
            method: str,
            path: str,
            *,
            ok: int,
            refused: int,
            body: Any = None,
        ) -> Any:
            """The answer when ``member`` has linked ``learner`` (status ``ok``), else ``None`` (status
            ``refused``: what it sent changes nothing, which ``one_entry_per_access`` checks)."""
            response = self._call(member, method, path, body)
            linked = self.model.linked(member, learner)
            assert response.status_code == (ok if linked else refused), response.text
            return response if linked else None

        @rule(member=member_st, learner=learner_st)
        def link(self, member: str, learner: str) -> None:
            response = self._call(
                member, "PUT", f"/v1/learners/{learner}/link", {"local_id": f"{member}-{learner}"}
            )
            assert response.status_code == (200 if self.model.linked(member, learner) else 201), response.text
            self.model.links.add((member, learner))
            self.model.access(learner, "link")

        @rule(data=st.data())
        def read_link(self, data: st.DataObject) -> None:
            member, learner = self._pair(data)
            answer = self._answer(member, learner, "GET", f"/v1/learners/{learner}/link", ok=200, refused=404)
            if answer is None:
                return
            assert answer.json()["local_id"] == f"{member}-{learner}"
            self.model.access(learner, "read_link")

        @rule(data=st.data())
        def unlink(self, data: st.DataObject) -> None:
            member, learner = self._pair(data)
            if (
                self._answer(member, learner, "DELETE", f"/v1/learners/{learner}/link", ok=204, refused=404)
                is None
            ):
                return
            self.model.links.discard((member, learner))
            self.model.access(learner, "unlink")

        @rule(data=st.data(), recipient=member_st)
        def record_consent(self, data: st.DataObject, recipient: str) -> None:
            member, learner = self._pair(data)
            body = {
                "recipient": recipient,
                "purpose": "credit-transfer",
                "valid_until": UNTIL,
                "consent_text_version": "v1",
            }
            answer = self._answer(
                member, learner, "POST", f"/v1/learners/{learner}/consents", ok=201, refused=403, body=body
            )
            if answer is None:
                return
            self.model.consents[answer.json()["id"]] = (learner, False)
            self.model.access(learner, "record_consent")

        @rule(data=st.data())
        def list_consents(self, data: st.DataObject) -> None:
            member, learner = self._pair(data)
            answer = self._answer(
                member, learner, "GET", f"/v1/learners/{learner}/consents", ok=200, refused=403
            )
            if answer is None:
                return
            listed = {c["id"]: c["status"] for c in answer.json()["items"]}
            expected = {
                cid: "withdrawn" if withdrawn else "active"
                for cid, (owner, withdrawn) in self.model.consents.items()
                if owner == learner
            }
            assert listed == expected
            self.model.access(learner, "list_consents")

        @rule(member=member_st, data=st.data())
        def withdraw(self, member: str, data: st.DataObject) -> None:
            if not self.model.consents:
                return
            cid = data.draw(st.sampled_from(sorted(self.model.consents)), label="consent")
            learner, withdrawn = self.model.consents[cid]
            path = f"/v1/learners/{learner}/consents/{cid}/withdrawal"
            answer = self._answer(member, learner, "POST", path, ok=200, refused=403)
            if answer is None:
                return
            assert answer.json()["status"] == "withdrawn"
            self.model.consents[cid] = (learner, True)
            if not withdrawn:  # withdrawing again changes nothing, and so is not a new access
                self.model.access(learner, "withdraw")

        @rule(data=st.data())
        def access_report(self, data: st.DataObject) -> None:
            member, learner = self._pair(data)
            path = f"/v1/learners/{learner}/access-report?limit=100"
            answer = self._answer(member, learner, "GET", path, ok=200, refused=403)
            if answer is None:
                return
            # The report lists every earlier access of the learner (at most 100 asked for).
            assert len(answer.json()["items"]) == min(self.model.audited[learner], 100)
            self.model.access(learner, "access_report")

        @invariant()
        def one_entry_per_access(self) -> None:
            counted = streams()
            expected = {refs[learner]: n for learner, n in self.model.audited.items() if n}
            assert counted == expected

        def teardown(self) -> None:
            for learner in self.model.audited:
                learner_id = loop.run_until_complete(
                    conn.fetchval("SELECT id FROM learners WHERE ref = $1", refs[learner])
                )
                report = loop.run_until_complete(verify(conn, f"learner:{learner_id}"))
                assert report.ok, report

    try:
        run_machine(
            Learners, examples=EXAMPLES, steps=50, explore=bool(os.environ.get("LEARNER_STATEFUL_RANDOM"))
        )
    finally:
        loop.run_until_complete(conn.close())
        loop.close()


def test_every_learner_data_access_is_audited_once(
    sync_client: TestClient[Any], uni_a: MemberClient, uni_b: MemberClient, database_url: str
) -> None:
    STEPS.clear()
    tokens = {"uni-a.ac.uk": sync_bearer(sync_client, uni_a), "uni-b.ac.uk": sync_bearer(sync_client, uni_b)}
    run_learner_machine(sync_client, tokens, database_url)
    # The programs made enough requests (R22: >= 1,000 operations by default) and reached every access.
    assert STEPS.pop("requests") >= 25 * EXAMPLES, STEPS
    assert set(STEPS) == {
        "link",
        "read_link",
        "unlink",
        "record_consent",
        "list_consents",
        "withdraw",
        "access_report",
    }, STEPS
