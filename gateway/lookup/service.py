"""Federated lookup: one question, every member's registry asked at once, one merged and explained answer.

A learner lookup needs a lawful basis first (R21): a live consent of the learner for the caller and the
purpose. Without one the answer is 403 and the only trace it leaves is the denial's audit entry; with one,
every selected member is asked under one overall deadline (R25, R26), the records are merged (de-duplicated
by credential id, newest first, cursor-paginated) and the access is audited with the members that answered
(R22). When a member's in-flight slots are all taken and none would free in time, the lookup is refused
with 503 and ``Retry-After`` instead of being answered silently partial.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
import msgspec
from opentelemetry.trace import Tracer

from contracts.connectors import CatalogueFilters
from contracts.credentials import CredentialRecord
from contracts.errors import (
    CircuitOpen,
    FederationOverloaded,
    InvalidRequest,
    MemberCallError,
    MemberRefused,
    MemberTimeout,
    MemberUnavailable,
    NoLawfulBasis,
    NotFound,
    UnknownMember,
)
from contracts.learners import parse_learner_ref
from gateway.audit import AuditEntry, append
from gateway.audit.grouped import GroupedAudit
from gateway.auth.rfc9068 import Principal
from gateway.db.deps import pooled
from gateway.db.tenancy import ALL
from gateway.federation import FanOutResult, MemberOutcome, fan_out
from gateway.federation.calls import Call
from gateway.learners import store as learners
from gateway.learners.bases import GroupedBases
from gateway.learners.service import audit_entry
from gateway.lookup.margin import AnswerMargin
from gateway.lookup.members import Federation, MemberRuntime
from gateway.lookup.models import (
    CatalogueItem,
    CataloguePage,
    CredentialsPage,
    Verification,
    VerifiedCredential,
    credential_id,
    split_credential_id,
)
from gateway.pagination import decode_key_cursor, encode_key_cursor

__all__ = ["LearnerRecords", "LookupService", "deadline_from_header"]

T = TypeVar("T")
_OVERLOADED = frozenset({"queue-full", "queue-timeout", "no-time"})
MAX_SELECTED = 100


def deadline_from_header(value: str | None, default: float) -> float:
    """The lookup's budget in seconds: the server default, or less when the client asks (never more)."""
    if value is None:
        return default
    if not value.isdigit() or not 1 <= int(value) <= 600_000:
        raise InvalidRequest(
            "Request-Timeout-Ms must be a whole number of milliseconds",
            field="Request-Timeout-Ms",
            expected="an integer from 1 to 600000",
        )
    return min(default, int(value) / 1000)


@dataclass(slots=True, frozen=True)
class LearnerRecords:
    """A learner's records from every member that answered, merged, and how each member answered."""

    learner: str
    records: list[CredentialRecord]
    result: FanOutResult[list[CredentialRecord]]

    def with_global_ids(self) -> list[CredentialRecord]:
        return [_with_global_id(r) for r in self.records]


@dataclass(slots=True)
class LookupService:
    federation: Federation
    tracer: Tracer
    audit: GroupedAudit
    bases: GroupedBases
    margin: AnswerMargin

    def _db(self, institution: str) -> contextlib.AbstractAsyncContextManager[asyncpg.Connection]:
        """A pooled connection for one short step (never held across a fan-out), working for
        ``institution``: the caller's, or ``ALL`` for what only the gateway may see across members (the
        learner's links at other members: migration 0012)."""
        settings = self.federation.settings
        return pooled(self.federation.pool, settings.db_acquire_timeout, institution)

    # --- learners --------------------------------------------------------------------------------------

    async def learner_credentials(
        self,
        principal: Principal,
        ref: str,
        *,
        purpose: str,
        budget: float,
        members: Collection[str] | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> CredentialsPage:
        after = decode_key_cursor(cursor, list[Any])
        found = await self.learner_records(principal, ref, purpose=purpose, budget=budget, members=members)
        page, next_cursor = _page(found.records, after, limit, key=_record_key)
        return CredentialsPage(
            learner=found.learner,
            purpose=purpose,
            items=[_with_global_id(r) for r in page],
            partial=found.result.partial,
            members=list(found.result.outcomes),
            elapsed_ms=found.result.elapsed_ms,
            next_cursor=next_cursor,
        )

    async def learner_records(
        self,
        principal: Principal,
        ref: str,
        *,
        purpose: str,
        budget: float,
        members: Collection[str] | None = None,
        action: str = "learner.credentials.read",
    ) -> LearnerRecords:
        """Every record of the learner that the selected members hold, merged (issuers' own ids), after
        the lawful-basis check, and audited as ``action``."""
        deadline = self._members_done_by(budget)
        key = parse_learner_ref(ref)
        # The basis is read, and the access audited, in batches with concurrent lookups' (one statement
        # each per batch); no connection is held across the fan-out, which other requests would need.
        basis = await self.bases.basis(key, principal.institution, purpose)
        if basis.learner is None and basis.mobility is not None:  # known so far only by the request
            async with self._db(principal.institution) as conn:
                basis = msgspec.structs.replace(basis, learner=await learners.ensure_learner(conn, key))
        resource = f"learners/{basis.learner or '-'}/credentials"
        if basis.learner is None or basis.basis is None:
            await self.audit.append(
                audit_entry(
                    principal,
                    basis.learner,
                    action=action,
                    resource=resource,
                    outcome="denied",
                    purpose=purpose,
                    details={"reason": "no-lawful-basis"},
                )
            )
            raise NoLawfulBasis(
                "no live consent of this learner, and no open mobility request with them, lets your "
                "institution receive their credentials for this purpose",
                field="purpose",
                expected="a purpose the learner consented to for your institution",
            )
        runtimes = await self.federation.members()
        chosen = self._select(runtimes, members)
        calls: dict[str, Call[list[CredentialRecord]]] = {}
        for member_id in chosen:
            runtime = runtimes[member_id]
            local_id = basis.links.get(member_id)
            if local_id is not None:
                calls[member_id] = runtime.policy.bind(_fetch(runtime, local_id))
            elif key.kind == "esi":  # not linked there: the member may still know the learner by ESI
                calls[member_id] = runtime.policy.bind(_find_and_fetch(runtime, key.value))
        result = await self._fan_out(runtimes, calls, deadline, chosen)
        cut_off = time.monotonic() >= deadline
        discovered = {
            member: local
            for member, records in result.values.items()
            if member not in basis.links and records and (local := _local_of(records[0]))
        }
        answered = [o.member for o in result.outcomes if o.status == "ok"]
        entry = audit_entry(
            principal,
            basis.learner,
            action=action,
            resource=resource,
            outcome="partial" if result.partial else "ok",
            purpose=purpose,
            details={"basis": basis.basis, "ref": str(basis.consent or basis.mobility), "answered": answered},
        )
        await self._audit_access(entry, basis.learner, discovered)
        found = LearnerRecords(learner=key.value, records=_merge(result.values), result=result)
        if cut_off:
            self.margin.observe(time.monotonic() - deadline)
        return found

    async def _audit_access(self, entry: AuditEntry, learner: uuid.UUID, discovered: dict[str, str]) -> None:
        """The access's audit entry, with the links the members' answers revealed, if any, in one
        transaction; alone, the entry shares its statement and commit with concurrent lookups'."""
        if not discovered:
            await self.audit.append(entry)
            return
        async with self._db(ALL) as conn, conn.transaction():  # links at other members
            await learners.remember_links(conn, learner, discovered)
            await append(conn, entry)

    # --- one credential --------------------------------------------------------------------------------

    async def credential(
        self, principal: Principal, value: str, *, purpose: str, budget: float
    ) -> VerifiedCredential:
        """The credential fetched from its issuer's registry, and so verified; the caller needs a lawful
        basis for its learner, as for a learner lookup."""
        deadline = self._members_done_by(budget)
        parts = split_credential_id(value)
        if parts is None:
            raise InvalidRequest(
                "not a credential id", field="id", expected="<issuer schacHome>:<issuer's id>"
            )
        issuer, local_id = parts
        runtimes = await self.federation.members()
        if issuer not in runtimes:
            raise NotFound("no member issues credentials with this id", field="id")
        runtime = runtimes[issuer]
        call = runtime.policy.bind(_get(runtime, local_id))
        result = await self._fan_out(runtimes, {issuer: call}, deadline, [issuer])
        outcome = result.outcome(issuer)
        record = result.values.get(issuer)
        if outcome.status != "ok":
            raise _member_failure(outcome)
        if record is None:
            raise NotFound("the issuer has no awarded credential with this id", field="id")
        async with self._db(ALL) as conn:  # the learner is found through the issuer's link
            basis = await self._basis_for_record(conn, principal, record, purpose)
            await append(
                conn,
                audit_entry(
                    principal,
                    basis.learner,
                    action="credential.read",
                    resource=f"credentials/{issuer}",
                    outcome="ok",
                    purpose=purpose,
                    details={"basis": basis.basis, "answered": [issuer]},
                ),
            )
        return VerifiedCredential(
            credential=_with_global_id(record),
            verification=Verification(status="verified", issuer=issuer, checked_at=dt.datetime.now(dt.UTC)),
            member=outcome,
        )

    async def _basis_for_record(
        self, conn: asyncpg.Connection, principal: Principal, record: CredentialRecord, purpose: str
    ) -> learners.Basis:
        """The caller's basis for the record's learner, found by the record's ESI or by the issuer's link."""
        keys = []
        for identifier in record.learner.identifiers:
            if identifier.scheme == "esi":
                with contextlib.suppress(InvalidRequest):
                    keys.append(parse_learner_ref(identifier.value))
        linked = await learners.learner_by_local_id(conn, record.issuer, _local_of(record))
        if linked is not None:
            keys.append(parse_learner_ref(linked[1]))
        for key in keys:
            basis = await learners.learner_basis(conn, key, principal.institution, purpose)
            if basis.learner is not None and basis.basis is not None:
                return basis
        await append(
            conn,
            audit_entry(
                principal,
                None if linked is None else linked[0],
                action="credential.read",
                resource=f"credentials/{record.issuer}",
                outcome="denied",
                purpose=purpose,
                details={"reason": "no-lawful-basis"},
            ),
        )
        raise NoLawfulBasis(
            "no live consent of this credential's learner lets your institution receive it for this purpose",
            field="purpose",
            expected="a purpose the learner consented to for your institution",
        )

    # --- catalogue -------------------------------------------------------------------------------------

    async def catalogue(
        self,
        *,
        filters: CatalogueFilters,
        budget: float,
        members: Collection[str] | None = None,
        framework: str | None = None,
        min_ects: float | None = None,
        max_ects: float | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> CataloguePage:
        deadline = self._members_done_by(budget)
        runtimes = await self.federation.members()
        chosen = [
            m
            for m in self._select(runtimes, members)
            if framework is None or runtimes[m].member.framework == framework
        ]
        calls = {m: runtimes[m].policy.bind(_catalogue(runtimes[m], filters)) for m in chosen}
        result = await self._fan_out(runtimes, calls, deadline, chosen)
        items = []
        for member_id, credentials in result.values.items():
            for credential in credentials:
                ects = credential.workload.ects
                if (min_ects is not None and (ects is None or ects < min_ects)) or (
                    max_ects is not None and (ects is None or ects > max_ects)
                ):
                    continue
                eqf = credential.level.eqf if credential.level is not None else None
                items.append(CatalogueItem(member=member_id, ects=ects, eqf=eqf, credential=credential))
        items.sort(key=lambda i: (i.member, i.credential.id))
        after = decode_key_cursor(cursor, list[Any])
        page, next_cursor = _page(items, after, limit, key=lambda i: [i.member, i.credential.id])
        return CataloguePage(
            items=page,
            partial=result.partial,
            members=list(result.outcomes),
            elapsed_ms=result.elapsed_ms,
            next_cursor=next_cursor,
        )

    # --- shared ----------------------------------------------------------------------------------------

    def _members_done_by(self, budget: float) -> float:
        """When the members' calls must be over: the answer is due ``budget`` from now, and the end of the
        budget (a tenth at most) is kept for composing, auditing and sending it (R25: remaining - margin)."""
        return time.monotonic() + budget - self.margin.margin(budget)

    def _select(self, runtimes: Mapping[str, MemberRuntime], members: Collection[str] | None) -> list[str]:
        known = set(runtimes) | set(self.federation.unconfigured)
        if members is None:
            return sorted(known)
        if len(members) > MAX_SELECTED:
            raise InvalidRequest(
                "too many members selected", field="members", expected=f"at most {MAX_SELECTED}"
            )
        unknown = sorted(set(members) - known)
        if unknown:
            raise UnknownMember(
                f"not active members: {', '.join(unknown)}",
                field="members",
                expected="ids of active members (see /v1/members)",
            )
        return sorted(set(members))

    async def _fan_out(
        self,
        runtimes: Mapping[str, MemberRuntime],
        calls: dict[str, Call[T]],
        deadline: float,
        chosen: Collection[str],
    ) -> FanOutResult[T]:
        # Unconfigured members are asked (and fail as such); members not selected, or with nothing to ask
        # (a pseudonym they have no link for), are listed as skipped.
        everyone: dict[str, Call[T]] = dict(calls)
        for member_id in chosen:
            if member_id not in runtimes:
                everyone[member_id] = _refuse(member_id, self.federation.unconfigured.get(member_id))
        selected = list(everyone)
        for member_id in [*runtimes, *self.federation.unconfigured]:
            everyone.setdefault(member_id, _refuse(member_id, "not asked"))
        result = await fan_out(
            everyone,
            deadline,
            selected=selected,
            connectors={m: r.member.connector.id for m, r in runtimes.items()},
            tracer=self.tracer,
        )
        overloaded = [o for o in result.outcomes if o.status == "error" and o.reason in _OVERLOADED]
        if overloaded:
            raise FederationOverloaded(
                f"no slot for {', '.join(o.member for o in overloaded)} would free before the deadline",
                retry_after=self.federation.settings.member_queue_wait,
            )
        return result


def _fetch(runtime: MemberRuntime, local_id: str) -> Call[list[CredentialRecord]]:
    async def call(deadline: float) -> list[CredentialRecord]:
        return await runtime.connector.fetch_credentials(local_id, deadline)

    return call


def _find_and_fetch(runtime: MemberRuntime, esi: str) -> Call[list[CredentialRecord]]:
    async def call(deadline: float) -> list[CredentialRecord]:
        local_id = await runtime.connector.find_learner(esi, deadline)
        if local_id is None:
            return []
        return await runtime.connector.fetch_credentials(local_id, deadline)

    return call


def _get(runtime: MemberRuntime, local_id: str) -> Call[CredentialRecord | None]:
    async def call(deadline: float) -> CredentialRecord | None:
        return await runtime.connector.get_credential(local_id, deadline)

    return call


def _catalogue(runtime: MemberRuntime, filters: CatalogueFilters) -> Call[list[Any]]:
    async def call(deadline: float) -> list[Any]:
        return list(await runtime.connector.list_catalogue(filters, deadline))

    return call


def _refuse(member: str, reason: str | None) -> Call[Any]:
    async def call(deadline: float) -> Any:
        raise MemberCallError(
            f"{member} cannot be called: {reason or 'not configured'}", member=member, reason="unconfigured"
        )

    return call


def _member_failure(outcome: MemberOutcome) -> MemberCallError:
    detail = f"the issuer's registry did not answer ({outcome.status}: {outcome.reason or 'unknown'})"
    if outcome.status == "timeout":
        return MemberTimeout(detail, member=outcome.member, reason=outcome.reason or "timeout")
    if outcome.status == "circuit_open":
        return CircuitOpen(detail, member=outcome.member, reason=outcome.reason or "open")
    if outcome.status == "forbidden":
        return MemberRefused(detail, member=outcome.member, reason=outcome.reason or "refused")
    return MemberUnavailable(
        detail,
        member=outcome.member,
        reason=outcome.reason or "error",
        upstream_status=outcome.upstream_status,
    )


def _merge(values: Mapping[str, list[CredentialRecord]]) -> list[CredentialRecord]:
    """Every member's records, one per (issuer, id), newest first then by issuer and id (a stable order)."""
    unique: dict[tuple[str, str], CredentialRecord] = {}
    for member in sorted(values):
        for record in values[member]:
            unique.setdefault((record.issuer, record.id), record)
    return sorted(unique.values(), key=lambda r: (-r.issued_on.toordinal(), r.issuer, r.id))


def _record_key(record: CredentialRecord) -> list[Any]:
    return [-record.issued_on.toordinal(), record.issuer, record.id]


def _with_global_id(record: CredentialRecord) -> CredentialRecord:
    return msgspec.structs.replace(record, id=credential_id(record.issuer, record.id))


def _local_of(record: CredentialRecord) -> str:
    for identifier in record.learner.identifiers:
        if identifier.scheme == "local" and identifier.member == record.issuer:
            return identifier.value
    return ""


def _page(items: list[T], after: list[Any] | None, limit: int, *, key: Any) -> tuple[list[T], str | None]:
    if after is not None:
        items = [i for i in items if key(i) > after]
    if len(items) > limit:
        return items[:limit], encode_key_cursor(key(items[limit - 1]))
    return items, None
