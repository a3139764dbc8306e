"""Rules 10-12: equivalence lookup, conversion into the recogniser's framework, and the grant.

An equivalence in force wins over the agreement's own grant (a registrar approved that exact mapping).
What is granted, in the recogniser's unit, on the decision's one basis:

- modules (an equivalence, or a ``ModuleGrant``): exactly the modules' credits, each at its own level;
- ``GeneralCreditGrant``: the credential's converted credits, up to ``max_credits``;
- ``BlockCreditGrant``: the block's credits, towards its award only.

The grant is *partial* when the credential carries more credit than is granted (the excess does not
count anywhere); nothing granted (no credit) is a failed grant.
"""

from __future__ import annotations

from typing import Final

from contracts.credits import CreditValue
from contracts.errors import NotFound
from contracts.frameworks import FrameworkLevel
from gateway.recognition._facts import CredentialFacts
from gateway.recognition._index import CompiledAgreement, CompiledEquivalence
from gateway.recognition._inputs import BlockCreditGrant, GeneralCreditGrant, ModuleGrant, RecognisedModule
from gateway.recognition._outcomes import RuleCheck, RuleInput, RuleResult
from gateway.recognition._rules import check

__all__ = ["Granted", "equivalence", "grant"]

_EPS: Final = 1e-9
_CONVERTED: Final = "converted into the recogniser's unit on the decision's basis (lower end of any range)"
_FULL: Final = "granted in full"
_PARTIAL: Final = "granted in part: the credential carries more credit than is granted"


class Granted:
    """What one agreement grants a credential (before the outcome is assembled)."""

    __slots__ = ("award", "credits", "full", "level", "modules")

    def __init__(
        self,
        credits: float,
        level: FrameworkLevel,
        full: bool,
        modules: tuple[RecognisedModule, ...] = (),
        award: str | None = None,
    ) -> None:
        self.credits = credits
        self.level = level
        self.full = full
        self.modules = modules
        self.award = award


def equivalence(
    agr: CompiledAgreement, f: CredentialFacts, found: tuple[CompiledEquivalence, ...]
) -> tuple[RuleCheck, CompiledEquivalence | None]:
    """10. The most specific equivalence in force on the issue and evaluation dates (limited to this
    agreement when it names one)."""
    usable = [e for e in found if e.agreement is None or e.agreement == agr.id] if found else found
    issued, on = f.record.issued_on, f.on
    chosen = next((e for e in usable if e.in_force(issued) and e.in_force(on)), None)
    key = ("equivalence", f.record.credential.id, tuple(e.label for e in usable), chosen)
    shared = agr.memo.get(key)
    if shared is None:
        inputs: dict[str, RuleInput] = {
            "credential": f.record.credential.id,
            "found": ", ".join(e.label for e in usable) or None,
            "applies": chosen.label if chosen else None,
        }
        if chosen is not None:
            reason = "an equivalence in force applies; it takes precedence over the agreement's grant"
        elif usable:
            reason = (
                "no equivalence in force on the issue and evaluation dates: the agreement's grant applies"
            )
        else:
            reason = "no equivalence for this credential: the agreement's grant applies"
        shared = check("equivalence", "pass", reason, inputs, agr.label)
        agr.remember(key, shared)
    return shared, chosen


def _modules(
    modules: tuple[RecognisedModule, ...], f: CredentialFacts
) -> tuple[float | None, FrameworkLevel | None, tuple[RecognisedModule, ...], str]:
    """The modules in the recogniser's unit and levels: (total, first module's level, modules, why not)."""
    member = f.member
    total = 0.0
    first: FrameworkLevel | None = None
    out: list[RecognisedModule] = []
    for module in modules:
        amount, why = member.amount(module.credits, f.basis, f.credit_conversions)
        level, conversion, why_level = member.level_in(module.credits.framework, module.level)
        if conversion is not None:
            f.level_conversions.append(conversion)
        if amount is None or level is None:
            return None, None, (), why or why_level
        total += amount
        first = first or level
        if module.credits.framework == member.framework.id and module.level == level.code:
            out.append(module)
            continue
        credits = CreditValue(amount=amount, unit=member.framework.credit.code, framework=member.framework.id)
        out.append(RecognisedModule(code=module.code, title=module.title, credits=credits, level=level.code))
    return total, first, tuple(out), ""


class _Plan:
    """What a grant would give before it is checked: kind, amount, level, modules, award, and why not."""

    __slots__ = ("amount", "award", "kind", "level", "level_from", "modules", "why")

    def __init__(self, kind: str, level_from: str | None) -> None:
        self.kind = kind
        self.level_from = level_from
        self.amount: float | None = None
        self.level: FrameworkLevel | None = None
        self.modules: tuple[RecognisedModule, ...] = ()
        self.award: str | None = None
        self.why = ""


def _level(plan: _Plan, f: CredentialFacts, framework: str, code: str) -> None:
    level, conversion, why = f.member.level_in(framework, code)
    if conversion is not None:
        f.level_conversions.append(conversion)
    plan.level, plan.why = level, plan.why or why


def _plan(
    agr: CompiledAgreement, eq: CompiledEquivalence | None, f: CredentialFacts, credits: float | None
) -> _Plan | str:
    """The grant to check, or the reason it cannot apply at all (a failed grant)."""
    member, rule = f.member, agr.grant
    modules = (
        eq.equivalence.modules if eq is not None else rule.modules if isinstance(rule, ModuleGrant) else ()
    )
    if modules:
        plan = _Plan(
            "equivalence" if eq is not None else "module",
            ", ".join(f"{m.credits.framework}:{m.level}" for m in modules),
        )
        plan.amount, plan.level, plan.modules, plan.why = _modules(modules, f)
        return plan
    if isinstance(rule, GeneralCreditGrant):
        ref = rule.level
        stated = f.record.credential.level
        origin = ref or stated
        plan = _Plan("general_credit", f"{origin.framework}:{origin.code}" if origin else None)
        plan.amount = credits
        if ref is not None:
            _level(plan, f, ref.framework, ref.code)
        else:
            plan.level, plan.why = f.granted_level()
        if rule.max_credits is not None and credits is not None:
            cap, why = member.amount(rule.max_credits, f.basis, f.credit_conversions)
            plan.amount = min(credits, cap) if cap is not None else None
            plan.why = plan.why or why
        return plan
    assert isinstance(rule, BlockCreditGrant)
    target = rule.award
    if target.framework != member.framework.id:
        return (
            f"block credit towards {target.framework} {target.id}; the recogniser uses {member.framework.id}"
        )
    try:
        member.framework.award_rule(target.id)
    except NotFound as exc:
        return exc.detail
    plan = _Plan("block_credit", f"{rule.level.framework}:{rule.level.code}")
    plan.award = target.id
    plan.amount, plan.why = member.amount(rule.credits, f.basis, f.credit_conversions)
    _level(plan, f, rule.level.framework, rule.level.code)
    return plan


def grant(
    agr: CompiledAgreement, eq: CompiledEquivalence | None, f: CredentialFacts, rules: list[RuleCheck]
) -> tuple[Granted | None, list[str], bool]:
    """11-12. Convert and grant; appends its rules. Returns (grant, undecided rule names, failed)."""
    label = agr.label
    undecided: list[str] = []
    credits, why = f.credits()
    workload = f.record.credential.workload
    to = f.member.framework.credit.code
    # The credits depend on the member's own conversion factors (overrides): the member is part of the key.
    key: tuple[object, ...] = (
        "conversion.credits",
        f.member.id,
        f.member.framework.id,
        workload.framework,
        workload.amount,
        f.basis,
    )
    shared = agr.memo.get(key)
    if shared is None:
        inputs: dict[str, RuleInput] = {
            "amount": workload.amount,
            "unit": workload.unit,
            "to": to,
            "basis": f.basis,
            "credits": credits,
        }
        result: RuleResult = "undecidable" if credits is None else "pass"
        shared = check("conversion.credits", result, why or _CONVERTED, inputs, label)
        agr.remember(key, shared)
    rules.append(shared)
    if credits is None:
        undecided.append("conversion.credits")
    plan = _plan(agr, eq, f, credits)
    if isinstance(plan, str):
        rules.append(check("grant", "fail", plan, {"kind": "block_credit"}, label))
        return None, undecided, True
    amount, level = plan.amount, plan.level
    key = ("conversion.level", plan.level_from, level.code if level else None, plan.why)
    shared = agr.memo.get(key)
    if shared is None:
        level_inputs: dict[str, RuleInput] = {"from": plan.level_from, "level": level.code if level else None}
        if level is None:
            shared = check("conversion.level", "undecidable", plan.why or "no level", level_inputs, label)
        else:
            shared = check("conversion.level", "pass", "granted at this level", level_inputs, label)
        agr.remember(key, shared)
    rules.append(shared)
    if level is None:
        undecided.append("conversion.level")
    if amount is None:
        if credits is not None:
            inputs = {"kind": plan.kind, "granted": None, "credential_credits": credits}
            rules.append(check("grant", "undecidable", plan.why, inputs, label))
            undecided.append("grant")
        return None, undecided, False
    key = ("grant", plan.kind, amount, credits)
    shared = agr.memo.get(key)
    if shared is None:
        inputs = {"kind": plan.kind, "granted": amount, "credential_credits": credits}
        if amount <= _EPS:
            shared = check("grant", "fail", "nothing to grant: no credit", inputs, label)
        else:
            full = credits is not None and credits <= amount + _EPS
            shared = check("grant", "pass", _FULL if full else _PARTIAL, inputs, label)
        agr.remember(key, shared)
    if shared.result == "fail":  # a definite failure wins over an undecided level
        rules.append(shared)
        return None, undecided, True
    if level is None:
        return None, undecided, False
    rules.append(shared)
    full = credits is not None and credits <= amount + _EPS
    return Granted(amount, level, full, plan.modules, plan.award), undecided, False
