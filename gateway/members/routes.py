"""HTTP routes of the member directory: public directory data only."""

from __future__ import annotations

from typing import Annotated, Literal

import asyncpg
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter

from contracts.members import MemberPage, MemberProfile
from gateway.members import service
from gateway.openapi import problem_responses

__all__ = ["MembersController"]


class MembersController(Controller):
    path = "/v1/members"
    tags = ["members"]
    opt = {"scopes": ["members:read"]}

    @get(
        "/",
        summary="List consortium members",
        description="The public member directory, in id order, with cursor pagination.",
        responses=problem_responses(400, 503),
    )
    async def list_members(
        self,
        conn: NamedDependency[asyncpg.Connection],
        limit: Annotated[int, QueryParameter(ge=1, le=100, description="Page size, at most 100.")] = 50,
        cursor: Annotated[
            str | None, QueryParameter(max_length=400, description="next_cursor of the previous page.")
        ] = None,
        status: Annotated[Literal["active", "suspended", "withdrawn"] | None, QueryParameter()] = None,
    ) -> MemberPage:
        return await service.list_members(conn, cursor=cursor, status=status, limit=limit)

    @get("/{member_id:str}", summary="Get one member", responses=problem_responses(404, 503))
    async def get_member(
        self,
        conn: NamedDependency[asyncpg.Connection],
        member_id: Annotated[str, PathParameter(max_length=253, description="schacHomeOrganization")],
    ) -> MemberProfile:
        return await service.get_member_profile(conn, member_id)
