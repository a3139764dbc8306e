"""Conversions and frameworks over HTTP: batches with explanations, per-item problems, limits."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from gateway.conversions.models import MAX_BATCH

PROBLEM = "application/problem+json"


async def _convert(client: AsyncTestClient[Any], items: list[dict[str, Any]]) -> Any:
    return await client.post("/v1/conversions", json={"items": items})


async def test_needs_a_token_with_recognition_read(client: AsyncTestClient[Any], member_client: Any) -> None:
    del client.headers["Authorization"]
    assert (await _convert(client, [{"kind": "credits", "amount": 1, "from": "ects"}])).status_code == 401


async def test_credit_level_and_grade_in_one_batch(member_client: AsyncTestClient[Any]) -> None:
    response = await _convert(
        member_client,
        [
            # domain.md section 1: UK credit -> ECTS x0.5 (120 UK = 60 ECTS), status B.
            {"kind": "credits", "amount": 120, "from": "uk-fheq", "to": "ects"},
            # domain.md section 2: SCQF 10 (honours) is EQF 6, FHEQ 6 is EQF 6.
            {"kind": "level", "code": "10", "from": "scqf", "to": "uk-fheq"},
            {"kind": "level", "code": "6", "from": "eqf", "to": "uk-fheq"},
            {"kind": "grade", "value": "Excellence", "from": "nzqf", "to": "nzqf"},
        ],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["failed"] == 0
    credits, level, inverse, grade = (item["result"] for item in body["items"])
    assert credits["value"] == 60
    assert credits["explanation"]["basis"] == "convention"
    assert credits["explanation"]["chain"] == ["uk-fheq", "ects"]
    assert credits["explanation"]["steps"][0]["source"]
    assert level["eqf"] == 6
    assert "6" in [c["code"] for c in level["candidates"]]
    assert inverse["eqf"] == 6
    assert grade["value"] == "E"  # NZ Achieved / Merit / Excellence, coded A, M, E
    assert grade["passed"] is True
    assert [item["kind"] for item in body["items"]] == ["credits", "level", "level", "grade"]


async def test_bad_items_get_their_own_problem_and_the_batch_goes_on(
    member_client: AsyncTestClient[Any],
) -> None:
    response = await _convert(
        member_client,
        [
            {"kind": "credits", "amount": 10, "from": "atlantis"},
            {"kind": "credits", "amount": -5, "from": "uk-fheq"},
            {"kind": "credits", "amount": "ten", "from": "uk-fheq"},
            {"kind": "level", "code": "99", "from": "scqf", "to": "ects"},
            {"kind": "teleport"},
            {"kind": "credits", "amount": 30, "from": "us-semester", "to": "ects"},
        ],
    )
    assert response.status_code == 200
    body = response.json()
    assert body["failed"] == 5
    items = body["items"]
    assert items[0]["problem"]["field"] == "items[0].from"
    assert "uk-fheq" in items[0]["problem"]["expected"]
    assert items[1]["problem"]["field"] == "items[1].amount"
    assert items[2]["problem"]["field"] == "items[2].amount"
    assert items[3]["problem"]["field"].startswith("items[3].")
    assert items[4]["ok"] is False
    # domain.md section 1: US SCH -> ECTS x2 (30 SCH/yr = 60 ECTS), status C.
    assert items[5]["ok"] is True
    assert items[5]["result"]["value"] == 60


async def test_mixed_bases_are_refused(member_client: AsyncTestClient[Any]) -> None:
    # 20 UK credits normalised by hours (200 h / 25-30 h) must not then be converted by the 2:1 convention.
    by_hours = {"amount": 20, "unit": "uk-credit", "framework": "uk-fheq", "ects": 7.0, "ects_basis": "hours"}
    response = await _convert(
        member_client,
        [
            {"kind": "credit_value", "value": by_hours, "to": "ects", "basis": "convention"},
            {"kind": "credit_value", "value": by_hours, "to": "ects"},
        ],
    )
    mixed, same = response.json()["items"]
    assert mixed["ok"] is False
    assert mixed["problem"]["type"] == "urn:consortium-gateway:problem:mixed-conversion-basis"
    assert mixed["problem"]["field"] == "items[0].ects_basis"
    assert same["ok"] is True
    assert same["result"]["basis"] == "hours"
    # domain.md section 1: 10 h per UK credit, 25-30 h per ECTS credit: 200 h is 6.67-8 ECTS.
    assert same["result"]["min"] == 200 / 30
    assert same["result"]["max"] == 8


async def test_batch_cap_and_unknown_fields(member_client: AsyncTestClient[Any]) -> None:
    item = {"kind": "credits", "amount": 1, "from": "ects"}
    too_many = await _convert(member_client, [item] * (MAX_BATCH + 1))
    assert too_many.status_code == 400
    assert too_many.headers["content-type"] == PROBLEM
    extra = await member_client.post("/v1/conversions", json={"items": [item], "institution": "uni-b.ac.uk"})
    assert extra.status_code == 400
    assert "institution" in extra.json()["detail"]


async def test_body_over_the_limit_is_413(member_client: AsyncTestClient[Any]) -> None:
    body = b'{"items": [' + b'{"kind": "credits", "amount": 1, "from": "ects"},' * 30_000 + b"]}"
    assert len(body) > 1024 * 1024
    response = await member_client.post(
        "/v1/conversions", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "urn:consortium-gateway:problem:payload-too-large"


async def test_frameworks_directory(member_client: AsyncTestClient[Any]) -> None:
    listed = (await member_client.get("/v1/frameworks")).json()
    assert {f["id"] for f in listed} >= {
        "uk-fheq",
        "scqf",
        "ects",
        "us-semester",
        "us-quarter",
        "nzqf",
        "ie-nfq",
    }
    scqf = (await member_client.get("/v1/frameworks/scqf")).json()
    assert scqf["id"] == "scqf"
    assert len(scqf["levels"]) == 12
    missing = await member_client.get("/v1/frameworks/atlantis")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
