"""The Australian Qualifications Framework as a Consortium Gateway credit framework (an example adapter).

Sources (the gateway's shared/reference/domain.md sections 1-5): ASQA "Volume of learning" (1 full-time year
is about 1,200 hours; volume per qualification type, A); AACSB country profile (AQF levels and award types);
National Microcredentials Framework, Nov 2021 (minimum volume of learning 1 hour, B); TEQSA Guidance Note:
Credit and RPL (no numeric cap seen, C). The AQF-EQF referencing was not verified: every level has no EQF.
"""

from __future__ import annotations

from typing import Final

from adapters.frameworks.grading_schemes import PASS_FAIL
from adapters.frameworks.table import TableFramework
from contracts.frameworks import (
    AwardRule,
    CreditRequirement,
    CreditUnit,
    FactStatus,
    FrameworkLevel,
    FrameworkSpec,
    FullTimeYear,
    HoursPerUnit,
    MicroCredentialRules,
    TableRef,
)

__all__ = ["SPEC", "framework"]

_ASQA = "ASQA Volume of learning (asqa.gov.au/node/6287)"
_AACSB = "AACSB Australia award types (aacsb.edu country profile)"
_NMF = "National Microcredentials Framework, Nov 2021 (quoted by ponder.education, voced.edu.au)"
_NOT_VERIFIED = "AQF-EQF comparison 2016 (doi 10.2767/899976) Appendix 1 not read: no EQF level"
_VERSION = "2026-05"

# AQF levels and their typical award types; no EQF level (not verified), status U.
_LEVELS: Final = (
    (1, "Certificate I"),
    (2, "Certificate II"),
    (3, "Certificate III"),
    (4, "Certificate IV"),
    (5, "Diploma"),
    (6, "Advanced Diploma, Associate Degree"),
    (7, "Bachelor Degree"),
    (8, "Bachelor Honours Degree, Graduate Certificate, Graduate Diploma"),
    (9, "Masters Degree"),
    (10, "Doctoral Degree"),
)


def _volume(
    rule_id: str, name: str, level: int, years: tuple[float, float], status: FactStatus = "A"
) -> AwardRule:
    # Volume of learning in equivalent full-time years, at 1,200 hours a year (ASQA, A).
    low, high = years
    source = _ASQA if status == "A" else f"{_ASQA}; believed values, not verified"
    total = CreditRequirement(min_credits=low * 1200, max_credits=high * 1200, source=source, status=status)
    return AwardRule(id=rule_id, name=name, level=str(level), total=total, source=source, status=status)


AWARD_RULES: Final = (
    _volume("certificate-i", "Certificate I", 1, (0.5, 1)),
    _volume("certificate-ii", "Certificate II", 2, (0.5, 1)),
    _volume("certificate-iii", "Certificate III", 3, (1, 2)),  # apprenticeships up to 4 years
    _volume("certificate-iv", "Certificate IV", 4, (0.5, 2)),
    _volume("diploma", "Diploma", 5, (1, 2)),
    _volume("advanced-diploma", "Advanced Diploma", 6, (1.5, 2)),
    _volume("graduate-certificate", "Graduate Certificate", 8, (0.5, 1)),
    _volume("graduate-diploma", "Graduate Diploma", 8, (1, 2)),
    _volume("bachelor", "Bachelor Degree", 7, (3, 4), "U"),
    _volume("masters", "Masters Degree", 9, (1, 2), "U"),
    _volume("doctoral", "Doctoral Degree", 10, (3, 4), "U"),
)

SPEC: Final = FrameworkSpec(
    id="aqf",
    name="Australian Qualifications Framework (volume of learning)",
    jurisdiction="Australia",
    countries=("AU",),
    version=_VERSION,
    credit=CreditUnit(
        code="hour",
        name="Notional hour of learning (AQF volume of learning; no national credit unit)",
        hours=HoursPerUnit(min=1, max=1, status="A", source=_ASQA),
        ects=None,  # no national credit unit and no ECTS convention: the hours basis only
        full_time_year=FullTimeYear(credits=1200, status="A", source=_ASQA),
    ),
    levels=tuple(
        FrameworkLevel(
            code=str(level),
            name=f"AQF level {level} ({awards})",
            scheme="AQF",
            rank=level,
            eqf=None,
            source=f"{_AACSB}; {_NOT_VERIFIED}",
            status="U",
            aliases=(f"aqf-{level}",),
        )
        for level, awards in _LEVELS
    ),
    grading_schemes=(PASS_FAIL,),
    tables=(
        TableRef(id="credit-conventions", title="AQF volume of learning", version=_VERSION, source=_ASQA),
        TableRef(id="level-referencing", title="AQF levels (no EQF)", version=_VERSION, source=_AACSB),
        TableRef(id="award-credit-rules", title="AQF volume by type", version=_VERSION, source=_ASQA),
    ),
    award_rules=AWARD_RULES,
    micro_credential_rules=(
        # A microcredential has a minimum volume of learning of one hour (NMF, B).
        MicroCredentialRules(
            rule_set="nmf-2021",
            name="National Microcredentials Framework (Nov 2021)",
            source=_NMF,
            status="B",
            min_hours=1,
        ),
    ),
    notes=(
        "Each Australian university has its own credit-point scale (e.g. 6 cp ~ 150 h at one university, C).",
        "TEQSA Guidance Note: Credit and RPL sets no numeric RPL cap (C).",
    ),
)

framework: Final = TableFramework(SPEC)
"""The ``aqf`` framework (entry point ``consortium_gateway.frameworks``)."""
