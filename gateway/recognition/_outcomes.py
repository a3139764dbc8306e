"""What the engine answers: an outcome per credential with its explanation, and progress towards an award.

Outcome statuses (compare ELMO v2 ``ResultOfRecognition``: Positive / Partially Positive / Negative):

- ``recognised``: an agreement applies, every condition passed, the whole credential is granted;
- ``partially_recognised``: as ``recognised``, but the grant is smaller than the credential: general
  credit capped by ``max_credits``, or a module or block grant worth fewer credits than the credential
  carries (the excess is not counted). A failed condition never reduces a grant: it refuses it;
- ``needs_review``: nothing failed, but at least one rule could not be decided (``undecided`` names them,
  e.g. ``qa.current_at_award`` when the QA review date is unknown); no credit is granted until a
  registrar decides;
- ``not_recognised``: no agreement applies, or a rule failed for every agreement that does.

Outcome order (``gateway.recognition.outcome_rank``): ``not_recognised < needs_review <
partially_recognised = recognised``, then credits granted. Partial and full recognition share a rank
because "partial" says the grant was capped, not that the credential is weaker: more credit on a capped
grant turns ``recognised`` into ``partially_recognised`` without granting less.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from contracts.base import Contract
from contracts.credits import CreditValue, Level
from contracts.frameworks import CreditConversion, FactStatus, GradeConversion, LevelConversion
from contracts.types import ConversionBasis
from gateway.recognition._inputs import RecognisedModule, RecognisingMember

__all__ = [
    "AwardProgress",
    "CredentialOutcome",
    "EvaluationResult",
    "ExcludedCredential",
    "LevelCredits",
    "OutcomeStatus",
    "OwnCredit",
    "PathwayReport",
    "RecognitionExplanation",
    "RequirementProgress",
    "RplCapProgress",
    "RuleCheck",
    "RuleInput",
    "RuleResult",
    "VersionRef",
]

OutcomeStatus = Literal["recognised", "partially_recognised", "not_recognised", "needs_review"]
RuleResult = Literal["pass", "fail", "undecidable"]
RuleInput = str | int | float | bool | None


class VersionRef(Contract, frozen=True, kw_only=True):
    """One version of an agreement or equivalence."""

    id: str
    version: int


class RuleCheck(Contract, frozen=True, kw_only=True, omit_defaults=True):
    """One rule as evaluated: its name (e.g. ``agreement.validity``), what it looked at, what it decided
    and why. ``agreement`` is ``"<id>@<version>"`` of the agreement it was evaluated under."""

    rule: str
    result: RuleResult
    reason: str
    inputs: dict[str, RuleInput]
    agreement: str | None = None


class RecognitionExplanation(Contract, frozen=True, kw_only=True):
    """Why an outcome is what it is.

    ``rules`` are in evaluation order, agreement by agreement (agreements in ``(id, version)`` order), and
    may be shared with other outcomes (they are frozen; treat their ``inputs`` as read-only);
    ``agreements`` / ``equivalences`` list every version evaluated or looked up; the conversions are those
    of the framework adapters, with their own explanations (basis, chain, steps, tables with versions).
    """

    basis: ConversionBasis
    rules: tuple[RuleCheck, ...]
    agreements: tuple[VersionRef, ...]
    equivalences: tuple[VersionRef, ...]
    credit_conversions: tuple[CreditConversion, ...] = ()
    level_conversions: tuple[LevelConversion, ...] = ()
    grade_conversions: tuple[GradeConversion, ...] = ()


class CredentialOutcome(Contract, frozen=True, kw_only=True):
    """The decision for one credential at the recognising member.

    ``credits`` are in the recogniser's framework, converted on ``basis`` (on the hours basis a range is
    granted at its lower end); ``None`` unless recognised (fully or partially), as are ``level`` and the
    other grant fields. ``award`` is set for block credit, which counts towards that award only.
    """

    credential: str
    status: OutcomeStatus
    basis: ConversionBasis
    explanation: RecognitionExplanation
    credits: CreditValue | None = None
    level: Level | None = None
    modules: tuple[RecognisedModule, ...] = ()
    award: str | None = None
    agreement: VersionRef | None = None
    equivalence: VersionRef | None = None
    undecided: tuple[str, ...] = ()


# --- stacking towards an award --------------------------------------------------------------------------


class LevelCredits(Contract, frozen=True, kw_only=True):
    """Recognised credits at one level of the recogniser's framework."""

    level: str
    credits: float


class RequirementProgress(Contract, frozen=True, kw_only=True, omit_defaults=True):
    """One credit requirement of the award rule (``total`` or ``at_level``), with the figures counted
    towards it after any RPL cap. ``levels`` empty = any level; ``or_above`` as in ``CreditRequirement``."""

    kind: Literal["total", "at_level"]
    levels: tuple[str, ...]
    required: float
    counted: float
    missing: float
    met: bool
    source: str
    status: FactStatus
    or_above: bool = False
    max_credits: float | None = None


class RplCapProgress(Contract, frozen=True, kw_only=True, omit_defaults=True):
    """The limit on credit from prior learning or transfer that applies to the award, and whether it bites.

    ``limit`` = the smaller of ``max_fraction`` x the award's total and ``max_credits``."""

    limit: float
    recognised: float
    counted: float
    bites: bool
    source: str
    status: FactStatus
    max_fraction: float | None = None
    max_credits: float | None = None


class ExcludedCredential(Contract, frozen=True, kw_only=True):
    """A credential that does not count towards the award, and why."""

    credential: str
    reason: str


class OwnCredit(Contract, frozen=True, kw_only=True):
    """Credit the learner earned at the recognising member itself: in its own framework and level, counted
    towards its awards as it is (it is not prior learning, so no RPL cap limits it)."""

    credential: str
    level: str
    credits: float


class AwardProgress(Contract, frozen=True, kw_only=True, omit_defaults=True):
    """A learner's recognised credentials stacked towards one award of the recogniser's framework.

    ``eligible``: every requirement is met by recognised credit alone (never, while an RPL cap is below the
    award's total). ``capstone_required``: the award cannot be completed from prior learning alone, so the
    rest (``remaining_at_member`` credits, including the final element) must be studied at the member.
    ``missing`` says in words what is still needed. ``credits_by_level`` holds recognised and own credit
    (before the cap); ``total_own`` is the part earned at the member itself (``OwnCredit``), never capped.
    """

    framework: str
    award: str
    name: str
    level: str
    credit_rated: bool
    source: str
    status: FactStatus
    total_required: float | None
    total_recognised: float
    total_counted: float
    credits_by_level: tuple[LevelCredits, ...]
    requirements: tuple[RequirementProgress, ...]
    missing: tuple[str, ...]
    counted_credentials: tuple[str, ...]
    excluded_credentials: tuple[ExcludedCredential, ...]
    eligible: bool
    capstone_required: bool
    total_own: float = 0.0
    own_credentials: tuple[str, ...] = ()
    remaining_at_member: float | None = None
    rpl_cap: RplCapProgress | None = None
    note: str | None = None


class EvaluationResult(Contract, frozen=True, kw_only=True, omit_defaults=True):
    """The answer to an ``EvaluationRequest``: outcomes in the request's credential order."""

    recogniser: RecognisingMember
    evaluation_date: dt.date
    basis: ConversionBasis
    outcomes: tuple[CredentialOutcome, ...]
    award_progress: AwardProgress | None = None


class PathwayReport(Contract, frozen=True, kw_only=True, omit_defaults=True):
    """A learner's credentials held up against a member's awards: each other member's credential evaluated
    (``outcomes``), the member's own credit (``own_credit``), records that could not be evaluated and why
    (``unusable``), and progress towards each award asked about, closest first."""

    recogniser: RecognisingMember
    evaluation_date: dt.date
    basis: ConversionBasis
    outcomes: tuple[CredentialOutcome, ...]
    own_credit: tuple[OwnCredit, ...]
    unusable: tuple[ExcludedCredential, ...]
    awards: tuple[AwardProgress, ...]
