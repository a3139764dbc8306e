"""Level conversion through EQF, returning every candidate.

shared/reference/domain.md section 2, "Gotchas for adapters": EQF referencing is many-to-one (NFQ 7 and 8 ->
EQF 6; NZQF 3 and 4 -> EQF 4), so "EQF 6 -> which NFQ?" has several answers and is never inverted to one;
NZQF 8 (like SCQF 1-2 and RQF Entry 1-2) has no EQF level, so it converts to no candidate at all.
"""

from __future__ import annotations

from typing import Final

from adapters.frameworks.conversion.explain import explanation, table_label, table_of
from adapters.frameworks.status import weakest
from contracts.frameworks import ConversionStep, CreditFramework, FrameworkLevel, LevelConversion

__all__ = ["EQF_SOURCE", "convert_level", "eqf_level"]

EQF_SOURCE: Final = "European Qualifications Framework levels 1-8"
_MANY: Final = (
    "EQF referencing is many-to-one: every candidate is returned; compare via EQF plus qualification type."
)


def eqf_level(eqf: int) -> FrameworkLevel:
    """An EQF level as a ``FrameworkLevel`` of the pseudo-framework ``eqf`` ."""
    return FrameworkLevel(
        code=str(eqf), name=f"EQF level {eqf}", scheme="EQF", rank=eqf, eqf=eqf, source=EQF_SOURCE, status="A"
    )


def convert_level(
    level: FrameworkLevel, src_id: str, src: CreditFramework | None, dst: CreditFramework | None
) -> LevelConversion:
    """``level`` (of ``src``; ``None`` for EQF itself) to every level of ``dst`` at the same EQF level
    (``dst`` ``None``: to EQF itself, one candidate or none)."""
    steps: list[ConversionStep] = []
    tables = []
    if src is not None:
        table = table_of(src, "level-referencing", fallback_source=level.source)
        tables.append(table)
        target = "no EQF level" if level.eqf is None else f"EQF {level.eqf}"
        steps.append(
            ConversionStep(
                from_=src.id,
                to="eqf",
                rule=f"{level.name} -> {target}",
                source=level.source,
                status=level.status,
                table=table_label(src, table),
            )
        )
    notes: list[str] = []
    candidates: tuple[FrameworkLevel, ...] = ()
    if level.eqf is None:
        notes.append(f"{level.name} has no EQF level in the official referencing: no candidates.")
    elif dst is None:
        candidates = (eqf_level(level.eqf),)
    else:
        candidates = dst.levels_at_eqf(level.eqf)
        table = table_of(dst, "level-referencing", fallback_source=EQF_SOURCE)
        tables.append(table)
        found = ", ".join(c.name for c in candidates) or f"no {dst.id} level"
        steps.append(
            ConversionStep(
                from_="eqf",
                to=dst.id,
                rule=f"EQF {level.eqf} <- {found}",
                source="; ".join(dict.fromkeys(c.source for c in candidates)) or table.source,
                status=weakest(c.status for c in candidates),
                table=table_label(dst, table),
            )
        )
        if len(candidates) > 1:
            notes.append(_MANY)
    return LevelConversion(
        from_framework=src_id,
        from_level=level,
        eqf=level.eqf,
        to_framework=dst.id if dst is not None else "eqf",
        candidates=candidates,
        ambiguous=len(candidates) > 1,
        explanation=explanation(
            "eqf",
            (src_id, "eqf", dst.id) if dst is not None else (src_id, "eqf"),
            tuple(steps),
            tables,
            tuple(notes),
        ),
    )
