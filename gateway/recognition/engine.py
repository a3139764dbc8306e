"""The recognition engine: pure, deterministic, no I/O.

For one credential and one recognising member, every agreement version between the credential's issuer and
the recogniser (and every consortium-wide one) is evaluated, in ``(id, version)`` order, rule by rule in
this fixed order:

====  =========================  =================================================================
 #    rule                       passes when
====  =========================  =================================================================
 1    agreement.applies          the version binds issuer and recogniser and is ``active``
 2    agreement.validity         in force on the issue date AND on the evaluation date
 3    scope.level                level named in the scope, or EQF level in the scope's range
 4    scope.subject              ISCED-F field of study starts with a scope code
 5    scope.credential_type      stand-alone / stackable as the scope asks
 6    qa.type                    the type of quality assurance is accepted
 7    qa.current_at_award        the QA review was not overdue on the issue date
 8    currency.max_age           no older than the agreement allows on the evaluation date
 8b   currency.valid_until       the credential's own expiry has not passed
 9    grade.minimum              the grade reaches the minimum (normalised, or a framework's grade)
 10   equivalence                (lookup) an equivalence in force wins over the agreement's grant
 11   conversion.credits/level   credits and level converted into the recogniser's framework
 12   grant                      something is granted (partial when less than the credential carries)
====  =========================  =================================================================

Rules 3-9 are evaluated only when the agreement sets them (8b only when the credential has an expiry);
the issuer's own credentials, and pairs with no agreement, are ``not_recognised`` at rule 1. A ``fail`` of
rules 1-2 stops that agreement at once; a later ``fail`` still stops it, while ``undecidable`` is recorded
and evaluation goes on, so that a definite failure further on wins over a question. Per agreement: any
fail -> ``not_recognised``; else any undecidable -> ``needs_review``; else ``recognised`` or
``partially_recognised`` (``gateway.recognition._outcomes`` defines them). The credential's outcome is the
best agreement's, by ``outcome_rank`` then (full over partial, equivalence over general credit), ties to
the first in ``(id, version)`` order; the explanation lists the rules of every agreement evaluated.

Conversions go through the framework adapters' ``Converter`` on one basis per decision; a recogniser's
own award rules and RPL caps come from its framework with the member's ``FrameworkOverrides`` applied.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from adapters.frameworks import Converter, FrameworkRegistry, reference_registry
from contracts.credentials import CredentialRecord
from contracts.frameworks import FrameworkOverrides
from contracts.types import ConversionBasis
from gateway.recognition._awards import award_progress
from gateway.recognition._facts import CredentialFacts, MemberContext
from gateway.recognition._grant import Granted, equivalence, grant
from gateway.recognition._index import CompiledAgreement, CompiledEquivalence, Condition, RecognitionIndex
from gateway.recognition._inputs import (
    Equivalence,
    EvaluationRequest,
    RecognisingMember,
    RecognitionAgreement,
)
from gateway.recognition._outcomes import (
    AwardProgress,
    CredentialOutcome,
    EvaluationResult,
    ExcludedCredential,
    OutcomeStatus,
    OwnCredit,
    PathwayReport,
    RecognitionExplanation,
    RuleCheck,
    VersionRef,
)
from gateway.recognition._requests import split_usable, validate_request
from gateway.recognition._rules import (
    applies,
    check,
    currency_age,
    currency_valid_until,
    grade_minimum,
    qa_current,
    qa_type,
    scope_level,
    scope_subject,
    scope_type,
    validity,
)
from gateway.recognition._validation import check_member

__all__ = ["OUTCOME_TIERS", "RecognitionEngine", "outcome_rank"]

OUTCOME_TIERS: Final[Mapping[OutcomeStatus, int]] = {
    "not_recognised": 0,
    "needs_review": 1,
    "partially_recognised": 2,
    "recognised": 2,
}
"""The outcome order: partial and full recognition share a tier (see ``gateway.recognition._outcomes``)."""


def outcome_rank(outcome: CredentialOutcome) -> tuple[int, float]:
    """How good an outcome is: its tier, then the credits granted. Adding credit to a credential, or
    improving its grade, never lowers this rank."""
    return OUTCOME_TIERS[outcome.status], outcome.credits.amount if outcome.credits else 0.0


def _closeness(progress: AwardProgress) -> tuple[bool, float, float]:
    """Awards the learner could have now first, then by the largest credit shortfall of any requirement
    (at least that much is still to earn), then by the credits still to study at the member."""
    shortfall = max((r.missing for r in progress.requirements), default=0.0)
    return not progress.eligible, shortfall, progress.remaining_at_member or 0.0


class _Decision:
    """One agreement's answer for one credential."""

    __slots__ = ("agreement", "equivalence", "granted", "status", "undecided")

    def __init__(
        self,
        agreement: CompiledAgreement,
        status: OutcomeStatus,
        granted: Granted | None = None,
        equivalence: CompiledEquivalence | None = None,
        undecided: tuple[str, ...] = (),
    ) -> None:
        self.agreement = agreement
        self.status: OutcomeStatus = status
        self.granted = granted
        self.equivalence = equivalence
        self.undecided = undecided

    def rank(self) -> tuple[int, float, bool, bool]:
        g = self.granted
        return (
            OUTCOME_TIERS[self.status],
            g.credits if g is not None and self.status != "needs_review" else 0.0,
            g is not None and g.full,
            self.equivalence is not None,
        )


def _conditions(agr: CompiledAgreement) -> tuple[Condition, ...]:
    """Rules 3-9 that ``agr`` sets, in order (8b, a credential's own expiry, always applies)."""
    checks: list[Condition] = []
    if agr.level_keys or agr.eqf:
        checks.append(scope_level)
    if agr.subjects:
        checks.append(scope_subject)
    if agr.types:
        checks.append(scope_type)
    if agr.qa_types:
        checks.append(qa_type)
    if agr.qa_current:
        checks.append(qa_current)
    if agr.max_age is not None:
        checks.append(currency_age)
    checks.append(currency_valid_until)
    if agr.min_grade is not None:
        checks.append(grade_minimum)
    agr.checks = tuple(checks)
    return agr.checks


def _decide(
    agr: CompiledAgreement, f: CredentialFacts, found: tuple[CompiledEquivalence, ...], rules: list[RuleCheck]
) -> _Decision:
    """Rules 1-12 for one agreement version; appends its rules to ``rules``."""
    for first in (applies, validity):
        result = first(agr, f)
        rules.append(result)
        if result.result == "fail":
            return _Decision(agr, "not_recognised")
    undecided: list[str] = []
    checks = agr.checks if agr.checks is not None else _conditions(agr)
    for condition in checks:
        checked = condition(agr, f)
        if checked is None:
            continue
        rules.append(checked)
        if checked.result == "fail":
            return _Decision(agr, "not_recognised")
        if checked.result == "undecidable":
            undecided.append(checked.rule)
    eq_rule, eq = equivalence(agr, f, found)
    rules.append(eq_rule)
    granted, more, failed = grant(agr, eq, f, rules)
    if failed:
        return _Decision(agr, "not_recognised", equivalence=eq)
    undecided += more
    if undecided or granted is None:
        return _Decision(agr, "needs_review", granted, eq, tuple(undecided))
    return _Decision(agr, "recognised" if granted.full else "partially_recognised", granted, eq)


class RecognitionEngine:
    """Agreements and equivalences, checked and indexed once; evaluations are pure and deterministic.

    ``member_overrides`` are a member's own framework values (award rules, RPL caps, conventions), applied to
    its framework when it recognises. ``members`` (id -> framework id), when given, lets the engine refuse
    unknown members in agreements and requests.
    """

    __slots__ = ("_base", "_contexts", "_members", "_overrides", "index", "registry")

    def __init__(
        self,
        agreements: Iterable[RecognitionAgreement],
        equivalences: Iterable[Equivalence] = (),
        *,
        registry: FrameworkRegistry | None = None,
        member_overrides: Mapping[str, FrameworkOverrides] | None = None,
        members: Mapping[str, str] | None = None,
    ) -> None:
        self.registry = registry if registry is not None else reference_registry()
        self._members = dict(members) if members is not None else None
        self.index = RecognitionIndex(agreements, equivalences, self.registry, self._members)
        self._overrides = dict(member_overrides or {})
        self._base = Converter(self.registry)
        self._contexts: dict[tuple[str, str], MemberContext] = {}
        for member_id, framework_id in (self._members or {}).items():
            if member_id in self._overrides:  # refuse bad overrides now, not in the middle of a request
                self.member(RecognisingMember(id=member_id, framework=framework_id))

    def member(self, recogniser: RecognisingMember) -> MemberContext:
        """The recogniser's framework (with its overrides) and converter, built once per member."""
        key = (recogniser.id, recogniser.framework)
        context = self._contexts.get(key)
        if context is None:
            overrides = self._overrides.get(recogniser.id)
            if overrides is None:
                converter = self._base
            else:
                registry = self.registry.with_overrides({recogniser.framework: overrides})
                converter = Converter(registry)
            framework = converter.registry.get(recogniser.framework, field="$.recogniser.framework")
            context = MemberContext(recogniser.id, framework, converter)
            self._contexts[key] = context
        return context

    def validate(self, request: EvaluationRequest, *, decoded: bool = False) -> ConversionBasis:
        """Refuse a request the engine cannot evaluate (typed errors); return the decision's basis.
        ``decoded``: the credentials came from msgspec decoding, whose constraints need no second check."""
        return validate_request(request, self.registry, self._members, decoded=decoded)

    def evaluate(self, request: EvaluationRequest, *, decoded: bool = False) -> EvaluationResult:
        """Validate, then evaluate every credential (in request order) and, with ``target_award``, the
        learner's progress towards it."""
        basis = self.validate(request, decoded=decoded)
        context = self.member(request.recogniser)
        on = request.evaluation_date
        outcomes = tuple(self._evaluate(record, context, on, basis) for record in request.credentials)
        progress = None
        if request.target_award is not None:
            progress = award_progress(outcomes, context.framework, request.target_award)
        return EvaluationResult(
            recogniser=request.recogniser,
            evaluation_date=on,
            basis=basis,
            outcomes=outcomes,
            award_progress=progress,
        )

    def evaluate_credential(
        self,
        record: CredentialRecord,
        recogniser: RecognisingMember,
        evaluation_date: dt.date,
        basis: ConversionBasis = "convention",
    ) -> CredentialOutcome:
        """One credential, without request validation (callers that validated already, and benchmarks)."""
        return self._evaluate(record, self.member(recogniser), evaluation_date, basis)

    def award_progress(
        self, outcomes: Sequence[CredentialOutcome], recogniser: RecognisingMember, award: str
    ) -> AwardProgress:
        """Outcomes stacked towards one of the recogniser's awards (its rules and RPL caps, overridden)."""
        return award_progress(outcomes, self.member(recogniser).framework, award)

    def pathways(
        self,
        records: Sequence[CredentialRecord],
        recogniser: RecognisingMember,
        evaluation_date: dt.date,
        award: str | None = None,
    ) -> PathwayReport:
        """A learner's records (from any members) against the recogniser's awards: ``award``, or every
        credit-rated award of its framework, closest first (``_closeness``).

        Records issued by the recogniser itself are its own credit, counted as they are; the others are
        evaluated as ``evaluate`` would. A record the engine cannot evaluate is reported, not fatal."""
        check_member(recogniser.id, self._members, "member")
        context = self.member(recogniser)
        framework = context.framework
        if award is not None:
            framework.award_rule(award)  # NotFound (field "award") before any work
        usable, unusable, basis = split_usable(records, self.registry, evaluation_date)
        skipped = [ExcludedCredential(credential=r.id, reason=why) for r, why in unusable]
        own: list[OwnCredit] = []
        outcomes: list[CredentialOutcome] = []
        for record in usable:
            if record.issuer != recogniser.id:
                outcomes.append(self._evaluate(record, context, evaluation_date, basis))
                continue
            workload, level = record.credential.workload, record.credential.level
            if workload.framework != framework.id or level is None or level.framework != framework.id:
                reason = f"issued by {recogniser.id} with no level or outside its framework {framework.id}"
                skipped.append(ExcludedCredential(credential=record.id, reason=reason))
                continue
            own.append(OwnCredit(credential=record.id, level=level.code, credits=workload.amount))
        rules = (
            [framework.award_rule(award)]
            if award is not None
            else [rule for rule in framework.spec.award_rules if rule.total is not None]
        )
        progress = [award_progress(outcomes, framework, rule.id, own) for rule in rules]
        if award is None:
            progress.sort(key=_closeness)
        return PathwayReport(
            recogniser=recogniser,
            evaluation_date=evaluation_date,
            basis=basis,
            outcomes=tuple(outcomes),
            own_credit=tuple(own),
            unusable=tuple(skipped),
            awards=tuple(progress),
        )

    def _evaluate(
        self, record: CredentialRecord, member: MemberContext, on: dt.date, basis: ConversionBasis
    ) -> CredentialOutcome:
        f = CredentialFacts(record, member, on, basis)
        rules: list[RuleCheck] = []
        candidates = self.index.agreements_for(member.id, record.issuer)
        if record.issuer == member.id or not candidates:
            reason = (
                "issued by the recognising member itself: its own credit, not recognition"
                if record.issuer == member.id
                else "no agreement between the issuer and the recogniser"
            )
            inputs = {"issuer": record.issuer, "recogniser": member.id}
            rules.append(check("agreement.applies", "fail", reason, dict(inputs), None))
            return self._outcome(f, None, rules, candidates, ())
        found = self.index.equivalences_for(member.id, record.issuer, record.credential.id)
        best: _Decision | None = None
        best_rank: tuple[int, float, bool, bool] | None = None
        for agr in candidates:
            decision = _decide(agr, f, found, rules)
            rank = decision.rank()
            if best_rank is None or rank > best_rank:
                best, best_rank = decision, rank
        return self._outcome(f, best, rules, candidates, found)

    def _outcome(
        self,
        f: CredentialFacts,
        best: _Decision | None,
        rules: list[RuleCheck],
        candidates: tuple[CompiledAgreement, ...],
        found: tuple[CompiledEquivalence, ...],
    ) -> CredentialOutcome:
        explanation = RecognitionExplanation(
            basis=f.basis,
            rules=tuple(rules),
            agreements=tuple(c.ref for c in candidates),
            equivalences=tuple(e.ref for e in found),
            credit_conversions=tuple(f.credit_conversions),
            level_conversions=tuple(f.level_conversions),
            grade_conversions=tuple(f.grade_conversions),
        )
        record_id = f.record.id
        if best is None or best.status == "not_recognised":
            return CredentialOutcome(
                credential=record_id, status="not_recognised", basis=f.basis, explanation=explanation
            )
        eq_ref: VersionRef | None = best.equivalence.ref if best.equivalence is not None else None
        if best.status == "needs_review" or best.granted is None:
            return CredentialOutcome(
                credential=record_id,
                status="needs_review",
                basis=f.basis,
                explanation=explanation,
                agreement=best.agreement.ref,
                equivalence=eq_ref,
                undecided=best.undecided,
            )
        granted, member = best.granted, f.member
        return CredentialOutcome(
            credential=record_id,
            status=best.status,
            basis=f.basis,
            explanation=explanation,
            credits=member.granted(granted.credits, f.basis),
            level=member.public_level(granted.level),
            modules=granted.modules,
            award=granted.award,
            agreement=best.agreement.ref,
            equivalence=eq_ref,
        )
