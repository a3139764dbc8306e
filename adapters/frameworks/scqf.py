"""Scotland: SCQF levels 1-12 and SCQF credit points (FQHEIS for higher education).

Sources (shared/reference/domain.md sections 1-3): SQA "Levels and Credits"; Pearson SCQF/RQF/EQF comparison
and the docsbay correspondence table (levels, B); SCQF "credit rated qualifications" (docslib) and SQA HN
design principles (award rules, B); the QAA Micro-credentials Characteristics Statement applies UK-wide.
"""

from __future__ import annotations

from typing import Final

import msgspec

from adapters.frameworks.grading_schemes import PASS_FAIL, UK_HONOURS
from adapters.frameworks.level_referencing import LEVEL_TABLE, LEVEL_TABLE_VERSION, build_levels
from adapters.frameworks.micro_credential_rules import QAA_2022
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
    GradingScheme,
    HoursPerUnit,
    TableRef,
)

__all__ = ["SPEC", "framework"]

_SQA = "SQA Levels and Credits (sqa.org.uk/sqa/71377.html); SCQF database note"
_SCQF_RATED = "SCQF credit rated qualifications (docslib.org/doc/8763413)"
_SQA_HN = "SQA HN design principles (docsbay); SCQF database"
_PLANITPLUS = "planitplus (secondary)"
_BELIEVED = "not read; believed values (domain.md open item 3)"

CREDIT_TABLE: Final = TableRef(
    id="credit-conventions",
    title="SCQF credit points: notional hours and ECTS convention",
    version=LEVEL_TABLE_VERSION,
    source=f"{_SQA}; QAA FHEQ levels diagram (2 UK credits = 1 ECTS)",
)
AWARD_TABLE: Final = TableRef(
    id="award-credit-rules",
    title="SCQF qualification credit requirements",
    version=LEVEL_TABLE_VERSION,
    source=f"{_SCQF_RATED}; {_SQA_HN}",
)


def _need(credits: float, status: FactStatus, source: str, *levels: str) -> CreditRequirement:
    return CreditRequirement(min_credits=credits, levels=levels, source=source, status=status)


def _award(
    rule_id: str,
    name: str,
    level: str,
    total: CreditRequirement,
    *at_level: CreditRequirement,
    note: str | None = None,
) -> AwardRule:
    return AwardRule(
        id=rule_id,
        name=name,
        level=level,
        total=total,
        at_level=at_level,
        source=total.source,
        status=weakest(r.status for r in (total, *at_level)),
        note=note,
    )


# One line per row of the SCQF / FQHEIS table (award, level, min credits, min at level, st).
AWARD_RULES: Final = (
    _award(
        "doctorate",
        "Doctorate (credit-rated)",
        "12",
        _need(540, "B", _SCQF_RATED),
        _need(420, "B", _SCQF_RATED, "12"),
        note="research PhDs are usually not credit-rated",
    ),
    _award(
        "masters", "Master's degree", "11", _need(180, "B", _SCQF_RATED), _need(150, "B", _SCQF_RATED, "11")
    ),
    _award(
        "integrated-masters",
        "Integrated master's degree",
        "11",
        _need(600, "B", _SCQF_RATED),
        _need(120, "B", _SCQF_RATED, "11"),
    ),
    # >=180 at levels 9-10, including >=90 at level 10.
    _award(
        "honours",
        "Honours degree",
        "10",
        _need(480, "B", _SCQF_RATED),
        _need(180, "B", _SCQF_RATED, "9", "10"),
        _need(90, "B", _SCQF_RATED, "10"),
    ),
    _award(
        "ordinary-degree",
        "Ordinary / Bachelors degree",
        "9",
        _need(360, "B", _SCQF_RATED),
        _need(60, "B", _SCQF_RATED, "9"),
    ),
    _award(
        "hnd", "Higher National Diploma (SQA)", "8", _need(240, "B", _SQA_HN), _need(64, "B", _SQA_HN, "8")
    ),
    _award(
        "hnc", "Higher National Certificate (SQA)", "7", _need(96, "B", _SQA_HN), _need(48, "B", _SQA_HN, "7")
    ),
    _award("advanced-higher", "Advanced Higher (course)", "7", _need(32, "C", _PLANITPLUS)),
    # Believed values, U: PGDip 120/90, PGCert 60/40, GradDip 120, GradCert 60, DipHE 240/90, CertHE 120/90.
    _award(
        "pg-diploma",
        "Postgraduate diploma",
        "11",
        _need(120, "U", _BELIEVED),
        _need(90, "U", _BELIEVED, "11"),
    ),
    _award(
        "pg-certificate",
        "Postgraduate certificate",
        "11",
        _need(60, "U", _BELIEVED),
        _need(40, "U", _BELIEVED, "11"),
    ),
    _award("graduate-diploma", "Graduate diploma", "9", _need(120, "U", _BELIEVED), note="level 9 or 10"),
    _award(
        "graduate-certificate", "Graduate certificate", "9", _need(60, "U", _BELIEVED), note="level 9 or 10"
    ),
    _award(
        "dip-he",
        "Diploma of Higher Education",
        "8",
        _need(240, "U", _BELIEVED),
        _need(90, "U", _BELIEVED, "8"),
    ),
    _award(
        "cert-he",
        "Certificate of Higher Education",
        "7",
        _need(120, "U", _BELIEVED),
        _need(90, "U", _BELIEVED, "7"),
    ),
)

# For Scotland the honours bands and pass marks were not verified (domain.md section 4: "For Scotland, U").
_SCOTTISH_HONOURS: Final[GradingScheme] = msgspec.structs.replace(
    UK_HONOURS, source=f"{UK_HONOURS.source}; not verified for Scotland", status="U"
)

SPEC: Final = FrameworkSpec(
    id="scqf",
    name="Scottish Credit and Qualifications Framework",
    jurisdiction="Scotland",
    countries=("GB",),
    version=LEVEL_TABLE_VERSION,
    credit=CreditUnit(
        code="scqf-credit",
        name="SCQF credit point",
        hours=HoursPerUnit(min=10, max=10, status="A", source=_SQA),  # 1 SCQF credit point = 10 h (A)
        # Same convention as UK credit, since SCQF credit = UK credit = 10 h (B).
        ects=EctsConvention(units=2, ects=1, status="B", source="QAA FHEQ levels diagram convention (2:1)"),
        full_time_year=FullTimeYear(credits=120, status="A", source=_SQA),
    ),
    levels=build_levels(
        "SCQF", name="SCQF level {level}", aliases={str(n): (f"scqf-{n}",) for n in range(1, 13)}
    ),
    grading_schemes=(PASS_FAIL, _SCOTTISH_HONOURS),
    tables=(LEVEL_TABLE, CREDIT_TABLE, AWARD_TABLE),
    award_rules=AWARD_RULES,
    micro_credential_rules=(QAA_2022,),
    notes=(
        "No national RPL maximum was found for Scotland; the awarding body decides (U).",
        "SCQF levels carry no QF-EHEA cycle here: the reference table states none for SCQF rows.",
    ),
)

framework: Final = TableFramework(SPEC)
"""The ``scqf`` framework (entry point ``consortium_gateway.frameworks``)."""
