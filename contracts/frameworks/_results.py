"""Results of conversions and of micro-credential validation: each encodes to JSON with its explanation."""

from __future__ import annotations

from typing import Literal

from msgspec import field

from contracts.base import Contract
from contracts.frameworks._facts import FactStatus, FrameworkLevel, NormalisedGrade, Source, TableRef
from contracts.types import ConversionBasis, EqfLevel

__all__ = [
    "ConversionStep",
    "CreditConversion",
    "Explanation",
    "ExplanationBasis",
    "GradeConversion",
    "IssueSeverity",
    "LevelConversion",
    "MicroCredentialValidation",
    "ValidationIssue",
]

ExplanationBasis = Literal["convention", "hours", "eqf", "scale", "distribution"]
"""What a conversion went through: an ECTS convention factor, notional hours, EQF referencing, a grading
scheme's normalised scale, or grade-distribution (percentile) tables."""

IssueSeverity = Literal["error", "warning"]


class ConversionStep(Contract, frozen=True, kw_only=True, omit_defaults=True):
    """One step of a conversion chain and the fact it used."""

    from_: str = field(name="from")
    to: str
    rule: str
    source: Source
    status: FactStatus
    factor: float | None = None
    factor_min: float | None = None
    factor_max: float | None = None
    table: str | None = None


class Explanation(Contract, frozen=True, kw_only=True):
    """Why a conversion gave its answer: basis, chain of frameworks, steps, tables (with versions).

    ``weakest_status`` is the least certain status among the steps: a chain through a C fact is C.
    """

    basis: ExplanationBasis
    chain: tuple[str, ...]
    steps: tuple[ConversionStep, ...]
    tables: tuple[TableRef, ...]
    weakest_status: FactStatus
    notes: tuple[str, ...] = ()


class CreditConversion(Contract, frozen=True, kw_only=True):
    """A credit amount converted. With basis ``hours`` and a range of hours per unit the answer is the range
    ``min..max`` (``is_range``) and ``value`` is ``None``; otherwise ``value == min == max``."""

    amount: float
    from_framework: str
    from_unit: str
    to_framework: str
    to_unit: str
    basis: ConversionBasis
    value: float | None
    min: float
    max: float
    is_range: bool
    explanation: Explanation


class LevelConversion(Contract, frozen=True, kw_only=True):
    """A level converted through EQF: every candidate level of the target (``ambiguous`` when several),
    none when the source level has no EQF referencing."""

    from_framework: str
    from_level: FrameworkLevel
    eqf: EqfLevel | None
    to_framework: str
    candidates: tuple[FrameworkLevel, ...]
    ambiguous: bool
    explanation: Explanation


class GradeConversion(Contract, frozen=True, kw_only=True):
    """A grade converted through a normalised scale or distribution tables. ``value`` is the target grade
    containing the source's point; ``candidates`` are every target grade the source band overlaps (with the
    same pass status)."""

    from_framework: str
    from_grade: NormalisedGrade
    to_framework: str
    to_scheme: str
    value: str
    candidates: tuple[str, ...]
    passed: bool
    basis: Literal["scale", "distribution"]
    explanation: Explanation


class ValidationIssue(Contract, frozen=True, kw_only=True):
    """One failed element or rule; ``field`` is a JSON path into the record."""

    element: str
    field: str
    message: str
    severity: IssueSeverity
    source: Source
    status: FactStatus
    expected: str | None = None


class MicroCredentialValidation(Contract, frozen=True, kw_only=True):
    """Every failed Annex I element and framework rule of a micro-credential, not only the first."""

    framework: str
    rule_set: str | None
    valid: bool
    issues: tuple[ValidationIssue, ...]
