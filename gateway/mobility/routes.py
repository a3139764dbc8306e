"""HTTP routes of mobility: requests (create, queue, read), registrar actions, and the event feed."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import asyncpg
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import HeaderParameter, JSONBody, PathParameter, QueryParameter

from contracts.errors import InvalidRequest
from gateway.auth.guard import AuthorizedRequest
from gateway.auth.rfc9068 import Principal
from gateway.mobility import service, store
from gateway.mobility.idempotency import Reply
from gateway.mobility.models import (
    ActionBody,
    AppealBody,
    AssignBody,
    DecisionBody,
    EventPage,
    InfoRequestBody,
    InfoResponseBody,
    MobilityRequest,
    MobilityRequestCreate,
    MobilityRequestPage,
)
from gateway.mobility.workflow import RULES, Action
from gateway.mobility.workflow import State as RequestState
from gateway.openapi import problem_responses
from gateway.pagination import decode_cursor, encode_cursor

__all__ = ["MobilityRequestsController", "events"]

_Id = Annotated[str, PathParameter(max_length=64)]
_IfMatch = Annotated[str | None, HeaderParameter(name="If-Match", max_length=100)]
_Key = Annotated[str | None, HeaderParameter(name="Idempotency-Key", max_length=300)]
_ACTION_PROBLEMS = problem_responses(400, 403, 404, 409, 412, 422, 428)
_JSON = "application/json"


def _reply(reply: Reply) -> Response[bytes]:
    return Response(content=reply.body, status_code=reply.status, headers=reply.headers, media_type=_JSON)


def _scopes(action: Action) -> dict[str, Any]:
    return {"scopes": [RULES[action].scope]}


def _documented(status: int, description: str) -> dict[int, ResponseSpec]:
    # No generated examples: a random CredentialRecord breaks the record's own invariants.
    spec = ResponseSpec(data_container=MobilityRequest, description=description, generate_examples=False)
    return {status: spec}


class MobilityRequestsController(Controller):
    path = service.COLLECTION
    tags = ["mobility"]

    @post(
        "/",
        opt={"scopes": ["mobility:write"]},
        summary="Create a mobility request (Idempotency-Key required); every item is pre-evaluated",
        responses={
            **_documented(201, "Created; a replay of the same key and body answers the same bytes"),
            **problem_responses(400, 403, 409, 422),
        },
    )
    async def create_request(
        self,
        request: AuthorizedRequest,
        data: JSONBody[MobilityRequestCreate],
        idempotency_key: _Key = None,
    ) -> Response[bytes]:
        # No connection held for the request: the creation waits for its batch's (GroupedCreations).
        state = request.app.state
        principal = request.auth
        created = await service.create(state.creations, principal, state.recognition, data, idempotency_key)
        return _reply(created)

    @get("/", opt={"scopes": ["mobility:read"]}, summary="The queue: requests you are party to")
    async def list_requests(
        self,
        conn: NamedDependency[asyncpg.Connection],
        principal: NamedDependency[Principal],
        states: Annotated[list[RequestState] | None, QueryParameter(name="state")] = None,
        assigned_to: Annotated[str | None, QueryParameter(max_length=128)] = None,
        due_before: Annotated[dt.datetime | None, QueryParameter()] = None,
        role: Annotated[Literal["home", "host"] | None, QueryParameter()] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
        cursor: Annotated[str | None, QueryParameter(max_length=400)] = None,
    ) -> MobilityRequestPage:
        after = decode_cursor(cursor)
        try:
            after_id = uuid.UUID(after) if after else None
        except ValueError:
            raise InvalidRequest(
                "the cursor is not one this API returned", field="cursor", expected="a next_cursor value"
            ) from None
        if due_before is not None and due_before.tzinfo is None:
            raise InvalidRequest(
                "due_before needs a time zone", field="due_before", expected="an RFC 3339 date-time"
            )
        rows = await store.list_requests(
            conn,
            institution=principal.institution,
            after=after_id,
            states=list(states) if states else None,
            assigned_to=assigned_to,
            due_before=due_before,
            role=role,
            limit=limit + 1,
        )
        if len(rows) > limit:
            return MobilityRequestPage(items=rows[:limit], next_cursor=encode_cursor(rows[limit - 1].id))
        return MobilityRequestPage(items=rows)

    @get(
        "/{request_id:str}",
        opt={"scopes": ["mobility:read"]},
        summary="A request with its items, evaluations, decisions and history (ETag: its version)",
        responses={**_documented(200, "The request"), **problem_responses(404)},
    )
    async def get_request(
        self,
        conn: NamedDependency[asyncpg.Connection],
        principal: NamedDependency[Principal],
        request_id: _Id,
    ) -> Response[bytes]:
        return _reply(await service.get(conn, principal, request_id))

    async def _act(
        self,
        conn: asyncpg.Connection,
        principal: Principal,
        request_id: str,
        action: Action,
        segment: str,
        body: service.AnyActionBody,
        if_match: str | None,
        key: str | None,
    ) -> Response[bytes]:
        path = f"{self.path}/{request_id}/{segment}"
        reply = await service.take_action(
            conn, principal, request_id, action, body, path=path, if_match=if_match, key=key
        )
        return _reply(reply)

    @post(
        "/{request_id:str}/review",
        status_code=200,
        opt=_scopes("review"),
        summary="Host: start (or, after an appeal, restart) the review; claims the request if unassigned",
        responses={**_documented(200, "The request after the action"), **_ACTION_PROBLEMS},
    )
    async def review(
        self,
        conn: NamedDependency[asyncpg.Connection],
        principal: NamedDependency[Principal],
        request_id: _Id,
        data: JSONBody[ActionBody],
        if_match: _IfMatch = None,
        idempotency_key: _Key = None,
    ) -> Response[bytes]:
        return await self._act(
            conn, principal, request_id, "review", "review", data, if_match, idempotency_key
        )

    @post(
        "/{request_id:str}/info-request",
        status_code=200,
        opt=_scopes("request_info"),
        summary="Host: ask the home member for more information (pauses the decision clock)",
        responses={**_documented(200, "The request after the action"), **_ACTION_PROBLEMS},
    )
    async def request_info(
        self,
        conn: NamedDependency[asyncpg.Connection],
        principal: NamedDependency[Principal],
        request_id: _Id,
        data: JSONBody[InfoRequestBody],
        if_match: _IfMatch = None,
        idempotency_key: _Key = None,
    ) -> Response[bytes]:
        return await self._act(
            conn, principal, request_id, "request_info", "info-request", data, if_match, idempotency_key
        )

    @post(
        "/{request_id:str}/info-response",
        status_code=200,
        opt=_scopes("respond"),
        summary="Answer an information request; the review resumes",
        responses={**_documented(200, "The request after the action"), **_ACTION_PROBLEMS},
    )
    async def respond(
        self,
        conn: NamedDependency[asyncpg.Connection],
        principal: NamedDependency[Principal],
        request_id: _Id,
        data: JSONBody[InfoResponseBody],
        if_match: _IfMatch = None,
        idempotency_key: _Key = None,
    ) -> Response[bytes]:
        return await self._act(
            conn, principal, request_id, "respond", "info-response", data, if_match, idempotency_key
        )

    @post(
        "/{request_id:str}/assignment",
        status_code=200,
        opt=_scopes("assign"),
        summary="Host: (re-)assign the request to a registrar",
        responses={**_documented(200, "The request after the action"), **_ACTION_PROBLEMS},
    )
    async def assign(
        self,
        conn: NamedDependency[asyncpg.Connection],
        principal: NamedDependency[Principal],
        request_id: _Id,
        data: JSONBody[AssignBody],
        if_match: _IfMatch = None,
        idempotency_key: _Key = None,
    ) -> Response[bytes]:
        return await self._act(
            conn, principal, request_id, "assign", "assignment", data, if_match, idempotency_key
        )

    @post(
        "/{request_id:str}/decision",
        status_code=200,
        opt=_scopes("decide"),
        summary="Host: decide, item by item (If-Match and Idempotency-Key required)",
        responses={**_documented(200, "The request after the decision"), **_ACTION_PROBLEMS},
    )
    async def decide(
        self,
        conn: NamedDependency[asyncpg.Connection],
        principal: NamedDependency[Principal],
        request_id: _Id,
        data: JSONBody[DecisionBody],
        if_match: _IfMatch = None,
        idempotency_key: _Key = None,
    ) -> Response[bytes]:
        return await self._act(
            conn, principal, request_id, "decide", "decision", data, if_match, idempotency_key
        )

    @post(
        "/{request_id:str}/appeal",
        status_code=200,
        opt=_scopes("appeal"),
        summary="Home: appeal the decision (once, within the appeal window)",
        responses={**_documented(200, "The request after the action"), **_ACTION_PROBLEMS},
    )
    async def appeal(
        self,
        conn: NamedDependency[asyncpg.Connection],
        principal: NamedDependency[Principal],
        request_id: _Id,
        data: JSONBody[AppealBody],
        if_match: _IfMatch = None,
        idempotency_key: _Key = None,
    ) -> Response[bytes]:
        return await self._act(
            conn, principal, request_id, "appeal", "appeal", data, if_match, idempotency_key
        )

    @post(
        "/{request_id:str}/withdrawal",
        status_code=200,
        opt=_scopes("withdraw"),
        summary="Withdraw an open request",
        responses={**_documented(200, "The request after the action"), **_ACTION_PROBLEMS},
    )
    async def withdraw(
        self,
        conn: NamedDependency[asyncpg.Connection],
        principal: NamedDependency[Principal],
        request_id: _Id,
        data: JSONBody[ActionBody],
        if_match: _IfMatch = None,
        idempotency_key: _Key = None,
    ) -> Response[bytes]:
        return await self._act(
            conn, principal, request_id, "withdraw", "withdrawal", data, if_match, idempotency_key
        )

    @post(
        "/{request_id:str}/closure",
        status_code=200,
        opt=_scopes("close"),
        summary="Host: close a decided request once no appeal is possible",
        responses={**_documented(200, "The request after the action"), **_ACTION_PROBLEMS},
    )
    async def close(
        self,
        conn: NamedDependency[asyncpg.Connection],
        principal: NamedDependency[Principal],
        request_id: _Id,
        data: JSONBody[ActionBody],
        if_match: _IfMatch = None,
        idempotency_key: _Key = None,
    ) -> Response[bytes]:
        return await self._act(
            conn, principal, request_id, "close", "closure", data, if_match, idempotency_key
        )


@get(
    "/v1/events",
    opt={"scopes": ["mobility:read"]},
    tags=["mobility"],
    summary="Events of requests you are party to, after a position (poll; webhooks carry the same ids)",
)
async def events(
    conn: NamedDependency[asyncpg.Connection],
    principal: NamedDependency[Principal],
    after: Annotated[int, QueryParameter(ge=0)] = 0,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
) -> EventPage:
    items = await store.list_events(conn, institution=principal.institution, after=after, limit=limit)
    return EventPage(items=items, next_after=items[-1].seq if items else after)
