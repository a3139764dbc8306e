"""The data a credit framework is made of; every fact carries its source and status letter."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from contracts.base import Contract
from contracts.types import CountryCode, EqfLevel, FrameworkId, QfEheaCycle

__all__ = [
    "AwardRule",
    "CreditRequirement",
    "CreditUnit",
    "EctsConvention",
    "FactStatus",
    "FrameworkLevel",
    "FrameworkOverrides",
    "FrameworkSpec",
    "FullTimeYear",
    "GradeBand",
    "GradeDistribution",
    "GradeShare",
    "GradingScheme",
    "HoursPerUnit",
    "MicroCredentialRules",
    "NormalisedGrade",
    "PassMark",
    "RplCap",
    "TableRef",
]

FactStatus = Literal["A", "B", "C", "U"]
"""How sure a fact is: A official text, B official table via a mirror, C secondary, U not verified."""

Source = Annotated[str, Meta(min_length=1, max_length=500, description="Short citation of the source.")]
Code = Annotated[str, Meta(min_length=1, max_length=40)]
Name = Annotated[str, Meta(min_length=1, max_length=300)]
Unit01 = Annotated[float, Meta(ge=0, le=1)]
Positive = Annotated[float, Meta(gt=0, le=100_000)]
Credits = Annotated[float, Meta(ge=0, le=100_000)]


class TableRef(Contract, frozen=True, kw_only=True):
    """A reference table an answer was read from, with its version, so an explanation can be re-checked."""

    id: Code
    title: Name
    version: Code
    source: Source


# --- credit ------------------------------------------------------------------------------------------


class HoursPerUnit(Contract, frozen=True, kw_only=True):
    """Notional learning hours per credit unit; ``min == max`` where the source gives one figure."""

    min: Positive
    max: Positive
    source: Source
    status: FactStatus


class EctsConvention(Contract, frozen=True, kw_only=True):
    """A convention (not an hour equivalence): ``units`` of the framework's credit count as ``ects`` ECTS.

    Kept as a ratio of two numbers (e.g. 3 US quarter hours = 4 ECTS) so conversions stay exact.
    """

    units: Positive
    ects: Positive
    source: Source
    status: FactStatus

    @property
    def factor(self) -> float:
        """ECTS per one unit of the framework's credit."""
        return self.ects / self.units


class FullTimeYear(Contract, frozen=True, kw_only=True):
    """Credits in one full-time year of study."""

    credits: Positive
    source: Source
    status: FactStatus


class CreditUnit(Contract, frozen=True, kw_only=True):
    """A framework's credit unit. ``ects`` is ``None`` where no convention exists (hours basis only)."""

    code: Code
    name: Name
    hours: HoursPerUnit
    ects: EctsConvention | None = None
    full_time_year: FullTimeYear | None = None


# --- levels --------------------------------------------------------------------------------------------


class FrameworkLevel(Contract, frozen=True, kw_only=True):
    """One level of a framework and its official EQF referencing (``eqf`` is ``None`` where there is none).

    ``scheme`` names the row's framework in the level referencing table (e.g. ``FHEQ`` or ``RQF`` inside
    ``uk-fheq``); ``rank`` orders levels within the framework (equal ranks are the same height).
    """

    code: Code
    name: Name
    scheme: Code
    rank: int
    eqf: EqfLevel | None
    source: Source
    status: FactStatus
    qf_ehea_cycle: QfEheaCycle | None = None
    aliases: tuple[Code, ...] = ()
    note: str | None = None


# --- grades --------------------------------------------------------------------------------------------


class GradeBand(Contract, frozen=True, kw_only=True):
    """One grade of a scheme, normalised onto ``[lower, upper)`` of 0..1 (1 = best; the top band is closed).

    ``point`` is the grade's representative normalised value (default: the middle of its band).
    """

    code: Code
    label: Name
    lower: Unit01
    upper: Unit01
    passed: bool
    point: Unit01 | None = None
    aliases: tuple[Code, ...] = ()


class GradingScheme(Contract, frozen=True, kw_only=True):
    """A grading scheme and its normalisation.

    - ``pass_fail``: two grades that carry only pass status (a pass converts to the target's lowest pass);
    - ``bands``: named grades on a fixed normalised scale (UK classification, US letters, NZ A/M/E);
    - ``marks``: numeric marks ``0..max_mark``, normalised as ``mark / max_mark``, passed from ``pass_mark``;
    - ``ranked``: a relative scale (ECTS A-E), bands are percentiles of passing students; converting to or
      from it needs grade-distribution tables, never a fixed mapping.

    ``bands`` are ordered worst first.
    """

    id: Code
    name: Name
    kind: Literal["pass_fail", "bands", "marks", "ranked"]
    source: Source
    status: FactStatus
    bands: tuple[GradeBand, ...] = ()
    max_mark: Positive | None = None
    pass_mark: Credits | None = None
    note: str | None = None


class GradeShare(Contract, frozen=True, kw_only=True):
    """Percentage of passing students in a reference group who received ``grade``."""

    grade: Code
    percent: Annotated[float, Meta(ge=0, le=100)]


class GradeDistribution(Contract, frozen=True, kw_only=True):
    """An institution's grade-distribution (grading) table for one reference group (ECTS Users' Guide).

    ``shares`` cover passing grades only; percentages sum to about 100.
    """

    institution: Name
    scheme: Code
    reference_group: Name
    cohorts: Name
    shares: Annotated[tuple[GradeShare, ...], Meta(min_length=1)]
    source: Source
    status: FactStatus = "C"


class NormalisedGrade(Contract, frozen=True, kw_only=True):
    """A grade placed on a scheme's normalised scale (or a percentile band, for distribution tables)."""

    scheme: Code
    value: Code
    lower: Unit01
    upper: Unit01
    point: Unit01
    passed: bool


# --- awards, RPL, micro-credentials ---------------------------------------------------------------------


class CreditRequirement(Contract, frozen=True, kw_only=True):
    """At least ``min_credits`` (and at most ``max_credits``) in the framework's unit, from ``levels``
    (empty = any level). ``or_above`` widens ``levels`` to every level ranked at or above the lowest one."""

    min_credits: Credits
    source: Source
    status: FactStatus
    max_credits: Credits | None = None
    levels: tuple[Code, ...] = ()
    or_above: bool = False


class AwardRule(Contract, frozen=True, kw_only=True):
    """Credit rules of one qualification type. ``total`` is ``None`` where the award is not credit-rated
    or its figure is unknown (``note`` says which)."""

    id: Code
    name: Name
    level: Code
    source: Source
    status: FactStatus
    total: CreditRequirement | None = None
    at_level: tuple[CreditRequirement, ...] = ()
    note: str | None = None


class RplCap(Contract, frozen=True, kw_only=True):
    """A limit on credit from recognition of prior learning or transfer; ``award`` ``None`` = every award."""

    source: Source
    status: FactStatus
    award: Code | None = None
    max_fraction: Annotated[float, Meta(gt=0, le=1)] | None = None
    max_credits: Credits | None = None


class MicroCredentialRules(Contract, frozen=True, kw_only=True):
    """A framework's own micro-credential rules, versioned by ``rule_set`` (rules change over time)."""

    rule_set: Code
    name: Name
    source: Source
    status: FactStatus
    min_credits: Credits | None = None
    max_credits: Credits | None = None
    min_hours: Credits | None = None
    max_review_years: Positive | None = None
    requires_level: bool = False
    credit_bearing: bool = False
    forbidden_title_words: tuple[Name, ...] = ()


# --- the framework -----------------------------------------------------------------------------------------


class FrameworkSpec(Contract, frozen=True, kw_only=True):
    """Everything a table-driven framework adapter knows, as data."""

    id: FrameworkId
    name: Name
    jurisdiction: Name
    countries: tuple[CountryCode, ...]
    version: Code
    credit: CreditUnit
    levels: Annotated[tuple[FrameworkLevel, ...], Meta(min_length=1)]
    grading_schemes: Annotated[tuple[GradingScheme, ...], Meta(min_length=1)]
    tables: tuple[TableRef, ...]
    award_rules: tuple[AwardRule, ...] = ()
    rpl_caps: tuple[RplCap, ...] = ()
    micro_credential_rules: tuple[MicroCredentialRules, ...] = ()
    grade_distributions: tuple[GradeDistribution, ...] = ()
    notes: tuple[str, ...] = ()


class PassMark(Contract, frozen=True, kw_only=True):
    """A member's pass mark for a ``marks`` scheme (e.g. 50 for postgraduate taught modules)."""

    scheme: Code
    mark: Credits
    source: Source
    status: FactStatus


class FrameworkOverrides(Contract, frozen=True, kw_only=True, omit_defaults=True):
    """A member's own values on top of a framework's defaults; each carries its own source.

    Award rules, grading schemes and micro-credential rule sets replace the default with the same id (or
    add one); ``rpl_caps`` replaces all caps when given. Facts with status A cannot be overridden, and levels
    (the official EQF referencing) are not overridable at all: there is no field for them.
    """

    ects_convention: EctsConvention | None = None
    hours_per_unit: HoursPerUnit | None = None
    award_rules: tuple[AwardRule, ...] = ()
    withdrawn_award_rules: tuple[Code, ...] = ()
    rpl_caps: tuple[RplCap, ...] | None = None
    pass_marks: tuple[PassMark, ...] = ()
    grading_schemes: tuple[GradingScheme, ...] = ()
    grade_distributions: tuple[GradeDistribution, ...] = ()
    micro_credential_rules: tuple[MicroCredentialRules, ...] = ()
