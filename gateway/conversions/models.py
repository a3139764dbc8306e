"""Request and response bodies of ``POST /v1/conversions``."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta, field

from contracts.credits import CreditValue
from contracts.frameworks import CreditConversion, GradeConversion, GradeDistribution, LevelConversion
from contracts.problems import Problem
from contracts.types import ConversionBasis, FrameworkId

__all__ = [
    "MAX_BATCH",
    "OUTCOME_BY_REQUEST",
    "ConversionBatch",
    "ConversionOutcome",
    "ConversionRequest",
    "ConversionResults",
    "CreditValueOutcome",
    "CreditValueRequest",
    "CreditsOutcome",
    "CreditsRequest",
    "FailedOutcome",
    "GradeOutcome",
    "GradeRequest",
    "LevelOutcome",
    "LevelRequest",
]

MAX_BATCH = 1000  # R17: a batch cap, so one request cannot hold a worker for long


class _Request(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True, tag_field="kind"):
    pass


class CreditsRequest(_Request, kw_only=True, frozen=True, tag="credits"):
    amount: Annotated[float, Meta(ge=0, le=100_000)]
    from_: FrameworkId = field(name="from")
    to: FrameworkId = "ects"
    basis: ConversionBasis = "convention"


class CreditValueRequest(_Request, kw_only=True, frozen=True, tag="credit_value"):
    """Convert a canonical ``CreditValue`` (e.g. a record's workload). If it was already normalised to ECTS,
    ``basis`` must be that same basis: hour- and convention-based values are never mixed."""

    value: CreditValue
    to: FrameworkId = "ects"
    basis: ConversionBasis | None = None


class LevelRequest(_Request, kw_only=True, frozen=True, tag="level"):
    """``from`` may be ``eqf`` (then ``code`` is 1 to 8); ``to`` may be ``eqf``."""

    code: Annotated[str, Meta(min_length=1, max_length=40)]
    from_: Annotated[str, Meta(pattern=r"^[a-z][a-z0-9-]{1,31}$")] = field(name="from")
    to: Annotated[str, Meta(pattern=r"^[a-z][a-z0-9-]{1,31}$")]


class GradeRequest(_Request, kw_only=True, frozen=True, tag="grade"):
    value: Annotated[str, Meta(min_length=1, max_length=40)]
    from_: FrameworkId = field(name="from")
    to: FrameworkId
    from_scheme: str | None = None
    to_scheme: str | None = None
    from_distribution: GradeDistribution | None = None
    to_distribution: GradeDistribution | None = None


ConversionRequest = CreditsRequest | CreditValueRequest | LevelRequest | GradeRequest


class ConversionBatch(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Items are decoded one by one, so that one malformed item is reported without failing the batch."""

    items: Annotated[list[dict[str, Any]], Meta(min_length=1, max_length=MAX_BATCH)]


class _Outcome(msgspec.Struct, kw_only=True, frozen=True, tag_field="kind"):
    index: int
    ok: bool


class CreditsOutcome(_Outcome, kw_only=True, frozen=True, tag="credits"):
    result: CreditConversion


class CreditValueOutcome(_Outcome, kw_only=True, frozen=True, tag="credit_value"):
    result: CreditConversion


class LevelOutcome(_Outcome, kw_only=True, frozen=True, tag="level"):
    result: LevelConversion


class GradeOutcome(_Outcome, kw_only=True, frozen=True, tag="grade"):
    result: GradeConversion


class FailedOutcome(_Outcome, kw_only=True, frozen=True, tag="error"):
    """The item could not be converted; ``problem.field`` is ``items[i].<field>``."""

    problem: Problem


ConversionOutcome = CreditsOutcome | CreditValueOutcome | LevelOutcome | GradeOutcome | FailedOutcome

OUTCOME_BY_REQUEST: dict[str, type[_Outcome]] = {
    "credits": CreditsOutcome,
    "credit_value": CreditValueOutcome,
    "level": LevelOutcome,
    "grade": GradeOutcome,
}


class ConversionResults(msgspec.Struct, kw_only=True, frozen=True):
    """One outcome per item, in order; ``kind`` is the request's kind, or ``error``."""

    items: list[ConversionOutcome]
    failed: int
