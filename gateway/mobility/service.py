"""Mobility decisions that touch storage: creating a request (pre-evaluated by the recognition engine) and
taking workflow actions on it, each with its audit entry, event and idempotency record in one statement.

Checks run in the order a client can act on: not party -> 404 (indistinguishable from unknown, R14);
wrong party -> 403; no If-Match -> 428; stale If-Match -> 412; not allowed from the state -> 409 (R31).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

import msgspec

from contracts.errors import (
    Forbidden,
    IdempotencyKeyInUse,
    IllegalTransition,
    InvalidRequest,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    ServiceUnavailable,
    UnknownMember,
)
from contracts.learners import PSEUDONYM_PREFIX, parse_learner_ref
from gateway.audit import AuditEntry, current_trace_id
from gateway.auth.rfc9068 import Principal
from gateway.mobility import store, workflow
from gateway.mobility.creations import Creations
from gateway.mobility.idempotency import Reply, check_key, fingerprint, replay
from gateway.mobility.models import (
    ActionBody,
    Actor,
    AppealBody,
    AssignBody,
    Decision,
    DecisionBody,
    HistoryEntry,
    InfoRequestBody,
    InfoResponseBody,
    Item,
    ItemDecision,
    MobilityRequest,
    MobilityRequestCreate,
    StoredRequest,
)
from gateway.mobility.rfc9562 import uuid7
from gateway.mobility.workflow import Action, Schedule
from gateway.recognition.models import EvaluationRequest, RecognisingMember
from gateway.recognition.service import EngineCache

__all__ = [
    "COLLECTION",
    "SYSTEM_CLIENT",
    "AnyActionBody",
    "close_expired",
    "create",
    "etag",
    "get",
    "take_action",
]

COLLECTION = "/v1/mobility-requests"

log = logging.getLogger(__name__)

AnyActionBody = ActionBody | InfoRequestBody | InfoResponseBody | AssignBody | AppealBody | DecisionBody

EVENT_TYPES: dict[Action | str, str] = {
    "submit": "mobility_request.submitted",
    "review": "mobility_request.review_started",
    "request_info": "mobility_request.info_requested",
    "respond": "mobility_request.info_provided",
    "assign": "mobility_request.assigned",
    "decide": "mobility_request.decided",
    "appeal": "mobility_request.appealed",
    "withdraw": "mobility_request.withdrawn",
    "close": "mobility_request.closed",
}
# The gateway itself, when it acts on the consortium's rules rather than on a member's call (closing a
# decision once its appeal window has ended). Not a member client id: those are registered URLs or names.
SYSTEM_CLIENT = "consortium-gateway"
_CLOSED_NOTE = "closed by the gateway: the appeal window ended"
# Rounds of recognition agreement changes racing a creation before it gives up (each reloads the engine).
_REVISION_RETRIES = 3

_encode = msgspec.json.encode
_stored = msgspec.json.Decoder(StoredRequest)


class _ItemKey(msgspec.Struct):
    position: int
    credential_id: str


_item_keys = msgspec.json.Decoder(list[_ItemKey])


class _EventPayload(msgspec.Struct, kw_only=True):
    """Thin (R20): the event's id and type, when, and which request at which version. Nothing else."""

    type: str
    id: str
    timestamp: dt.datetime
    request_id: str
    version: int


def etag(version: int) -> str:
    return f'"v{version}"'


def _now() -> dt.datetime:
    now = dt.datetime.now(dt.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _request_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        # A malformed id answers like an unknown one: no oracle for what exists (R14).
        raise NotFound("no such mobility request", field="id") from None


def _learner_uuid(learner: str) -> uuid.UUID | None:
    """The pseudonymous learner id for audit (R22), when the reference is a consortium pseudonym; an ESI is
    never written to the audit log."""
    if learner.startswith(PSEUDONYM_PREFIX):
        return uuid.UUID(learner[len(PSEUDONYM_PREFIX) :])
    return None


def _event(action: Action | str, request_id: uuid.UUID, version: int, now: dt.datetime) -> store.Event:
    event_id = uuid7()
    kind = EVENT_TYPES[action]
    payload = _EventPayload(
        type=kind, id=str(event_id), timestamp=now, request_id=str(request_id), version=version
    )
    return store.Event(id=event_id, type=kind, payload=_encode(payload).decode())


def _response(status: int, body: bytes, headers: dict[str, str]) -> store.StoredResponse:
    return store.StoredResponse(status=status, headers_json=_encode(headers).decode(), body=body.decode())


async def _replay_committed(conn: Any, principal: Principal, key: str, expected: bytes) -> Reply:
    prior = await store.prior_response(conn, principal.client_id, key)
    if prior is None:  # the other writer rolled back after all; the client may simply retry
        raise IdempotencyKeyInUse("a request with this Idempotency-Key was in progress; retry it")
    return replay(prior, expected)


def _check_items(body: MobilityRequestCreate) -> None:
    seen: set[str] = set()
    for index, item in enumerate(body.items):
        if item.credential_id != item.record.id:
            raise InvalidRequest(
                "the credential id differs from the record's id",
                field=f"items[{index}].credential_id",
                expected=item.record.id,
            )
        if item.credential_id in seen:
            raise InvalidRequest(
                "a credential appears twice in one request",
                field=f"items[{index}].credential_id",
                expected="each credential once",
            )
        seen.add(item.credential_id)


async def create(
    creations: Creations,
    principal: Principal,
    engines: EngineCache,
    body: MobilityRequestCreate,
    key: str | None,
) -> Reply:
    """Create a request in ``submitted``, every item pre-evaluated for the host member."""
    idempotency_key = check_key(key, required=True)
    assert idempotency_key is not None
    expected = fingerprint("POST", COLLECTION, body)
    learner = parse_learner_ref(body.learner, field="learner").value
    if body.home_member == body.host_member:
        raise InvalidRequest(
            "home and host must be different members", field="host_member", expected="another member"
        )
    if workflow.party_of(principal.institution, body.home_member, body.host_member) is None:
        raise Forbidden(
            "a member creates requests only between itself and another member",
            field="home_member",
            expected=f"{principal.institution} as the home or the host member",
        )
    _check_items(body)
    actor = Actor(institution=principal.institution, client_id=principal.client_id, registrar=body.registrar)
    for _ in range(_REVISION_RETRIES):
        loaded = engines.loaded()
        if loaded is None:
            async with creations.connection() as conn:
                await engines.engine(conn)
            loaded = engines.loaded()
            assert loaded is not None
        engine, members, revision = loaded
        for member, field in ((body.home_member, "home_member"), (body.host_member, "host_member")):
            if member not in members:
                raise UnknownMember(f"{member!r} is not a consortium member", field=field)
        now = _now()
        evaluation = engine.evaluate(
            EvaluationRequest(
                credentials=tuple(item.record for item in body.items),
                recogniser=RecognisingMember(id=body.host_member, framework=members[body.host_member]),
                evaluation_date=now.date(),
                target_award=body.target.award,
            ),
            decoded=True,  # msgspec decoded (and checked) the records with the body
        )
        request_id = uuid7()
        rid = str(request_id)  # once: UUID.__str__ is Python code, and a creation needs the text five times
        schedule = Schedule.submitted(now)
        document = MobilityRequest(
            id=rid,
            version=1,
            state="submitted",
            learner=learner,
            home_member=body.home_member,
            host_member=body.host_member,
            target=body.target,
            purpose=body.purpose,
            round=1,
            submitted_by=actor,
            created_at=now,
            updated_at=now,
            history=(HistoryEntry(version=1, action="submit", state="submitted", at=now, by=actor),),
            evaluation_date=evaluation.evaluation_date,
            due_at=schedule.due_at,
            decision_due=schedule.decision_due,
            award_progress=evaluation.award_progress,
            items=tuple(
                Item(position=i, credential_id=item.credential_id, record=item.record, evaluation=outcome)
                for i, (item, outcome) in enumerate(zip(body.items, evaluation.outcomes, strict=True))
            ),
        )
        encoded = _encode(document)
        headers = {"Location": f"{COLLECTION}/{rid}", "ETag": etag(1)}
        items = [
            {"position": i, "credential_id": o.credential, "evaluated": o.status}
            for i, o in enumerate(evaluation.outcomes)
        ]
        event = _event("submit", request_id, 1, now)
        write = store.CreateWrite(
            id=request_id,
            learner_ref=learner,
            home_member=body.home_member,
            host_member=body.host_member,
            purpose=body.purpose,
            document=encoded.decode(),
            created_at=now,
            due_at=schedule.due_at,
            client_id=principal.client_id,
            items_json=_encode(items).decode(),
            key=idempotency_key,
            fingerprint=expected,
            response_headers_json=_encode(headers).decode(),
            event=event,
            revision=revision,
            audit=AuditEntry(
                stream=f"mobility:{rid}",
                action="mobility.submit",
                institution=principal.institution,
                client_id=principal.client_id,
                resource=f"mobility-request/{rid}",
                outcome="submitted",
                sub=body.registrar,
                learner=_learner_uuid(learner),
                purpose=body.purpose,
                trace_id=current_trace_id(),
                details={"version": 1, "to": "submitted", "items": len(items), "event": str(event.id)},
            ),
        )
        try:
            result = await creations.write(write)
        except store.KeyTaken:
            async with creations.connection() as conn:
                return await _replay_committed(conn, principal, idempotency_key, expected)
        if not result.free:
            raise IdempotencyKeyInUse("a request with this Idempotency-Key is in progress; retry it later")
        if result.prior is not None:
            return replay(result.prior, expected)
        if result.written:
            return Reply(status=201, body=encoded, headers=headers)
        async with creations.connection() as conn:
            await engines.engine(conn)  # agreements changed since the engine was built: evaluate again
    raise ServiceUnavailable("recognition agreements are changing; retry shortly")


async def get(conn: Any, principal: Principal, request_id: str) -> Reply:
    found = await store.document(conn, _request_id(request_id), principal.institution)
    if found is None:
        raise NotFound("no such mobility request", field="id")
    version, document = found
    return Reply(status=200, body=document.encode(), headers={"ETag": etag(version)})


def _check_if_match(if_match: str | None, current: int) -> None:
    if if_match is None:
        raise PreconditionRequired(
            "send If-Match with the ETag of the version you are acting on", field="If-Match"
        )
    if if_match.strip() != etag(current):
        raise PreconditionFailed(
            f"version {current} is current; fetch it and retry", field="If-Match", expected=etag(current)
        )


def _decisions(
    request: StoredRequest, body: DecisionBody, actor: Actor, now: dt.datetime
) -> tuple[Decision, list[dict[str, Any]]]:
    positions = {k.credential_id: k.position for k in _item_keys.decode(request.items)}
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(body.items):
        where = f"items[{index}]"
        if item.credential_id not in positions:
            raise InvalidRequest(
                "no such item in this request",
                field=f"{where}.credential_id",
                expected="one of: " + ", ".join(sorted(positions)),
            )
        if item.credential_id in seen:
            raise InvalidRequest("an item is decided twice", field=f"{where}.credential_id")
        seen.add(item.credential_id)
        _check_item(item, where)
        rows.append(
            {
                "position": positions[item.credential_id],
                "decision": item.decision,
                "reason_code": item.reason,
                "credits": item.credits.amount if item.credits else None,
                "decided_by": body.registrar,
            }
        )
    missing = sorted(set(positions) - seen)
    if missing:
        raise InvalidRequest(
            "every item needs a decision", field="items", expected="decisions for: " + ", ".join(missing)
        )
    workflow.check_outcome(body.outcome, [item.decision for item in body.items])
    decision = Decision(
        round=request.round,
        outcome=body.outcome,
        items=body.items,
        decided_by=actor,
        decided_at=now,
        note=body.note,
    )
    return decision, rows


def _check_item(item: ItemDecision, where: str) -> None:
    if item.decision != "refused" and item.credits is None:
        raise InvalidRequest(
            "a granted item states the credits granted", field=f"{where}.credits", expected="a credit value"
        )
    if item.decision != "granted" and item.reason is None:
        raise InvalidRequest(
            "a refused or partly granted item needs a reason code",
            field=f"{where}.reason",
            expected="subject, level, currency, quality_assurance, grade or other",
        )


def _changed(
    request: StoredRequest,
    action: Action,
    body: AnyActionBody,
    state: workflow.State,
    actor: Actor,
    now: dt.datetime,
) -> tuple[StoredRequest, list[dict[str, Any]]]:
    """The request after ``action``: state, version, clock, assignee, decisions, round and history."""
    version = request.version + 1
    schedule = workflow.reschedule(
        Schedule(request.due_at, request.decision_due, request.paused_since, request.appeal_until),
        action,
        now,
    )
    changes: dict[str, Any] = {
        "version": version,
        "state": state,
        "updated_at": now,
        "due_at": schedule.due_at,
        "decision_due": schedule.decision_due,
        "paused_since": schedule.paused_since,
        "appeal_until": schedule.appeal_until,
    }
    rows: list[dict[str, Any]] = []
    assigned = None
    if action == "review" and request.assigned_to is None:
        changes["assigned_to"] = body.registrar  # starting a review claims the request (TES)
    elif isinstance(body, AssignBody):
        changes["assigned_to"] = assigned = body.assign_to
    elif isinstance(body, DecisionBody):
        decision, rows = _decisions(request, body, actor, now)
        changes["decisions"] = (*request.decisions, decision)
        changes["outcome"] = body.outcome
    elif action == "appeal":
        changes["round"] = request.round + 1
        changes["outcome"] = None
    entry = HistoryEntry(
        version=version, action=action, state=state, at=now, by=actor, note=body.note, assigned_to=assigned
    )
    changes["history"] = (*request.history, entry)
    return msgspec.structs.replace(request, **changes), rows


def _action_write(
    request: StoredRequest,
    rid: uuid.UUID,
    action: Action,
    body: AnyActionBody,
    actor: Actor,
    now: dt.datetime,
    *,
    key: str | None,
    fingerprint: bytes,
) -> tuple[store.ActionWrite, bytes, dict[str, str]]:
    """The conditional write of ``action`` by ``actor`` (its audit entry, event and idempotency record), the
    response body and headers; ``IllegalTransition`` when the state or the appeal rules do not allow it."""
    state = workflow.transition(
        request.state, action, round_=request.round, appeal_until=request.appeal_until, now=now
    )
    changed, decision_rows = _changed(request, action, body, state, actor, now)
    encoded = _encode(changed)
    headers = {"ETag": etag(changed.version)}
    event = _event(action, rid, changed.version, now)
    details: dict[str, Any] = {
        "version": changed.version,
        "from": request.state,
        "to": state,
        "round": changed.round,
        "event": str(event.id),
    }
    if isinstance(body, DecisionBody):
        details["outcome"] = body.outcome
        details["items"] = {
            v: sum(i.decision == v for i in body.items) for v in ("granted", "partially_granted", "refused")
        }
    write = store.ActionWrite(
        id=rid,
        expected_version=request.version,
        allowed_from=workflow.allowed_from(action),
        state=state,
        document=encoded.decode(),
        now=now,
        assigned_to=changed.assigned_to,
        due_at=changed.due_at,
        outcome=changed.outcome,
        round=changed.round,
        appeal_until=changed.appeal_until,
        decisions_json=_encode(decision_rows).decode(),
        institution=actor.institution,
        client_id=actor.client_id,
        key=key,
        fingerprint=fingerprint,
        response=_response(200, encoded, headers),
        event=event,
        audit=AuditEntry(
            stream=f"mobility:{rid}",
            action=f"mobility.{action}",
            institution=actor.institution,
            client_id=actor.client_id,
            resource=f"mobility-request/{rid}",
            outcome=f"{state}:{body.outcome}" if isinstance(body, DecisionBody) else state,
            sub=actor.registrar,
            learner=_learner_uuid(request.learner),
            purpose=request.purpose,
            trace_id=current_trace_id(),
            details=details,
        ),
    )
    return write, encoded, headers


async def take_action(
    conn: Any,
    principal: Principal,
    request_id: str,
    action: Action,
    body: AnyActionBody,
    *,
    path: str,
    if_match: str | None,
    key: str | None,
) -> Reply:
    """One registrar (or party) action on a request, under If-Match; replayed for a known key."""
    idempotency_key = check_key(key, required=action == "decide")  # R29: creates and decisions
    rid = _request_id(request_id)
    expected = fingerprint("POST", path, body)
    loaded = await store.load_for_action(
        conn, rid, principal.institution, principal.client_id, idempotency_key
    )
    if loaded.prior is not None:
        return replay(loaded.prior, expected)
    if loaded.document is None:
        raise NotFound("no such mobility request", field="id")
    request = _stored.decode(loaded.document)
    party = workflow.party_of(principal.institution, request.home_member, request.host_member)
    assert party is not None  # the query only finds requests the caller is party to
    workflow.check_party(action, party)
    _check_if_match(if_match, request.version)
    actor = Actor(institution=principal.institution, client_id=principal.client_id, registrar=body.registrar)
    write, encoded, headers = _action_write(
        request, rid, action, body, actor, _now(), key=idempotency_key, fingerprint=expected
    )
    try:
        result = await store.apply_action(conn, write)
    except store.KeyTaken:
        assert idempotency_key is not None
        return await _replay_committed(conn, principal, idempotency_key, expected)
    if not result.free:
        raise IdempotencyKeyInUse("a request with this Idempotency-Key is in progress; retry it later")
    if result.prior is not None:
        return replay(result.prior, expected)
    if not result.written:
        await _why_not_written(conn, principal, rid, request.version, action)
    return Reply(status=200, body=encoded, headers=headers)


async def close_expired(conn: Any, *, limit: int, now: dt.datetime | None = None) -> int:
    """Close up to ``limit`` decided requests whose appeal window has ended; how many this call closed.

    Each closure is the host's ``close``, taken by the gateway itself (client ``SYSTEM_CLIENT``, no
    registrar): the same conditional write, audit entry and event. Another process closing the same request
    first, or a party acting on it meanwhile, wins; this call then skips it.
    """
    now = now or _now()
    closed = 0
    for document in await store.expired_decisions(conn, now, limit):
        request = _stored.decode(document)
        rid = uuid.UUID(request.id)
        actor = Actor(institution=request.host_member, client_id=SYSTEM_CLIENT)
        body = ActionBody(registrar=SYSTEM_CLIENT, note=_CLOSED_NOTE)
        try:
            write, _, _ = _action_write(request, rid, "close", body, actor, now, key=None, fingerprint=b"")
        except IllegalTransition:  # the document disagrees with its columns: leave it to a person
            log.warning("a decided request cannot be closed", extra={"request_id": request.id})
            continue
        result = await store.apply_action(conn, write)
        closed += result.written
    return closed


async def _why_not_written(
    conn: Any, principal: Principal, rid: uuid.UUID, version: int, action: Action
) -> None:
    """Another writer changed the request between the read and the conditional write: say how."""
    now_at = await store.state_of(conn, rid, principal.institution)
    if now_at is None:
        raise NotFound("no such mobility request", field="id")
    current, state = now_at
    if current != version:
        raise PreconditionFailed(
            f"version {current} is current; fetch it and retry", field="If-Match", expected=etag(current)
        )
    # Same version but not written: only the state guard can refuse (the table was checked before).
    workflow.transition(state, action, round_=2, appeal_until=None, now=_now())  # type: ignore[arg-type]
    raise PreconditionFailed(
        "the request changed; fetch it and retry", field="If-Match", expected=etag(current)
    )
