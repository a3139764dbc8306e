"""HTTP routes of federated lookup: a learner's credentials, one credential (verified at its issuer, also as
an Open Badges 3.0 credential) and the federated micro-credential catalogue."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.params import HeaderParameter, PathParameter, QueryParameter

from contracts.connectors import CatalogueFilters
from contracts.errors import InvalidRequest
from gateway.auth.guard import AuthorizedRequest
from gateway.learners.models import Purpose
from gateway.lookup.models import CataloguePage, CredentialsPage
from gateway.lookup.openbadges import CREDIT_AND_LEVEL_CARRIAGE, to_open_badge
from gateway.lookup.service import LookupService, deadline_from_header
from gateway.openapi import problem_responses

__all__ = ["CARRIAGE_HEADER", "CatalogueController", "CredentialsController", "LearnerCredentialsController"]

CARRIAGE_HEADER = "Credit-Level-Carriage"
_READ = {"scopes": ["credentials:read"]}
Budget = Annotated[
    str | None,
    HeaderParameter(
        name="Request-Timeout-Ms",
        description="Ask for a shorter overall deadline than the server's (milliseconds); never longer. "
        "The answer is sent by then: members still running a small margin before it are cut off.",
    ),
]
Members = Annotated[
    str | None,
    QueryParameter(max_length=4000, description="Comma-separated member ids to ask (default: every member)."),
]
Cursor = Annotated[
    str | None, QueryParameter(max_length=400, description="next_cursor of the previous page.")
]
PurposeParam = Annotated[
    Purpose, QueryParameter(description="Why you need the data: it must match a consent.")
]
LearnerRefParam = Annotated[str, PathParameter(max_length=255, description="ESI or consortium pseudonym")]


def _lookup(state: State) -> LookupService:
    service: LookupService = state.lookup
    return service


def request_budget(state: State, header: str | None) -> float:
    return deadline_from_header(header, state.settings.lookup_deadline)


def member_list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    members = [m.strip() for m in value.split(",") if m.strip()]
    if not members:
        raise InvalidRequest("members is empty", field="members", expected="comma-separated member ids")
    return members


class LearnerCredentialsController(Controller):
    path = "/v1/learners"
    tags = ["lookup"]
    opt = _READ

    @get(
        "/{ref:str}/credentials",
        summary="A learner's micro-credentials at every member, merged",
        description="Needs a live consent of the learner for your institution and the purpose. Every member "
        "is asked at once under one deadline; the answer lists every member's outcome, and partial is true "
        "when any member did not answer. 503 with Retry-After when members are at capacity.",
        responses=problem_responses(400, 403, 503),
    )
    async def learner_credentials(
        self,
        request: AuthorizedRequest,
        ref: LearnerRefParam,
        purpose: PurposeParam,
        members: Members = None,
        cursor: Cursor = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
        request_timeout_ms: Budget = None,
    ) -> CredentialsPage:
        state = request.app.state
        return await _lookup(state).learner_credentials(
            request.auth,
            ref,
            purpose=purpose,
            budget=request_budget(state, request_timeout_ms),
            members=member_list(members),
            cursor=cursor,
            limit=limit,
        )


class CredentialsController(Controller):
    path = "/v1/credentials"
    tags = ["lookup"]
    opt = _READ

    @get(
        "/{credential_id:str}",
        summary="One awarded credential, verified at its issuer's registry",
        description="The id is <issuer>:<issuer's id>, as learner lookups return it. With format=openbadges "
        f"the body is an unsigned Open Badges 3.0 OpenBadgeCredential; the {CARRIAGE_HEADER} header says how "
        "credits and levels are carried in it.",
        responses=problem_responses(400, 403, 404, 502, 503, 504),
    )
    async def get_credential(
        self,
        request: AuthorizedRequest,
        credential_id: Annotated[str, PathParameter(max_length=460)],
        purpose: PurposeParam,
        format: Annotated[Literal["canonical", "openbadges"], QueryParameter()] = "canonical",
        request_timeout_ms: Budget = None,
    ) -> Response[Any]:
        state = request.app.state
        found = await _lookup(state).credential(
            request.auth, credential_id, purpose=purpose, budget=request_budget(state, request_timeout_ms)
        )
        if format == "canonical":
            return Response(found)
        # The badge's own id carries the issuer; it is built from the issuer's id of the record.
        record = msgspec.structs.replace(found.credential, id=found.credential.id.split(":", 1)[1])
        badge = to_open_badge(
            record, gateway_issuer=state.settings.issuer, verification=found.verification.status
        )
        return Response(
            badge,
            media_type="application/vc+ld+json",
            headers={
                CARRIAGE_HEADER: CREDIT_AND_LEVEL_CARRIAGE,
                "Verification-Status": found.verification.status,
            },
        )


class CatalogueController(Controller):
    path = "/v1/catalogue"
    tags = ["lookup"]
    opt = _READ

    @get(
        "/",
        summary="The consortium's micro-credential catalogue, normalised to ECTS and EQF",
        responses=problem_responses(400, 503),
    )
    async def catalogue(
        self,
        request: AuthorizedRequest,
        members: Members = None,
        framework: Annotated[str | None, QueryParameter(max_length=40)] = None,
        eqf: Annotated[int | None, QueryParameter(ge=1, le=8)] = None,
        field_of_study: Annotated[str | None, QueryParameter(pattern=r"^\d{2,4}$")] = None,
        framework_level: Annotated[str | None, QueryParameter(max_length=40)] = None,
        min_ects: Annotated[float | None, QueryParameter(ge=0, le=1000)] = None,
        max_ects: Annotated[float | None, QueryParameter(ge=0, le=1000)] = None,
        cursor: Cursor = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
        request_timeout_ms: Budget = None,
    ) -> CataloguePage:
        state = request.app.state
        filters = CatalogueFilters(field_of_study=field_of_study, eqf=eqf, framework_level=framework_level)
        return await _lookup(state).catalogue(
            filters=filters,
            budget=request_budget(state, request_timeout_ms),
            members=member_list(members),
            framework=framework,
            min_ects=min_ects,
            max_ects=max_ects,
            cursor=cursor,
            limit=limit,
        )
