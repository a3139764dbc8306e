"""The answer of ``GET /v1/learners/{ref}/pathways``: the recognition engine's report on the learner's
federated records, with the federation's own account of who answered."""

from __future__ import annotations

import datetime as dt

import msgspec

from contracts.types import ConversionBasis
from gateway.federation import MemberOutcome
from gateway.recognition.models import (
    AwardProgress,
    CredentialOutcome,
    ExcludedCredential,
    OwnCredit,
    RecognisingMember,
)

__all__ = ["LearnerPathways"]


class LearnerPathways(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """Where a learner's credentials lead at one member.

    ``outcomes``: every other member's credential evaluated for the member, with its explanation;
    ``own_credit``: what the learner earned at the member itself; ``unusable``: records that could not be
    evaluated, and why; ``awards``: progress towards the award asked about, or towards every credit-rated
    award of the member's framework, closest first. When ``partial``, some member did not answer (see
    ``members``), so the progress shown may be less than the learner's real progress.
    """

    learner: str
    purpose: str
    recogniser: RecognisingMember
    evaluation_date: dt.date
    basis: ConversionBasis
    awards: list[AwardProgress]
    outcomes: list[CredentialOutcome]
    own_credit: list[OwnCredit]
    unusable: list[ExcludedCredential]
    partial: bool
    members: list[MemberOutcome]
    elapsed_ms: float
