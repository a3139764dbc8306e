"""Bodies and calls shared by the mobility tests: a learner of uni-b asks uni-a to recognise credentials."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from litestar.testing import AsyncTestClient

HOME, HOST = "uni-b.ac.uk", "uni-a.ac.uk"
LEARNER = "urn:schac:personalUniqueCode:int:esi:uni-b.ac.uk:s1234"
PSEUDONYM = "urn:consortium-gateway:pseudonym:6f1c2a4e-3b7d-4c8e-9a1f-2d3e4f5a6b7c"

CREDENTIAL: dict[str, Any] = {
    "id": "uni-b.ac.uk:mc-1",
    "learner": {"identifiers": [{"scheme": "esi", "value": LEARNER}]},
    "credential": {
        "id": "uni-b.ac.uk:DATA101",
        "title": "Data literacy",
        "awarding_body": {"name": "University B", "country": "GB", "member": HOME},
        "learning_outcomes": ["Explain sampling bias"],
        "workload": {"amount": 20, "unit": "uk-credit", "framework": "uk-fheq"},
        "assessment": ["project"],
        "participation": ["online"],
        "quality_assurance": {"type": "internal", "review_due": "2030-06-30"},
        "level": {"framework": "uk-fheq", "code": "6"},
        "field_of_study": "0613",
    },
    "issuer": HOME,
    "issued_on": "2026-07-01",
    "provenance": {
        "member": HOME,
        "connector": "ooapi",
        "source_id": "r1",
        "fetched_at": "2026-11-01T00:00:00Z",
    },
}


def credential(index: int) -> dict[str, Any]:
    record = copy.deepcopy(CREDENTIAL)
    record["id"] = f"uni-b.ac.uk:mc-{index}"
    record["provenance"]["source_id"] = f"r{index}"
    return record


def create_body(items: int = 1, learner: str = LEARNER, **extra: Any) -> dict[str, Any]:
    records = [credential(i + 1) for i in range(items)]
    return {
        "learner": learner,
        "home_member": HOME,
        "host_member": HOST,
        "items": [{"credential_id": r["id"], "record": r} for r in records],
        "target": {"programme": "BSc Data Science"},
        "purpose": "credit_transfer",
        **extra,
    }


def approve_all(body: dict[str, Any], registrar: str = "reg-1") -> dict[str, Any]:
    return {
        "registrar": registrar,
        "outcome": "approved",
        "items": [
            {
                "credential_id": item["credential_id"],
                "decision": "granted",
                "credits": {"amount": 20, "unit": "uk-credit", "framework": "uk-fheq"},
            }
            for item in body["items"]
        ],
    }


def key() -> str:
    return str(uuid.uuid4())


async def create(
    client: AsyncTestClient[Any], headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(
        "/v1/mobility-requests", json=body, headers={**headers, "Idempotency-Key": key()}
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def act(
    client: AsyncTestClient[Any],
    headers: dict[str, str],
    request_id: str,
    segment: str,
    body: dict[str, Any],
    version: int,
    idempotency_key: str | None = None,
) -> Any:
    return await client.post(
        f"/v1/mobility-requests/{request_id}/{segment}",
        json=body,
        headers={**headers, "If-Match": f'"v{version}"', "Idempotency-Key": idempotency_key or key()},
    )
