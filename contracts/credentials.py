"""Micro-credentials and the records of their award to learners.

The fields follow the mandatory and optional elements of Annex I of the EU Council Recommendation of
16 June 2022 on micro-credentials (2022/C 243/02); shared/reference/domain.md section 5 lists them. Element
numbers are given beside each field:

====  =============================================================  ====================================
 #    Annex I element                                                  where it lives
====  =============================================================  ====================================
 1    identification of the learner                                    ``CredentialRecord.learner``
 2    title of the micro-credential                                    ``MicroCredential.title``
 3    country/region of the issuer                                     ``AwardingBody.country``
 4    awarding body                                                    ``MicroCredential.awarding_body``
 5    date of issuing                                                  ``CredentialRecord.issued_on``
 6    learning outcomes                                                ``MicroCredential.learning_outcomes``
 7    notional workload, in ECTS wherever possible                     ``MicroCredential.workload``
 8    level (and cycle) of the learning experience (EQF, QF-EHEA)      ``MicroCredential.level``
 9    type of assessment                                               ``MicroCredential.assessment``
 10   form of participation in the learning activity                  ``MicroCredential.participation``
 11   type of quality assurance used                                   ``MicroCredential.quality_assurance``
 opt  prerequisites needed to enrol                                    ``MicroCredential.prerequisites``
 opt  supervision and identity verification during assessment         ``MicroCredential.supervision``
 opt  grade achieved                                                   ``CredentialRecord.grade``
 opt  integration / stackability options                              ``MicroCredential.stackability``
 opt  further information                                              ``MicroCredential.further_information``
====  =============================================================  ====================================
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from msgspec import Meta

from contracts.base import Contract
from contracts.credits import CreditValue, Grade, Level
from contracts.types import (
    ConnectorId,
    CountryCode,
    HttpUrl,
    IscedFieldCode,
    LanguageCode,
    LongText,
    SchacHome,
    ShortText,
)

__all__ = [
    "AssessmentType",
    "AwardingBody",
    "CredentialRecord",
    "LearnerIdentifier",
    "LearnerRef",
    "MicroCredential",
    "ParticipationForm",
    "Provenance",
    "QualityAssurance",
    "QualityAssuranceStatus",
    "Stackability",
    "Supervision",
]

# Value hints from the 2020 Consultation Group standard (domain.md section 5); "other" keeps it open.
AssessmentType = Literal[
    "testing", "skill_application", "portfolio", "project", "recognition_of_prior_learning", "other"
]
ParticipationForm = Literal["online", "onsite", "blended", "volunteering", "work_experience"]
Supervision = Literal["unsupervised_no_id_check", "supervised_no_id_check", "supervised_with_id_check"]
QualityAssuranceStatus = Literal["current", "lapsed", "unknown"]

_Outcome = Annotated[str, Meta(min_length=1, max_length=2000)]


class AwardingBody(Contract, frozen=True, kw_only=True):
    """Annex I elements 3 and 4: who awards the credential, and where."""

    name: ShortText
    country: CountryCode
    region: Annotated[str, Meta(max_length=100)] | None = None
    member: SchacHome | None = None
    url: HttpUrl | None = None


class QualityAssurance(Contract, frozen=True, kw_only=True):
    """Annex I element 11. ``review_due`` lets recognition check that the QA was current at award."""

    type: Annotated[
        str, Meta(min_length=1, max_length=200, examples=["internal", "external", "accredited programme"])
    ]
    body: ShortText | None = None
    last_reviewed: dt.date | None = None
    review_due: dt.date | None = None


class Stackability(Contract, frozen=True, kw_only=True):
    """Optional element: stand-alone, or integrated and stackable towards other credentials."""

    kind: Literal["standalone", "stackable"]
    towards: list[ShortText] = []


class MicroCredential(Contract, frozen=True, kw_only=True):
    """A micro-credential as offered: the definition every award of it shares."""

    id: Annotated[str, Meta(min_length=1, max_length=200)]
    title: ShortText
    awarding_body: AwardingBody
    learning_outcomes: Annotated[list[_Outcome], Meta(min_length=1, max_length=100)]
    workload: CreditValue
    assessment: Annotated[list[AssessmentType], Meta(min_length=1)]
    participation: Annotated[list[ParticipationForm], Meta(min_length=1)]
    quality_assurance: QualityAssurance
    # Element 8 applies "if applicable": some micro-credentials sit outside any framework level.
    level: Level | None = None
    # Optional elements.
    prerequisites: LongText | None = None
    supervision: Supervision | None = None
    stackability: Stackability | None = None
    further_information: LongText | None = None
    # Useful beyond Annex I: subject area for recognition scope, and language of instruction.
    field_of_study: IscedFieldCode | None = None
    language: LanguageCode | None = None


class LearnerIdentifier(Contract, frozen=True, kw_only=True):
    """One identifier of a learner: the ESI, or a member-local id qualified by the member."""

    scheme: Literal["esi", "local", "pseudonym"]
    value: Annotated[str, Meta(min_length=1, max_length=255)]
    member: SchacHome | None = None


class LearnerRef(Contract, frozen=True, kw_only=True):
    """Annex I element 1. Identifiers only: names and dates of birth are not carried (data minimisation)."""

    identifiers: Annotated[list[LearnerIdentifier], Meta(min_length=1, max_length=10)]


class Provenance(Contract, frozen=True, kw_only=True):
    """Where a record came from, so it can be traced back and re-fetched."""

    member: SchacHome
    connector: ConnectorId
    source_id: Annotated[str, Meta(min_length=1, max_length=500)]
    fetched_at: dt.datetime


class CredentialRecord(Contract, frozen=True, kw_only=True):
    """A micro-credential awarded to a learner."""

    id: Annotated[str, Meta(min_length=1, max_length=200)]
    learner: LearnerRef
    credential: MicroCredential
    issuer: SchacHome
    issued_on: dt.date
    provenance: Provenance
    grade: Grade | None = None
    qa_status: QualityAssuranceStatus = "unknown"
    valid_until: dt.date | None = None
