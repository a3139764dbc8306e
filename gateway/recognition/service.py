"""Recognition decisions that touch storage: who may manage which agreement, versioning with If-Match,
and the per-process engine, rebuilt when any agreement, equivalence or member changes."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated

import asyncpg
import msgspec
from msgspec import Meta, field

from adapters.frameworks import FrameworkRegistry
from contracts.base import Contract
from contracts.credentials import CredentialRecord
from contracts.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    UnknownMember,
)
from contracts.types import ConversionBasis, ShortText
from gateway.auth.rfc9068 import Principal
from gateway.members.store import member_frameworks
from gateway.recognition import RecognitionEngine, check_agreements, check_equivalences, store
from gateway.recognition.models import (
    AgreementConditions,
    AgreementScope,
    AgreementStatus,
    Equivalence,
    EvaluationRequest,
    EvaluationResult,
    Grant,
    Parties,
    RecognisedModule,
    RecognisingMember,
    RecognitionAgreement,
)

__all__ = [
    "AgreementBody",
    "AgreementCreate",
    "EngineCache",
    "EquivalenceBody",
    "EquivalenceCreate",
    "EvaluateBody",
    "create_agreement",
    "create_equivalence",
    "etag",
    "get_agreement",
    "get_equivalence",
    "new_agreement_version",
    "new_equivalence_version",
]

_Id = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")]
_Code = Annotated[str, Meta(min_length=1, max_length=40)]


class AgreementBody(Contract, frozen=True, kw_only=True):
    """A version of an agreement as a member writes it; the gateway assigns ``version`` (R16)."""

    parties: Parties
    valid_from: dt.date
    grant: Grant
    valid_to: dt.date | None = None
    scope: AgreementScope = field(default_factory=AgreementScope)
    conditions: AgreementConditions = field(default_factory=AgreementConditions)
    status: AgreementStatus = "active"
    title: ShortText | None = None


class AgreementCreate(AgreementBody, frozen=True, kw_only=True):
    id: _Id


class EquivalenceBody(Contract, frozen=True, kw_only=True):
    """A version of an equivalence; the recognising member is the caller's institution (R14)."""

    issuer: str
    credential: Annotated[str, Meta(pattern=r"^[^*]{1,199}\*?$")]
    modules: Annotated[tuple[RecognisedModule, ...], Meta(min_length=1, max_length=20)]
    valid_from: dt.date
    approved_by: ShortText
    valid_to: dt.date | None = None
    agreement: _Id | None = None
    public_note: Annotated[str, Meta(min_length=1, max_length=10_000)] | None = None
    private_note: Annotated[str, Meta(min_length=1, max_length=10_000)] | None = None


class EquivalenceCreate(EquivalenceBody, frozen=True, kw_only=True):
    id: _Id


class EvaluateBody(Contract, frozen=True, kw_only=True):
    """A dry run: how the caller's institution would recognise these credentials."""

    credentials: Annotated[tuple[CredentialRecord, ...], Meta(min_length=1, max_length=1000)]
    evaluation_date: dt.date | None = None
    target_award: _Code | None = None
    basis: ConversionBasis | None = None


def etag(version: int) -> str:
    return f'"v{version}"'


def _check_if_match(if_match: str | None, current: int) -> None:
    if if_match is None:
        raise PreconditionRequired(
            "send If-Match with the ETag of the version you are changing", field="If-Match"
        )
    if if_match.strip() not in (etag(current), "*"):
        raise PreconditionFailed(
            f"version {current} is current; fetch it and retry", field="If-Match", expected=etag(current)
        )


def _may_manage(principal: Principal, agreement: RecognitionAgreement | AgreementBody) -> None:
    members = getattr(agreement.parties, "members", None)
    if members is None:
        if "consortium:admin" not in principal.scopes:
            raise Forbidden("consortium-wide agreements need the consortium:admin scope", field="parties")
    elif principal.institution not in members:
        raise Forbidden("a member manages only the agreements it is party to", field="parties.members")


def _ended(version: RecognitionAgreement, last_day: dt.date) -> RecognitionAgreement:
    if version.status != "active" or version.valid_from > last_day:
        return version  # a version starting on or after the new one's first day still overlaps: refused
    if version.valid_to is None or version.valid_to > last_day:
        return msgspec.structs.replace(version, valid_to=last_day)
    return version


def _visible(principal: Principal, agreement: RecognitionAgreement) -> bool:
    members = getattr(agreement.parties, "members", None)
    return members is None or principal.institution in members


async def _members(conn: asyncpg.Connection) -> dict[str, str]:
    return await member_frameworks(conn)


async def _write_agreement(
    conn: asyncpg.Connection,
    principal: Principal,
    registry: FrameworkRegistry,
    agreement: RecognitionAgreement,
    previous: list[RecognitionAgreement],
) -> RecognitionAgreement:
    # Checked with every earlier version of the same id: overlapping versions are refused (409).
    check_agreements([*previous, agreement], registry, await _members(conn))
    await store.insert_agreement(conn, agreement, principal.client_id)
    return agreement


async def create_agreement(
    conn: asyncpg.Connection, principal: Principal, registry: FrameworkRegistry, body: AgreementCreate
) -> RecognitionAgreement:
    _may_manage(principal, body)
    async with conn.transaction():
        await store.lock_document(conn, "agreement", body.id)
        if await store.agreement_versions(conn, body.id):
            raise Conflict(f"agreement {body.id!r} exists; change it with PUT and If-Match", field="id")
        fields = msgspec.structs.asdict(body)
        agreement = RecognitionAgreement(**{**fields, "version": 1})
        return await _write_agreement(conn, principal, registry, agreement, [])


async def new_agreement_version(
    conn: asyncpg.Connection,
    principal: Principal,
    registry: FrameworkRegistry,
    agreement_id: str,
    body: AgreementBody,
    if_match: str | None,
) -> RecognitionAgreement:
    async with conn.transaction():
        await store.lock_document(conn, "agreement", agreement_id)
        versions = await store.agreement_versions(conn, agreement_id)
        if not versions or not _visible(principal, versions[-1]):
            raise NotFound(f"no agreement {agreement_id!r}", field="id")
        _may_manage(principal, versions[-1])
        _may_manage(principal, body)
        _check_if_match(if_match, versions[-1].version)
        agreement = RecognitionAgreement(
            **{**msgspec.structs.asdict(body), "id": agreement_id, "version": versions[-1].version + 1}
        )
        # The new version supersedes earlier ones from its first day (never before they began).
        last_day = agreement.valid_from - dt.timedelta(days=1)
        earlier = [_ended(v, last_day) for v in versions]
        written = await _write_agreement(conn, principal, registry, agreement, earlier)
        await store.end_earlier_versions(conn, agreement_id, last_day)
        return written


async def get_agreement(
    conn: asyncpg.Connection, principal: Principal, agreement_id: str, version: int | None
) -> RecognitionAgreement:
    versions = await store.agreement_versions(conn, agreement_id)
    # Agreements a member is not party to are indistinguishable from unknown ones (R14).
    if not versions or not _visible(principal, versions[-1]):
        raise NotFound(f"no agreement {agreement_id!r}", field="id")
    if version is None:
        return versions[-1]
    for agreement in versions:
        if agreement.version == version:
            return agreement
    raise NotFound(f"agreement {agreement_id!r} has no version {version}", field="version")


def _equivalence(body: EquivalenceBody, principal: Principal, eq_id: str, version: int) -> Equivalence:
    return Equivalence(
        **{
            **msgspec.structs.asdict(body),
            "id": eq_id,
            "version": version,
            "recogniser": principal.institution,
        }
    )


async def create_equivalence(
    conn: asyncpg.Connection, principal: Principal, registry: FrameworkRegistry, body: EquivalenceCreate
) -> Equivalence:
    async with conn.transaction():
        await store.lock_document(conn, "equivalence", body.id)
        if await store.equivalence_versions(conn, body.id):
            raise Conflict(f"equivalence {body.id!r} exists; change it with PUT and If-Match", field="id")
        fields = {k: v for k, v in msgspec.structs.asdict(body).items() if k != "id"}
        equivalence = _equivalence(EquivalenceBody(**fields), principal, body.id, 1)
        check_equivalences([equivalence], registry, await _members(conn))
        await store.insert_equivalence(conn, equivalence, principal.client_id)
        return equivalence


async def new_equivalence_version(
    conn: asyncpg.Connection,
    principal: Principal,
    registry: FrameworkRegistry,
    equivalence_id: str,
    body: EquivalenceBody,
    if_match: str | None,
) -> Equivalence:
    async with conn.transaction():
        await store.lock_document(conn, "equivalence", equivalence_id)
        versions = await store.equivalence_versions(conn, equivalence_id)
        if not versions or versions[-1].recogniser != principal.institution:
            raise NotFound(f"no equivalence {equivalence_id!r} of yours", field="id")
        _check_if_match(if_match, versions[-1].version)
        equivalence = _equivalence(body, principal, equivalence_id, versions[-1].version + 1)
        check_equivalences([*versions, equivalence], registry, await _members(conn))
        await store.insert_equivalence(conn, equivalence, principal.client_id)
        return equivalence


async def get_equivalence(
    conn: asyncpg.Connection, principal: Principal, equivalence_id: str, version: int | None
) -> Equivalence:
    versions = await store.equivalence_versions(conn, equivalence_id)
    party = versions and principal.institution in (versions[-1].recogniser, versions[-1].issuer)
    if not party:
        raise NotFound(f"no equivalence {equivalence_id!r}", field="id")
    chosen = versions[-1] if version is None else next((e for e in versions if e.version == version), None)
    if chosen is None:
        raise NotFound(f"equivalence {equivalence_id!r} has no version {version}", field="version")
    if principal.institution != chosen.recogniser:  # the private note is for the recogniser's registrars
        chosen = msgspec.structs.replace(chosen, private_note=None)
    return chosen


class EngineCache:
    """One engine per process, rebuilt when the stored revision moves (one small read per evaluation)."""

    def __init__(self, registry: FrameworkRegistry) -> None:
        self.registry = registry
        self._revision = -1
        self._engine: RecognitionEngine | None = None
        self._members: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def engine(self, conn: asyncpg.Connection) -> tuple[RecognitionEngine, dict[str, str]]:
        revision = await store.current_revision(conn)
        if self._engine is None or revision != self._revision:
            async with self._lock:
                if self._engine is None or revision != self._revision:
                    loaded, agreements, equivalences = await store.load_all(conn)
                    members = await _members(conn)
                    self._engine = RecognitionEngine(
                        agreements, equivalences, registry=self.registry, members=members
                    )
                    self._members, self._revision = members, loaded
        return self._engine, self._members

    def loaded(self) -> tuple[RecognitionEngine, dict[str, str], int] | None:
        """The engine last built, its members and the revision it was built at, without a database read.
        A writer that stores an evaluation guards its own statement on that revision instead."""
        if self._engine is None:
            return None
        return self._engine, self._members, self._revision

    async def evaluate(
        self, conn: asyncpg.Connection, principal: Principal, body: EvaluateBody
    ) -> EvaluationResult:
        engine, members = await self.engine(conn)
        framework = members.get(principal.institution)
        if framework is None:
            raise UnknownMember(f"{principal.institution!r} is not a member", field="institution")
        request = EvaluationRequest(
            credentials=body.credentials,
            recogniser=RecognisingMember(id=principal.institution, framework=framework),
            evaluation_date=body.evaluation_date or dt.date.today(),
            target_award=body.target_award,
            basis=body.basis,
        )
        return engine.evaluate(request, decoded=True)  # the body was decoded (and checked) by msgspec
