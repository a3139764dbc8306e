"""Recognition agreements, equivalences (articulations) and evaluation requests: the engine's inputs.

Vocabulary (shared/reference/peers.md): an *agreement* is the consortium's recognition arrangement between
members (what EWP inter-institutional agreements lack: it names levels, ISCED-F subjects and the credit it
grants); an *equivalence* is an articulation row as CollegeSource TES keeps it (issuer course = recognising
module(s), effective dates, public/private notes, who approved it). Outcomes use ELMO v2's
``ResultOfRecognition`` ideas (positive / partially positive / negative) plus ``needs_review`` for what the
engine cannot decide (``gateway.recognition._outcomes``).

Every agreement and equivalence is versioned: ``(id, version)`` names one version, its validity period is
``valid_from .. valid_to`` (both inclusive; no ``valid_to`` = open-ended), and two versions of one id must
never be in force on the same day (``OverlappingAgreementVersions``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Final, Literal

from msgspec import Meta, field

from contracts.base import Contract
from contracts.credentials import CredentialRecord
from contracts.credits import CreditValue
from contracts.types import (
    ConversionBasis,
    EqfLevel,
    FrameworkId,
    IscedFieldCode,
    LongText,
    SchacHome,
    ShortText,
)

__all__ = [
    "MAX_CREDENTIALS",
    "AgreementConditions",
    "AgreementScope",
    "AgreementStatus",
    "AwardRef",
    "Bilateral",
    "BlockCreditGrant",
    "ConsortiumWide",
    "CredentialType",
    "EqfRange",
    "Equivalence",
    "EvaluationRequest",
    "FrameworkGradeMinimum",
    "GeneralCreditGrant",
    "Grant",
    "LevelRef",
    "MaxAge",
    "ModuleGrant",
    "NormalisedGradeMinimum",
    "Parties",
    "RecognisedModule",
    "RecognisingMember",
    "RecognitionAgreement",
]

MAX_CREDENTIALS: Final = 1000  # R17: one request cannot hold a worker for long

AgreementId = Annotated[
    str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$", examples=["uni-a-uni-b-data-2026"])
]
Version = Annotated[int, Meta(ge=1, le=1_000_000)]
Code = Annotated[str, Meta(min_length=1, max_length=40)]
# An issuer's credential id, or a prefix of ids ending in one "*" (e.g. "uni-a.ac.uk:DATA*").
CredentialPattern = Annotated[str, Meta(pattern=r"^[^*]{1,199}\*?$", examples=["uni-a.ac.uk:DATA101"])]

AgreementStatus = Literal["draft", "active", "suspended", "withdrawn"]
"""Only ``active`` versions apply; drafts and withdrawn versions are never checked for overlap."""

CredentialType = Literal["standalone", "stackable"]
"""A micro-credential's type for scoping: the optional Annex I element "integration/stackability options:
stand-alone independent micro-credential / integrated, stackable towards another credential"
(shared/reference/domain.md section 5), read from ``MicroCredential.stackability.kind``."""


class LevelRef(Contract, frozen=True, kw_only=True):
    """A level of a named framework (``ects`` levels are the EQF levels 1-8)."""

    framework: FrameworkId
    code: Code


class AwardRef(Contract, frozen=True, kw_only=True):
    """An award rule of a framework (``CreditFramework.award_rule``), e.g. uk-fheq / pg-certificate."""

    framework: FrameworkId
    id: Code


# --- parties ------------------------------------------------------------------------------------------


class Bilateral(Contract, frozen=True, kw_only=True, tag_field="kind", tag="bilateral"):
    """Two members. ``mutual``: each recognises the other's credentials; otherwise only ``members[0]``
    recognises credentials issued by ``members[1]``."""

    members: tuple[SchacHome, SchacHome]
    mutual: bool = True


class ConsortiumWide(Contract, frozen=True, kw_only=True, tag_field="kind", tag="consortium"):
    """Every member recognises every other member's credentials."""


Parties = Bilateral | ConsortiumWide


# --- scope and conditions -----------------------------------------------------------------------------


class EqfRange(Contract, frozen=True, kw_only=True):
    """EQF levels ``min..max``, both inclusive."""

    min: EqfLevel = 1
    max: EqfLevel = 8


class AgreementScope(Contract, frozen=True, kw_only=True):
    """Which credentials an agreement covers; an empty part covers everything.

    - levels: the credential's level is one of ``levels``, or its EQF level lies in ``eqf`` (either suffices);
    - ``subjects``: ISCED-F 2013 codes matched as prefixes of the credential's ``field_of_study`` (``06``
      covers ``0613``; a broader credential field such as ``06`` against ``0613`` cannot be decided);
    - ``credential_types``: see ``CredentialType``.
    """

    eqf: EqfRange | None = None
    levels: tuple[LevelRef, ...] = ()
    subjects: tuple[IscedFieldCode, ...] = ()
    credential_types: tuple[CredentialType, ...] = ()


class MaxAge(Contract, frozen=True, kw_only=True):
    """The oldest a credential may be at the evaluation date (calendar years: 29 Feb counts to 28 Feb)."""

    amount: Annotated[int, Meta(ge=1, le=36_500)]
    unit: Literal["days", "years"]


class NormalisedGradeMinimum(Contract, frozen=True, kw_only=True, tag_field="kind", tag="normalised"):
    """At least ``value`` on the issuer scheme's normalised 0..1 scale (1 = best)."""

    value: Annotated[float, Meta(ge=0, le=1)]


class FrameworkGradeMinimum(Contract, frozen=True, kw_only=True, tag_field="kind", tag="framework_grade"):
    """At least grade ``value`` of ``framework``'s scheme (default scheme when ``scheme`` is ``None``),
    usually the recognising member's own framework; the credential's grade is converted into it."""

    framework: FrameworkId
    value: Code
    scheme: Code | None = None


class AgreementConditions(Contract, frozen=True, kw_only=True):
    """Conditions a credential in scope must meet; each unset condition is not checked.

    ``qa_current_at_award``: the credential's quality assurance review (Annex I element 11) was not overdue
    on the issue date (``review_due`` on or after ``issued_on``); an unknown ``review_due`` cannot be
    decided and sends the credential to review.
    """

    qa_types: tuple[ShortText, ...] = ()
    qa_current_at_award: bool = False
    max_age: MaxAge | None = None
    min_grade: NormalisedGradeMinimum | FrameworkGradeMinimum | None = None


# --- grants -------------------------------------------------------------------------------------------


class RecognisedModule(Contract, frozen=True, kw_only=True):
    """A module of the recognising member: code, title, credits, and level (a code of credits.framework)."""

    code: Code
    title: ShortText
    credits: CreditValue
    level: Code


class ModuleGrant(Contract, frozen=True, kw_only=True, tag_field="kind", tag="module"):
    """A named equivalent module (or modules): exactly their credits are granted."""

    modules: Annotated[tuple[RecognisedModule, ...], Meta(min_length=1, max_length=20)]


class GeneralCreditGrant(Contract, frozen=True, kw_only=True, tag_field="kind", tag="general_credit"):
    """General (unspecified) credit: the credential's own credits, converted, up to ``max_credits``, at
    ``level`` (default: the credential's level, converted through EQF)."""

    level: LevelRef | None = None
    max_credits: CreditValue | None = None


class BlockCreditGrant(Contract, frozen=True, kw_only=True, tag_field="kind", tag="block_credit"):
    """A block of credit (advanced standing) that counts only towards ``award``."""

    award: AwardRef
    credits: CreditValue
    level: LevelRef


Grant = ModuleGrant | GeneralCreditGrant | BlockCreditGrant


class RecognitionAgreement(Contract, frozen=True, kw_only=True):
    """One version of a recognition agreement between members."""

    id: AgreementId
    version: Version
    parties: Parties
    valid_from: dt.date
    grant: Grant
    valid_to: dt.date | None = None
    scope: AgreementScope = field(default_factory=AgreementScope)
    conditions: AgreementConditions = field(default_factory=AgreementConditions)
    status: AgreementStatus = "active"
    title: ShortText | None = None

    @property
    def label(self) -> str:
        return f"{self.id}@{self.version}"


class Equivalence(Contract, frozen=True, kw_only=True):
    """One version of an articulation: ``issuer``'s credential ``credential`` (an id, or a prefix ending in
    ``*``) equals ``recogniser``'s ``modules``. ``agreement`` limits it to one agreement's decisions.
    ``private_note`` is for registrars and is never copied into an outcome."""

    id: AgreementId
    version: Version
    issuer: SchacHome
    credential: CredentialPattern
    recogniser: SchacHome
    modules: Annotated[tuple[RecognisedModule, ...], Meta(min_length=1, max_length=20)]
    valid_from: dt.date
    approved_by: ShortText
    valid_to: dt.date | None = None
    kind: Literal["equivalency", "substitution"] = "equivalency"
    agreement: AgreementId | None = None
    public_note: LongText | None = None
    private_note: LongText | None = None

    @property
    def label(self) -> str:
        return f"{self.id}@{self.version}"


# --- requests -----------------------------------------------------------------------------------------


class RecognisingMember(Contract, frozen=True, kw_only=True):
    """The member asked to recognise credentials, and the credit framework it awards in."""

    id: SchacHome
    framework: FrameworkId


class EvaluationRequest(Contract, frozen=True, kw_only=True):
    """Credentials (canonical records) to evaluate for ``recogniser`` on ``evaluation_date``.

    ``basis`` is the one credit-conversion basis of the whole decision; by default the basis the records'
    ECTS values were normalised on, else ``convention`` (shared/reference/domain.md section 1: hour-based
    and convention-based credit are never mixed). ``target_award`` (an award rule id of the recogniser's
    framework) adds the learner's progress towards that award.
    """

    credentials: Annotated[tuple[CredentialRecord, ...], Meta(min_length=1, max_length=MAX_CREDENTIALS)]
    recogniser: RecognisingMember
    evaluation_date: dt.date
    target_award: Code | None = None
    basis: ConversionBasis | None = None
