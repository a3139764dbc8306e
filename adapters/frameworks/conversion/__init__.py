"""Pure, explained conversions of credits, levels and grades between credit frameworks."""

from adapters.frameworks.conversion.converter import Converter
from adapters.frameworks.conversion.credits import PIVOT, require_single_basis

__all__ = ["PIVOT", "Converter", "require_single_basis"]
