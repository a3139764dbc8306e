"""The adapter interface of a credit framework."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from contracts.frameworks._facts import (
    AwardRule,
    CreditUnit,
    FrameworkLevel,
    FrameworkOverrides,
    FrameworkSpec,
    GradingScheme,
    MicroCredentialRules,
    NormalisedGrade,
)

__all__ = ["CreditFramework"]


@runtime_checkable
class CreditFramework(Protocol):
    """The adapter interface of a credit framework, found by entry point (``consortium_gateway.frameworks``).

    Lookups raise ``contracts.errors`` types (``UnknownLevel``, ``UnknownGrade``, ``NotFound``) with the
    valid values in ``expected``. Implementations must be cheap to query: build lookup tables once.
    """

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def jurisdiction(self) -> str: ...

    @property
    def spec(self) -> FrameworkSpec: ...

    @property
    def credit(self) -> CreditUnit: ...

    @property
    def levels(self) -> tuple[FrameworkLevel, ...]: ...

    def level(self, code: str) -> FrameworkLevel:
        """The level with this code or alias (case-insensitive)."""
        ...

    def levels_at_eqf(self, eqf: int) -> tuple[FrameworkLevel, ...]:
        """Every level referenced to ``eqf``: many-to-one referencing is never inverted to one answer."""
        ...

    def grading_scheme(self, scheme_id: str | None = None) -> GradingScheme:
        """The named scheme, or the framework's default (first) scheme."""
        ...

    def normalise_grade(self, value: str, scheme_id: str | None = None) -> NormalisedGrade: ...

    def award_rule(self, rule_id: str) -> AwardRule: ...

    def micro_credential_rules(self, rule_set: str | None = None) -> MicroCredentialRules | None:
        """The named rule set, or the current (first) one; ``None`` where the framework has none."""
        ...

    def with_overrides(self, overrides: FrameworkOverrides) -> CreditFramework:
        """A copy with a member's overrides applied (validated; raises ``InvalidFrameworkOverrides``)."""
        ...
