"""HTTP routes of recognition: dry-run evaluation, agreements and equivalences (versioned, with ETags)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Controller, Response, get, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, JSONBody, PathParameter, QueryParameter

from gateway.auth.rfc9068 import Principal
from gateway.openapi import problem_responses
from gateway.pagination import decode_cursor, split_page
from gateway.recognition import service, store
from gateway.recognition.models import Equivalence, EvaluationResult, RecognitionAgreement

__all__ = ["AgreementsController", "EquivalencesController", "evaluate"]

_Id = Annotated[str, PathParameter(max_length=100)]
_Limit = Annotated[int, QueryParameter(ge=1, le=100)]
_Cursor = Annotated[str | None, QueryParameter(max_length=400)]


class AgreementPage(msgspec.Struct, kw_only=True, omit_defaults=True):
    items: list[RecognitionAgreement]
    next_cursor: str | None = None


class EquivalencePage(msgspec.Struct, kw_only=True, omit_defaults=True):
    items: list[Equivalence]
    next_cursor: str | None = None


def _versioned(value: Any, version: int, status: int = 200, location: str | None = None) -> Response[Any]:
    headers = {"ETag": service.etag(version)}
    if location:
        headers["Location"] = location
    return Response(value, status_code=status, headers=headers)


# Up to 1,000 canonical records of ~1.2 KB each: this route alone accepts bodies up to 4 MiB (R17: a limit
# per route, sized to what the route is for).
EVALUATE_MAX_BODY = 4 * 1024 * 1024


@post(
    "/v1/recognition/evaluate",
    status_code=200,
    request_max_body_size=EVALUATE_MAX_BODY,
    opt={"scopes": ["recognition:read"]},
    tags=["recognition"],
    summary="Dry run: how your institution would recognise these credentials, with the explanation",
    responses=problem_responses(400, 409),
)
async def evaluate(
    state: State,
    conn: NamedDependency[asyncpg.Connection],
    principal: NamedDependency[Principal],
    data: JSONBody[service.EvaluateBody],
) -> EvaluationResult:
    engines: service.EngineCache = state.recognition
    return await engines.evaluate(conn, principal, data)


class AgreementsController(Controller):
    path = "/v1/recognition/agreements"
    tags = ["recognition"]

    @get(
        "/",
        opt={"scopes": ["recognition:read"]},
        summary="Agreements you are party to, and consortium-wide ones",
    )
    async def list_agreements(
        self,
        conn: NamedDependency[asyncpg.Connection],
        principal: NamedDependency[Principal],
        limit: _Limit = 50,
        cursor: _Cursor = None,
        status: Annotated[str | None, QueryParameter(pattern=r"^(draft|active|suspended|withdrawn)$")] = None,
        valid_on: Annotated[dt.date | None, QueryParameter()] = None,
    ) -> AgreementPage:
        items = await store.list_agreements(
            conn,
            member=principal.institution,
            after=decode_cursor(cursor),
            status=status,
            valid_on=valid_on,
            limit=limit + 1,
        )
        page, next_cursor = split_page(items, limit, lambda a: a.id)
        return AgreementPage(items=page, next_cursor=next_cursor)

    @post(
        "/",
        opt={"scopes": ["recognition:write"]},
        summary="Create an agreement (version 1)",
        responses=problem_responses(400, 403, 409),
    )
    async def create_agreement(
        self,
        state: State,
        conn: NamedDependency[asyncpg.Connection],
        principal: NamedDependency[Principal],
        data: JSONBody[service.AgreementCreate],
    ) -> Response[RecognitionAgreement]:
        created = await service.create_agreement(conn, principal, state.frameworks, data)
        return _versioned(created, created.version, 201, f"{self.path}/{created.id}")

    @get("/{agreement_id:str}", opt={"scopes": ["recognition:read"]}, responses=problem_responses(404))
    async def get_agreement(
        self,
        conn: NamedDependency[asyncpg.Connection],
        principal: NamedDependency[Principal],
        agreement_id: _Id,
        version: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> Response[RecognitionAgreement]:
        found = await service.get_agreement(conn, principal, agreement_id, version)
        return _versioned(found, found.version)

    @put(
        "/{agreement_id:str}",
        opt={"scopes": ["recognition:write"]},
        summary="Change an agreement: a new version (If-Match with the current ETag)",
        responses=problem_responses(400, 403, 404, 409, 412, 428),
    )
    async def new_version(
        self,
        state: State,
        conn: NamedDependency[asyncpg.Connection],
        principal: NamedDependency[Principal],
        agreement_id: _Id,
        data: JSONBody[service.AgreementBody],
        if_match: Annotated[str | None, HeaderParameter(name="If-Match")] = None,
    ) -> Response[RecognitionAgreement]:
        changed = await service.new_agreement_version(
            conn, principal, state.frameworks, agreement_id, data, if_match
        )
        return _versioned(changed, changed.version)


class EquivalencesController(Controller):
    path = "/v1/recognition/equivalences"
    tags = ["recognition"]

    @get("/", opt={"scopes": ["recognition:read"]}, summary="Equivalences where you recognise or issue")
    async def list_equivalences(
        self,
        conn: NamedDependency[asyncpg.Connection],
        principal: NamedDependency[Principal],
        limit: _Limit = 50,
        cursor: _Cursor = None,
    ) -> EquivalencePage:
        items = await store.list_equivalences(
            conn, member=principal.institution, after=decode_cursor(cursor), limit=limit + 1
        )
        hide = principal.institution
        items = [e if e.recogniser == hide else msgspec.structs.replace(e, private_note=None) for e in items]
        page, next_cursor = split_page(items, limit, lambda e: e.id)
        return EquivalencePage(items=page, next_cursor=next_cursor)

    @post(
        "/",
        opt={"scopes": ["recognition:write"]},
        summary="Create an equivalence for your institution (version 1)",
        responses=problem_responses(400, 409),
    )
    async def create_equivalence(
        self,
        state: State,
        conn: NamedDependency[asyncpg.Connection],
        principal: NamedDependency[Principal],
        data: JSONBody[service.EquivalenceCreate],
    ) -> Response[Equivalence]:
        created = await service.create_equivalence(conn, principal, state.frameworks, data)
        return _versioned(created, created.version, 201, f"{self.path}/{created.id}")

    @get("/{equivalence_id:str}", opt={"scopes": ["recognition:read"]}, responses=problem_responses(404))
    async def get_equivalence(
        self,
        conn: NamedDependency[asyncpg.Connection],
        principal: NamedDependency[Principal],
        equivalence_id: _Id,
        version: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> Response[Equivalence]:
        found = await service.get_equivalence(conn, principal, equivalence_id, version)
        return _versioned(found, found.version)

    @put(
        "/{equivalence_id:str}",
        opt={"scopes": ["recognition:write"]},
        summary="Change an equivalence: a new version (If-Match with the current ETag)",
        responses=problem_responses(400, 404, 409, 412, 428),
    )
    async def new_version(
        self,
        state: State,
        conn: NamedDependency[asyncpg.Connection],
        principal: NamedDependency[Principal],
        equivalence_id: _Id,
        data: JSONBody[service.EquivalenceBody],
        if_match: Annotated[str | None, HeaderParameter(name="If-Match")] = None,
    ) -> Response[Equivalence]:
        changed = await service.new_equivalence_version(
            conn, principal, state.frameworks, equivalence_id, data, if_match
        )
        return _versioned(changed, changed.version)
