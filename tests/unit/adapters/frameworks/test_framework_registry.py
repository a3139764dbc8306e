"""The registry: plug-ins by entry point, keyed by id, duplicates refused; and the pyproject entry points."""

from __future__ import annotations

import tomllib
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from adapters.frameworks import ENTRY_POINT_GROUP, REFERENCE_FRAMEWORKS, FrameworkRegistry, reference_registry
from adapters.frameworks import registry as registry_module
from contracts.errors import DuplicateFramework, FrameworkPluginError, UnknownFramework
from contracts.frameworks import CreditFramework

PYPROJECT = Path(__file__).resolve().parents[4] / "pyproject.toml"
REFERENCE_IDS = ["ects", "ie-nfq", "nzqf", "scqf", "uk-fheq", "us-quarter", "us-semester"]


def test_pyproject_entry_points_name_importable_frameworks() -> None:
    table = tomllib.loads(PYPROJECT.read_text())["project"]["entry-points"][ENTRY_POINT_GROUP]
    assert sorted(table) == REFERENCE_IDS
    for name, target in table.items():
        framework = registry_module.load_entry_point(
            EntryPoint(name=name, value=target, group=ENTRY_POINT_GROUP)
        )
        assert isinstance(framework, CreditFramework)
        assert framework.id == name


def test_registry_from_explicit_list() -> None:
    registry = reference_registry()
    assert registry.ids == tuple(REFERENCE_IDS)
    assert len(registry) == 7
    assert "scqf" in registry
    assert registry.get("scqf").name == "Scottish Credit and Qualifications Framework"


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(DuplicateFramework) as err:
        FrameworkRegistry([*REFERENCE_FRAMEWORKS, REFERENCE_FRAMEWORKS[0]])
    assert err.value.field == "id"
    assert err.value.status == 409


def test_non_frameworks_are_refused() -> None:
    with pytest.raises(FrameworkPluginError):
        FrameworkRegistry([object()])  # type: ignore[list-item]


def test_unknown_id_lists_registered_ids() -> None:
    with pytest.raises(UnknownFramework) as err:
        reference_registry().get("aqf", field="from")
    assert err.value.field == "from"
    assert err.value.expected == "one of: " + ", ".join(REFERENCE_IDS)


def _entry_points(*pairs: tuple[str, str]) -> list[EntryPoint]:
    return [EntryPoint(name=n, value=v, group=ENTRY_POINT_GROUP) for n, v in pairs]


def test_discovery_by_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    found = _entry_points(
        ("ects", "adapters.frameworks.ects:framework"), ("scqf", "adapters.frameworks.scqf:framework")
    )
    monkeypatch.setattr(
        registry_module, "entry_points", lambda group: found if group == ENTRY_POINT_GROUP else []
    )
    assert FrameworkRegistry.from_entry_points().ids == ("ects", "scqf")


def test_two_packages_claiming_one_id(monkeypatch: pytest.MonkeyPatch) -> None:
    found = _entry_points(
        ("ects", "adapters.frameworks.ects:framework"), ("ects", "adapters.frameworks.ects:framework")
    )
    monkeypatch.setattr(registry_module, "entry_points", lambda group: found)
    with pytest.raises(DuplicateFramework):
        FrameworkRegistry.from_entry_points()


@pytest.mark.parametrize(
    ("name", "target", "message"),
    [
        ("scqf", "adapters.frameworks.ects:framework", "has id 'ects'"),
        ("broken", "adapters.frameworks.no_such_module:framework", "failed to load"),
        ("odd", "adapters.frameworks.ects:SPEC", "failed to load"),
    ],
)
def test_bad_plugins(name: str, target: str, message: str) -> None:
    with pytest.raises(FrameworkPluginError) as err:
        registry_module.load_entry_point(EntryPoint(name=name, value=target, group=ENTRY_POINT_GROUP))
    assert message in err.value.detail
    assert err.value.field == name


class _FactoryEntryPoint:
    """Stands in for an installed entry point whose target is a zero-argument factory."""

    name = "ects"
    value = "some_package:make_framework"

    def load(self) -> object:
        return lambda: REFERENCE_FRAMEWORKS[0]


def test_factory_targets_are_called() -> None:
    framework = registry_module.load_entry_point(_FactoryEntryPoint())  # type: ignore[arg-type]
    assert framework.id == "ects"
