"""Stacking recognised credit towards an award: the award's credit rules and the member's RPL cap.

Award rules come from the recogniser's framework adapter (``CreditFramework.award_rule``: e.g. the QAA
2021 table, shared/reference/domain.md section 3), with the member's ``FrameworkOverrides`` applied (an
institution may be stricter, e.g. Keele Regulation E1). RPL and credit-transfer caps are the framework's
``rpl_caps``: no national maximum was found for England, Scotland or the EHEA, so caps are member
overrides, e.g. Sheffield Hallam's two thirds (Hons 360 -> at most 240 from prior certificated learning)
or Aberystwyth's per-award maxima (domain.md section 3, "Recognition of prior learning and credit-transfer
limits", status C).

Counting: every ``recognised`` or ``partially_recognised`` outcome in the framework's unit counts at its
granted level (a module grant counts module by module; block credit only towards its own award). The cap
limits credit from prior learning as a whole; each requirement is reported with at most the cap counted
towards it, i.e. assuming the registrar counts the credits that best serve that requirement. A cap that
names the award replaces the caps for every award; among several, the smallest limit applies.

Credit the learner earned at the member itself (``OwnCredit``) is not prior learning: it counts at its own
level with no cap, and towards the part of the award that must be studied at the member.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal

from contracts.errors import UnknownLevel
from contracts.frameworks import AwardRule, CreditFramework, CreditRequirement, RplCap
from gateway.recognition._outcomes import (
    AwardProgress,
    CredentialOutcome,
    ExcludedCredential,
    LevelCredits,
    OwnCredit,
    RequirementProgress,
    RplCapProgress,
)

__all__ = ["award_progress"]

_EPS: Final = 1e-9
_COUNTED: Final = frozenset({"recognised", "partially_recognised"})
_TWICE: Final = "given twice: counted once"


def _r(value: float) -> float:
    """Reported figures: rounded so that 59.99999999 reads 60."""
    return round(value, 6) + 0.0


def _rank(framework: CreditFramework, code: str) -> tuple[int, str]:
    try:
        return framework.level(code).rank, code
    except UnknownLevel:
        return 1_000, code


def _levels_of(req: CreditRequirement, framework: CreditFramework) -> frozenset[str] | None:
    """The level codes a requirement counts (``None``: any level)."""
    if not req.levels:
        return None
    named = [framework.level(code) for code in req.levels]
    if not req.or_above:
        return frozenset(lv.code for lv in named)
    lowest = min(lv.rank for lv in named)
    schemes = {lv.scheme for lv in named}
    return frozenset(lv.code for lv in framework.levels if lv.scheme in schemes and lv.rank >= lowest)


def _cap(rule: AwardRule, caps: tuple[RplCap, ...]) -> tuple[float, RplCap] | None:
    """The limit on prior learning for this award, and the cap that sets it."""
    named = [c for c in caps if c.award == rule.id]
    chosen = named or [c for c in caps if c.award is None]
    best: tuple[float, RplCap] | None = None
    total = rule.total.min_credits if rule.total is not None else None
    for cap in chosen:
        limits = [cap.max_credits] if cap.max_credits is not None else []
        if cap.max_fraction is not None and total is not None:
            limits.append(cap.max_fraction * total)
        if limits and (best is None or min(limits) < best[0] - _EPS):
            best = (_r(min(limits)), cap)
    return best


def _describe(codes: frozenset[str] | None, framework: CreditFramework) -> str:
    if codes is None:
        return "in total"
    ordered = sorted(codes, key=lambda c: _rank(framework, c))
    return "at level " + "/".join(ordered) if len(ordered) < 4 else f"at level {ordered[0]} or above"


def award_progress(
    outcomes: Iterable[CredentialOutcome],
    framework: CreditFramework,
    award: str,
    own: Iterable[OwnCredit] = (),
) -> AwardProgress:
    """Progress of recognised credentials, and of credit earned at the member itself (``own``), towards
    ``award`` of ``framework`` (raises ``NotFound`` for an unknown award)."""
    rule = framework.award_rule(award)
    by_level: dict[str, float] = {}
    own_by_level: dict[str, float] = {}
    counted: list[str] = []
    own_counted: list[str] = []
    excluded: list[ExcludedCredential] = []
    seen: set[str] = set()
    for credit in own:
        if credit.credential in seen:
            excluded.append(ExcludedCredential(credential=credit.credential, reason=_TWICE))
            continue
        seen.add(credit.credential)
        own_by_level[credit.level] = own_by_level.get(credit.level, 0.0) + credit.credits
        own_counted.append(credit.credential)
    for o in outcomes:
        reason = None
        if o.credential in seen:
            reason = _TWICE
        elif o.status not in _COUNTED:
            reason = f"{o.status.replace('_', ' ')}: no credit granted"
        elif o.credits is None or o.level is None:
            reason = "no credit or level granted"
        elif o.credits.framework != framework.id:
            reason = f"credit granted in {o.credits.framework}, not {framework.id}"
        elif o.award is not None and o.award != award:
            reason = f"block credit towards {o.award} only"
        seen.add(o.credential)
        if reason is not None:
            excluded.append(ExcludedCredential(credential=o.credential, reason=reason))
            continue
        assert o.credits is not None
        assert o.level is not None
        parts = [(m.level, m.credits.amount) for m in o.modules] or [(o.level.code, o.credits.amount)]
        for code, amount in parts:
            by_level[code] = by_level.get(code, 0.0) + amount
        counted.append(o.credential)

    recognised = sum(by_level.values())
    own_total = sum(own_by_level.values())
    cap = _cap(rule, framework.spec.rpl_caps)
    limit = cap[0] if cap is not None else None

    def capped(value: float) -> float:
        return min(value, limit) if limit is not None else value

    requirements: list[RequirementProgress] = []
    missing: list[str] = []
    reqs: list[tuple[Literal["total", "at_level"], CreditRequirement]] = [
        *(("total", r) for r in ((rule.total,) if rule.total else ())),
        *(("at_level", r) for r in rule.at_level),
    ]
    for kind, req in reqs:
        codes = _levels_of(req, framework)
        found = sum(v for c, v in by_level.items() if codes is None or c in codes)
        got = capped(found) + sum(v for c, v in own_by_level.items() if codes is None or c in codes)
        if req.max_credits is not None:
            got = min(got, req.max_credits)
        short = max(0.0, req.min_credits - got)
        met = short <= _EPS
        requirements.append(
            RequirementProgress(
                kind=kind,
                levels=tuple(sorted(codes, key=lambda c: _rank(framework, c))) if codes else (),
                required=_r(req.min_credits),
                counted=_r(got),
                missing=_r(short) if not met else 0.0,
                met=met,
                source=req.source,
                status=req.status,
                or_above=req.or_above,
                max_credits=req.max_credits,
            )
        )
        if not met:
            missing.append(f"{_r(short):g} more {framework.credit.code} {_describe(codes, framework)}")

    total_required = rule.total.min_credits if rule.total is not None else None
    total_counted = capped(recognised) + own_total
    cap_progress = None
    capstone = False
    if cap is not None:
        assert limit is not None
        bites = recognised > limit + _EPS
        cap_progress = RplCapProgress(
            limit=limit,
            recognised=_r(recognised),
            counted=_r(total_counted),
            bites=bites,
            source=cap[1].source,
            status=cap[1].status,
            max_fraction=cap[1].max_fraction,
            max_credits=cap[1].max_credits,
        )
        capstone = total_required is not None and limit < total_required - _EPS
        if capstone:
            assert total_required is not None
            unit = framework.credit.code
            at_member = total_required - limit
            if own_total < at_member - _EPS:
                already = f" ({own_total:g} already are)" if own_total > _EPS else ""
                missing.append(
                    f"at most {limit:g} of {total_required:g} {unit} may come from prior learning: "
                    f"at least {_r(at_member):g} must be studied at the member{already}"
                )
    credit_rated = rule.total is not None
    if not credit_rated:
        missing.append(f"{rule.name} is not credit-rated: it cannot be reached by stacking credit")
    return AwardProgress(
        framework=framework.id,
        award=rule.id,
        name=rule.name,
        level=rule.level,
        credit_rated=credit_rated,
        source=rule.source,
        status=rule.status,
        total_required=total_required,
        total_recognised=_r(recognised),
        total_counted=_r(total_counted),
        credits_by_level=tuple(
            LevelCredits(level=code, credits=_r(by_level.get(code, 0.0) + own_by_level.get(code, 0.0)))
            for code in sorted(by_level.keys() | own_by_level.keys(), key=lambda c: _rank(framework, c))
        ),
        requirements=tuple(requirements),
        missing=tuple(missing),
        counted_credentials=tuple(counted),
        excluded_credentials=tuple(excluded),
        eligible=credit_rated and not missing,
        capstone_required=capstone,
        total_own=_r(own_total),
        own_credentials=tuple(own_counted),
        remaining_at_member=_r(max(0.0, total_required - total_counted))
        if total_required is not None
        else None,
        rpl_cap=cap_progress,
        note=rule.note,
    )
