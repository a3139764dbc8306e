"""The conformance kit every credit framework adapter runs against itself.

``check_framework(framework)`` returns a ``ConformanceReport`` listing every finding; ``assert_conformant``
raises with all of them; ``FrameworkConformance`` is a pytest base class with one test per check. Property
checks use Hypothesis (a test-time dependency).
"""

from adapters.testkit.kit import (
    CHECKS,
    ConformanceReport,
    Finding,
    assert_conformant,
    check_framework,
    run_check,
)
from adapters.testkit.suite import FrameworkConformance

__all__ = [
    "CHECKS",
    "ConformanceReport",
    "Finding",
    "FrameworkConformance",
    "assert_conformant",
    "check_framework",
    "run_check",
]
