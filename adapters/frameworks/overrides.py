"""Apply a member's ``FrameworkOverrides`` to a framework's defaults.

shared/reference/domain.md: values marked C or U are defaults that "must stay configurable per institution",
and institutions may be stricter than the national award rules (Keele Regulation E1). Status-A facts (e.g. the
NZQA definition of a credit as ten notional hours, rule 3) are the official text and are refused. Levels and
their EQF referencing are not overridable at all: they are the official referencing.
"""

from __future__ import annotations

from typing import TypeVar

import msgspec

from adapters.frameworks.spec_checks import spec_problems
from adapters.frameworks.status import weakest
from contracts.errors import InvalidFrameworkOverrides
from contracts.frameworks import (
    FrameworkOverrides,
    FrameworkSpec,
    GradingScheme,
    PassMark,
)

__all__ = ["apply_overrides"]

_T = TypeVar("_T")


def _refuse_status_a(status: str, what: str, source: str) -> None:
    if status == "A":
        raise InvalidFrameworkOverrides(
            f"{what} is a status-A fact ({source}) and cannot be overridden",
            field=f"overrides.{what}",
            expected="no override of an official (status A) value",
        )


def _merge(defaults: tuple[_T, ...], updates: tuple[_T, ...], key: str) -> tuple[_T, ...]:
    """Replace items with the same ``key`` in place; append new ones."""
    by_key = {getattr(u, key): u for u in updates}
    merged = [by_key.pop(getattr(d, key), d) for d in defaults]
    return (*merged, *by_key.values())


def _with_pass_mark(scheme: GradingScheme, pass_mark: PassMark) -> GradingScheme:
    if scheme.kind != "marks" or scheme.max_mark is None:
        raise InvalidFrameworkOverrides(
            f"{scheme.id} has no numeric pass mark; override the whole scheme instead",
            field="overrides.pass_marks",
            expected="a scheme of kind 'marks'",
        )
    if not 0 <= pass_mark.mark <= scheme.max_mark:
        raise InvalidFrameworkOverrides(
            f"pass mark {pass_mark.mark:g} is outside 0..{scheme.max_mark:g}",
            field="overrides.pass_marks",
            expected=f"a mark from 0 to {scheme.max_mark:g}",
        )
    return msgspec.structs.replace(
        scheme,
        pass_mark=pass_mark.mark,
        source=f"{scheme.source}; pass mark {pass_mark.mark:g}: {pass_mark.source}",
        status=weakest((scheme.status, pass_mark.status)),
    )


def apply_overrides(spec: FrameworkSpec, overrides: FrameworkOverrides) -> FrameworkSpec:
    """A new spec with the overrides applied; raises ``InvalidFrameworkOverrides`` naming the field."""
    credit = spec.credit
    if overrides.ects_convention is not None:
        if credit.ects is not None:
            _refuse_status_a(credit.ects.status, "ects_convention", credit.ects.source)
        credit = msgspec.structs.replace(credit, ects=overrides.ects_convention)
    if overrides.hours_per_unit is not None:
        _refuse_status_a(credit.hours.status, "hours_per_unit", credit.hours.source)
        credit = msgspec.structs.replace(credit, hours=overrides.hours_per_unit)

    award_rules = _merge(spec.award_rules, overrides.award_rules, "id")
    known = {r.id for r in award_rules}
    for withdrawn in overrides.withdrawn_award_rules:
        if withdrawn not in known:
            raise InvalidFrameworkOverrides(
                f"{withdrawn!r} is not an award of {spec.id}",
                field="overrides.withdrawn_award_rules",
                expected="one of: " + ", ".join(sorted(known)),
            )
    award_rules = tuple(r for r in award_rules if r.id not in overrides.withdrawn_award_rules)

    schemes = _merge(spec.grading_schemes, overrides.grading_schemes, "id")
    for pass_mark in overrides.pass_marks:
        if pass_mark.scheme not in {s.id for s in schemes}:
            raise InvalidFrameworkOverrides(
                f"{pass_mark.scheme!r} is not a grading scheme of {spec.id}",
                field="overrides.pass_marks",
                expected="one of: " + ", ".join(s.id for s in schemes),
            )
        schemes = tuple(_with_pass_mark(s, pass_mark) if s.id == pass_mark.scheme else s for s in schemes)

    result = msgspec.structs.replace(
        spec,
        credit=credit,
        award_rules=award_rules,
        rpl_caps=spec.rpl_caps if overrides.rpl_caps is None else overrides.rpl_caps,
        grading_schemes=schemes,
        grade_distributions=(*spec.grade_distributions, *overrides.grade_distributions),
        micro_credential_rules=_merge(
            spec.micro_credential_rules, overrides.micro_credential_rules, "rule_set"
        ),
    )
    problems = spec_problems(result)
    if problems:
        raise InvalidFrameworkOverrides(
            f"overrides make {spec.id} inconsistent: " + "; ".join(problems),
            field="overrides",
            expected="award levels, schemes and tables that exist in the framework",
        )
    return result
