"""HTTP routes for learners: links, pseudonyms, consent records and the access report.

Learner references in paths are ESIs or consortium pseudonyms (``contracts.learners``); the caller's
institution always comes from its token (R14).
"""

from __future__ import annotations

import uuid
from typing import Annotated

import asyncpg
from litestar import Controller, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter

from gateway.auth.rfc9068 import Principal
from gateway.learners import service
from gateway.learners.models import (
    AccessReport,
    Consent,
    ConsentList,
    ConsentRequest,
    Link,
    LinkRequest,
    PseudonymRequest,
)
from gateway.openapi import problem_responses

__all__ = ["LearnersController"]

Ref = Annotated[
    str,
    PathParameter(
        max_length=255,
        description="The learner's ESI (urn:schac:personalUniqueCode:int:esi:...) or consortium pseudonym.",
    ),
]
_WRITE = {"scopes": ["learners:write"]}
_READ = {"scopes": ["learners:read"]}


class LearnersController(Controller):
    path = "/v1/learners"
    tags = ["learners"]

    @post(
        "/pseudonyms",
        opt=_WRITE,
        summary="Get a consortium pseudonym for one of your learners",
        description="For learners without an ESI. The same local id always gets the same pseudonym "
        "(201 when it was created, 200 when it existed).",
        responses=problem_responses(400, 403, 503),
    )
    async def create_pseudonym(
        self,
        conn: NamedDependency[asyncpg.Connection],
        principal: NamedDependency[Principal],
        data: JSONBody[PseudonymRequest],
    ) -> Response[Link]:
        link, created = await service.create_pseudonym(conn, principal, data.local_id)
        return Response(link, status_code=201 if created else 200)

    @put(
        "/{ref:str}/link",
        opt=_WRITE,
        summary="Link a learner to your institution's own id for them",
        responses=problem_responses(400, 403, 409, 503),
    )
    async def put_link(
        self,
        conn: NamedDependency[asyncpg.Connection],
        principal: NamedDependency[Principal],
        ref: Ref,
        data: JSONBody[LinkRequest],
    ) -> Response[Link]:
        link, created = await service.link_learner(conn, principal, ref, data.local_id)
        return Response(link, status_code=201 if created else 200)

    @get(
        "/{ref:str}/link", opt=_READ, summary="Your link for a learner", responses=problem_responses(400, 404)
    )
    async def get_link(
        self, conn: NamedDependency[asyncpg.Connection], principal: NamedDependency[Principal], ref: Ref
    ) -> Link:
        return await service.get_link(conn, principal, ref)

    @delete(
        "/{ref:str}/link",
        opt=_WRITE,
        summary="Remove your link for a learner",
        responses=problem_responses(400, 404),
    )
    async def delete_link(
        self, conn: NamedDependency[asyncpg.Connection], principal: NamedDependency[Principal], ref: Ref
    ) -> None:
        await service.unlink_learner(conn, principal, ref)

    @post(
        "/{ref:str}/consents",
        opt=_WRITE,
        summary="Record a learner's consent to share their credentials with a member",
        description="Recorded by the learner's own (linked) institution. Consent records are immutable; "
        "withdraw one with POST .../consents/{id}/withdrawal.",
        responses=problem_responses(400, 403, 503),
    )
    async def record_consent(
        self,
        conn: NamedDependency[asyncpg.Connection],
        principal: NamedDependency[Principal],
        ref: Ref,
        data: JSONBody[ConsentRequest],
    ) -> Response[Consent]:
        return Response(await service.record_consent(conn, principal, ref, data), status_code=201)

    @get(
        "/{ref:str}/consents",
        opt=_READ,
        summary="A learner's consent history (withdrawn and expired ones included)",
        responses=problem_responses(400, 403),
    )
    async def list_consents(
        self, conn: NamedDependency[asyncpg.Connection], principal: NamedDependency[Principal], ref: Ref
    ) -> ConsentList:
        return await service.list_consents(conn, principal, ref)

    @post(
        "/{ref:str}/consents/{consent_id:uuid}/withdrawal",
        opt=_WRITE,
        status_code=200,
        summary="Withdraw a consent (takes effect for the next lookup)",
        responses=problem_responses(400, 403, 404),
    )
    async def withdraw(
        self,
        conn: NamedDependency[asyncpg.Connection],
        principal: NamedDependency[Principal],
        ref: Ref,
        consent_id: Annotated[uuid.UUID, PathParameter()],
    ) -> Consent:
        return await service.withdraw(conn, principal, ref, consent_id)

    @get(
        "/{ref:str}/access-report",
        opt=_READ,
        summary="Who accessed the learner's data through the gateway, and why",
        responses=problem_responses(400, 403),
    )
    async def access_report(
        self,
        conn: NamedDependency[asyncpg.Connection],
        principal: NamedDependency[Principal],
        ref: Ref,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
        cursor: Annotated[str | None, QueryParameter(max_length=400)] = None,
    ) -> AccessReport:
        return await service.access_report(conn, principal, ref, cursor=cursor, limit=limit)
