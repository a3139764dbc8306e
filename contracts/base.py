"""The one base Struct every contract inherits from.

It decides, once, how contracts behave on the wire: keyword-only fields, unknown fields rejected (msgspec
would otherwise drop them silently, which hides client bugs and enables mass assignment, R16), immutable
values, and snake_case field names as written.
"""

from __future__ import annotations

import msgspec

__all__ = ["Contract"]


class Contract(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Base of every canonical record and API body.

    Subclasses repeat ``frozen=True, kw_only=True``: msgspec does not inherit ``kw_only``, and type checkers
    only see ``frozen`` where it is written.
    """
