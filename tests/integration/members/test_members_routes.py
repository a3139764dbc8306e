"""The member directory over HTTP: public data only, paginated, problems for bad input."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

PROBLEM = "application/problem+json"


async def test_list_members_shows_public_fields_only(
    member_client: AsyncTestClient[object], demo_members: list[str]
) -> None:
    response = await member_client.get("/v1/members")
    assert response.status_code == 200
    body = response.json()
    assert [m["id"] for m in body["items"]] == demo_members
    assert "next_cursor" not in body
    for item in body["items"]:
        assert set(item) == {"id", "name", "country", "framework", "status"}


async def test_pagination_walks_every_member_once(
    member_client: AsyncTestClient[object], demo_members: list[str]
) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        body = (await member_client.get("/v1/members", params=params)).json()
        assert len(body["items"]) <= 2
        seen += [m["id"] for m in body["items"]]
        cursor = body.get("next_cursor")
        if cursor is None:
            break
    assert seen == demo_members


async def test_status_filter(member_client: AsyncTestClient[object], demo_members: list[str]) -> None:
    assert len((await member_client.get("/v1/members", params={"status": "active"})).json()["items"]) == 5
    assert (await member_client.get("/v1/members", params={"status": "withdrawn"})).json()["items"] == []
    bad = await member_client.get("/v1/members", params={"status": "dormant"})
    assert bad.status_code == 400
    assert bad.json()["field"] == "status"


async def test_get_member(member_client: AsyncTestClient[object], demo_members: list[str]) -> None:
    response = await member_client.get("/v1/members/uni-caledonia.ac.uk")
    assert response.status_code == 200
    assert response.json() == {
        "id": "uni-caledonia.ac.uk",
        "name": "University of Caledonia",
        "country": "GB",
        "framework": "scqf",
        "status": "active",
    }


async def test_unknown_member_is_a_404_problem(
    member_client: AsyncTestClient[object], demo_members: list[str]
) -> None:
    response = await member_client.get("/v1/members/nowhere.example")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "urn:consortium-gateway:problem:not-found"
    assert problem["title"] == "Not found"
    assert problem["status"] == 404
    assert "nowhere.example" in problem["detail"]


async def test_page_size_over_limit_is_400_naming_the_field(member_client: AsyncTestClient[object]) -> None:
    response = await member_client.get("/v1/members", params={"limit": "10000"})
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "urn:consortium-gateway:problem:invalid-request"
    assert problem["field"] == "limit"
    assert "100" in problem["detail"]


async def test_forged_cursor_is_400(member_client: AsyncTestClient[object]) -> None:
    response = await member_client.get("/v1/members", params={"cursor": "%%%"})
    assert response.status_code == 400
    assert response.json()["field"] == "cursor"


async def test_unknown_route_and_method_are_problems(member_client: AsyncTestClient[object]) -> None:
    missing = await member_client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    wrong_method = await member_client.delete("/v1/members")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["type"] == "urn:consortium-gateway:problem:method-not-allowed"
