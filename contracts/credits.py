"""Credit values, levels and grades, each carried natively and normalised.

A value is always kept in the member's own framework (``amount`` + ``unit``) and, where it can be
normalised, beside it in ECTS with the basis of that normalisation stated. Levels carry their EQF level or
``None`` where the official referencing gives none (shared/reference/domain.md section 2).
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from contracts.base import Contract
from contracts.types import (
    ConversionBasis,
    EctsCredits,
    EqfLevel,
    FrameworkId,
    NonNegativeAmount,
    NotionalHours,
    QfEheaCycle,
)

__all__ = ["CreditValue", "Grade", "Level"]

_Code = Annotated[str, Meta(min_length=1, max_length=40)]


class CreditValue(Contract, frozen=True, kw_only=True):
    """A credit value in a framework's own unit, with its ECTS normalisation when known.

    ``ects`` and ``ects_basis`` come together: a normalised value without its basis cannot be checked, and
    hour-based and convention-based values must never be mixed (shared/reference/domain.md section 1).
    """

    amount: NonNegativeAmount
    unit: Annotated[str, Meta(min_length=1, max_length=40, examples=["uk-credit", "ects", "us-sch"])]
    framework: FrameworkId
    ects: EctsCredits | None = None
    ects_basis: ConversionBasis | None = None
    notional_hours: NotionalHours | None = None

    def __post_init__(self) -> None:
        if (self.ects is None) != (self.ects_basis is None):
            raise ValueError("`ects` and `ects_basis` must be given together")


class Level(Contract, frozen=True, kw_only=True):
    """A level in a framework, with its EQF level (``None`` where the official referencing gives none)."""

    framework: FrameworkId
    code: _Code
    eqf: EqfLevel | None = None
    qf_ehea_cycle: QfEheaCycle | None = None


class Grade(Contract, frozen=True, kw_only=True):
    """A grade in a framework's grading scheme, optionally normalised onto 0..1 (1 = best)."""

    framework: FrameworkId
    scheme: Annotated[str, Meta(min_length=1, max_length=40, examples=["uk-classification", "us-letter"])]
    value: _Code
    passed: bool | None = None
    normalised: Annotated[float, Meta(ge=0, le=1)] | None = None
