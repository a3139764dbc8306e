"""Keyset pagination shared by every list route: opaque cursors over an ordered id, one extra row fetched
to know whether another page exists."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import TypeVar

from contracts.errors import InvalidRequest

__all__ = ["decode_cursor", "encode_cursor", "split_page"]

T = TypeVar("T")


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    """The id after which the next page starts; a cursor this API did not issue is a 400."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest(
            "the cursor is not one this API returned", field="cursor", expected="a next_cursor value"
        ) from exc


def split_page(rows: Sequence[T], limit: int, key: Callable[[T], str]) -> tuple[list[T], str | None]:
    """``rows`` were fetched with ``limit + 1``: the page, and the cursor of the next one (or None)."""
    if len(rows) > limit:
        return list(rows[:limit]), encode_cursor(key(rows[limit - 1]))
    return list(rows), None
