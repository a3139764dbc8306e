"""Validation of micro-credential records: the EU Annex I elements and the framework's own rules.

EU Council Recommendation of 16 June 2022 (2022/C 243/02), Annex I (status A via the Cedefop glossary):
title (2), country/region of the issuer (3), awarding body (4), learning outcomes (6), notional workload "in
ECTS wherever possible" (7), level and cycle "if applicable" (8), type of assessment (9), form of
participation (10), type of quality assurance (11). Elements 1 (learner) and 5 (date of issuing) belong to
the award (``CredentialRecord``), not to the micro-credential, and are not checked here.

Every failed element is reported, not only the first; a raw (decoded JSON) mapping is checked field by
field, so one malformed element does not hide the others.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import msgspec

from adapters.frameworks.ects import SPEC as ECTS_SPEC
from contracts.credentials import MicroCredential, QualityAssurance
from contracts.credits import CreditValue, Level
from contracts.errors import UnknownLevel
from contracts.frameworks import (
    CreditFramework,
    FactStatus,
    IssueSeverity,
    MicroCredentialRules,
    MicroCredentialValidation,
    ValidationIssue,
)

__all__ = ["validate_micro_credential"]

_EU: Final = "Council Recommendation 2022/C 243/02, Annex I (Cedefop glossary; SWD(2021)367)"
_FIELDS: Final = {f.name: f for f in msgspec.structs.fields(MicroCredential)}
# Which Annex I element each field carries (contracts/credentials.py lists the same numbers).
_ELEMENT: Final = {
    "id": "record:id",
    "title": "annex-i:2",
    "awarding_body": "annex-i:3-4",
    "learning_outcomes": "annex-i:6",
    "workload": "annex-i:7",
    "level": "annex-i:8",
    "assessment": "annex-i:9",
    "participation": "annex-i:10",
    "quality_assurance": "annex-i:11",
}
_REVIEW_SLACK_DAYS: Final = (
    31  # a review due a few days after the anniversary still counts as "within n years"
)


class _Issues:
    """Collects issues; an EU element issue cites Annex I, a rule issue cites its rule set."""

    def __init__(self) -> None:
        self.items: list[ValidationIssue] = []

    def add(
        self,
        element: str,
        field: str,
        message: str,
        *,
        expected: str | None = None,
        severity: IssueSeverity = "error",
        source: str = _EU,
        status: FactStatus = "A",
    ) -> None:
        self.items.append(
            ValidationIssue(
                element=element,
                field=field,
                message=message,
                severity=severity,
                source=source,
                status=status,
                expected=expected,
            )
        )

    def rule(self, rules: MicroCredentialRules, name: str, field: str, message: str, expected: str) -> None:
        self.add(
            f"{rules.rule_set}:{name}",
            field,
            message,
            expected=expected,
            source=rules.source,
            status=rules.status,
        )


def _decode(data: Mapping[str, Any], issues: _Issues) -> tuple[dict[str, Any], set[str]]:
    """Each field decoded on its own; what fails is reported with its JSON path, the rest is kept."""
    decoded: dict[str, Any] = {}
    failed: set[str] = set()
    for key in data:
        if key not in _FIELDS:
            issues.add(
                "record", f"$.{key}", f"unknown field {key!r}", expected="one of: " + ", ".join(_FIELDS)
            )
    for name, info in _FIELDS.items():
        element = _ELEMENT.get(name, "annex-i:optional")
        if name not in data:
            if info.required:
                issues.add(element, f"$.{name}", f"{name} is missing", expected=f"a value for {name}")
            continue
        try:
            decoded[name] = msgspec.convert(data[name], info.type)
        except msgspec.ValidationError as exc:
            message, _, path = str(exc).partition(" - at `")
            field = f"$.{name}{path.rstrip('`')[1:]}" if path else f"$.{name}"
            issues.add(element, field, message)
            failed.add(name)
    return decoded, failed


def _title_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # Whole words, any case; "under-graduate" also matches "undergraduate" / "under graduate"; plurals too.
    parts = [re.escape(w.lower()).replace(r"\-", "[- ]?").replace(r"\ ", r"\s+") for w in words]
    return re.compile(r"(?<![a-z])(" + "|".join(parts) + r")(?:'?s)?(?![a-z])", re.IGNORECASE)


_PATTERNS: dict[tuple[str, ...], re.Pattern[str]] = {}


def _check_title(title: str, rules: MicroCredentialRules | None, issues: _Issues) -> None:
    if not title.strip():
        issues.add("annex-i:2", "$.title", "the title is blank", expected="a title")
    if rules is None or not rules.forbidden_title_words:
        return
    pattern = _PATTERNS.get(rules.forbidden_title_words)
    if pattern is None:
        pattern = _PATTERNS.setdefault(
            rules.forbidden_title_words, _title_pattern(rules.forbidden_title_words)
        )
    found = sorted({m.group(1).lower() for m in pattern.finditer(title)})
    if found:
        issues.rule(
            rules,
            "title-words",
            "$.title",
            f"the title contains {', '.join(found)}, which could be confused with a qualification",
            "a title without: " + ", ".join(rules.forbidden_title_words),
        )


def _check_workload(
    workload: CreditValue, framework: CreditFramework, rules: MicroCredentialRules | None, issues: _Issues
) -> None:
    credit = framework.credit
    if workload.amount <= 0:
        issues.add("annex-i:7", "$.workload.amount", "the notional workload is zero", expected="more than 0")
    native = workload.framework == framework.id
    if native and workload.unit != credit.code:
        issues.add(
            "annex-i:7",
            "$.workload.unit",
            f"{workload.unit!r} is not the unit of {framework.id}",
            expected=credit.code,
        )
    elif workload.framework == "ects" and workload.unit != "ects":
        issues.add("annex-i:7", "$.workload.unit", f"{workload.unit!r} is not ECTS", expected="ects")
    elif not native and workload.framework != "ects":
        issues.add(
            "annex-i:7",
            "$.workload.framework",
            f"the workload is in {workload.framework}",
            expected=f"{framework.id} or ects",
            severity="warning",
        )
    if native and credit.ects is None:
        issues.add(
            "annex-i:7",
            "$.workload",
            f"{framework.id} has no ECTS convention: ECTS only by hours",
            expected="ects wherever possible",
            severity="warning",
        )
    hours = credit.hours if native else ECTS_SPEC.credit.hours
    if native and workload.ects is not None and workload.ects_basis is not None:
        pivot = ECTS_SPEC.credit.hours
        if workload.ects_basis == "convention" and credit.ects is not None:
            low = high = workload.amount * credit.ects.factor
        else:
            low, high = workload.amount * hours.min / pivot.max, workload.amount * hours.max / pivot.min
        if not low - 1e-6 <= workload.ects <= high + 1e-6:
            expected = f"{low:g}" if low == high else f"{low:.4g} to {high:.4g}"
            issues.add(
                "annex-i:7",
                "$.workload.ects",
                f"{workload.ects:g} ECTS does not match the amount",
                expected=f"{expected} ({workload.ects_basis} basis)",
            )
    if rules is None:
        return
    if rules.min_credits is not None or rules.max_credits is not None:
        low_c, high_c = rules.min_credits or 0, rules.max_credits
        expected = f"{low_c:g} to {high_c:g} {credit.code}" if high_c is not None else f"at least {low_c:g}"
        if not native:
            issues.rule(
                rules, "credit-value", "$.workload", f"the credit value is not in {credit.code}", expected
            )
        elif workload.amount < low_c or (high_c is not None and workload.amount > high_c):
            issues.rule(
                rules,
                "credit-range",
                "$.workload.amount",
                f"{workload.amount:g} {credit.code} is out of range",
                expected,
            )
    if rules.credit_bearing and workload.amount <= 0:
        issues.rule(rules, "credit-bearing", "$.workload.amount", "no credit", "a credit-bearing workload")
    if rules.min_hours is not None and workload.amount * hours.max < rules.min_hours:
        issues.rule(
            rules,
            "volume",
            "$.workload.amount",
            "volume of learning too small",
            f"at least {rules.min_hours:g} notional hours",
        )


def _check_level(
    level: Level | None, framework: CreditFramework, rules: MicroCredentialRules | None, issues: _Issues
) -> None:
    if level is None:
        if rules is not None and rules.requires_level:
            issues.rule(rules, "level", "$.level", "no level given", f"a {framework.id} level")
        return
    if level.framework != framework.id:
        issues.add(
            "annex-i:8",
            "$.level.framework",
            f"the level is in {level.framework}",
            expected=framework.id,
            severity="warning",
        )
        return
    try:
        found = framework.level(level.code)
    except UnknownLevel as exc:
        issues.add("annex-i:8", "$.level.code", exc.detail, expected=exc.expected)
        return
    if level.eqf is not None and level.eqf != found.eqf:
        issues.add(
            "annex-i:8",
            "$.level.eqf",
            f"{found.name} is not EQF {level.eqf}",
            expected="none (no EQF referencing)" if found.eqf is None else str(found.eqf),
            source=found.source,
            status=found.status,
        )
    if level.qf_ehea_cycle is not None and level.qf_ehea_cycle != found.qf_ehea_cycle:
        issues.add(
            "annex-i:8",
            "$.level.qf_ehea_cycle",
            f"{found.name} is not the {level.qf_ehea_cycle} cycle",
            expected=found.qf_ehea_cycle or "none",
            source=found.source,
            status=found.status,
        )


def _check_quality(qa: QualityAssurance, rules: MicroCredentialRules | None, issues: _Issues) -> None:
    if not qa.type.strip():
        issues.add(
            "annex-i:11",
            "$.quality_assurance.type",
            "the type of quality assurance is blank",
            expected="a type",
        )
    if qa.last_reviewed is None or qa.review_due is None:
        if rules is not None and rules.max_review_years is not None:
            issues.add(
                f"{rules.rule_set}:review-period",
                "$.quality_assurance.review_due",
                "the review period cannot be checked",
                severity="warning",
                source=rules.source,
                status=rules.status,
                expected="last_reviewed and review_due",
            )
        return
    if qa.review_due < qa.last_reviewed:
        issues.add(
            "annex-i:11",
            "$.quality_assurance.review_due",
            "review_due is before last_reviewed",
            expected="a date after last_reviewed",
        )
    elif rules is not None and rules.max_review_years is not None:
        days = (qa.review_due - qa.last_reviewed).days
        if days > rules.max_review_years * 365.25 + _REVIEW_SLACK_DAYS:
            issues.rule(
                rules,
                "review-period",
                "$.quality_assurance.review_due",
                f"a review period of {days} days",
                f"at most {rules.max_review_years:g} years",
            )


def validate_micro_credential(
    record: MicroCredential | Mapping[str, Any], framework: CreditFramework, *, rule_set: str | None = None
) -> MicroCredentialValidation:
    """Every failed Annex I element and ``framework`` rule (its current rule set, or ``rule_set``)."""
    rules = framework.micro_credential_rules(rule_set)
    issues = _Issues()
    failed: set[str] = set()
    if isinstance(record, MicroCredential):
        fields: dict[str, Any] = {name: getattr(record, name) for name in _FIELDS}
    elif isinstance(record, Mapping):
        fields, failed = _decode(record, issues)
    else:
        issues.add("record", "$", "the record is not an object", expected="a JSON object")
        fields, failed = {}, set(_FIELDS)
    if "title" in fields:
        _check_title(fields["title"], rules, issues)
    if "awarding_body" in fields and not fields["awarding_body"].name.strip():
        issues.add(
            "annex-i:3-4", "$.awarding_body.name", "the awarding body's name is blank", expected="a name"
        )
    for i, outcome in enumerate(fields.get("learning_outcomes") or ()):
        if not outcome.strip():
            issues.add(
                "annex-i:6", f"$.learning_outcomes[{i}]", "a learning outcome is blank", expected="text"
            )
    if "workload" in fields:
        _check_workload(fields["workload"], framework, rules, issues)
    if "level" not in failed:  # an absent level is "not given"; a malformed one is already reported
        _check_level(fields.get("level"), framework, rules, issues)
    if "quality_assurance" in fields:
        _check_quality(fields["quality_assurance"], rules, issues)
    return MicroCredentialValidation(
        framework=framework.id,
        rule_set=rules.rule_set if rules else None,
        valid=not any(i.severity == "error" for i in issues.items),
        issues=tuple(issues.items),
    )
