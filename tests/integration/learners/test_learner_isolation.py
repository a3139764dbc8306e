"""Two-tenant isolation of the learner routes (R14): a member that has not linked a learner gets, on every
route that names them, byte for byte what it gets for a learner no one knows, and changes nothing."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
import pytest
from db_helpers import row_counts
from integration.auth.conftest import bearer
from litestar.testing import AsyncTestClient
from oauth_helpers import MemberClient

from adapters.connectors.sandbox import esi_urn
from contracts.learners import PSEUDONYM_PREFIX

A, B = "uni-a.ac.uk", "uni-b.ac.uk"
KNOWN = esi_urn(A, "isolated-1")  # linked at A, with a consent for B (for admission only)
UNKNOWN = esi_urn(A, "nobody-2")
PSEUDONYM = PSEUDONYM_PREFIX + str(uuid.uuid4())  # well formed, never issued
UNTIL = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
CONSENT = {"recipient": B, "purpose": "admission", "valid_until": UNTIL, "consent_text_version": "v1"}

# Every route that names a learner: method, path (with {ref} and {consent}), body.
ROUTES = [
    ("GET", "/v1/learners/{ref}/link", None),
    ("DELETE", "/v1/learners/{ref}/link", None),
    ("GET", "/v1/learners/{ref}/consents", None),
    ("POST", "/v1/learners/{ref}/consents", CONSENT),
    ("POST", "/v1/learners/{ref}/consents/{consent}/withdrawal", None),
    ("GET", "/v1/learners/{ref}/access-report", None),
    ("GET", "/v1/learners/{ref}/credentials?purpose=credit-transfer", None),
    ("GET", "/v1/learners/{ref}/pathways?purpose=credit-transfer", None),
]


def _comparable(response: Any) -> tuple[int, str, dict[str, Any]]:
    body = response.json()
    return response.status_code, response.headers["content-type"], body | {"instance": "", "trace_id": ""}


async def _state(database_url: str) -> tuple[int, ...]:
    owner = await asyncpg.connect(database_url)
    try:
        return await row_counts(
            owner, "learners", "learner_links", "learner_consents", "learner_consent_withdrawals"
        )
    finally:
        await owner.close()


@pytest.fixture
async def known(client: AsyncTestClient[Any], uni_a: MemberClient) -> str:
    """A links the learner and records a consent for B (for another purpose than B's routes ask); its id."""
    a = await bearer(client, uni_a)
    linked = await client.put(f"/v1/learners/{KNOWN}/link", json={"local_id": "a-7"}, headers=a)
    assert linked.status_code == 201, linked.text
    recorded = await client.post(f"/v1/learners/{KNOWN}/consents", json=CONSENT, headers=a)
    assert recorded.status_code == 201, recorded.text
    return str(recorded.json()["id"])


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
async def test_a_learner_another_member_linked_looks_unknown(
    client: AsyncTestClient[Any],
    uni_b: MemberClient,
    known: str,
    database_url: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    b = await bearer(client, uni_b)
    before = await _state(database_url)
    answers = []
    for ref, consent in ((KNOWN, known), (UNKNOWN, str(uuid.uuid4())), (PSEUDONYM, known)):
        target = path.format(ref=ref, consent=consent)
        response = await client.request(method, target, json=body, headers=b)
        assert 400 <= response.status_code < 500, response.text
        answers.append(_comparable(response))
    assert answers[0] == answers[1] == answers[2], answers
    assert answers[0][0] in (403, 404)
    assert await _state(database_url) == before
