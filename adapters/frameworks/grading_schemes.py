"""Grading schemes shared by several reference frameworks, with their normalisation onto 0..1 (1 = best).

Sources: shared/reference/domain.md section 4. The normalised numbers are conventions for conversion and
say so in their status: marks divided by the maximum (UK), grade points divided by 4 (US), equal steps where
a scheme has no numbers at all (NZ, status U). ECTS A-E is a relative scale and converts only through
grade-distribution tables.
"""

from __future__ import annotations

from typing import Final

from contracts.frameworks import GradeBand, GradingScheme

__all__ = [
    "ECTS_LETTER",
    "NZ_ACHIEVEMENT",
    "NZ_UNIT_STANDARD",
    "PASS_FAIL",
    "UK_HONOURS",
    "UK_MARKS",
    "US_LETTER",
]

# Pass/fail micro-credentials: the EU Recommendation makes "grade achieved" optional; OB 3.0 records
# pass/fail as Result.status Completed / Failed (domain.md section 4, "Pass/fail micro-credentials").
PASS_FAIL: Final = GradingScheme(
    id="pass-fail",
    name="Pass / fail",
    kind="pass_fail",
    source="Council Recommendation 2022/C 243/02 Annex I (grade optional); OB 3.0 Result.status",
    status="B",
    bands=(
        GradeBand(code="fail", label="Fail", lower=0, upper=0.5, passed=False, aliases=("f", "failed", "np")),
        GradeBand(
            code="pass", label="Pass", lower=0.5, upper=1, passed=True, aliases=("p", "passed", "completed")
        ),
    ),
)

# UK honours classification: First >=70; 2:1 60-69; 2:2 50-59; Third 40-49; below 40 no honours
# (domain.md section 4, B/C: consistent across many sources, e.g. addthismarks.com). Normalised as mark/100.
UK_HONOURS: Final = GradingScheme(
    id="uk-honours",
    name="UK honours degree classification",
    kind="bands",
    source="UK honours classification bands (addthismarks.com and many consistent sources)",
    status="C",
    bands=(
        GradeBand(code="fail", label="Fail / no honours", lower=0, upper=0.4, passed=False),
        GradeBand(code="third", label="Third", lower=0.4, upper=0.5, passed=True, aliases=("3rd",)),
        GradeBand(
            code="2:2",
            label="Lower second",
            lower=0.5,
            upper=0.6,
            passed=True,
            aliases=("2.2", "2ii", "lower-second"),
        ),
        GradeBand(
            code="2:1",
            label="Upper second",
            lower=0.6,
            upper=0.7,
            passed=True,
            aliases=("2.1", "2i", "upper-second"),
        ),
        GradeBand(code="first", label="First", lower=0.7, upper=1, passed=True, aliases=("1st",)),
    ),
    note="The classification algorithm (year weighting, borderlines, rounding) is institutional.",
)

# Common pass marks: 40% for undergraduate modules, 50% for postgraduate taught (e.g. Loughborough PG), C.
UK_MARKS: Final = GradingScheme(
    id="uk-marks",
    name="UK module percentage marks",
    kind="marks",
    source="Common UK pass marks: 40% UG, 50% PG taught (e.g. Loughborough PG handbook)",
    status="C",
    max_mark=100,
    pass_mark=40,
    note="Pass mark 40 is the undergraduate default; members override it (50 for PG taught modules).",
)


def _us(code: str, points: float, lower: float, upper: float, *aliases: str) -> GradeBand:
    # Band edges sit halfway between neighbouring grade points, so each letter holds its own point.
    return GradeBand(
        code=code,
        label=f"{code} ({points:g})",
        lower=lower / 4,
        upper=upper / 4,
        passed=points > 0,
        point=points / 4,
        aliases=aliases,
    )


# US letter grades: A=4, B=3, C=2, D=1, F=0; +/- steps A- 3.7, B+ 3.3, B- 2.7, C+ 2.3, C- 1.7, D+ 1.3,
# D- 0.7; A+ capped at 4.0 (domain.md section 4, C: PCC grading calculator, WashU, Athens Tech catalog).
US_LETTER: Final = GradingScheme(
    id="us-letter",
    name="US letter grades (4.0 grade points)",
    kind="bands",
    source="US letter grades and grade points (PCC grading calculator; WashU; Athens Tech catalog)",
    status="C",
    bands=(
        _us("F", 0.0, 0.0, 0.35),
        _us("D-", 0.7, 0.35, 0.85),
        _us("D", 1.0, 0.85, 1.15),
        _us("D+", 1.3, 1.15, 1.5),
        _us("C-", 1.7, 1.5, 1.85),
        _us("C", 2.0, 1.85, 2.15),
        _us("C+", 2.3, 2.15, 2.5),
        _us("B-", 2.7, 2.5, 2.85),
        _us("B", 3.0, 2.85, 3.15),
        _us("B+", 3.3, 3.15, 3.5),
        _us("A-", 3.7, 3.5, 3.85),
        _us("A", 4.0, 3.85, 4.0, "A+"),
    ),
    note="Normalised as grade points / 4; A+ counts as A (capped at 4.0). Cut-offs are institutional.",
)

# NCEA achievement standards: Not Achieved, Achieved, Merit, Excellence (domain.md section 4, B). NZQA gives
# no numeric scale: passing grades take equal steps above 0.5 (U, a convention of ours).
NZ_ACHIEVEMENT: Final = GradingScheme(
    id="nz-achievement",
    name="NZ achievement standards (N / A / M / E)",
    kind="bands",
    source="NCEA achievement standards N/A/M/E (school pages quoting NZQA); normalised scale is ours",
    status="U",
    bands=(
        GradeBand(
            code="N", label="Not Achieved", lower=0, upper=0.5, passed=False, aliases=("not-achieved",)
        ),
        GradeBand(code="A", label="Achieved", lower=0.5, upper=4 / 6, passed=True, aliases=("achieved",)),
        GradeBand(
            code="M", label="Achieved with Merit", lower=4 / 6, upper=5 / 6, passed=True, aliases=("merit",)
        ),
        GradeBand(
            code="E",
            label="Achieved with Excellence",
            lower=5 / 6,
            upper=1,
            passed=True,
            aliases=("excellence",),
        ),
    ),
)

# NZ unit standards: Achieved / Not Achieved only (domain.md section 4, B).
NZ_UNIT_STANDARD: Final = GradingScheme(
    id="nz-unit-standard",
    name="NZ unit standards (Achieved / Not Achieved)",
    kind="pass_fail",
    source="NZQA unit standards, Achieved / Not Achieved (school pages quoting NZQA)",
    status="B",
    bands=(
        GradeBand(
            code="N", label="Not Achieved", lower=0, upper=0.5, passed=False, aliases=("not-achieved",)
        ),
        GradeBand(code="A", label="Achieved", lower=0.5, upper=1, passed=True, aliases=("achieved",)),
    ),
)

# Old ECTS grading scale (2003-2008/09), relative to passing students: E 0-10, D 10-35, C 35-65, B 65-90,
# A 90-100 (percentile from the bottom); FX and F are fails (domain.md section 4, B: ULB, Estonian exam
# centre, EABHES handbook p.24). Converting to or from it always goes through distribution tables.
ECTS_LETTER: Final = GradingScheme(
    id="ects-letter",
    name="ECTS grading scale (A-E, FX, F)",
    kind="ranked",
    source="ECTS grading scale 2003-2009 (ULB translation page; Estonian exam centre; EABHES handbook p.24)",
    status="B",
    bands=(
        GradeBand(code="F", label="Fail: considerable further work required", lower=0, upper=0, passed=False),
        GradeBand(code="FX", label="Fail: some more work required", lower=0, upper=0, passed=False),
        GradeBand(code="E", label="E (lowest 10% of passes)", lower=0, upper=0.10, passed=True),
        GradeBand(code="D", label="D (next 25%)", lower=0.10, upper=0.35, passed=True),
        GradeBand(code="C", label="C (next 30%)", lower=0.35, upper=0.65, passed=True),
        GradeBand(code="B", label="B (next 25%)", lower=0.65, upper=0.90, passed=True),
        GradeBand(code="A", label="A (best 10%)", lower=0.90, upper=1, passed=True),
    ),
    note="Institutions publish their own local percentages; never assume 10/25/30/25/10 for local grades.",
)
