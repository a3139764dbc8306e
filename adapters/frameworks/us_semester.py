"""United States, semester (and trimester) credit hours.

Sources (shared/reference/domain.md sections 1 and 4): 34 CFR 600.2 credit hour definition (A, as quoted by
institutions); ~30 SCH per year and SCH -> ECTS x2 are common practice only (C, not official).
"""

from __future__ import annotations

from typing import Final

from adapters.frameworks.grading_schemes import PASS_FAIL, US_LETTER
from adapters.frameworks.level_referencing import LEVEL_TABLE_VERSION
from adapters.frameworks.table import TableFramework
from adapters.frameworks.us_degree_levels import US_LEVELS
from contracts.frameworks import (
    CreditUnit,
    EctsConvention,
    FrameworkSpec,
    FullTimeYear,
    HoursPerUnit,
    TableRef,
)

__all__ = ["SPEC", "framework"]

_CFR = "34 CFR 600.2 credit hour definition (quoted by e.g. aicusa.edu, catalog.ciachef.edu)"
_PRACTICE = "common practice (WES/ACE-style calculators): 30 SCH/year = 60 ECTS; not official"

CREDIT_TABLE: Final = TableRef(
    id="credit-conventions",
    title="US semester credit hour: notional hours and ECTS convention",
    version=LEVEL_TABLE_VERSION,
    source=f"{_CFR}; {_PRACTICE}",
)

SPEC: Final = FrameworkSpec(
    id="us-semester",
    name="US semester credit hours",
    jurisdiction="United States (semester and trimester calendars)",
    countries=("US",),
    version=LEVEL_TABLE_VERSION,
    credit=CreditUnit(
        code="us-sch",
        name="Semester credit hour",
        # >=1 h instruction + >=2 h out of class per week for ~15 weeks, ~45 h (A, definition).
        hours=HoursPerUnit(min=45, max=45, status="A", source=_CFR),
        # x2: 30 SCH per year <-> 60 ECTS (C, configurable).
        ects=EctsConvention(units=1, ects=2, status="C", source=_PRACTICE),
        full_time_year=FullTimeYear(credits=30, status="C", source=f"{_CFR}; load by common practice"),
    ),
    levels=US_LEVELS,
    grading_schemes=(US_LETTER, PASS_FAIL),
    tables=(CREDIT_TABLE,),
    notes=(
        "No national award credit rules or RPL caps: members add their own by override.",
        "GPA = sum(grade points x credit hours) / sum(credit hours attempted); P/NP and W are excluded (C).",
    ),
)

framework: Final = TableFramework(SPEC)
"""The ``us-semester`` framework (entry point ``consortium_gateway.frameworks``)."""
