"""When to try a webhook delivery again, and when to stop (R30).

Delays grow exponentially with "full jitter" (each delay uniform in ``[0, min(cap, base * 2**n)]``, from
Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog 2015): receivers that come back after an
outage are not hit by every relay at once. Deliveries stop after ``max_age`` (about 3 days, as the
Standard Webhooks example schedule), and then wait in the dead-letter list for an operator.

What a response means (Standard Webhooks; EWP CNR for 4xx): 2xx delivered; 410 Gone disables the
endpoint; 408, 425, 429 and 5xx, timeouts, connection failures and redirects (3xx are failures, never
followed) are retried; any other 4xx is the receiver refusing the message, which a retry will not change.
"""

from __future__ import annotations

import random
from typing import Literal

__all__ = ["Verdict", "retry_delay", "verdict"]

Verdict = Literal["delivered", "retry", "gone", "refused"]
_RETRYABLE_4XX = frozenset({408, 425, 429})


def retry_delay(attempt: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Seconds before attempt ``attempt + 1`` (``attempt`` >= 1 attempts made so far)."""
    ceiling = min(cap, base * 2 ** min(attempt - 1, 32))
    return rng.uniform(0, ceiling)


def verdict(status: int | None) -> Verdict:
    """``status`` None means no HTTP answer (timeout, connection failure, redirect refused)."""
    if status is None:
        return "retry"
    if 200 <= status < 300:
        return "delivered"
    if status == 410:
        return "gone"
    if status >= 500 or status in _RETRYABLE_4XX or 300 <= status < 400:
        return "retry"
    return "refused"
