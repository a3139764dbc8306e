"""Consistency checks of a framework's data, shared by plug-in loading and by member overrides."""

from __future__ import annotations

from adapters.frameworks.distribution import distribution_problems
from adapters.frameworks.scale import code_key, scheme_problems
from contracts.frameworks import FrameworkSpec

__all__ = ["spec_problems"]


def spec_problems(spec: FrameworkSpec) -> list[str]:
    """Inconsistencies in a framework's data (empty when consistent)."""
    problems: list[str] = []
    codes: set[str] = set()
    for level in spec.levels:
        for key in (code_key(level.code), *(code_key(a) for a in level.aliases)):
            if key in codes:
                problems.append(f"level code {key!r} is used twice")
            codes.add(key)
    schemes: set[str] = set()
    for scheme in spec.grading_schemes:
        if scheme.id in schemes:
            problems.append(f"grading scheme {scheme.id!r} is defined twice")
        schemes.add(scheme.id)
        problems.extend(scheme_problems(scheme))
    awards: set[str] = set()
    for rule in spec.award_rules:
        if rule.id in awards:
            problems.append(f"award rule {rule.id!r} is defined twice")
        awards.add(rule.id)
        requirements = ((rule.total,) if rule.total else ()) + rule.at_level
        for code in (rule.level, *(c for r in requirements for c in r.levels)):
            if code_key(code) not in codes:
                problems.append(f"award rule {rule.id!r} names unknown level {code!r}")
        for req in requirements:
            if req.max_credits is not None and req.max_credits < req.min_credits:
                problems.append(f"award rule {rule.id!r}: max_credits below min_credits")
    for cap in spec.rpl_caps:
        if cap.award is not None and cap.award not in awards:
            problems.append(f"RPL cap names unknown award {cap.award!r}")
    rule_sets = [r.rule_set for r in spec.micro_credential_rules]
    if len(set(rule_sets)) != len(rule_sets):
        problems.append("a micro-credential rule set is defined twice")
    by_id = {s.id: s for s in spec.grading_schemes}
    for table in spec.grade_distributions:
        found = by_id.get(table.scheme)
        if found is None:
            problems.append(f"grade distribution names unknown scheme {table.scheme!r}")
        else:
            label = f"grade distribution {table.institution}/{table.reference_group}"
            problems.extend(f"{label}: {p}" for p in distribution_problems(found, table))
    hours = spec.credit.hours
    if hours.min > hours.max:
        problems.append("credit hours: min above max")
    return problems
