"""The European Higher Education Area: ECTS credits, EQF levels 1-8 and QF-EHEA cycles.

``ects`` is the pivot of every credit conversion (convention basis) and its levels are the EQF levels, so
``ects`` level ``"6"`` is EQF 6 (alias ``first``: the QF-EHEA first cycle). Sources
(shared/reference/domain.md sections 1-5): ECTS Users' Guide 2015 and its "programme context" page; the
old ECTS grading scale; the EU Council Recommendation on micro-credentials (2022/C 243/02).
"""

from __future__ import annotations

from typing import Final

from adapters.frameworks.grading_schemes import ECTS_LETTER, PASS_FAIL
from adapters.frameworks.level_referencing import LEVEL_TABLE, LEVEL_TABLE_VERSION, rows_for
from adapters.frameworks.micro_credential_rules import EU_2022
from adapters.frameworks.status import weakest
from adapters.frameworks.table import TableFramework
from contracts.frameworks import (
    AwardRule,
    CreditRequirement,
    CreditUnit,
    EctsConvention,
    FrameworkLevel,
    FrameworkSpec,
    FullTimeYear,
    HoursPerUnit,
    TableRef,
)

__all__ = ["SPEC", "framework"]

_USERS_GUIDE = "ECTS Users' Guide 2015 (quoted by HEIs, e.g. phdl.at, azvo.hr)"
_PROGRAMME_CONTEXT = "ECTS Users' Guide, programme context page (ec.europa.eu/education/ects/users-guide)"
_EQF = "European Qualifications Framework levels 1-8"

CREDIT_TABLE: Final = TableRef(
    id="credit-conventions",
    title="ECTS credit: notional hours",
    version=LEVEL_TABLE_VERSION,
    source=_USERS_GUIDE,
)
AWARD_TABLE: Final = TableRef(
    id="award-credit-rules",
    title="Bologna / QF-EHEA cycle credit ranges",
    version=LEVEL_TABLE_VERSION,
    source=_PROGRAMME_CONTEXT,
)


def _eqf_levels() -> tuple[FrameworkLevel, ...]:
    # QF-EHEA rows of the level table: short = EQF 5 (B), first/second/third = EQF 6/7/8 (A).
    cycles = {row.eqf: row for row in rows_for("QF-EHEA")}
    levels = []
    for n in range(1, 9):
        row = cycles.get(n)
        aliases: tuple[str, ...] = (f"eqf-{n}",)
        if row is None:
            levels.append(
                FrameworkLevel(
                    code=str(n),
                    name=f"EQF level {n}",
                    scheme="EQF",
                    rank=n,
                    eqf=n,
                    source=_EQF,
                    status="A",
                    aliases=aliases,
                )
            )
            continue
        levels.append(
            FrameworkLevel(
                code=str(n),
                name=f"EQF level {n} (QF-EHEA {row.level} cycle)",
                scheme="EQF",
                rank=n,
                eqf=n,
                source=f"{_EQF}; QF-EHEA {row.level} cycle: {row.source}",
                status=weakest(("A", row.status)),
                qf_ehea_cycle=row.level,  # type: ignore[arg-type]
                aliases=(*aliases, row.level, f"{row.level}-cycle"),
            )
        )
    return tuple(levels)


def _cycle(
    rule_id: str, name: str, level: str, low: float | None, high: float | None, *at_level: CreditRequirement
) -> AwardRule:
    total = None
    if low is not None:
        total = CreditRequirement(min_credits=low, max_credits=high, source=_PROGRAMME_CONTEXT, status="A")
    return AwardRule(
        id=rule_id,
        name=name,
        level=level,
        total=total,
        at_level=at_level,
        source=_PROGRAMME_CONTEXT,
        status="A",
        note=None if total else "the third cycle's credit varies: not credit-rated here",
    )


# Short cycle ~120 ECTS; first cycle 180 or 240; second cycle 90 or 120 with at least 60 at second-cycle
# level; the third cycle varies (A, ECTS Users' Guide programme context).
AWARD_RULES: Final = (
    _cycle("short-cycle", "Short-cycle qualification", "5", 120, 120),
    _cycle("first-cycle", "First-cycle (bachelor) qualification", "6", 180, 240),
    _cycle(
        "second-cycle",
        "Second-cycle (master) qualification",
        "7",
        90,
        120,
        CreditRequirement(min_credits=60, levels=("7",), source=_PROGRAMME_CONTEXT, status="A"),
    ),
    _cycle("third-cycle", "Third-cycle (doctoral) qualification", "8", None, None),
)

SPEC: Final = FrameworkSpec(
    id="ects",
    name="European Credit Transfer and Accumulation System with EQF and QF-EHEA",
    jurisdiction="European Higher Education Area",
    countries=(),
    version=LEVEL_TABLE_VERSION,
    credit=CreditUnit(
        code="ects",
        name="ECTS credit",
        # 25-30 h per credit; 60 ECTS = 1,500-1,800 h (domain.md section 1; "Hours -> ECTS" row is A).
        hours=HoursPerUnit(min=25, max=30, status="A", source=_USERS_GUIDE),
        ects=EctsConvention(units=1, ects=1, status="A", source="identity: ECTS is the pivot unit"),
        full_time_year=FullTimeYear(credits=60, status="A", source=_USERS_GUIDE),
    ),
    levels=_eqf_levels(),
    grading_schemes=(ECTS_LETTER, PASS_FAIL),
    tables=(LEVEL_TABLE, CREDIT_TABLE, AWARD_TABLE),
    award_rules=AWARD_RULES,
    micro_credential_rules=(EU_2022,),
    notes=("No EHEA-wide RPL maximum was found; the awarding body decides (U).",),
)

framework: Final = TableFramework(SPEC)
"""The ``ects`` framework (entry point ``consortium_gateway.frameworks``)."""
