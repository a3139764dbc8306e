"""``GET /v1/learners/{ref}/pathways``: what a learner's credentials from every member are worth towards a
member's awards, and what is still missing."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from gateway.auth.guard import AuthorizedRequest
from gateway.lookup.routes import Budget, LearnerRefParam, Members, PurposeParam, member_list, request_budget
from gateway.openapi import problem_responses
from gateway.pathways.models import LearnerPathways
from gateway.pathways.service import PathwaysService

__all__ = ["LearnerPathwaysController"]


class LearnerPathwaysController(Controller):
    path = "/v1/learners"
    tags = ["recognition", "lookup"]
    # The learner's records (credentials:read) and the member's recognition decisions (recognition:read).
    opt = {"scopes": ["credentials:read", "recognition:read"]}

    @get(
        "/{ref:str}/pathways",
        summary="A learner's progress towards a member's awards, from their credentials at every member",
        description="Fetches the learner's credentials from every member (as the credentials lookup does: "
        "it needs a lawful basis for the purpose, and answers partial when a member does not answer), "
        "evaluates each for the member (default: your institution) and stacks the recognised credit, with "
        "the member's own credit, towards the award, or towards every credit-rated award of the member's "
        "framework, closest first: credits by level, what is missing, which credentials count, where an "
        "RPL cap bites.",
        responses=problem_responses(400, 403, 503),
    )
    async def learner_pathways(
        self,
        request: AuthorizedRequest,
        ref: LearnerRefParam,
        purpose: PurposeParam,
        member: Annotated[
            str | None,
            QueryParameter(max_length=255, description="Whose awards to count towards (default: you)."),
        ] = None,
        award: Annotated[
            str | None,
            QueryParameter(max_length=40, description="An award of the member's framework (default: all)."),
        ] = None,
        evaluation_date: Annotated[
            dt.date | None, QueryParameter(description="Evaluate as on this day (default: today).")
        ] = None,
        members: Members = None,
        request_timeout_ms: Budget = None,
    ) -> LearnerPathways:
        state = request.app.state
        service: PathwaysService = state.pathways
        return await service.learner_pathways(
            request.auth,
            ref,
            purpose=purpose,
            budget=request_budget(state, request_timeout_ms),
            member=member,
            award=award,
            members=member_list(members),
            evaluation_date=evaluation_date,
        )
