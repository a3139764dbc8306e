"""Ireland: the National Framework of Qualifications (NFQ levels 1-10), higher education in ECTS.

Sources (shared/reference/domain.md sections 1-3): the Irish Diploma Supplement template (Europass, via
yumpu) and the NZQA-QQI comparison (levels, B); TU Dublin award and credit pages (awards B; hours per ECTS in
Irish practice C); UCD General Regulations 3.1. Irish further education (QQI levels 1-6, "FET credit") is
not modelled: its hours per credit are not verified (U).
"""

from __future__ import annotations

from typing import Final

from adapters.frameworks.grading_schemes import ECTS_LETTER, PASS_FAIL
from adapters.frameworks.level_referencing import LEVEL_TABLE, LEVEL_TABLE_VERSION, build_levels
from adapters.frameworks.micro_credential_rules import EU_2022
from adapters.frameworks.table import TableFramework
from contracts.frameworks import (
    AwardRule,
    CreditRequirement,
    CreditUnit,
    EctsConvention,
    FrameworkSpec,
    FullTimeYear,
    HoursPerUnit,
    TableRef,
)

__all__ = ["SPEC", "framework"]

_TUD_CREDITS = "TU Dublin: credits and professional certifications (tudublin.ie)"
_TUD_AWARDS = "TU Dublin award table (tudublin.ie ... tu-dublin-awards); UCD GR 3.1"

CREDIT_TABLE: Final = TableRef(
    id="credit-conventions",
    title="ECTS in Irish higher education: notional hours",
    version=LEVEL_TABLE_VERSION,
    source=_TUD_CREDITS,
)
AWARD_TABLE: Final = TableRef(
    id="award-credit-rules",
    title="Irish NFQ awards and ECTS credit",
    version=LEVEL_TABLE_VERSION,
    source=_TUD_AWARDS,
)


def _award(
    rule_id: str, name: str, level: str, low: float, high: float | None = None, note: str | None = None
) -> AwardRule:
    total = CreditRequirement(min_credits=low, max_credits=high, source=_TUD_AWARDS, status="B")
    return AwardRule(
        id=rule_id, name=name, level=level, total=total, source=_TUD_AWARDS, status="B", note=note
    )


# One line per row of the Irish award table (award, NFQ, ECTS, st B).
AWARD_RULES: Final = (
    _award("higher-certificate", "Higher Certificate", "6", 120),
    _award("ordinary-bachelor", "Ordinary Bachelor Degree", "7", 180),
    _award("honours-bachelor", "Honours Bachelor Degree", "8", 180, 240),
    _award("higher-diploma", "Higher Diploma", "8", 60, 120, note="60 ECTS; TU Dublin 60-120"),
    _award("pg-diploma", "Postgraduate Diploma", "9", 60),
    _award("masters", "Master's Degree", "9", 90, 120, note="TU Dublin 90-120; QF-EHEA allows 60-120"),
)

SPEC: Final = FrameworkSpec(
    id="ie-nfq",
    name="Irish National Framework of Qualifications (higher education, ECTS)",
    jurisdiction="Ireland",
    countries=("IE",),
    version=LEVEL_TABLE_VERSION,
    credit=CreditUnit(
        code="ects",
        name="ECTS credit (Irish higher education)",
        # 20-25 h per ECTS in Irish HEI practice (C, TU Dublin); the ECTS Users' Guide says 25-30.
        hours=HoursPerUnit(min=20, max=25, status="C", source=_TUD_CREDITS),
        ects=EctsConvention(
            units=1, ects=1, status="C", source=f"Irish higher education uses ECTS ({_TUD_CREDITS})"
        ),
        full_time_year=FullTimeYear(credits=60, status="C", source=_TUD_CREDITS),
    ),
    levels=build_levels(
        "NFQ_IE",
        name="NFQ level {level}",
        # The level table rows: NFQ 6 short cycle, NFQ 7 and 8 first cycle.
        cycles={"6": "short", "7": "first", "8": "first"},
        aliases={str(n): (f"nfq-{n}",) for n in range(1, 11)},
    ),
    grading_schemes=(PASS_FAIL, ECTS_LETTER),
    tables=(LEVEL_TABLE, CREDIT_TABLE, AWARD_TABLE),
    award_rules=AWARD_RULES,
    micro_credential_rules=(EU_2022,),
    notes=(
        "Minor and special-purpose awards at NFQ 7-9 are institutional, e.g. UCD Professional Certificate "
        "5-15 ECTS and Professional Diploma 20-30 ECTS (C): add them by override.",
        "No national RPL maximum was found; the awarding body decides (U).",
    ),
)

framework: Final = TableFramework(SPEC)
"""The ``ie-nfq`` framework (entry point ``consortium_gateway.frameworks``)."""
