"""Credit frameworks: the adapter interface (``CreditFramework``) and the data it is made of.

A framework adapter describes one national or regional credit system: its credit unit and notional hours,
its ECTS convention, its levels and their EQF referencing, its grading schemes and their normalisation, its
award (qualification) credit rules, RPL caps and micro-credential rules. Every fact carries the short
citation of its source and a status letter (shared/reference/domain.md, "How sure each fact is"):

- ``A`` read in the official text, ``B`` an official table through a mirror or excerpt,
- ``C`` secondary sources only, ``U`` not verified.

Facts marked C or U are defaults a member may override (``FrameworkOverrides``); the EQF referencing of
levels is never overridable, because it is the official referencing itself.

Results of conversions (credits, levels, grades) and of micro-credential validation are Structs too, each
with an ``Explanation`` naming the basis, factors, tables and steps, so they encode to JSON directly.
"""

from contracts.frameworks._facts import (
    AwardRule,
    CreditRequirement,
    CreditUnit,
    EctsConvention,
    FactStatus,
    FrameworkLevel,
    FrameworkOverrides,
    FrameworkSpec,
    FullTimeYear,
    GradeBand,
    GradeDistribution,
    GradeShare,
    GradingScheme,
    HoursPerUnit,
    MicroCredentialRules,
    NormalisedGrade,
    PassMark,
    RplCap,
    TableRef,
)
from contracts.frameworks._protocol import CreditFramework
from contracts.frameworks._results import (
    ConversionStep,
    CreditConversion,
    Explanation,
    ExplanationBasis,
    GradeConversion,
    IssueSeverity,
    LevelConversion,
    MicroCredentialValidation,
    ValidationIssue,
)

__all__ = [
    "AwardRule",
    "ConversionStep",
    "CreditConversion",
    "CreditFramework",
    "CreditRequirement",
    "CreditUnit",
    "EctsConvention",
    "Explanation",
    "ExplanationBasis",
    "FactStatus",
    "FrameworkLevel",
    "FrameworkOverrides",
    "FrameworkSpec",
    "FullTimeYear",
    "GradeBand",
    "GradeConversion",
    "GradeDistribution",
    "GradeShare",
    "GradingScheme",
    "HoursPerUnit",
    "IssueSeverity",
    "LevelConversion",
    "MicroCredentialRules",
    "MicroCredentialValidation",
    "NormalisedGrade",
    "PassMark",
    "RplCap",
    "TableRef",
    "ValidationIssue",
]
