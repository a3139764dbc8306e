"""New Zealand: NZQF (NZQCF) levels 1-10 and NZ credits.

Sources (shared/reference/domain.md sections 1-5): NZQA *Qualification and Micro-credential Listing and
Operational Rules 2022* (rule 3: one credit = ten notional learning hours; rule 6: micro-credential listing
details); the NZQA-EU joint report 2016 and NZQA-QQI table (levels, A: NZQF 8 stays unlevelled to the EQF);
Otago Polytechnic NZQA summary (award rules, B); the NZQA micro-credential approval page (A).
"""

from __future__ import annotations

from typing import Final

from adapters.frameworks.grading_schemes import NZ_ACHIEVEMENT, NZ_UNIT_STANDARD, PASS_FAIL
from adapters.frameworks.level_referencing import LEVEL_TABLE, LEVEL_TABLE_VERSION, build_levels
from adapters.frameworks.status import weakest
from adapters.frameworks.table import TableFramework
from contracts.frameworks import (
    AwardRule,
    CreditRequirement,
    CreditUnit,
    EctsConvention,
    FactStatus,
    FrameworkSpec,
    FullTimeYear,
    HoursPerUnit,
    MicroCredentialRules,
    TableRef,
)

__all__ = ["NZQA_2018", "NZQA_2022", "SPEC", "framework"]

_RULES_2022 = "NZQA Qualification and Micro-credential Listing and Operational Rules 2022"
_TYPES = "Otago Polytechnic NZQA summary; inspiredoverseas (NZQF qualification type definitions)"
_TYPES_U = "NZQA The NZ Qualifications Framework (scribd copy) lists the types; credits not read"
_MC_PAGE = "NZQA micro-credential listing/approval page (nzqa.govt.nz ... /micro-credentials/)"

CREDIT_TABLE: Final = TableRef(
    id="credit-conventions",
    title="NZ credit: notional hours and ECTS convention",
    version=LEVEL_TABLE_VERSION,
    source=f"{_RULES_2022}, rule 3; nzqa.govt.nz qualifications page (120 credits a year)",
)
AWARD_TABLE: Final = TableRef(
    id="award-credit-rules",
    title="NZQCF qualification credit requirements",
    version=LEVEL_TABLE_VERSION,
    source=f"{_TYPES}; {_TYPES_U}",
)


def _need(credits: float, status: FactStatus, *levels: str, or_above: bool = False) -> CreditRequirement:
    source = _TYPES if status == "B" else _TYPES_U
    return CreditRequirement(
        min_credits=credits, levels=levels, or_above=or_above, source=source, status=status
    )


def _award(
    rule_id: str,
    name: str,
    level: str,
    total: CreditRequirement | None,
    *at_level: CreditRequirement,
    note: str | None = None,
) -> AwardRule:
    parts = ((total,) if total else ()) + at_level
    return AwardRule(
        id=rule_id,
        name=name,
        level=level,
        total=total,
        at_level=at_level,
        source=_TYPES if total and total.status == "B" else _TYPES_U,
        status=weakest(r.status for r in parts) if parts else "U",
        note=note,
    )


AWARD_RULES: Final = (
    # Certificate, levels 1-6: at least 40 credits (B).
    *(_award(f"certificate-l{n}", f"Certificate (level {n})", str(n), _need(40, "B")) for n in range(1, 7)),
    # Diploma L5: >=120 from L4+, incl. >=72 at L5+; Diploma L6: >=120 from L5+, incl. >=72 at L6+ (B).
    _award(
        "diploma-l5",
        "Diploma (level 5)",
        "5",
        _need(120, "B", "4", or_above=True),
        _need(72, "B", "5", or_above=True),
    ),
    _award(
        "diploma-l6",
        "Diploma (level 6)",
        "6",
        _need(120, "B", "5", or_above=True),
        _need(72, "B", "6", or_above=True),
    ),
    # Bachelor's: >=360 from levels 5-7 (B); >=72 at L7 (U).
    _award("bachelors", "Bachelor's degree", "7", _need(360, "B", "5", "6", "7"), _need(72, "U", "7")),
    # Other types: credits not read (U).
    _award("graduate-certificate", "Graduate Certificate", "7", _need(60, "U")),
    _award("graduate-diploma", "Graduate Diploma", "7", _need(120, "U")),
    _award("honours", "Bachelor's Honours degree", "8", None, note="credit value not read (U)"),
    _award("pg-certificate", "Postgraduate Certificate", "8", _need(60, "U")),
    _award("pg-diploma", "Postgraduate Diploma", "8", _need(120, "U")),
    _award(
        "masters",
        "Master's degree",
        "9",
        CreditRequirement(min_credits=120, max_credits=240, source=_TYPES_U, status="U"),
        note="120, 180 or 240 credits (U)",
    ),
    _award("doctorate", "Doctoral degree", "10", _need(360, "U")),
)

# Now: 1 to 40 credits, any NZQCF level, review period of 1, 2 or 3 years (A); listing details include the
# credit value and level; titles must not contain these words where they could be confused with a
# qualification (rule 6, A).
NZQA_2022: Final = MicroCredentialRules(
    rule_set="nzqa-2022",
    name="NZQA micro-credential rules 2022",
    source=f"{_MC_PAGE}; {_RULES_2022}, rule 6 (listing details)",
    status="A",
    min_credits=1,
    max_credits=40,
    max_review_years=3,
    requires_level=True,
    credit_bearing=True,
    forbidden_title_words=(
        "New Zealand",
        "national",
        "diploma",
        "degree",
        "bachelor",
        "master",
        "doctor",
        "under-graduate",
        "post-graduate",
    ),
)

# The 2018 original policy: 5-40 credits, reviewed annually ("version adapters by rule set").
NZQA_2018: Final = MicroCredentialRules(
    rule_set="nzqa-2018",
    name="NZQA micro-credential policy 2018",
    source=f"{_MC_PAGE} (2018 original policy)",
    status="B",
    min_credits=5,
    max_credits=40,
    max_review_years=1,
    requires_level=True,
    credit_bearing=True,
)

SPEC: Final = FrameworkSpec(
    id="nzqf",
    name="New Zealand Qualifications and Credentials Framework",
    jurisdiction="New Zealand",
    countries=("NZ",),
    version=LEVEL_TABLE_VERSION,
    credit=CreditUnit(
        code="nz-credit",
        name="NZ credit",
        # "each credit representing ten notional learning hours" (A, rule 3).
        hours=HoursPerUnit(min=10, max=10, status="A", source=f"{_RULES_2022}, rule 3"),
        # No official factor found; 120 NZ credits/year vs 60 ECTS suggests x0.5 (U).
        ects=EctsConvention(units=2, ects=1, status="U", source="full-year equivalence (120 NZ = 60 ECTS)"),
        full_time_year=FullTimeYear(credits=120, status="A", source="nzqa.govt.nz qualifications page"),
    ),
    levels=build_levels(
        "NZQF",
        name="NZQF level {level}",
        aliases={str(n): (f"nzqf-{n}",) for n in range(1, 11)},
        notes={"8": "unlevelled to the EQF (NZQA); UK/IE equivalents of its awards sit at EQF 7"},
    ),
    grading_schemes=(NZ_ACHIEVEMENT, NZ_UNIT_STANDARD, PASS_FAIL),
    tables=(LEVEL_TABLE, CREDIT_TABLE, AWARD_TABLE),
    award_rules=AWARD_RULES,
    micro_credential_rules=(NZQA_2022, NZQA_2018),
    notes=("Micro-credentials approved before 2023 have a 1-year review period (use rule set nzqa-2018).",),
)

framework: Final = TableFramework(SPEC)
"""The ``nzqf`` framework (entry point ``consortium_gateway.frameworks``)."""
