"""``AnswerMargin``: how long before a lookup's deadline its members are cut off, learnt from how long
answers took after the cut-off.

The answer is due by the deadline (R25: remaining - margin), and after the cut-off it still has to be
merged, audited (a commit) and sent. A fixed margin is too short under load: lookups that started
together are cut off together and then finish one after the other (W2 at N = 20 with 16 connections
answered up to 65 ms after the deadline with a 10 ms margin). This keeps the estimator TCP keeps for its
retransmission timeout (RFC 6298): a smoothed time from cut-off to answer and its mean deviation; the
margin is smoothed + 4 x deviation, never less than the configured floor, never more than the ceiling
(members keep nearly all of their time) nor a tenth of the budget.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AnswerMargin"]

_GAIN = 1 / 8  # RFC 6298's alpha
_DEVIATION_GAIN = 1 / 4  # RFC 6298's beta
_DEVIATIONS = 4  # RFC 6298's K


@dataclass(slots=True)
class AnswerMargin:
    """One serving process's margin (seconds); ``observe`` feeds it the lookups whose members were cut off."""

    floor: float
    ceiling: float
    smoothed: float | None = None
    deviation: float = 0.0

    def margin(self, budget: float) -> float:
        learnt = self.floor if self.smoothed is None else self.smoothed + _DEVIATIONS * self.deviation
        return min(max(self.floor, min(learnt, self.ceiling)), budget / 10)

    def observe(self, seconds: float) -> None:
        """How long after its members' cut-off a lookup's answer was ready."""
        seconds = max(0.0, seconds)
        if self.smoothed is None:
            self.smoothed, self.deviation = seconds, seconds / 2
            return
        self.deviation += _DEVIATION_GAIN * (abs(self.smoothed - seconds) - self.deviation)
        self.smoothed += _GAIN * (seconds - self.smoothed)
