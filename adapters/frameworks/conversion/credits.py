"""Credit conversion, on one basis only: ECTS convention factors, or notional hours.

shared/reference/domain.md section 1: the 2:1 conventions (2 UK credits = 1 ECTS, 1 US SCH = 2 ECTS, ...)
come from full-year equivalence, not from hours; by hours 1 UK credit (10 h) is only 0.33-0.40 ECTS. Both
bases are offered, each stated in the answer, and they are never mixed within one conversion or decision.

A ``CreditPlan`` holds everything that depends only on the pair of frameworks and the basis (factors,
steps, tables), so converting an amount is two multiplications and one Struct.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from adapters.frameworks.conversion.explain import explanation, table_label, table_of
from contracts.credits import CreditValue
from contracts.errors import InvalidRequest, MixedConversionBasis, NoConversionPath
from contracts.frameworks import ConversionStep, CreditConversion, CreditFramework, Explanation
from contracts.types import ConversionBasis

__all__ = ["PIVOT", "CreditPlan", "check_amount", "check_basis", "plan_credit", "require_single_basis"]

PIVOT: Final = "ects"
"""The framework every convention conversion goes through."""

_MAX_AMOUNT: Final = 100_000  # contracts.types.NonNegativeAmount
_CONVENTION_NOTE: Final = (
    "Convention basis: factors come from full-year equivalence, not from notional hours."
)
_HOURS_NOTE: Final = (
    "Hours basis: a range of notional hours per unit gives a range (min..max), not one value."
)


def check_amount(amount: object) -> float:
    """A credit amount: a finite real number from 0 to 100,000 (bools and strings refused)."""
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        raise InvalidRequest(
            f"{amount!r} is not a number", field="amount", expected="a number from 0 to 100000"
        )
    if not (0 <= amount <= _MAX_AMOUNT):  # also refuses NaN
        raise InvalidRequest(
            f"{amount!r} is out of range", field="amount", expected="a number from 0 to 100000"
        )
    return float(amount)


def check_basis(basis: object) -> ConversionBasis:
    if basis == "convention":
        return "convention"
    if basis == "hours":
        return "hours"
    raise InvalidRequest(
        f"{basis!r} is not a conversion basis", field="basis", expected="convention or hours"
    )


class CreditPlan:
    """A prepared conversion between two frameworks on one basis."""

    __slots__ = ("basis", "explanation", "from_id", "from_unit", "high", "low", "to_id", "to_unit")

    def __init__(
        self,
        src: CreditFramework,
        dst: CreditFramework,
        basis: ConversionBasis,
        low: tuple[float, float],
        high: tuple[float, float],
        explanation: Explanation,
    ) -> None:
        self.from_id, self.from_unit = src.id, src.credit.code
        self.to_id, self.to_unit = dst.id, dst.credit.code
        self.basis: ConversionBasis = basis
        # (numerator, denominator): multiply first, divide last, so 45 * 4 / 3 is exactly 60.
        self.low = low
        self.high = high
        self.explanation = explanation

    def convert(self, amount: float) -> CreditConversion:
        low = amount * self.low[0] / self.low[1]
        high = low if self.high is self.low else amount * self.high[0] / self.high[1]
        is_range = high != low
        return CreditConversion(
            amount=amount,
            from_framework=self.from_id,
            from_unit=self.from_unit,
            to_framework=self.to_id,
            to_unit=self.to_unit,
            basis=self.basis,
            value=None if is_range else low,
            min=low,
            max=high,
            is_range=is_range,
            explanation=self.explanation,
        )


def _identity(src: CreditFramework, basis: ConversionBasis) -> CreditPlan:
    step = ConversionStep(
        from_=src.id,
        to=src.id,
        rule="same framework and unit: factor 1",
        source="identity",
        status="A",
        factor=1,
    )
    ratio = (1.0, 1.0)
    return CreditPlan(src, src, basis, ratio, ratio, explanation(basis, (src.id,), (step,), ()))


def _convention(src: CreditFramework, dst: CreditFramework) -> CreditPlan:
    s, d = src.credit.ects, dst.credit.ects
    if s is None or d is None:
        missing = src if s is None else dst
        raise MixedConversionBasis(
            f"{missing.id} has no ECTS convention; converting through hours for that step would mix "
            "convention-based and hour-based credit",
            field="basis",
            expected="hours (for both steps), or an ECTS convention for " + missing.id,
        )
    steps: list[ConversionStep] = []
    tables = []
    for fw, conv, to_pivot in ((src, s, True), (dst, d, False)):
        if fw.id == PIVOT:
            continue
        table = table_of(fw, "credit-conventions", fallback_source=conv.source)
        tables.append(table)
        rule = f"{conv.units:g} {fw.credit.code} = {conv.ects:g} ECTS"
        steps.append(
            ConversionStep(
                from_=fw.id if to_pivot else PIVOT,
                to=PIVOT if to_pivot else fw.id,
                rule=rule,
                source=conv.source,
                status=conv.status,
                factor=conv.factor if to_pivot else 1 / conv.factor,
                table=table_label(fw, table),
            )
        )
    ratio = (s.ects * d.units, s.units * d.ects)
    why = explanation("convention", (src.id, PIVOT, dst.id), tuple(steps), tables, (_CONVENTION_NOTE,))
    return CreditPlan(src, dst, "convention", ratio, ratio, why)


def _hours(src: CreditFramework, dst: CreditFramework) -> CreditPlan:
    hs, hd = src.credit.hours, dst.credit.hours
    t_src = table_of(src, "credit-conventions", fallback_source=hs.source)
    t_dst = table_of(dst, "credit-conventions", fallback_source=hd.source)

    def span(low: float, high: float) -> str:
        return f"{low:g}" if low == high else f"{low:g}-{high:g}"

    steps = (
        ConversionStep(
            from_=src.id,
            to="hours",
            rule=f"1 {src.credit.code} = {span(hs.min, hs.max)} notional hours",
            source=hs.source,
            status=hs.status,
            factor=hs.min if hs.min == hs.max else None,
            factor_min=hs.min,
            factor_max=hs.max,
            table=table_label(src, t_src),
        ),
        ConversionStep(
            from_="hours",
            to=dst.id,
            rule=f"1 {dst.credit.code} = {span(hd.min, hd.max)} notional hours",
            source=hd.source,
            status=hd.status,
            factor=1 / hd.min if hd.min == hd.max else None,
            factor_min=1 / hd.max,
            factor_max=1 / hd.min,
            table=table_label(dst, t_dst),
        ),
    )
    low = (hs.min, hd.max)
    high = low if (hs.min == hs.max and hd.min == hd.max) else (hs.max, hd.min)
    why = explanation("hours", (src.id, "hours", dst.id), steps, (t_src, t_dst), (_HOURS_NOTE,))
    return CreditPlan(src, dst, "hours", low, high, why)


def plan_credit(src: CreditFramework, dst: CreditFramework, basis: ConversionBasis) -> CreditPlan:
    """Prepare ``src -> dst`` on ``basis``; raises ``MixedConversionBasis`` or ``NoConversionPath``."""
    if src.id == dst.id:
        return _identity(src, basis)
    if basis == "convention":
        if src.credit.ects is None and dst.credit.ects is None:
            raise NoConversionPath(
                f"neither {src.id} nor {dst.id} has an ECTS convention",
                field="basis",
                expected="hours",
            )
        return _convention(src, dst)
    return _hours(src, dst)


def require_single_basis(values: Iterable[CreditValue]) -> ConversionBasis | None:
    """The one ECTS basis shared by credit values that enter one decision; refuses a mix of the two."""
    seen = {v.ects_basis for v in values if v.ects_basis is not None}
    if len(seen) > 1:
        raise MixedConversionBasis(
            "credit values normalised on the hours basis and on the convention basis cannot be combined",
            field="ects_basis",
            expected="one basis (convention or hours) for every credit value",
        )
    return seen.pop() if seen else None
