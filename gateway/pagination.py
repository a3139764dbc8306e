"""Keyset pagination shared by every list route: opaque cursors over an ordered id, one extra row fetched
to know whether another page exists."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import TypeVar

import msgspec

from contracts.errors import InvalidRequest

__all__ = ["decode_cursor", "decode_key_cursor", "encode_cursor", "encode_key_cursor", "split_page"]

T = TypeVar("T")
K = TypeVar("K")


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def _not_ours() -> InvalidRequest:
    return InvalidRequest(
        "the cursor is not one this API returned", field="cursor", expected="a next_cursor value"
    )


def _unpad(cursor: str) -> bytes:
    return base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)


def decode_cursor(cursor: str | None) -> str | None:
    """The id after which the next page starts; a cursor this API did not issue is a 400."""
    if cursor is None:
        return None
    try:
        return _unpad(cursor).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise _not_ours() from exc


def encode_key_cursor(key: Sequence[object]) -> str:
    """A cursor over a composite sort key (e.g. date, issuer, id), as a JSON array."""
    return base64.urlsafe_b64encode(msgspec.json.encode(key)).decode().rstrip("=")


def decode_key_cursor(cursor: str | None, type_: type[K]) -> K | None:
    """The composite key ``encode_key_cursor`` wrote, decoded as ``type_``; anything else is a 400."""
    if cursor is None:
        return None
    try:
        return msgspec.json.decode(_unpad(cursor), type=type_)
    except (binascii.Error, msgspec.DecodeError, ValueError) as exc:
        raise _not_ours() from exc


def split_page(rows: Sequence[T], limit: int, key: Callable[[T], str]) -> tuple[list[T], str | None]:
    """``rows`` were fetched with ``limit + 1``: the page, and the cursor of the next one (or None)."""
    if len(rows) > limit:
        return list(rows[:limit]), encode_cursor(key(rows[limit - 1]))
    return list(rows), None
