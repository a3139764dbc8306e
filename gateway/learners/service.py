"""Learner links, consent records and the access report: who may do what (R14, R21, R22).

Only a member that has linked a learner (it knows them: the learner studies there) may record or withdraw
their consent, read their consent history and read their access report; to anyone else the learner is
indistinguishable from an unknown one (403 ``learner-not-linked``, never 404). Every read or write here is
learner data and writes one audit entry, in the same transaction as the write (R22).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

import asyncpg
import msgspec

from contracts.errors import Conflict, InvalidRequest, NotFound, NotLinked, UnknownMember
from contracts.learners import PSEUDONYM_PREFIX, LearnerKey, parse_learner_ref
from gateway.audit import AuditEntry, append, current_trace_id
from gateway.auth.rfc9068 import Principal
from gateway.learners import store
from gateway.learners.models import AccessEntry, AccessReport, Consent, ConsentList, ConsentRequest, Link
from gateway.members.store import member_exists
from gateway.pagination import decode_key_cursor, encode_key_cursor

__all__ = [
    "access_report",
    "audit_entry",
    "create_pseudonym",
    "get_link",
    "learner_stream",
    "link_learner",
    "list_consents",
    "record_consent",
    "unlink_learner",
    "withdraw",
]

MAX_CONSENT_DAYS = 2 * 366  # a consent is for a stated period, not forever


def learner_stream(learner: uuid.UUID) -> str:
    return f"learner:{learner}"


def audit_entry(
    principal: Principal,
    learner: uuid.UUID | None,
    *,
    action: str,
    resource: str,
    outcome: str,
    purpose: str | None = None,
    details: dict[str, object] | None = None,
) -> AuditEntry:
    """One learner-data audit entry (ids and codes only). Unknown learners go to the caller's stream."""
    return AuditEntry(
        stream=learner_stream(learner) if learner is not None else f"caller:{principal.institution}",
        action=action,
        institution=principal.institution,
        client_id=principal.client_id,
        resource=resource,
        outcome=outcome,
        learner=learner,
        purpose=purpose,
        trace_id=current_trace_id(),
        details=details or {},
    )


async def _linked(conn: asyncpg.Connection, principal: Principal, ref: str) -> tuple[LearnerKey, uuid.UUID]:
    key = parse_learner_ref(ref)
    learner = await store.find_learner(conn, key)
    if learner is None or not await store.link_of(conn, learner, principal.institution):
        raise NotLinked("your institution has not linked this learner", field="ref")
    return key, learner


async def create_pseudonym(
    conn: asyncpg.Connection, principal: Principal, local_id: str
) -> tuple[Link, bool]:
    """A consortium pseudonym for the caller's learner ``local_id`` (the same one on every call)."""
    async with conn.transaction():
        known = await store.learner_by_local_id(conn, principal.institution, local_id)
        if known is not None:
            learner, ref = known
            created_at = (await store.get_link(conn, learner, principal.institution) or (local_id, _now()))[1]
            return Link(
                learner=ref, member=principal.institution, local_id=local_id, created_at=created_at
            ), False
        ref = f"{PSEUDONYM_PREFIX}{uuid.uuid4()}"
        learner = await store.ensure_learner(conn, LearnerKey(kind="pseudonym", value=ref))
        created_at, _ = await store.upsert_link(
            conn, learner, principal.institution, local_id, principal.client_id
        )
        await append(
            conn,
            audit_entry(
                principal, learner, action="learner.link.create", resource="learners/link", outcome="ok"
            ),
        )
    return Link(learner=ref, member=principal.institution, local_id=local_id, created_at=created_at), True


async def link_learner(
    conn: asyncpg.Connection, principal: Principal, ref: str, local_id: str
) -> tuple[Link, bool]:
    """Link the learner ``ref`` to the caller's ``local_id`` (created, or moved to a new local id)."""
    key = parse_learner_ref(ref)
    try:
        async with conn.transaction():
            learner = await store.ensure_learner(conn, key)
            created_at, inserted = await store.upsert_link(
                conn, learner, principal.institution, local_id, principal.client_id
            )
            await append(
                conn,
                audit_entry(
                    principal,
                    learner,
                    action="learner.link.create" if inserted else "learner.link.update",
                    resource="learners/link",
                    outcome="ok",
                ),
            )
    except asyncpg.UniqueViolationError as exc:
        raise Conflict(
            "this local id is already linked to another learner at your institution",
            field="local_id",
            expected="the local id of this learner only",
        ) from exc
    return Link(
        learner=key.value, member=principal.institution, local_id=local_id, created_at=created_at
    ), inserted


async def get_link(conn: asyncpg.Connection, principal: Principal, ref: str) -> Link:
    key = parse_learner_ref(ref)
    async with conn.transaction():
        learner = await store.find_learner(conn, key)
        found = None if learner is None else await store.get_link(conn, learner, principal.institution)
        if learner is None or found is None:
            raise NotFound("your institution has no link for this learner", field="ref")
        await append(
            conn,
            audit_entry(
                principal, learner, action="learner.link.read", resource="learners/link", outcome="ok"
            ),
        )
    return Link(learner=key.value, member=principal.institution, local_id=found[0], created_at=found[1])


async def unlink_learner(conn: asyncpg.Connection, principal: Principal, ref: str) -> None:
    key = parse_learner_ref(ref)
    async with conn.transaction():
        learner = await store.find_learner(conn, key)
        if learner is None or not await store.unlink(conn, learner, principal.institution):
            raise NotFound("your institution has no link for this learner", field="ref")
        await append(
            conn,
            audit_entry(
                principal, learner, action="learner.link.delete", resource="learners/link", outcome="ok"
            ),
        )


async def record_consent(
    conn: asyncpg.Connection, principal: Principal, ref: str, body: ConsentRequest
) -> Consent:
    now = _now()
    given_at = body.given_at or now
    if given_at.tzinfo is None or body.valid_until.tzinfo is None:
        raise InvalidRequest("times need a UTC offset", field="valid_until", expected="RFC 3339 with offset")
    if given_at > now + dt.timedelta(minutes=5):
        raise InvalidRequest("consent cannot be given in the future", field="given_at", expected="<= now")
    if not given_at < body.valid_until <= now + dt.timedelta(days=MAX_CONSENT_DAYS):
        raise InvalidRequest(
            "valid_until must follow given_at and be within two years",
            field="valid_until",
            expected=f"a time after given_at and at most {MAX_CONSENT_DAYS} days ahead",
        )
    async with conn.transaction():
        key, learner = await _linked(conn, principal, ref)
        if not await member_exists(conn, body.recipient):
            raise UnknownMember(f"{body.recipient!r} is not a member", field="recipient")
        consent_id = uuid.uuid4()
        await store.insert_consent(
            conn,
            {
                "id": consent_id,
                "learner": learner,
                "recipient": body.recipient,
                "purpose": body.purpose,
                "data_categories": list(dict.fromkeys(body.data_categories)),
                "consent_text_version": body.consent_text_version,
                "method": body.method,
                "recorded_by_member": principal.institution,
                "recorded_by_client": principal.client_id,
                "given_at": body.given_at,
                "valid_until": body.valid_until,
            },
        )
        await append(
            conn,
            audit_entry(
                principal,
                learner,
                action="learner.consent.record",
                resource=f"learners/consents/{consent_id}",
                outcome="ok",
                purpose=body.purpose,
                details={"recipient": body.recipient},
            ),
        )
        rows = await store.consents(conn, learner, consent_id)
    return _consent(key.value, rows[0])


async def list_consents(conn: asyncpg.Connection, principal: Principal, ref: str) -> ConsentList:
    async with conn.transaction():
        key, learner = await _linked(conn, principal, ref)
        rows = await store.consents(conn, learner)
        await append(
            conn,
            audit_entry(
                principal, learner, action="learner.consents.read", resource="learners/consents", outcome="ok"
            ),
        )
    return ConsentList(items=[_consent(key.value, r) for r in rows])


async def withdraw(
    conn: asyncpg.Connection, principal: Principal, ref: str, consent_id: uuid.UUID
) -> Consent:
    """Withdraw a consent (idempotent: withdrawing a withdrawn consent changes nothing)."""
    async with conn.transaction():
        key, learner = await _linked(conn, principal, ref)
        withdrawn = await store.withdraw_consent(
            conn, consent_id, learner, principal.institution, principal.client_id
        )
        rows = await store.consents(conn, learner, consent_id)
        if not rows:
            raise NotFound("the learner has no consent with this id", field="consent_id")
        if withdrawn:
            await append(
                conn,
                audit_entry(
                    principal,
                    learner,
                    action="learner.consent.withdraw",
                    resource=f"learners/consents/{consent_id}",
                    outcome="ok",
                ),
            )
    return _consent(key.value, rows[0])


async def access_report(
    conn: asyncpg.Connection, principal: Principal, ref: str, *, cursor: str | None, limit: int
) -> AccessReport:
    after = decode_key_cursor(cursor, tuple[dt.datetime, str, int])
    async with conn.transaction():
        key, learner = await _linked(conn, principal, ref)
        rows = await store.access_entries(conn, learner, after, limit + 1)
        await append(
            conn,
            audit_entry(
                principal,
                learner,
                action="learner.access-report.read",
                resource="learners/access-report",
                outcome="ok",
            ),
        )
    last = rows[limit - 1] if len(rows) > limit else None
    next_cursor = encode_key_cursor([last["at"], last["stream"], last["seq"]]) if last is not None else None
    return AccessReport(learner=key.value, items=[_access(r) for r in rows[:limit]], next_cursor=next_cursor)


def _access(row: asyncpg.Record) -> AccessEntry:
    details = msgspec.json.decode(row["details"]) if row["details"] else {}
    members = details.get("answered")
    return AccessEntry(
        at=row["at"],
        action=row["action"],
        institution=row["actor_institution"],
        client_id=row["actor_client"],
        purpose=row["purpose"],
        outcome=row["outcome"],
        resource=row["resource"],
        members=members if isinstance(members, list) else None,
        basis=details.get("basis") if isinstance(details.get("basis"), str) else None,
    )


def _consent(ref: str, row: asyncpg.Record) -> Consent:
    withdrawn_at = row["withdrawn_at"]
    status: Literal["active", "expired", "withdrawn"] = (
        "withdrawn" if withdrawn_at else ("expired" if row["valid_until"] <= _now() else "active")
    )
    return Consent(
        id=row["id"],
        learner=ref,
        recipient=row["recipient"],
        purpose=row["purpose"],
        data_categories=list(row["data_categories"]),
        consent_text_version=row["consent_text_version"],
        method=row["method"],
        recorded_by=row["recorded_by_member"],
        given_at=row["given_at"],
        valid_until=row["valid_until"],
        withdrawn_at=withdrawn_at,
        status=status,
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
