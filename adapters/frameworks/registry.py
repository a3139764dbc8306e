"""The framework registry: plug-ins found by entry point, keyed by their ``id``, duplicates refused.

Adapters register in the ``consortium_gateway.frameworks`` entry-point group (as pytest plug-ins register in
``pytest11``); the entry point's name must equal the framework's ``id``. The target is a ``CreditFramework``
instance, or a callable with no arguments that returns one. Tests build a registry from an explicit list.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Final

from contracts.errors import DuplicateFramework, FrameworkPluginError, UnknownFramework
from contracts.frameworks import CreditFramework, FrameworkOverrides

__all__ = ["ENTRY_POINT_GROUP", "FrameworkRegistry", "load_entry_point"]

ENTRY_POINT_GROUP: Final = "consortium_gateway.frameworks"


def load_entry_point(entry_point: EntryPoint) -> CreditFramework:
    """Load one plug-in; errors name the entry point and keep the cause (``raise ... from``)."""
    try:
        target = entry_point.load()
        framework = target if isinstance(target, CreditFramework) else target()
    except Exception as exc:
        raise FrameworkPluginError(
            f"framework plug-in {entry_point.name!r} ({entry_point.value}) failed to load: {exc}",
            field=entry_point.name,
        ) from exc
    if not isinstance(framework, CreditFramework):
        raise FrameworkPluginError(
            f"framework plug-in {entry_point.name!r} ({entry_point.value}) is not a CreditFramework",
            field=entry_point.name,
            expected="an object satisfying contracts.frameworks.CreditFramework",
        )
    if framework.id != entry_point.name:
        raise FrameworkPluginError(
            f"framework plug-in {entry_point.name!r} has id {framework.id!r}",
            field=entry_point.name,
            expected=f"the entry point name to equal the framework id ({framework.id!r})",
        )
    return framework


class FrameworkRegistry:
    """Frameworks keyed by id. Immutable once built; lookups are one dict access."""

    __slots__ = ("_expected", "_frameworks")

    def __init__(self, frameworks: Iterable[CreditFramework]) -> None:
        self._frameworks: dict[str, CreditFramework] = {}
        for framework in frameworks:
            if not isinstance(framework, CreditFramework):
                raise FrameworkPluginError(
                    f"{framework!r} is not a CreditFramework",
                    expected="an object satisfying contracts.frameworks.CreditFramework",
                )
            if framework.id in self._frameworks:
                raise DuplicateFramework(
                    f"two framework plug-ins claim the id {framework.id!r}", field="id", expected="unique ids"
                )
            self._frameworks[framework.id] = framework
        self._expected = "one of: " + ", ".join(sorted(self._frameworks))

    @classmethod
    def from_entry_points(cls, group: str = ENTRY_POINT_GROUP) -> FrameworkRegistry:
        """Every installed plug-in of ``group``."""
        return cls(load_entry_point(ep) for ep in entry_points(group=group))

    def get(self, framework_id: str, *, field: str = "framework") -> CreditFramework:
        """The framework with this id; ``field`` names the input in the error (e.g. ``from``, ``to``)."""
        framework = self._frameworks.get(framework_id) if isinstance(framework_id, str) else None
        if framework is None:
            raise UnknownFramework(
                f"{framework_id!r} is not a registered credit framework", field=field, expected=self._expected
            )
        return framework

    def with_overrides(self, overrides: Mapping[str, FrameworkOverrides]) -> FrameworkRegistry:
        """A registry in which the named frameworks carry a member's overrides."""
        for framework_id in overrides:
            self.get(framework_id, field="overrides")
        return FrameworkRegistry(
            fw.with_overrides(overrides[fw.id]) if fw.id in overrides else fw
            for fw in self._frameworks.values()
        )

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(sorted(self._frameworks))

    def __contains__(self, framework_id: object) -> bool:
        return framework_id in self._frameworks

    def __iter__(self) -> Iterator[CreditFramework]:
        return iter(self._frameworks.values())

    def __len__(self) -> int:
        return len(self._frameworks)

    def __repr__(self) -> str:
        return f"FrameworkRegistry({', '.join(self.ids)})"
