"""Degree levels shared by the two US credit-hour frameworks.

The US has no national qualifications framework and no EQF referencing in the reference (shared/reference/
domain.md section 2 lists none), so every level has ``eqf = None``: recognition compares US awards through
agreements, not through EQF. Ranks order the degrees for award rules a member may add.
"""

from __future__ import annotations

from typing import Final

from contracts.frameworks import FrameworkLevel

__all__ = ["US_LEVELS"]

_SOURCE = "no US national qualifications framework or EQF referencing in the reference tables"

US_LEVELS: Final = tuple(
    FrameworkLevel(
        code=code,
        name=name,
        scheme="US",
        rank=rank,
        eqf=None,
        source=_SOURCE,
        status="U",
        note="no official EQF level",
    )
    for rank, (code, name) in enumerate(
        (
            ("associate", "Associate degree level"),
            ("bachelor", "Bachelor's degree level"),
            ("master", "Master's degree level"),
            ("doctoral", "Doctoral degree level"),
        ),
        start=1,
    )
)
