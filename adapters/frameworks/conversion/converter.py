"""``Converter``: credits, levels and grades between registered frameworks, each answer explained.

Build one per registry (per set of member overrides) and reuse it: credit plans (factors, steps, tables) are
prepared once per pair of frameworks and basis; level answers, and grade answers for named grades, once per
grade or level and target. Answers are frozen Structs, so sharing them is safe.
"""

from __future__ import annotations

from typing import Final

import msgspec

from adapters.frameworks.conversion.credits import CreditPlan, check_amount, check_basis, plan_credit
from adapters.frameworks.conversion.grades import Side, convert_grade
from adapters.frameworks.conversion.levels import convert_level, eqf_level
from adapters.frameworks.registry import FrameworkRegistry
from adapters.frameworks.scale import code_key
from contracts.credits import CreditValue
from contracts.errors import InvalidRequest, MixedConversionBasis, UnknownGrade, UnknownLevel
from contracts.frameworks import CreditConversion, GradeConversion, GradeDistribution, LevelConversion
from contracts.types import ConversionBasis

__all__ = ["Converter"]

_CACHE_LIMIT: Final = 65_536  # bounds memory if callers send many distinct (valid) keys


class Converter:
    """Pure conversions over a ``FrameworkRegistry``. Errors are ``contracts.errors`` types whose ``field``
    names the input (``from``, ``to``, ``amount``, ``basis``, ``level``, ``value``, ...)."""

    __slots__ = ("_grades", "_levels", "_plans", "_sides", "registry")

    def __init__(self, registry: FrameworkRegistry) -> None:
        self.registry = registry
        self._plans: dict[tuple[str, str, str], CreditPlan] = {}
        self._levels: dict[tuple[str, str, str], LevelConversion] = {}
        self._sides: dict[tuple[str, str, str | None], Side] = {}
        self._grades: dict[tuple[str, str, str, str, str], GradeConversion] = {}

    # --- credits ---------------------------------------------------------------------------------------

    def _plan(self, from_: str, to: str, basis: ConversionBasis) -> CreditPlan:
        key = (from_, to, basis)
        # Inputs may come straight from JSON: only strings are cache keys (others fail in the lookups below).
        plan = self._plans.get(key) if type(from_) is str and type(to) is str and type(basis) is str else None
        if plan is None:
            basis = check_basis(basis)
            src = self.registry.get(from_, field="from")
            dst = self.registry.get(to, field="to")
            plan = plan_credit(src, dst, basis)
            if len(self._plans) >= _CACHE_LIMIT:
                self._plans.clear()
            self._plans[key] = plan
        return plan

    def credits(
        self, amount: float, from_: str, to: str, basis: ConversionBasis = "convention"
    ) -> CreditConversion:
        """Convert ``amount`` credits of ``from_`` into ``to``'s unit on one basis."""
        plan = self._plan(from_, to, basis)
        return plan.convert(check_amount(amount))

    def credit_value(
        self, value: CreditValue, to: str, basis: ConversionBasis | None = None
    ) -> CreditConversion:
        """Convert a ``CreditValue``; refuses a basis other than the one its ECTS value was normalised on."""
        if value.ects_basis is not None and basis is not None and basis != value.ects_basis:
            raise MixedConversionBasis(
                f"the value's ECTS was normalised on the {value.ects_basis} basis, not {basis}",
                field="ects_basis",
                expected=value.ects_basis,
            )
        chosen = basis or value.ects_basis or "convention"
        self._check_unit(value)
        return self.credits(value.amount, value.framework, to, chosen)

    def normalise(self, value: CreditValue, basis: ConversionBasis = "convention") -> CreditValue:
        """``value`` with ``ects`` and ``ects_basis`` filled (when the answer is one number) and
        ``notional_hours`` filled when the framework gives one figure of hours per unit."""
        if value.ects_basis is not None and value.ects_basis != basis:
            raise MixedConversionBasis(
                f"the value is already normalised on the {value.ects_basis} basis",
                field="ects_basis",
                expected=value.ects_basis,
            )
        self._check_unit(value)
        framework = self.registry.get(value.framework, field="framework")
        result = self.credits(value.amount, value.framework, "ects", basis)
        hours = framework.credit.hours
        return msgspec.structs.replace(
            value,
            ects=result.value if result.value is not None else value.ects,
            ects_basis=basis if result.value is not None else value.ects_basis,
            notional_hours=value.amount * hours.min if hours.min == hours.max else value.notional_hours,
        )

    def _check_unit(self, value: CreditValue) -> None:
        unit = self.registry.get(value.framework, field="framework").credit.code
        if value.unit != unit:
            raise InvalidRequest(
                f"{value.unit!r} is not the credit unit of {value.framework}", field="unit", expected=unit
            )

    # --- levels ------------------------------------------------------------------------------------------

    def level(self, level: str, from_: str, to: str) -> LevelConversion:
        """Every level of ``to`` at the EQF level of ``from_``'s ``level`` (none if it has no EQF level).
        ``to`` may be ``"eqf"``: the EQF level itself, or no candidate where the referencing gives none."""
        src = self.registry.get(from_, field="from")
        dst = None if to == "eqf" else self.registry.get(to, field="to")
        found = src.level(level)
        key = (src.id, found.code, dst.id if dst is not None else "eqf")
        answer = self._levels.get(key)
        if answer is None:
            answer = convert_level(found, src.id, src, dst)
            if len(self._levels) >= _CACHE_LIMIT:
                self._levels.clear()
            self._levels[key] = answer
        return answer

    def eqf(self, eqf: int, to: str) -> LevelConversion:
        """Every level of ``to`` referenced to EQF ``eqf``: the inverse direction, never narrowed to one."""
        if isinstance(eqf, bool) or not isinstance(eqf, int) or not 1 <= eqf <= 8:
            raise UnknownLevel(
                f"{eqf!r} is not an EQF level", field="eqf", expected="an EQF level from 1 to 8"
            )
        dst = self.registry.get(to, field="to")
        key = ("eqf", str(eqf), dst.id)
        answer = self._levels.get(key)
        if answer is None:
            answer = convert_level(eqf_level(eqf), "eqf", None, dst)
            self._levels[key] = answer
        return answer

    # --- grades ------------------------------------------------------------------------------------------

    def grade(
        self,
        value: str,
        from_: str,
        to: str,
        *,
        from_scheme: str | None = None,
        to_scheme: str | None = None,
        from_distribution: GradeDistribution | None = None,
        to_distribution: GradeDistribution | None = None,
    ) -> GradeConversion:
        """Convert a grade. ECTS (relative) grades need distribution tables: supplied here, stored in the
        member's overrides, or (for the ECTS A-E side itself) the scale's own definition."""
        if from_distribution is not None or to_distribution is not None:
            src_side = self._side("from", from_, from_scheme, from_distribution)
            return convert_grade(value, src_side, self._side("to", to, to_scheme, to_distribution))
        src_side = self._side("from", from_, from_scheme)
        dst_side = self._side("to", to, to_scheme)
        if not isinstance(value, str):
            return convert_grade(value, src_side, dst_side)
        # Grades (and marks as written) are few: answers are cached per (source value, target scheme).
        src_id, dst_id = src_side.framework.id, dst_side.framework.id
        key = (src_id, src_side.scheme.id, code_key(value), dst_id, dst_side.scheme.id)
        answer = self._grades.get(key)
        if answer is None:
            answer = convert_grade(value, src_side, dst_side)
            if len(self._grades) >= _CACHE_LIMIT:
                self._grades.clear()
            self._grades[key] = answer
        return answer

    def _side(
        self, name: str, framework_id: str, scheme_id: str | None, table: GradeDistribution | None = None
    ) -> Side:
        key = (name, framework_id, scheme_id)
        plain = type(framework_id) is str and (scheme_id is None or type(scheme_id) is str)
        cacheable = table is None and plain
        side = self._sides.get(key) if cacheable else None
        if side is not None:
            return side
        framework = self.registry.get(framework_id, field=name)
        try:
            scheme = framework.grading_scheme(scheme_id)
        except UnknownGrade as exc:
            raise UnknownGrade(exc.detail, field=f"{name}_scheme", expected=exc.expected) from exc
        side = Side(name, framework, scheme, table)
        if cacheable:
            if len(self._sides) >= _CACHE_LIMIT:
                self._sides.clear()
            self._sides[key] = side
        return side
