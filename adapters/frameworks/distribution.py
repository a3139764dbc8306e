"""Grade-distribution (grading) tables: percentile bands of passing students per local grade.

ECTS Users' Guide 2015 (via EABHES handbook p.24; shared/reference/domain.md section 4, status C): for each
reference group an institution publishes the percentage of passing students who received each local grade;
a foreign grade converts by placing its percentile band against the home table's bands. The old ECTS A-E
scale is itself such a table (E 0-10, D 10-35, C 35-65, B 65-90, A 90-100; status B), but an institution's
own local percentages must never be assumed to follow it.
"""

from __future__ import annotations

from typing import Final

from adapters.frameworks.scale import code_key
from contracts.frameworks import GradeDistribution, GradingScheme

__all__ = ["PercentileBand", "distribution_problems", "percentile_bands", "ranked_bands"]

# Published tables are rounded; accept sums within one point of 100 and rescale.
_SUM_TOLERANCE: Final = 1.0

PercentileBand = tuple[str, float, float]
"""(grade code, lower, upper) as fractions of passing students counted from the weakest pass."""


def distribution_problems(scheme: GradingScheme, table: GradeDistribution) -> list[str]:
    """What makes a distribution table unusable with a scheme (empty when usable)."""
    if table.scheme != scheme.id:
        return [f"table is for scheme {table.scheme!r}, not {scheme.id!r}"]
    if scheme.kind == "marks":
        return [f"{scheme.id} has numeric marks, not named grades: no distribution table applies"]
    passing = {code_key(b.code) for b in scheme.bands if b.passed}
    problems = []
    seen: set[str] = set()
    for share in table.shares:
        key = code_key(share.grade)
        if key not in passing:
            problems.append(f"{share.grade!r} is not a passing grade of {scheme.id}")
        if key in seen:
            problems.append(f"{share.grade!r} appears twice")
        seen.add(key)
    total = sum(s.percent for s in table.shares)
    if abs(total - 100) > _SUM_TOLERANCE:
        problems.append(f"percentages sum to {total:g}, not 100")
    return problems


def percentile_bands(scheme: GradingScheme, table: GradeDistribution) -> tuple[PercentileBand, ...]:
    """Cumulative bands in the scheme's order (weakest pass first). Assumes ``distribution_problems`` is
    empty; grades missing from the table get an empty band."""
    shares = {code_key(s.grade): s.percent for s in table.shares}
    total = sum(shares.values()) or 1.0
    bands = []
    cumulative = 0.0
    for band in scheme.bands:
        if not band.passed:
            continue
        width = shares.get(code_key(band.code), 0.0) / total
        bands.append((band.code, cumulative, min(cumulative + width, 1.0)))
        cumulative += width
    return tuple(bands)


def ranked_bands(scheme: GradingScheme) -> tuple[PercentileBand, ...]:
    """The definitional percentile bands of a ``ranked`` scheme (e.g. the old ECTS A-E scale)."""
    return tuple((b.code, b.lower, b.upper) for b in scheme.bands if b.passed)
