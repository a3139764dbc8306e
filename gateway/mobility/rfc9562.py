"""UUID version 7 (RFC 9562 section 5.7): a 48-bit Unix millisecond timestamp, then random bits.

Mobility request ids are time-ordered, so the queue's keyset pagination by id is arrival order and the
primary-key index stays append-mostly.
"""

from __future__ import annotations

import os
import time
import uuid

__all__ = ["uuid7"]

_RAND_A = (1 << 12) - 1
_RAND_B = (1 << 62) - 1


def uuid7() -> uuid.UUID:
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80  # unix_ts_ms
    value |= 0x7 << 76  # ver
    value |= ((rand >> 62) & _RAND_A) << 64  # rand_a
    value |= 0b10 << 62  # var (RFC 9562 section 4.1)
    value |= rand & _RAND_B  # rand_b
    return uuid.UUID(int=value)
