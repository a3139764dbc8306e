"""Building ``Explanation``s: the chain, the steps, the tables (with versions) and how sure the answer is."""

from __future__ import annotations

from collections.abc import Iterable

from adapters.frameworks.status import weakest
from contracts.frameworks import ConversionStep, CreditFramework, Explanation, ExplanationBasis, TableRef

__all__ = ["explanation", "table_label", "table_of"]


def table_of(framework: CreditFramework, table_id: str, *, fallback_source: str) -> TableRef:
    """The framework's table with this id; a framework that lists none is cited by its own version."""
    for table in framework.spec.tables:
        if table.id == table_id:
            return table
    return TableRef(
        id=table_id,
        title=f"{framework.id} {table_id}",
        version=framework.spec.version,
        source=fallback_source,
    )


def table_label(framework: CreditFramework, table: TableRef) -> str:
    """How a step names its table: ``<framework>/<table>@<version>``."""
    return f"{framework.id}/{table.id}@{table.version}"


def explanation(
    basis: ExplanationBasis,
    chain: Iterable[str],
    steps: tuple[ConversionStep, ...],
    tables: Iterable[TableRef],
    notes: tuple[str, ...] = (),
) -> Explanation:
    """An explanation with consecutive duplicates dropped from the chain and tables listed once."""
    links: list[str] = []
    for link in chain:
        if not links or links[-1] != link:
            links.append(link)
    unique: dict[tuple[str, str, str], TableRef] = {}
    for table in tables:
        unique.setdefault((table.id, table.version, table.source), table)
    return Explanation(
        basis=basis,
        chain=tuple(links),
        steps=steps,
        tables=tuple(unique.values()),
        weakest_status=weakest(s.status for s in steps),
        notes=notes,
    )
