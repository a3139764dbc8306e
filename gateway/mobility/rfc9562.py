"""UUID version 7 (RFC 9562 section 5.7): a 48-bit Unix millisecond timestamp, then random bits.

Mobility request ids are time-ordered, so the queue's keyset pagination by id is arrival order and the
primary-key index stays append-mostly.
"""

from __future__ import annotations

import os
import time
import uuid

__all__ = ["uuid7"]

_MILLIS = (1 << 48) - 1
# 80 random bits under the timestamp, less the four version bits (79-76) and the two variant bits (63-62).
_RANDOM = ((1 << 80) - 1) & ~(0xF << 76) & ~(0b11 << 62)
_VERSION_VARIANT = (0x7 << 76) | (0b10 << 62)  # version 7; variant 10 (RFC 9562 section 4.1)


def uuid7() -> uuid.UUID:
    millis = time.time_ns() // 1_000_000 & _MILLIS
    rand = int.from_bytes(os.urandom(10), "big") & _RANDOM
    return uuid.UUID(int=millis << 80 | _VERSION_VARIANT | rand)
