"""Small database helpers shared by tests."""

from __future__ import annotations

from typing import Any


async def row_counts(conn: Any, *tables: str) -> tuple[int, ...]:
    """How many rows of each table ``conn`` sees (under its row-level security, if any), in one query."""
    # Table names come from the test itself, never from input.
    counts = ", ".join(f"(SELECT count(*) FROM {table})" for table in tables)  # noqa: S608
    row = await conn.fetchrow(f"SELECT {counts}")
    return tuple(row)
