"""Table checks of the conformance kit: each returns the problems it found (empty = conformant)."""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Final

import msgspec

from adapters.frameworks.conversion import Converter
from adapters.frameworks.scale import code_key, point_of, scheme_problems
from adapters.frameworks.spec_checks import spec_problems
from contracts.errors import GatewayError, UnknownLevel
from contracts.frameworks import CreditFramework, FrameworkOverrides, FrameworkSpec

__all__ = [
    "check_awards",
    "check_data",
    "check_explanations",
    "check_grade_tables",
    "check_identity",
    "check_levels",
    "check_overrides",
]

_ID: Final = re.compile(r"^[a-z][a-z0-9-]{1,31}$")  # contracts.types.FrameworkId
_CYCLE_EQF: Final = {"short": 5, "first": 6, "second": 7, "third": 8}  # QF-EHEA rows of the level table


def check_identity(framework: CreditFramework) -> list[str]:
    """Id, name and jurisdiction present; the spec survives a JSON round trip (which enforces every
    constraint declared in ``contracts.frameworks``: statuses, ranges, lengths)."""
    problems = []
    if not _ID.match(framework.id):
        problems.append(f"id {framework.id!r} does not match {_ID.pattern}")
    if framework.spec.id != framework.id:
        problems.append(f"spec.id {framework.spec.id!r} differs from id {framework.id!r}")
    if not framework.name.strip() or not framework.jurisdiction.strip():
        problems.append("name and jurisdiction must not be blank")
    try:
        again = msgspec.json.decode(msgspec.json.encode(framework.spec), type=FrameworkSpec)
    except msgspec.ValidationError as exc:
        problems.append(f"the spec breaks a contract constraint: {exc}")
    else:
        if again != framework.spec:
            problems.append("the spec does not survive a JSON round trip")
    return problems


def check_data(framework: CreditFramework) -> list[str]:
    """Unique codes, well-formed grading scales, award rules and caps naming levels and awards that exist."""
    return spec_problems(framework.spec)


def check_levels(framework: CreditFramework) -> list[str]:
    """The level table is complete: every code and alias resolves, EQF is 1..8 or None, ``levels_at_eqf``
    returns exactly the referenced levels, EQF never falls as rank rises, cycles agree with EQF."""
    problems = []
    levels = framework.levels
    if not levels:
        return ["no levels"]
    for level in levels:
        if level.eqf is not None and not 1 <= level.eqf <= 8:
            problems.append(f"{level.code}: EQF {level.eqf} is outside 1..8")
        for code in (level.code, *level.aliases, level.code.upper()):
            try:
                if framework.level(code) != level:
                    problems.append(f"{code!r} resolves to another level")
            except GatewayError as exc:
                problems.append(f"{code!r} does not resolve: {exc}")
        if level.qf_ehea_cycle is not None and level.eqf != _CYCLE_EQF[level.qf_ehea_cycle]:
            cycle_eqf = _CYCLE_EQF[level.qf_ehea_cycle]
            problems.append(f"{level.code}: the {level.qf_ehea_cycle} cycle is EQF {cycle_eqf}")
        if not level.source.strip():
            problems.append(f"{level.code}: no source")
    for eqf in range(1, 9):
        expected = {lv.code for lv in levels if lv.eqf == eqf}
        got = {lv.code for lv in framework.levels_at_eqf(eqf)}
        if got != expected:
            problems.append(f"levels_at_eqf({eqf}) gives {sorted(got)}, the table {sorted(expected)}")
    ranked = sorted((lv for lv in levels if lv.eqf is not None), key=lambda lv: lv.rank)
    for low, high in pairwise(ranked):
        if low.eqf is not None and high.eqf is not None and high.eqf < low.eqf and high.rank > low.rank:
            problems.append(f"EQF falls from {low.code} (EQF {low.eqf}) to {high.code} (EQF {high.eqf})")
    try:
        framework.level("no-such-level-code")
        problems.append("an unknown level code was accepted")
    except UnknownLevel as exc:
        if exc.field != "level" or not exc.expected:
            problems.append("UnknownLevel must name field 'level' and list the valid codes")
    return problems


def check_grade_tables(framework: CreditFramework) -> list[str]:
    """Every scheme is well formed and every grade normalises onto 0..1, in order, with its pass status."""
    problems = []
    for scheme in framework.spec.grading_schemes:
        problems.extend(scheme_problems(scheme))
        points = []
        for band in scheme.bands:
            try:
                norm = framework.normalise_grade(band.code, scheme.id)
            except GatewayError as exc:
                problems.append(f"{scheme.id} {band.code}: {exc}")
                continue
            if not 0 <= norm.point <= 1 or norm.passed != band.passed:
                problems.append(f"{scheme.id} {band.code}: normalised to {norm.point} (passed={norm.passed})")
            points.append(point_of(band))
        if scheme.kind != "ranked" and points != sorted(points):
            problems.append(f"{scheme.id}: grades are not ordered worst first")
        if len({code_key(b.code) for b in scheme.bands}) != len(scheme.bands):
            problems.append(f"{scheme.id}: duplicate grade codes")
    return problems


def check_awards(framework: CreditFramework) -> list[str]:
    """Award rules agree with the level table and with themselves; caps and rule sets are sane."""
    problems = []
    for rule in framework.spec.award_rules:
        try:
            framework.level(rule.level)
        except GatewayError:
            problems.append(f"award {rule.id}: level {rule.level!r} is not in the level table")
        total = rule.total
        for req in rule.at_level:
            if total is not None and req.min_credits > total.min_credits:
                problems.append(f"award {rule.id}: {req.min_credits:g} at level exceeds the total")
        if framework.award_rule(rule.id) != rule:
            problems.append(f"award {rule.id}: award_rule() returns another rule")
    for cap in framework.spec.rpl_caps:
        if cap.max_fraction is None and cap.max_credits is None:
            problems.append("an RPL cap sets neither max_fraction nor max_credits")
    for rules in framework.spec.micro_credential_rules:
        low, high = rules.min_credits, rules.max_credits
        if low is not None and high is not None and low > high:
            problems.append(f"micro-credential rules {rules.rule_set}: min_credits above max_credits")
    return problems


def check_overrides(framework: CreditFramework) -> list[str]:
    """Empty overrides change nothing, and the result is again a framework with the same id."""
    overridden = framework.with_overrides(FrameworkOverrides())
    problems = []
    if overridden.id != framework.id or overridden.spec != framework.spec:
        problems.append("with_overrides(FrameworkOverrides()) changed the framework")
    return problems


def check_explanations(framework: CreditFramework, converter: Converter, pivot: str) -> list[str]:
    """Every level converts to the pivot with an explanation citing its table; credits and grades explain
    themselves too."""
    problems = []
    for level in framework.levels:
        answer = converter.level(level.code, framework.id, pivot)
        why = answer.explanation
        if not why.steps or not why.tables or any(not s.source for s in why.steps):
            problems.append(f"level {level.code}: explanation lacks steps, tables or sources")
        if level.eqf is not None and pivot == "ects" and [c.eqf for c in answer.candidates] != [level.eqf]:
            problems.append(f"level {level.code}: EQF {level.eqf} did not convert to EQF {level.eqf}")
    bases = ["hours"] if framework.credit.ects is None else ["convention", "hours"]
    for basis in bases:
        credit = converter.credits(10, framework.id, pivot, basis)  # type: ignore[arg-type]
        if not credit.explanation.steps or credit.explanation.basis != basis:
            problems.append(f"credits on the {basis} basis: explanation lacks steps or basis")
    scheme = framework.grading_scheme()
    if scheme.kind != "ranked" and scheme.bands:
        grade = converter.grade(scheme.bands[-1].code, framework.id, framework.id)
        if not grade.explanation.steps:
            problems.append("grade conversion: explanation lacks steps")
    return problems
