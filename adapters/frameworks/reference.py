"""The reference frameworks shipped with the gateway, as an explicit list (tests, and hosts without the
package installed, where entry points are not available)."""

from __future__ import annotations

from adapters.frameworks import ects, ie_nfq, nzqf, scqf, uk_fheq, us_quarter, us_semester
from adapters.frameworks.registry import FrameworkRegistry
from contracts.frameworks import CreditFramework

__all__ = ["REFERENCE_FRAMEWORKS", "reference_registry"]

REFERENCE_FRAMEWORKS: tuple[CreditFramework, ...] = (
    ects.framework,
    ie_nfq.framework,
    nzqf.framework,
    scqf.framework,
    uk_fheq.framework,
    us_quarter.framework,
    us_semester.framework,
)


def reference_registry() -> FrameworkRegistry:
    """A registry of the reference frameworks only."""
    return FrameworkRegistry(REFERENCE_FRAMEWORKS)
