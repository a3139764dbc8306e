"""What the rules need to know about a recogniser and a credential, each fact computed once and only if asked.

Every credit, level and grade conversion goes through the framework adapters' ``Converter`` on the
decision's one basis (shared/reference/domain.md section 1); each conversion used is kept for the
explanation. Levels are compared through EQF (domain.md section 2, "Gotchas for adapters"): referencing is
many-to-one, so where a level has several candidates in the recogniser's framework the lowest is granted
(and the explanation keeps every candidate); a level without EQF referencing has no candidate at all.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Final

from adapters.frameworks import Converter
from contracts.credentials import CredentialRecord
from contracts.credits import CreditValue, Level
from contracts.errors import GatewayError
from contracts.frameworks import (
    CreditConversion,
    CreditFramework,
    FrameworkLevel,
    GradeConversion,
    LevelConversion,
)
from contracts.types import ConversionBasis

__all__ = ["CredentialFacts", "MemberContext", "iso"]

_CACHE_LIMIT: Final = 65_536
_ISO: dict[dt.date, str] = {}


def iso(day: dt.date) -> str:
    """``day.isoformat()``, cached: explanations name the same few thousand dates over and over."""
    text = _ISO.get(day)
    if text is None:
        if len(_ISO) >= _CACHE_LIMIT:
            _ISO.clear()
        text = _ISO[day] = day.isoformat()
    return text


class MemberContext:
    """A recognising member: its framework (with the member's overrides) and a converter over them."""

    __slots__ = ("_amounts", "_eqf", "_granted", "_levels", "_public", "converter", "framework", "id")

    def __init__(self, member_id: str, framework: CreditFramework, converter: Converter) -> None:
        self.id = member_id
        self.framework = framework
        self.converter = converter
        self._levels: dict[tuple[str, str], tuple[FrameworkLevel | None, LevelConversion | None, str]] = {}
        self._public: dict[str, Level] = {}
        self._amounts: dict[tuple[str, float, str], tuple[float | None, CreditConversion | None, str]] = {}
        self._granted: dict[tuple[float, str], CreditValue] = {}
        self._eqf: dict[tuple[str, str], tuple[LevelConversion | None, str]] = {}

    def level_in(
        self, framework_id: str, code: str
    ) -> tuple[FrameworkLevel | None, LevelConversion | None, str]:
        """Level ``code`` of ``framework_id`` in this member's framework: itself when the framework is the
        same, else the lowest EQF candidate. Returns (level, conversion used, why there is none)."""
        key = (framework_id, code)
        hit = self._levels.get(key)
        if hit is not None:
            return hit
        answer: tuple[FrameworkLevel | None, LevelConversion | None, str]
        try:
            if framework_id == self.framework.id:
                answer = (self.framework.level(code), None, "")
            else:
                conversion = self.converter.level(code, framework_id, self.framework.id)
                if conversion.candidates:
                    answer = (min(conversion.candidates, key=lambda lv: lv.rank), conversion, "")
                elif conversion.eqf is None:
                    answer = (None, conversion, f"{conversion.from_level.name} has no EQF level")
                else:
                    why = f"no {self.framework.id} level is referenced to EQF {conversion.eqf}"
                    answer = (None, conversion, why)
        except GatewayError as exc:
            answer = (None, None, exc.detail)
        if len(self._levels) >= _CACHE_LIMIT:
            self._levels.clear()
        self._levels[key] = answer
        return answer

    def to_eqf(self, framework_id: str, code: str) -> tuple[LevelConversion | None, str]:
        """Level ``code`` of ``framework_id`` referenced to EQF (the conversion), or why it cannot be."""
        key = (framework_id, code)
        hit = self._eqf.get(key)
        if hit is None:
            try:
                hit = (self.converter.level(code, framework_id, "eqf"), "")
            except GatewayError as exc:
                hit = (None, exc.detail)
            if len(self._eqf) >= _CACHE_LIMIT:
                self._eqf.clear()
            self._eqf[key] = hit
        return hit

    def public_level(self, level: FrameworkLevel) -> Level:
        """The ``contracts`` form of one of this member's levels (built once per level)."""
        found = self._public.get(level.code)
        if found is None:
            found = Level(
                framework=self.framework.id, code=level.code, eqf=level.eqf, qf_ehea_cycle=level.qf_ehea_cycle
            )
            self._public[level.code] = found
        return found

    def granted(self, amount: float, basis: ConversionBasis) -> CreditValue:
        """Granted credit in this member's unit, normalised to ECTS on the decision's basis where the answer
        is one number (``ects_basis`` then says which basis)."""
        key = (amount, basis)
        found = self._granted.get(key)
        if found is None:
            unit = self.framework.credit.code
            found = CreditValue(amount=amount, unit=unit, framework=self.framework.id)
            # No ECTS on this basis (e.g. a framework without a convention): the native value stands alone.
            with contextlib.suppress(GatewayError):
                found = self.converter.normalise(found, basis)
            if len(self._granted) >= _CACHE_LIMIT:
                self._granted.clear()
            self._granted[key] = found
        return found

    def amount(
        self, value: CreditValue, basis: ConversionBasis, used: list[CreditConversion]
    ) -> tuple[float | None, str]:
        """An agreement-side credit value in this member's unit, from its native amount (its own ECTS
        annotation is not used); the lower end of a range on the hours basis."""
        if value.framework == self.framework.id:
            return value.amount, ""
        key = (value.framework, value.amount, basis)
        hit = self._amounts.get(key)
        if hit is None:
            try:
                conversion = self.converter.credits(value.amount, value.framework, self.framework.id, basis)
            except GatewayError as exc:
                hit = (None, None, exc.detail)
            else:
                hit = (conversion.min, conversion, "")
            if len(self._amounts) >= _CACHE_LIMIT:
                self._amounts.clear()
            self._amounts[key] = hit
        if hit[1] is not None:
            used.append(hit[1])
        return hit[0], hit[2]


class CredentialFacts:
    """One credential as seen by one recogniser on one date, on one basis; conversions made on demand."""

    __slots__ = (
        "_credits",
        "_eqf",
        "_grades",
        "_granted_level",
        "_normalised",
        "basis",
        "credit_conversions",
        "grade_conversions",
        "issued_iso",
        "level_conversions",
        "member",
        "on",
        "on_iso",
        "record",
    )

    def __init__(
        self, record: CredentialRecord, member: MemberContext, on: dt.date, basis: ConversionBasis
    ) -> None:
        self.record = record
        self.member = member
        self.on = on
        self.basis: ConversionBasis = basis
        self.issued_iso = iso(record.issued_on)
        self.on_iso = iso(on)
        self.credit_conversions: list[CreditConversion] = []
        self.level_conversions: list[LevelConversion] = []
        self.grade_conversions: list[GradeConversion] = []
        self._eqf: tuple[FrameworkLevel | None, int | None, str] | None = None
        self._credits: tuple[float | None, str] | None = None
        self._granted_level: tuple[FrameworkLevel | None, str] | None = None
        self._grades: dict[tuple[str, str | None], GradeConversion | str] = {}
        self._normalised: tuple[float | None, bool, str] | None = None

    def eqf(self) -> tuple[FrameworkLevel | None, int | None, str]:
        """The credential's level (canonical, in its own framework) and its EQF level, or why unknown."""
        if self._eqf is None:
            level = self.record.credential.level
            if level is None:
                self._eqf = (
                    None,
                    None,
                    "the credential states no level (Annex I element 8: 'if applicable')",
                )
            else:
                conversion, why = self.member.to_eqf(level.framework, level.code)
                if conversion is None:
                    self._eqf = (None, None, why)
                else:
                    self.level_conversions.append(conversion)
                    self._eqf = (conversion.from_level, conversion.eqf, "")
        return self._eqf

    def credits(self) -> tuple[float | None, str]:
        """The credential's workload in the recogniser's unit (lower end of a range), or why not."""
        if self._credits is None:
            workload = self.record.credential.workload
            try:
                conversion = self.member.converter.credit_value(
                    workload, self.member.framework.id, self.basis
                )
            except GatewayError as exc:
                self._credits = (None, exc.detail)
            else:
                self.credit_conversions.append(conversion)
                self._credits = (conversion.min, "")
        return self._credits

    def granted_level(self) -> tuple[FrameworkLevel | None, str]:
        """The credential's own level in the recogniser's framework, or why there is none."""
        if self._granted_level is None:
            level = self.record.credential.level
            if level is None:
                self._granted_level = (None, "the credential states no level")
            else:
                found, conversion, why = self.member.level_in(level.framework, level.code)
                if conversion is not None:
                    self.level_conversions.append(conversion)
                self._granted_level = (found, why)
        return self._granted_level

    def grade_in(self, framework: str, scheme: str | None) -> GradeConversion | str:
        """The credential's grade converted into ``framework``'s ``scheme``, or why it cannot be."""
        key = (framework, scheme)
        hit = self._grades.get(key)
        if hit is None:
            grade = self.record.grade
            assert grade is not None
            try:
                hit = self.member.converter.grade(
                    grade.value, grade.framework, framework, from_scheme=grade.scheme, to_scheme=scheme
                )
            except GatewayError as exc:
                hit = exc.detail
            else:
                self.grade_conversions.append(hit)
            self._grades[key] = hit
        return hit

    def normalised_grade(self) -> tuple[float | None, bool, str]:
        """The grade on its scheme's 0..1 scale: (point, pass/fail only?, why unknown)."""
        if self._normalised is None:
            self._normalised = _normalised_point(self)
        return self._normalised


# A pass/fail grade is known only as a pass: on a 0..1 scale, the bottom of the pass band (grading_schemes
# PASS_FAIL: pass = 0.5..1; domain.md section 4, "Pass/fail micro-credentials").
PASS_ONLY: Final = 0.5


def _normalised_point(f: CredentialFacts) -> tuple[float | None, bool, str]:
    grade = f.record.grade
    assert grade is not None
    try:
        framework = f.member.converter.registry.get(grade.framework)
        scheme = framework.grading_scheme(grade.scheme)
    except GatewayError as exc:
        if grade.normalised is not None:
            return grade.normalised, False, ""
        return None, False, exc.detail
    if scheme.kind == "ranked":
        # ECTS A-E are percentiles of passing students, not a fixed scale (domain.md section 4).
        return None, False, f"{scheme.id} is a relative scale: it has no fixed normalised value"
    if scheme.kind == "pass_fail":
        return PASS_ONLY, True, ""
    try:
        return framework.normalise_grade(grade.value, scheme.id).point, False, ""
    except GatewayError as exc:
        return None, False, exc.detail
