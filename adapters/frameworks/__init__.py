"""Credit frameworks: reference adapters, the registry, explained conversions and record validation.

Pure code: no I/O beyond ``importlib.metadata`` (entry points). Reference frameworks live one per module
(``uk_fheq``, ``scqf``, ``ects``, ``us_semester``, ``us_quarter``, ``nzqf``, ``ie_nfq``), each exposing
``framework`` (the plug-in object) and ``SPEC`` (its data).
"""

from adapters.frameworks.conversion import PIVOT, Converter, require_single_basis
from adapters.frameworks.micro_credentials import validate_micro_credential
from adapters.frameworks.overrides import apply_overrides
from adapters.frameworks.reference import REFERENCE_FRAMEWORKS, reference_registry
from adapters.frameworks.registry import ENTRY_POINT_GROUP, FrameworkRegistry
from adapters.frameworks.table import TableFramework

__all__ = [
    "ENTRY_POINT_GROUP",
    "PIVOT",
    "REFERENCE_FRAMEWORKS",
    "Converter",
    "FrameworkRegistry",
    "TableFramework",
    "apply_overrides",
    "reference_registry",
    "require_single_basis",
    "validate_micro_credential",
]
