"""``check_framework``: run every conformance check against one framework and report all findings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import msgspec

from adapters.frameworks import ects
from adapters.frameworks.conversion import PIVOT, Converter
from adapters.frameworks.registry import FrameworkRegistry
from adapters.testkit.checks import (
    check_awards,
    check_data,
    check_explanations,
    check_grade_tables,
    check_identity,
    check_levels,
    check_overrides,
)
from adapters.testkit.properties import check_credit_properties, check_grade_properties
from contracts.frameworks import CreditFramework

__all__ = ["CHECKS", "ConformanceReport", "Finding", "assert_conformant", "check_framework", "run_check"]

CHECKS: Final = (
    "identity",
    "data",
    "levels",
    "grade-tables",
    "awards",
    "overrides",
    "explanations",
    "credit-properties",
    "grade-properties",
)


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """One problem found by one check."""

    check: str
    message: str


class ConformanceReport(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of a conformance run: every check run, every finding (empty = conformant)."""

    framework: str
    checks: tuple[str, ...]
    findings: tuple[Finding, ...]

    @property
    def passed(self) -> bool:
        return not self.findings

    def summary(self) -> str:
        if self.passed:
            return f"{self.framework}: conformant ({len(self.checks)} checks)"
        lines = [f"{self.framework}: {len(self.findings)} problem(s)"]
        lines += [f"  [{f.check}] {f.message}" for f in self.findings]
        return "\n".join(lines)


def _converter(framework: CreditFramework) -> Converter:
    # The framework under test plus the ECTS pivot (unless it is the pivot itself).
    members = [framework] if framework.id == PIVOT else [framework, ects.framework]
    return Converter(FrameworkRegistry(members))


def run_check(
    name: str, framework: CreditFramework, *, max_examples: int = 100, tolerance: float = 1e-9
) -> list[str]:
    """One check by name (see ``CHECKS``); returns its problems."""
    converter = _converter(framework)
    runners: dict[str, Callable[[], list[str]]] = {
        "identity": lambda: check_identity(framework),
        "data": lambda: check_data(framework),
        "levels": lambda: check_levels(framework),
        "grade-tables": lambda: check_grade_tables(framework),
        "awards": lambda: check_awards(framework),
        "overrides": lambda: check_overrides(framework),
        "explanations": lambda: check_explanations(framework, converter, PIVOT),
        "credit-properties": lambda: check_credit_properties(
            framework, converter, PIVOT, max_examples=max_examples, tolerance=tolerance
        ),
        "grade-properties": lambda: check_grade_properties(framework, max_examples=max_examples),
    }
    try:
        return runners[name]()
    except Exception as exc:  # a crashing check is a finding, not the end of the run
        return [f"the check raised {type(exc).__name__}: {exc}"]


def check_framework(
    framework: CreditFramework, *, max_examples: int = 100, tolerance: float = 1e-9
) -> ConformanceReport:
    """Run every check; ``tolerance`` is the relative and absolute tolerance of credit round trips."""
    findings = [
        Finding(check=name, message=message)
        for name in CHECKS
        for message in run_check(name, framework, max_examples=max_examples, tolerance=tolerance)
    ]
    return ConformanceReport(framework=framework.id, checks=CHECKS, findings=tuple(findings))


def assert_conformant(
    framework: CreditFramework, *, max_examples: int = 100, tolerance: float = 1e-9
) -> None:
    """Raise ``AssertionError`` listing every finding, if there is any."""
    report = check_framework(framework, max_examples=max_examples, tolerance=tolerance)
    if not report.passed:
        raise AssertionError(report.summary())
