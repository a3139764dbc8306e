"""A pytest test class an adapter package subclasses to run the kit, one test per check::

from adapters.testkit import FrameworkConformance
from my_adapter import framework

class TestMyFramework(FrameworkConformance):
    framework = framework
"""

from __future__ import annotations

from typing import ClassVar

from adapters.testkit.kit import run_check
from contracts.frameworks import CreditFramework

__all__ = ["FrameworkConformance"]


class FrameworkConformance:
    """Base class of a conformance test class; not collected itself (its name does not start with Test)."""

    framework: ClassVar[CreditFramework]
    max_examples: ClassVar[int] = 100
    tolerance: ClassVar[float] = 1e-9

    def _check(self, name: str) -> None:
        problems = run_check(name, self.framework, max_examples=self.max_examples, tolerance=self.tolerance)
        assert not problems, f"{self.framework.id} [{name}]:\n  " + "\n  ".join(problems)

    def test_identity(self) -> None:
        self._check("identity")

    def test_data(self) -> None:
        self._check("data")

    def test_levels(self) -> None:
        self._check("levels")

    def test_grade_tables(self) -> None:
        self._check("grade-tables")

    def test_awards(self) -> None:
        self._check("awards")

    def test_overrides(self) -> None:
        self._check("overrides")

    def test_explanations(self) -> None:
        self._check("explanations")

    def test_credit_properties(self) -> None:
        self._check("credit-properties")

    def test_grade_properties(self) -> None:
        self._check("grade-properties")
