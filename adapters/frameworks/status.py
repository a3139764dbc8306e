"""Ordering of fact statuses (A most certain, U not verified), used to state how sure an answer is."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from contracts.frameworks import FactStatus

__all__ = ["weakest"]

_RANK: Final[dict[FactStatus, int]] = {"A": 0, "B": 1, "C": 2, "U": 3}


def weakest(statuses: Iterable[FactStatus]) -> FactStatus:
    """The least certain status: an answer is only as sure as the weakest fact it used (A if none)."""
    worst: FactStatus = "A"
    for status in statuses:
        if _RANK[status] > _RANK[worst]:
            worst = status
    return worst
