"""The level referencing table (national levels to EQF), kept as data.

Copied verbatim from shared/reference/domain.md section 2, "Level referencing table (CSV, use as data)".
``eqf`` is empty where the official referencing gives no EQF level. Sources of each row are in the row; the
long-form citations are listed under the table in domain.md. Parsed once, at import.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from typing import Final, cast, get_args

from contracts.frameworks import FactStatus, FrameworkLevel, TableRef
from contracts.types import QfEheaCycle

__all__ = ["LEVEL_TABLE", "LEVEL_TABLE_VERSION", "LevelRow", "build_levels", "rows_for"]

LEVEL_TABLE_VERSION: Final = "2026-05"
"""Version of the reference snapshot: the newest source used by domain.md is dated May 2026."""

LEVEL_TABLE: Final = TableRef(
    id="level-referencing",
    title="Level referencing table (national levels to EQF, QF-EHEA)",
    version=LEVEL_TABLE_VERSION,
    source="Ofqual Qualification Level register; Pearson SCQF/RQF/EQF comparison; Irish Diploma Supplement "
    "template; NZQA-EU joint report 2016 and NZQA-QQI table; ECTS Users' Guide 2015",
)

_CSV: Final = """\
framework,level,eqf,st,source
RQF,E1,,A,Ofqual Qualification Level register (registers.app/register/11:161)
RQF,E2,,A,Ofqual Qualification Level register
RQF,E3,1,A,Ofqual Qualification Level register
RQF,1,2,A,Ofqual Qualification Level register
RQF,2,3,A,Ofqual Qualification Level register
RQF,3,4,A,Ofqual Qualification Level register
RQF,4,5,A,Ofqual Qualification Level register
RQF,5,5,A,Ofqual Qualification Level register
RQF,6,6,A,Ofqual Qualification Level register
RQF,7,7,A,Ofqual Qualification Level register
RQF,8,8,A,Ofqual Qualification Level register
FHEQ,4,5,B,same level numbers as RQF; FHEQ 4 is a within-first-cycle level (CertHE/HNC)
FHEQ,5,5,B,QF-EHEA short cycle = EQF 5 (FdA/DipHE/HND)
FHEQ,6,6,B,QF-EHEA first cycle = EQF 6 (ECTS Users' Guide programme-context page)
FHEQ,7,7,B,second cycle = EQF 7
FHEQ,8,8,B,third cycle = EQF 8
SCQF,1,,B,Pearson SCQF/RQF/EQF comparison (qualifications.pearson.com ... frameworks-scqf.html)
SCQF,2,,B,Pearson
SCQF,3,1,B,Pearson; docsbay correspondence table
SCQF,4,2,B,Pearson; docsbay
SCQF,5,3,B,Pearson; docsbay
SCQF,6,4,B,Pearson; docsbay
SCQF,7,5,B,Pearson; docsbay
SCQF,8,5,B,Pearson; docsbay
SCQF,9,6,B,Pearson; docsbay
SCQF,10,6,B,Pearson; docsbay
SCQF,11,7,B,Pearson; docsbay
SCQF,12,8,B,Pearson; docsbay
NFQ_IE,1,1,B,Irish Diploma Supplement template (Europass) via yumpu; NZQA-QQI comparison page
NFQ_IE,2,1,B,same
NFQ_IE,3,2,B,same
NFQ_IE,4,3,B,same
NFQ_IE,5,4,B,same
NFQ_IE,6,5,B,same (Higher Cert / Advanced Cert; short cycle)
NFQ_IE,7,6,B,same (Ordinary Bachelor; first cycle)
NFQ_IE,8,6,B,same (Honours Bachelor / Higher Diploma; first cycle)
NFQ_IE,9,7,B,same (Master's / PG Diploma)
NFQ_IE,10,8,B,same (Doctorate)
NZQF,1,2,A,NZQA: "no NZQF level compares to EQF level 1"; NZQA-QQI table
NZQF,2,3,A,NZQA-QQI table
NZQF,3,4,A,NZQA-QQI table
NZQF,4,4,A,NZQA-QQI table
NZQF,5,5,A,NZQA-QQI table
NZQF,6,5,A,NZQA-QQI table
NZQF,7,6,A,NZQA-QQI table (Bachelor's / GradCert / GradDip)
NZQF,8,,A,NZQA: "NZQF level 8 would remain unlevelled to the EQF" (Honours / PGCert / PGDip)
NZQF,9,7,A,NZQA-QQI table
NZQF,10,8,A,NZQA-QQI table
QF-EHEA,short,5,B,ECTS Users' Guide; Irish DS template
QF-EHEA,first,6,A,ECTS Users' Guide programme-context page
QF-EHEA,second,7,A,same
QF-EHEA,third,8,A,same
AQF,1..10,,U,NOT VERIFIED - see note
"""

_STATUSES: Final = frozenset(get_args(FactStatus))


class LevelRow:
    """One row of the table: a level of ``framework`` and its EQF level (``None`` where none is given)."""

    __slots__ = ("eqf", "framework", "level", "source", "status")

    def __init__(self, framework: str, level: str, eqf: int | None, status: FactStatus, source: str) -> None:
        self.framework = framework
        self.level = level
        self.eqf = eqf
        self.status: FactStatus = status
        self.source = source


def _status(value: str) -> FactStatus:
    if value not in _STATUSES:
        raise ValueError(f"level table: unknown status {value!r}")
    return cast(FactStatus, value)


def _parse(text: str) -> tuple[LevelRow, ...]:
    rows = []
    for rec in csv.DictReader(io.StringIO(text)):
        eqf = rec["eqf"].strip()
        rows.append(
            LevelRow(
                rec["framework"], rec["level"], int(eqf) if eqf else None, _status(rec["st"]), rec["source"]
            )
        )
    return tuple(rows)


_ROWS: Final = _parse(_CSV)


def rows_for(framework: str) -> tuple[LevelRow, ...]:
    """The rows of one table framework (``RQF``, ``FHEQ``, ``SCQF``, ``NFQ_IE``, ``NZQF``, ``QF-EHEA``)."""
    found = tuple(r for r in _ROWS if r.framework == framework)
    if not found:
        raise KeyError(framework)
    return found


def build_levels(
    table_framework: str,
    *,
    name: str | Callable[[str], str],
    code: Callable[[str], str] = str,
    rank: Callable[[str], int] = int,
    cycles: Mapping[str, QfEheaCycle] | None = None,
    aliases: Mapping[str, tuple[str, ...]] | None = None,
    notes: Mapping[str, str] | None = None,
) -> tuple[FrameworkLevel, ...]:
    """``FrameworkLevel``s from the table's rows, keyed by the table's level column.

    ``name`` is a format string with ``{level}`` or a function of the level; ``cycles`` gives the QF-EHEA
    cycle where the reference states one for that row.
    """
    return tuple(
        FrameworkLevel(
            code=code(row.level),
            name=name(row.level) if callable(name) else name.format(level=row.level),
            scheme=row.framework,
            rank=rank(row.level),
            eqf=row.eqf,
            source=row.source,
            status=row.status,
            qf_ehea_cycle=(cycles or {}).get(row.level),
            aliases=(aliases or {}).get(row.level, ()),
            note=(notes or {}).get(row.level),
        )
        for row in rows_for(table_framework)
    )
