"""United States, quarter credit hours.

Sources (shared/reference/domain.md section 1): 34 CFR 600.2 (the same weekly pattern over 10-12 weeks,
~30-36 h; A); ~45 QCH per year and QCH -> ECTS x(2/1.5) derived from the SCH rule (C).
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

_CFR = "34 CFR 600.2 credit hour definition, quarter calendar (10-12 weeks)"
_DERIVED = "derived from the SCH convention (1 SCH = 1.5 QCH): 45 QCH/year = 60 ECTS; not official"

CREDIT_TABLE: Final = TableRef(
    id="credit-conventions",
    title="US quarter credit hour: notional hours and ECTS convention",
    version=LEVEL_TABLE_VERSION,
    source=f"{_CFR}; {_DERIVED}",
)

SPEC: Final = FrameworkSpec(
    id="us-quarter",
    name="US quarter credit hours",
    jurisdiction="United States (quarter calendars)",
    countries=("US",),
    version=LEVEL_TABLE_VERSION,
    credit=CreditUnit(
        code="us-qch",
        name="Quarter credit hour",
        # Same weekly pattern over 10-12 weeks: ~30-36 h (A, definition).
        hours=HoursPerUnit(min=30, max=36, status="A", source=_CFR),
        # x(2/1.5) = 4/3: 45 QCH per year <-> 60 ECTS (C), kept as the exact ratio 3 QCH = 4 ECTS.
        ects=EctsConvention(units=3, ects=4, status="C", source=_DERIVED),
        full_time_year=FullTimeYear(credits=45, status="C", source=f"{_CFR}; load by common practice"),
    ),
    levels=US_LEVELS,
    grading_schemes=(US_LETTER, PASS_FAIL),
    tables=(CREDIT_TABLE,),
    notes=("No national award credit rules or RPL caps: members add their own by override.",),
)

framework: Final = TableFramework(SPEC)
"""The ``us-quarter`` framework (entry point ``consortium_gateway.frameworks``)."""
