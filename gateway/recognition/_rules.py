"""The agreement rules, one function each, in the engine's order (``gateway.recognition.engine``).

Each returns a ``RuleCheck``: ``pass``, ``fail`` (the agreement does not apply to this credential) or
``undecidable`` (the record does not say enough; a registrar must decide). Reasons for a pass are fixed
texts; what varies is in ``inputs``. A check depends only on the agreement version and a few facts of the
credential (its level, field, dates), so it is built once per agreement and such key and then shared by
every outcome that needs it: checks are frozen and their inputs are never changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable
from typing import Final

from adapters.frameworks.scale import code_key
from contracts.errors import GatewayError
from gateway.recognition._facts import CredentialFacts, iso
from gateway.recognition._index import CompiledAgreement
from gateway.recognition._inputs import FrameworkGradeMinimum
from gateway.recognition._outcomes import RuleCheck, RuleInput, RuleResult

__all__ = [
    "add_years",
    "applies",
    "check",
    "currency_age",
    "currency_valid_until",
    "grade_minimum",
    "qa_current",
    "qa_type",
    "scope_level",
    "scope_subject",
    "scope_type",
    "validity",
]

_EPS: Final = 1e-9
Rule = Callable[[CompiledAgreement, CredentialFacts], RuleCheck]
_BINDS: Final = "the agreement binds both members and is active"
_IN_FORCE: Final = "in force on the issue date and the evaluation date"


def check(
    rule: str, result: RuleResult, reason: str, inputs: dict[str, RuleInput], label: str | None
) -> RuleCheck:
    return RuleCheck(rule=rule, result=result, reason=reason, inputs=inputs, agreement=label)


def applies(agr: CompiledAgreement, f: CredentialFacts) -> RuleCheck:
    """1. The agreement binds the issuer and the recogniser, and is active."""
    key = ("applies", f.record.issuer, f.member.id)
    found = agr.memo.get(key)
    if found is None:
        inputs: dict[str, RuleInput] = {
            "parties": agr.parties_text,
            "issuer": f.record.issuer,
            "recogniser": f.member.id,
            "status": agr.status,
        }
        if agr.status != "active":
            found = check("agreement.applies", "fail", f"the version is {agr.status}", inputs, agr.label)
        else:
            found = check("agreement.applies", "pass", _BINDS, inputs, agr.label)
        agr.remember(key, found)
    return found


def validity(agr: CompiledAgreement, f: CredentialFacts) -> RuleCheck:
    """2. In force on the credential's issue date and on the evaluation date: an expired version never
    applies, even to credentials issued while it was in force."""
    issued, on = f.record.issued_on, f.on
    key = ("validity", issued, on)
    found = agr.memo.get(key)
    if found is None:
        inputs: dict[str, RuleInput] = {
            "valid_from": agr.valid_from_iso,
            "valid_to": agr.valid_to_iso,
            "issued_on": f.issued_iso,
            "evaluation_date": f.on_iso,
        }
        if not agr.in_force(issued):
            found = check("agreement.validity", "fail", "not in force on the issue date", inputs, agr.label)
        elif not agr.in_force(on):
            reason = "expired before the evaluation date" if agr.valid_from <= on else "not yet in force"
            found = check("agreement.validity", "fail", reason, inputs, agr.label)
        else:
            found = check("agreement.validity", "pass", _IN_FORCE, inputs, agr.label)
        agr.remember(key, found)
    return found


def _scope_level(agr: CompiledAgreement, f: CredentialFacts) -> RuleCheck:
    """3. The credential's level is named in the scope, or its EQF level lies in the scope's range."""
    level, eqf, why = f.eqf()
    inputs: dict[str, RuleInput] = {
        "level": f"{level.scheme} {level.code}" if level else None,
        "eqf": eqf,
        "scope_levels": agr.levels_text,
        "scope_eqf": f"{agr.eqf[0]}-{agr.eqf[1]}" if agr.eqf else None,
    }
    if level is None:
        return check("scope.level", "undecidable", why, inputs, agr.label)
    stated = f.record.credential.level
    assert stated is not None
    if (stated.framework, level.code) in agr.level_keys:
        return check("scope.level", "pass", "the credential's level is named in the scope", inputs, agr.label)
    if agr.eqf is None:
        return check("scope.level", "fail", "the credential's level is not in the scope", inputs, agr.label)
    if eqf is None:
        # domain.md section 2, gotcha 2: e.g. NZQF 8 has no EQF level; rules must handle eqf = null.
        reason = f"{level.name} has no EQF level, so the EQF range cannot be checked"
        return check("scope.level", "undecidable", reason, inputs, agr.label)
    if agr.eqf[0] <= eqf <= agr.eqf[1]:
        return check("scope.level", "pass", "the EQF level lies in the scope's range", inputs, agr.label)
    return check("scope.level", "fail", "the EQF level lies outside the scope's range", inputs, agr.label)


def _scope_subject(agr: CompiledAgreement, f: CredentialFacts) -> RuleCheck:
    """4. The credential's ISCED-F field starts with one of the scope's codes."""
    field = f.record.credential.field_of_study
    inputs: dict[str, RuleInput] = {"field_of_study": field, "scope_subjects": agr.subjects_text}
    if field is None:
        reason = "the credential states no ISCED-F field of study"
        return check("scope.subject", "undecidable", reason, inputs, agr.label)
    broader = False
    for code in agr.subjects:
        if field.startswith(code):
            return check("scope.subject", "pass", "the field of study is in the scope", inputs, agr.label)
        broader = broader or code.startswith(field)
    if broader:
        reason = "the credential's field is broader than the scope's: it may or may not be in it"
        return check("scope.subject", "undecidable", reason, inputs, agr.label)
    return check("scope.subject", "fail", "the field of study is not in the scope", inputs, agr.label)


def _scope_type(agr: CompiledAgreement, f: CredentialFacts) -> RuleCheck:
    """5. The credential is stand-alone or stackable, as the scope asks."""
    stack = f.record.credential.stackability
    inputs: dict[str, RuleInput] = {"type": stack.kind if stack else None, "scope_types": agr.types_text}
    if stack is None:
        reason = "the credential does not say whether it is stand-alone or stackable"
        return check("scope.credential_type", "undecidable", reason, inputs, agr.label)
    if stack.kind in agr.types:
        return check(
            "scope.credential_type", "pass", "the credential type is in the scope", inputs, agr.label
        )
    return check(
        "scope.credential_type", "fail", "the credential type is not in the scope", inputs, agr.label
    )


def _qa_type(agr: CompiledAgreement, f: CredentialFacts) -> RuleCheck:
    """6. The type of quality assurance (Annex I element 11) is one the agreement accepts."""
    stated = f.record.credential.quality_assurance.type
    inputs: dict[str, RuleInput] = {"qa_type": stated, "accepted": agr.qa_text}
    if code_key(stated) in agr.qa_types:
        return check("qa.type", "pass", "the type of quality assurance is accepted", inputs, agr.label)
    return check("qa.type", "fail", "the type of quality assurance is not accepted", inputs, agr.label)


def _qa_current(agr: CompiledAgreement, f: CredentialFacts) -> RuleCheck:
    """7. The quality assurance review was not overdue on the issue date."""
    qa = f.record.credential.quality_assurance
    due = qa.review_due
    inputs: dict[str, RuleInput] = {
        "review_due": iso(due) if due else None,
        "last_reviewed": iso(qa.last_reviewed) if qa.last_reviewed else None,
        "issued_on": f.issued_iso,
    }
    if due is None:
        reason = "the QA review date is unknown, so currency at the award date cannot be checked"
        return check("qa.current_at_award", "undecidable", reason, inputs, agr.label)
    if due >= f.record.issued_on:
        return check(
            "qa.current_at_award", "pass", "the QA review was current at the award", inputs, agr.label
        )
    return check("qa.current_at_award", "fail", "the QA review was overdue at the award", inputs, agr.label)


def add_years(day: dt.date, years: int) -> dt.date:
    """``day`` plus calendar years; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _currency_age(agr: CompiledAgreement, f: CredentialFacts) -> RuleCheck:
    """8. The credential is no older than the agreement allows on the evaluation date."""
    max_age = agr.max_age
    assert max_age is not None
    issued = f.record.issued_on
    if max_age.unit == "days":
        limit = issued + dt.timedelta(days=max_age.amount)
    else:
        limit = add_years(issued, max_age.amount)
    inputs: dict[str, RuleInput] = {
        "issued_on": f.issued_iso,
        "evaluation_date": f.on_iso,
        "max_age": agr.max_age_text,
        "current_until": iso(limit),
    }
    if issued <= f.on <= limit:
        return check("currency.max_age", "pass", "the credential is recent enough", inputs, agr.label)
    if f.on < issued:
        return check("currency.max_age", "fail", "issued after the evaluation date", inputs, agr.label)
    return check("currency.max_age", "fail", "the credential is too old", inputs, agr.label)


def currency_valid_until(agr: CompiledAgreement, f: CredentialFacts) -> RuleCheck | None:
    """8b. A credential with its own expiry (``valid_until``) is still valid on the evaluation date."""
    until = f.record.valid_until
    if until is None:
        return None
    key = ("currency.valid_until", until, f.on)
    found = agr.memo.get(key)
    if found is None:
        inputs: dict[str, RuleInput] = {"valid_until": iso(until), "evaluation_date": f.on_iso}
        if f.on <= until:
            found = check("currency.valid_until", "pass", "the credential is still valid", inputs, agr.label)
        else:
            found = check("currency.valid_until", "fail", "the credential has expired", inputs, agr.label)
        agr.remember(key, found)
    return found


def grade_minimum(agr: CompiledAgreement, f: CredentialFacts) -> RuleCheck:
    """9. The credential's grade reaches the agreement's minimum (normalised, or a grade of a framework)."""
    minimum, grade = agr.min_grade, f.record.grade
    assert minimum is not None
    inputs: dict[str, RuleInput] = {
        "grade": f"{grade.scheme}:{grade.value}" if grade else None,
        "minimum": f"{minimum.framework}:{minimum.value}"
        if isinstance(minimum, FrameworkGradeMinimum)
        else minimum.value,
    }
    if grade is None:
        reason = "the credential records no grade (optional in Annex I)"
        return check("grade.minimum", "undecidable", reason, inputs, agr.label)
    if grade.passed is False:
        return check("grade.minimum", "fail", "the credential records a fail", inputs, agr.label)
    if not isinstance(minimum, FrameworkGradeMinimum):
        point, pass_only, why = f.normalised_grade()
        inputs["normalised"] = point
        if point is None:
            return check("grade.minimum", "undecidable", why, inputs, agr.label)
        if point + _EPS >= minimum.value:
            return check("grade.minimum", "pass", "the grade reaches the minimum", inputs, agr.label)
        if pass_only:
            reason = "the grade is pass/fail only: it cannot show more than a pass"
            return check("grade.minimum", "undecidable", reason, inputs, agr.label)
        return check("grade.minimum", "fail", "the grade is below the minimum", inputs, agr.label)
    converted = f.grade_in(minimum.framework, minimum.scheme)
    if isinstance(converted, str):
        return check("grade.minimum", "undecidable", converted, inputs, agr.label)
    inputs["converted"] = converted.value
    try:
        target = f.member.converter.registry.get(minimum.framework)
        got = target.normalise_grade(converted.value, converted.to_scheme)
        need = target.normalise_grade(minimum.value, converted.to_scheme)
    except GatewayError as exc:
        return check("grade.minimum", "undecidable", exc.detail, inputs, agr.label)
    if converted.passed and got.lower + _EPS >= need.lower:
        return check("grade.minimum", "pass", "the converted grade reaches the minimum", inputs, agr.label)
    if converted.passed and _is_pass_fail(f):
        reason = "the grade is pass/fail only: it cannot show more than a pass"
        return check("grade.minimum", "undecidable", reason, inputs, agr.label)
    return check("grade.minimum", "fail", "the converted grade is below the minimum", inputs, agr.label)


def _is_pass_fail(f: CredentialFacts) -> bool:
    grade = f.record.grade
    assert grade is not None
    try:
        return (
            f.member.converter.registry.get(grade.framework).grading_scheme(grade.scheme).kind == "pass_fail"
        )
    except GatewayError:
        return False


# --- shared rule checks (see the module docstring) --------------------------------------------------------


def _memoised(rule: Rule, key: Callable[[CredentialFacts], Hashable]) -> Rule:
    name = rule.__name__

    def shared(agr: CompiledAgreement, f: CredentialFacts) -> RuleCheck:
        k = (name, key(f))
        found = agr.memo.get(k)
        if found is None:
            found = rule(agr, f)
            agr.remember(k, found)
        return found

    shared.__doc__ = rule.__doc__
    shared.__name__ = name.lstrip("_")
    return shared


def _level_key(f: CredentialFacts) -> Hashable:
    f.eqf()  # the EQF conversion is part of every explanation that uses the level, shared check or not
    level = f.record.credential.level
    return (level.framework, level.code) if level is not None else None


def _qa_key(f: CredentialFacts) -> Hashable:
    qa = f.record.credential.quality_assurance
    return qa.review_due, qa.last_reviewed, f.record.issued_on


scope_level = _memoised(_scope_level, _level_key)
scope_subject = _memoised(_scope_subject, lambda f: f.record.credential.field_of_study)
scope_type = _memoised(
    _scope_type, lambda f: s.kind if (s := f.record.credential.stackability) is not None else None
)
qa_type = _memoised(_qa_type, lambda f: f.record.credential.quality_assurance.type)
qa_current = _memoised(_qa_current, _qa_key)
currency_age = _memoised(_currency_age, lambda f: (f.record.issued_on, f.on))
