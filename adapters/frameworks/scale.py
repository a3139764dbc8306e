"""Lookup structures over a grading scheme's normalised scale, built once per scheme and reused.

A ``GradingScheme`` is data; ``SchemeScale`` answers "which grade is this code", "which band holds this
normalised point" and "which bands overlap this interval" in O(log n), and checks the scheme is well formed
(bands contiguous on 0..1, fail bands below pass bands).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from itertools import pairwise
from typing import Final

from contracts.errors import UnknownGrade
from contracts.frameworks import GradeBand, GradingScheme, NormalisedGrade

__all__ = ["SchemeScale", "code_key", "point_of", "scale_for", "scheme_problems"]

_EPS: Final = 1e-9


def code_key(code: str) -> str:
    """Lookup key of a level or grade code: case, surrounding space, ``_`` and inner spaces don't matter."""
    return "-".join(code.strip().lower().replace("_", " ").split())


def scheme_problems(scheme: GradingScheme) -> list[str]:
    """What is wrong with a scheme's normalisation (empty when it is well formed)."""
    problems: list[str] = []
    if scheme.kind == "marks":
        if scheme.max_mark is None or scheme.pass_mark is None:
            problems.append(f"{scheme.id}: a marks scheme needs max_mark and pass_mark")
        elif scheme.pass_mark > scheme.max_mark:
            problems.append(f"{scheme.id}: pass_mark {scheme.pass_mark} is above max_mark {scheme.max_mark}")
        if scheme.bands:
            problems.append(f"{scheme.id}: a marks scheme has no named bands")
        return problems
    if not scheme.bands:
        return [f"{scheme.id}: no grades"]
    seen: set[str] = set()
    for band in scheme.bands:
        for key in (code_key(band.code), *(code_key(a) for a in band.aliases)):
            if key in seen:
                problems.append(f"{scheme.id}: grade code {key!r} is used twice")
            seen.add(key)
        if band.lower > band.upper:
            problems.append(f"{scheme.id}: {band.code} has lower > upper")
        if band.point is not None and not band.lower <= band.point <= band.upper:
            problems.append(f"{scheme.id}: {band.code} point lies outside its band")
    passing = [b for b in scheme.bands if b.passed]
    if not passing:
        problems.append(f"{scheme.id}: no passing grade")
    first_pass = scheme.bands.index(passing[0]) if passing else len(scheme.bands)
    if any(not b.passed for b in scheme.bands[first_pass:]):
        problems.append(f"{scheme.id}: a failing grade is ranked above a passing grade")
    # Ranked schemes (ECTS A-E) are percentiles of passing students: fail grades sit outside the scale.
    scaled = passing if scheme.kind == "ranked" else list(scheme.bands)
    if scaled:
        if abs(scaled[0].lower) > _EPS or abs(scaled[-1].upper - 1) > _EPS:
            problems.append(f"{scheme.id}: bands do not cover 0..1")
        for low, high in pairwise(scaled):
            if abs(low.upper - high.lower) > _EPS:
                problems.append(f"{scheme.id}: gap or overlap between {low.code} and {high.code}")
    return problems


class SchemeScale:
    """Index over one grading scheme. Build with ``scale_for`` so each scheme is indexed once."""

    __slots__ = ("_by_code", "_lowers", "_scaled", "fail_bands", "pass_bands", "scheme")

    def __init__(self, scheme: GradingScheme) -> None:
        self.scheme = scheme
        self._by_code: dict[str, GradeBand] = {}
        for band in scheme.bands:
            self._by_code[code_key(band.code)] = band
            for alias in band.aliases:
                self._by_code.setdefault(code_key(alias), band)
        self.pass_bands = tuple(b for b in scheme.bands if b.passed)
        self.fail_bands = tuple(b for b in scheme.bands if not b.passed)
        self._scaled = self.pass_bands if scheme.kind == "ranked" else scheme.bands
        self._lowers = [b.lower for b in self._scaled]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(b.code for b in self.scheme.bands)

    def expected_values(self) -> str:
        if self.scheme.kind == "marks":
            return f"a mark from 0 to {self.scheme.max_mark:g}"
        return "one of: " + ", ".join(self.codes)

    def band(self, value: str) -> GradeBand:
        band = self._by_code.get(code_key(value)) if isinstance(value, str) else None
        if band is None:
            raise UnknownGrade(
                f"{value!r} is not a grade of {self.scheme.id}",
                field="value",
                expected=self.expected_values(),
            )
        return band

    def normalise(self, value: str) -> NormalisedGrade:
        scheme = self.scheme
        if scheme.kind == "marks":
            mark = self.mark(value)
            assert scheme.max_mark is not None
            assert scheme.pass_mark is not None
            point = mark / scheme.max_mark
            return NormalisedGrade(
                scheme=scheme.id,
                value=f"{mark:g}",
                lower=point,
                upper=point,
                point=point,
                passed=mark >= scheme.pass_mark,
            )
        band = self.band(value)
        return NormalisedGrade(
            scheme=scheme.id,
            value=band.code,
            lower=band.lower,
            upper=band.upper,
            point=point_of(band),
            passed=band.passed,
        )

    def mark(self, value: str) -> float:
        """A numeric mark of a ``marks`` scheme (``"65"``, ``"65.5"`` or ``"65%"``), range-checked."""
        text = value.strip().removesuffix("%") if isinstance(value, str) else ""
        try:
            mark = float(text)
        except ValueError:
            mark = math.nan
        if not (0 <= mark <= (self.scheme.max_mark or 0)):
            raise UnknownGrade(
                f"{value!r} is not a mark of {self.scheme.id}", field="value", expected=self.expected_values()
            )
        return mark

    def band_at(self, point: float) -> GradeBand:
        """The band holding a normalised point (bands are half-open, the top one closed)."""
        index = bisect_right(self._lowers, point) - 1
        return self._scaled[min(max(index, 0), len(self._scaled) - 1)]

    def overlapping(self, lower: float, upper: float, passed: bool) -> tuple[GradeBand, ...]:
        """Bands with this pass status that share part of ``[lower, upper]`` (or hold it, if a point)."""
        pool = self.pass_bands if passed else self.fail_bands
        if upper - lower <= _EPS:
            return tuple(b for b in pool if b.lower <= lower < b.upper or (b.upper >= 1 and lower >= b.lower))
        return tuple(b for b in pool if min(b.upper, upper) - max(b.lower, lower) > _EPS)


def point_of(band: GradeBand) -> float:
    """A band's representative normalised value: its stated point, else its middle."""
    # Rounded so that e.g. the middle of 0.6..0.7 reads 0.65, not 0.6499999999999999.
    return band.point if band.point is not None else round((band.lower + band.upper) / 2, 12)


_CACHE: dict[int, tuple[GradingScheme, SchemeScale]] = {}
_CACHE_LIMIT: Final = 4096


def scale_for(scheme: GradingScheme) -> SchemeScale:
    """The (cached) index of a scheme. Keyed by object identity; the entry keeps the scheme alive."""
    hit = _CACHE.get(id(scheme))
    if hit is not None and hit[0] is scheme:
        return hit[1]
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    scale = SchemeScale(scheme)
    _CACHE[id(scheme)] = (scheme, scale)
    return scale
