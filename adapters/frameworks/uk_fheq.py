"""England, Wales and Northern Ireland: FHEQ levels 4-8 and RQF Entry 1-3 + 1-8, in UK credits (CATS).

Sources (shared/reference/domain.md sections 1-5): QAA *Higher Education Credit Framework for England*, 2nd
ed. May 2021 (read on a mirror, cut off after the postgraduate rows); the QAA FHEQ levels diagram; the
Ofqual Qualification Level register; Pearson Higher Nationals; QAA Micro-credentials Characteristics
Statement (2022). FHEQ codes are the bare numbers (``"6"``); RQF codes are prefixed (``"rqf-6"``,
``"rqf-e1"``) because both frameworks use the same numbers for different level descriptors.
"""

from __future__ import annotations

from typing import Final

from adapters.frameworks.grading_schemes import PASS_FAIL, UK_HONOURS, UK_MARKS
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
    HoursPerUnit,
    TableRef,
)

__all__ = ["SPEC", "framework"]

_QAA_2021 = "QAA HE Credit Framework for England, 2nd ed. May 2021 (hozir.org mirror, p.9)"
_QAA_DIAGRAM = "QAA FHEQ levels diagram (dokumen.tips mirror)"
_PEARSON_HN = "Pearson BTEC Higher Nationals: building a programme"
_MEMORY = "QAA 2008 / institutional tables (Keele Regulation E1); not read in QAA 2021"

CREDIT_TABLE: Final = TableRef(
    id="credit-conventions",
    title="UK credit: notional hours and ECTS convention",
    version=LEVEL_TABLE_VERSION,
    source=f"{_QAA_2021}; GOV.UK Tuition fee limits in the LLE (2023); {_QAA_DIAGRAM}",
)
AWARD_TABLE: Final = TableRef(
    id="award-credit-rules",
    title="Qualification credit requirements (England)",
    version="QAA 2021 (2nd ed.)",
    source=_QAA_2021,
)


def _need(credits: float, status: FactStatus, source: str = _QAA_2021, *levels: str) -> CreditRequirement:
    return CreditRequirement(min_credits=credits, levels=levels, source=source, status=status)


def _award(
    rule_id: str,
    name: str,
    level: str,
    total: CreditRequirement | None,
    *at_level: CreditRequirement,
    note: str | None = None,
) -> AwardRule:
    statuses = [r.status for r in ((total,) if total else ()) + at_level] or ["B"]
    return AwardRule(
        id=rule_id,
        name=name,
        level=level,
        total=total,
        at_level=at_level,
        source=_QAA_2021,
        status=weakest(statuses),
        note=note,
    )


_NOT_RATED = "not typically credit-rated (QAA 2021 table)"

# One line per row of the QAA 2021 table (qualification, fheq_level, min_total_uk, min_at_level, st).
AWARD_RULES: Final = (
    _award("phd", "PhD/DPhil", "8", None, note=_NOT_RATED),
    _award(
        "professional-doctorate",
        "Professional doctorate (DProf/EdD/DBA/DClinPsy)",
        "8",
        _need(540, "B"),
        _need(360, "B", _QAA_2021, "8"),
    ),
    _award("research-masters", "Research master's (MRes/MPhil)", "7", None, note=_NOT_RATED),
    _award(
        "taught-masters",
        "Taught master's (MA/MSc)",
        "7",
        _need(180, "B"),
        _need(150, "B", _QAA_2021, "7"),
        note="ECTS typical 90-120; 60 ECTS is the hard second-cycle minimum",
    ),
    _award(
        "integrated-masters",
        "Integrated master's (MEng/MChem/MPharm)",
        "7",
        _need(480, "B"),
        _need(120, "B", _QAA_2021, "7"),
    ),
    _award("medicine-dentistry", "Primary qualifications in medicine/dentistry", "7", None, note=_NOT_RATED),
    _award("pg-diploma", "Postgraduate diploma", "7", _need(120, "B"), _need(90, "B", _QAA_2021, "7")),
    _award("pgce", "PGCE", "7", _need(60, "B"), _need(40, "B", _QAA_2021, "7")),
    _award("pg-certificate", "Postgraduate certificate", "7", _need(60, "B"), _need(40, "B", _QAA_2021, "7")),
    # 360 total is B (QAA diagram); 90 at L6 is U (memory).
    _award(
        "bachelors-honours",
        "Bachelor's degree with honours",
        "6",
        _need(360, "B", _QAA_DIAGRAM),
        _need(90, "U", _MEMORY, "6"),
    ),
    _award(
        "ordinary-bachelors",
        "Ordinary bachelor's degree",
        "6",
        _need(300, "U", _MEMORY),
        _need(60, "U", _MEMORY, "6"),
    ),
    _award(
        "graduate-diploma", "Graduate diploma", "6", _need(80, "U", _MEMORY), _need(80, "U", _MEMORY, "6")
    ),
    _award(
        "graduate-certificate",
        "Graduate certificate",
        "6",
        _need(40, "U", _MEMORY),
        _need(40, "U", _MEMORY, "6"),
    ),
    # 240 total is B; 90 at L5 is U.
    _award(
        "foundation-degree",
        "Foundation degree",
        "5",
        _need(240, "B", _QAA_DIAGRAM),
        _need(90, "U", _MEMORY, "5"),
    ),
    _award(
        "dip-he",
        "Diploma of Higher Education",
        "5",
        _need(240, "B", _QAA_DIAGRAM),
        _need(90, "U", _MEMORY, "5"),
    ),
    # Pearson: 120 credits at L4 + 120 at L5 (A).
    _award(
        "hnd",
        "Higher National Diploma (Pearson)",
        "5",
        _need(240, "A", _PEARSON_HN),
        _need(120, "A", _PEARSON_HN, "5"),
        _need(120, "A", _PEARSON_HN, "4"),
    ),
    _award(
        "hnc",
        "Higher National Certificate (Pearson)",
        "4",
        _need(120, "A", _PEARSON_HN),
        _need(120, "A", _PEARSON_HN, "4"),
    ),
    # 120 total is B; 90 at L4 is U.
    _award(
        "cert-he",
        "Certificate of Higher Education",
        "4",
        _need(120, "B", _QAA_DIAGRAM),
        _need(90, "U", _MEMORY, "4"),
    ),
)


def _rqf_rank(level: str) -> int:
    # Entry 1-3 sit below level 1: E1 -> -2, E2 -> -1, E3 -> 0.
    return int(level[1]) - 3 if level.startswith("E") else int(level)


_RQF_LEVELS = build_levels(
    "RQF",
    name=lambda lv: f"RQF Entry {lv[1]}" if lv.startswith("E") else f"RQF level {lv}",
    code=lambda lv: f"rqf-{lv.lower()}",
    rank=_rqf_rank,
    aliases={"E1": ("e1", "entry-1"), "E2": ("e2", "entry-2"), "E3": ("e3", "entry-3")},
)
_FHEQ_LEVELS = build_levels(
    "FHEQ",
    name="FHEQ level {level}",
    # The level table rows: FHEQ 5 = QF-EHEA short cycle, 6 first, 7 second, 8 third.
    cycles={"5": "short", "6": "first", "7": "second", "8": "third"},
    aliases={lv: (f"fheq-{lv}",) for lv in ("4", "5", "6", "7", "8")},
    notes={"4": "within-first-cycle level (CertHE/HNC): no QF-EHEA cycle of its own"},
)

SPEC: Final = FrameworkSpec(
    id="uk-fheq",
    name="FHEQ and RQF with UK credit (CATS)",
    jurisdiction="England, Wales and Northern Ireland",
    countries=("GB",),
    version=LEVEL_TABLE_VERSION,
    credit=CreditUnit(
        code="uk-credit",
        name="UK credit (CATS)",
        # 1 credit ~ 10 h; a 20-credit module ~ 200 h (A/B: recorded as the weaker, B).
        hours=HoursPerUnit(
            min=10, max=10, status="B", source=f"{_QAA_2021}; GOV.UK Tuition fee limits in the LLE (2023)"
        ),
        # "1 ECTS credit is typically worth 2 UK credits" (B).
        ects=EctsConvention(
            units=2, ects=1, status="B", source=f"{_QAA_DIAGRAM} footnote: 1 ECTS = 2 UK credits"
        ),
        full_time_year=FullTimeYear(credits=120, status="B", source=_QAA_2021),
    ),
    levels=(*_FHEQ_LEVELS, *_RQF_LEVELS),
    grading_schemes=(UK_MARKS, UK_HONOURS, PASS_FAIL),
    tables=(LEVEL_TABLE, CREDIT_TABLE, AWARD_TABLE),
    award_rules=AWARD_RULES,
    micro_credential_rules=(QAA_2022,),
    notes=(
        "No national RPL maximum was found for England; the awarding body decides (U). Members set caps "
        "by override, e.g. Sheffield Hallam and Oxford Brookes: two thirds of the award's credit (C).",
        "The UK's post-Brexit EQF status was not checked: treat RQF/FHEQ to EQF as informative.",
        "Institutions may be stricter than these award rules (e.g. Keele Regulation E1: 120 at award level).",
    ),
)

framework: Final = TableFramework(SPEC)
"""The ``uk-fheq`` framework (entry point ``consortium_gateway.frameworks``)."""
