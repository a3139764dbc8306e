"""Builders for recognition tests: a canonical record, an agreement, an equivalence, with plain defaults.

Members: ``uni-a.ac.uk`` (England, uk-fheq), ``uni-b.ac.uk`` (England, uk-fheq), ``uni-s.ac.uk`` (Scotland,
scqf), ``uni-e.eu`` (ECTS), ``college-u.edu`` (US semester hours), ``uni-n.ac.nz`` (NZQF).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from contracts.credentials import (
    AwardingBody,
    CredentialRecord,
    LearnerIdentifier,
    LearnerRef,
    MicroCredential,
    Provenance,
    QualityAssurance,
    Stackability,
)
from contracts.credits import CreditValue, Grade, Level
from gateway.recognition.models import (
    AgreementConditions,
    AgreementScope,
    Bilateral,
    ConsortiumWide,
    CredentialOutcome,
    Equivalence,
    GeneralCreditGrant,
    Grant,
    Parties,
    RecognisedModule,
    RecognisingMember,
    RecognitionAgreement,
    RecognitionExplanation,
)

A, B, S, E, U, N = "uni-a.ac.uk", "uni-b.ac.uk", "uni-s.ac.uk", "uni-e.eu", "college-u.edu", "uni-n.ac.nz"
MEMBERS = {A: "uk-fheq", B: "uk-fheq", S: "scqf", E: "ects", U: "us-semester", N: "nzqf"}
UNITS = {
    "uk-fheq": "uk-credit",
    "scqf": "scqf-credit",
    "ects": "ects",
    "us-semester": "us-sch",
    "nzqf": "nz-credit",
}
ISSUED = dt.date(2026, 3, 1)
TODAY = dt.date(2026, 9, 1)


def recogniser(member: str = B) -> RecognisingMember:
    return RecognisingMember(id=member, framework=MEMBERS[member])


def credits(amount: float, framework: str = "uk-fheq") -> CreditValue:
    return CreditValue(amount=amount, unit=UNITS[framework], framework=framework)


def record(
    rid: str = "r1",
    *,
    issuer: str = A,
    credential: str | None = None,
    amount: float = 20,
    framework: str = "uk-fheq",
    level: tuple[str, str] | None = ("uk-fheq", "7"),
    issued_on: dt.date = ISSUED,
    grade: Grade | None = None,
    field: str | None = "0613",
    stackable: bool | None = True,
    qa_type: str = "internal",
    review_due: dt.date | None = dt.date(2028, 6, 30),
    valid_until: dt.date | None = None,
    **overrides: Any,
) -> CredentialRecord:
    mc = MicroCredential(
        id=credential or f"{issuer}:DATA101",
        title="Data literacy for professionals",
        awarding_body=AwardingBody(name="University", country="GB", member=issuer),
        learning_outcomes=["Explain sampling bias"],
        workload=credits(amount, framework),
        assessment=["project"],
        participation=["online"],
        quality_assurance=QualityAssurance(type=qa_type, review_due=review_due),
        level=Level(framework=level[0], code=level[1]) if level else None,
        stackability=None
        if stackable is None
        else Stackability(kind="stackable" if stackable else "standalone"),
        field_of_study=field,
    )
    return CredentialRecord(
        id=f"{issuer}:{rid}",
        learner=LearnerRef(identifiers=[LearnerIdentifier(scheme="local", value="s1", member=issuer)]),
        credential=mc,
        issuer=issuer,
        issued_on=issued_on,
        provenance=Provenance(
            member=issuer,
            connector="sandbox",
            source_id=rid,
            fetched_at=dt.datetime(2026, 9, 1, tzinfo=dt.UTC),
        ),
        grade=grade,
        valid_until=valid_until,
        **overrides,
    )


def agreement(
    aid: str = "A1",
    version: int = 1,
    *,
    parties: Parties | None = None,
    valid_from: dt.date = dt.date(2025, 1, 1),
    valid_to: dt.date | None = None,
    grant: Grant | None = None,
    scope: AgreementScope | None = None,
    conditions: AgreementConditions | None = None,
    status: str = "active",
) -> RecognitionAgreement:
    return RecognitionAgreement(
        id=aid,
        version=version,
        parties=parties or Bilateral(members=(A, B)),
        valid_from=valid_from,
        valid_to=valid_to,
        grant=grant or GeneralCreditGrant(),
        scope=scope or AgreementScope(),
        conditions=conditions or AgreementConditions(),
        status=status,  # type: ignore[arg-type]
    )


def everyone() -> ConsortiumWide:
    return ConsortiumWide()


def module(
    code: str = "MOD7001", amount: float = 20, level: str = "7", framework: str = "uk-fheq"
) -> RecognisedModule:
    return RecognisedModule(
        code=code, title=f"Module {code}", credits=credits(amount, framework), level=level
    )


def equivalence(
    eid: str = "E1",
    version: int = 1,
    *,
    issuer: str = A,
    recogniser_id: str = B,
    credential: str = f"{A}:DATA101",
    modules: tuple[RecognisedModule, ...] | None = None,
    valid_from: dt.date = dt.date(2025, 1, 1),
    valid_to: dt.date | None = None,
    agreement_id: str | None = None,
) -> Equivalence:
    return Equivalence(
        id=eid,
        version=version,
        issuer=issuer,
        credential=credential,
        recogniser=recogniser_id,
        modules=modules or (module(),),
        valid_from=valid_from,
        valid_to=valid_to,
        approved_by="Registrar, University B",
        agreement=agreement_id,
        private_note="checked against the 2025 syllabus",
    )


def granted(
    rid: str,
    amount: float,
    level: str,
    framework: str = "uk-fheq",
    *,
    status: str = "recognised",
    award: str | None = None,
) -> CredentialOutcome:
    """An outcome as the engine reports it, for award-progress tests."""
    explanation = RecognitionExplanation(basis="convention", rules=(), agreements=(), equivalences=())
    return CredentialOutcome(
        credential=rid,
        status=status,  # type: ignore[arg-type]
        basis="convention",
        explanation=explanation,
        credits=credits(amount, framework),
        level=Level(framework=framework, code=level),
        award=award,
    )
