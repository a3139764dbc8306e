"""UUID version 7 as RFC 9562 section 5.7 lays it out: timestamp, version, rand_a, variant, rand_b."""

from __future__ import annotations

import time
import uuid

from gateway.mobility.rfc9562 import uuid7


def test_version_and_variant_fields() -> None:
    for _ in range(200):
        value = uuid7()
        assert value.version == 7
        assert value.variant == uuid.RFC_4122
        assert (value.int >> 76) & 0xF == 0x7  # bits 48-51 of the layout
        assert (value.int >> 62) & 0b11 == 0b10  # bits 64-65


def test_timestamp_is_unix_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    value = uuid7()
    after = time.time_ns() // 1_000_000
    assert before <= value.int >> 80 <= after


def test_ids_of_later_milliseconds_sort_later() -> None:
    first = uuid7()
    time.sleep(0.002)
    second = uuid7()
    assert str(first) < str(second)
    assert first.bytes < second.bytes


def test_the_74_random_bits_vary() -> None:
    mask = ((1 << 80) - 1) & ~(0xF << 76) & ~(0b11 << 62)
    randoms = {uuid7().int & mask for _ in range(1000)}
    assert len(randoms) == 1000
    # every random bit position is seen both set and clear
    seen_set = 0
    seen_clear = 0
    for r in randoms:
        seen_set |= r
        seen_clear |= ~r & mask
    assert seen_set == mask
    assert seen_clear == mask
