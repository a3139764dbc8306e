"""The mobility workflow: an explicit transition table, who may take each action, and the SLA clock.

Pure: no I/O, no clock of its own (``now`` is passed in), so every rule here is property-testable.

::

    submitted --review--> under_review --decide--> decided --close (after the appeal window)--> closed
                            |    ^                    |
               request_info |    | respond            | appeal (once, within the window)
                            v    |                    v
                         info_requested            appealed --review--> under_review (round 2)

    withdraw: from submitted, under_review, info_requested or appealed, to withdrawn
    assign:   a registrar (re-)assigns the request in any open state; the state does not change

Vocabulary from CollegeSource TES (approve, deny with reason codes, need more information, re-assign) and
EWP learning agreements (changes are versioned; edit conflicts are 409). Final states: ``decided`` (until
an appeal), ``withdrawn``, ``closed``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Final, Literal, NamedTuple, get_args

from contracts.errors import Forbidden, IllegalTransition, InvalidRequest

__all__ = [
    "ACTIONS",
    "APPEAL_WINDOW",
    "DECISION_SLA",
    "FINAL_STATES",
    "INFO_RESPONSE_SLA",
    "OPEN_STATES",
    "RULES",
    "STATES",
    "TRANSITIONS",
    "Action",
    "ActionRule",
    "ItemVerdict",
    "Outcome",
    "Party",
    "Schedule",
    "State",
    "allowed_from",
    "check_outcome",
    "check_party",
    "party_of",
    "reschedule",
    "transition",
]

State = Literal["submitted", "under_review", "info_requested", "decided", "appealed", "withdrawn", "closed"]
Action = Literal["review", "request_info", "respond", "assign", "decide", "appeal", "withdraw", "close"]
Party = Literal["home", "host"]
Outcome = Literal["approved", "partially_approved", "rejected"]
ItemVerdict = Literal["granted", "partially_granted", "refused"]

STATES: Final[tuple[State, ...]] = get_args(State)
ACTIONS: Final[tuple[Action, ...]] = get_args(Action)
OPEN_STATES: Final[frozenset[State]] = frozenset({"submitted", "under_review", "info_requested", "appealed"})
FINAL_STATES: Final[frozenset[State]] = frozenset({"decided", "withdrawn", "closed"})

# Consortium defaults for the SLA clock (TES-style service levels; a member policy may shorten them).
DECISION_SLA: Final = dt.timedelta(days=20)
INFO_RESPONSE_SLA: Final = dt.timedelta(days=10)
APPEAL_WINDOW: Final = dt.timedelta(days=30)
# An appeal reopens the review with a fresh, shorter clock.
APPEAL_REVIEW_SLA: Final = dt.timedelta(days=10)
MAX_ROUNDS: Final = 2  # the first review, and one appeal

_TABLE: dict[tuple[State, Action], State] = {
    ("submitted", "review"): "under_review",
    ("appealed", "review"): "under_review",
    ("under_review", "request_info"): "info_requested",
    ("info_requested", "respond"): "under_review",
    ("under_review", "decide"): "decided",
    ("decided", "appeal"): "appealed",
    ("decided", "close"): "closed",
}
for _state in sorted(OPEN_STATES):
    _TABLE[(_state, "withdraw")] = "withdrawn"
    _TABLE[(_state, "assign")] = _state

TRANSITIONS: Final[Mapping[tuple[State, Action], State]] = _TABLE
"""(state, action) -> next state. A pair that is not here is an illegal transition (409)."""


class ActionRule(NamedTuple):
    """Who may take an action: the parties, and the scope their token must carry."""

    parties: frozenset[Party]
    scope: str


_HOST: Final[frozenset[Party]] = frozenset({"host"})
_HOME: Final[frozenset[Party]] = frozenset({"home"})
_BOTH: Final[frozenset[Party]] = frozenset({"home", "host"})

RULES: Final[Mapping[Action, ActionRule]] = {
    # Registrar actions belong to the receiving (host) member, whose registrars decide.
    "review": ActionRule(_HOST, "mobility:decide"),
    "request_info": ActionRule(_HOST, "mobility:decide"),
    "assign": ActionRule(_HOST, "mobility:decide"),
    "decide": ActionRule(_HOST, "mobility:decide"),
    "close": ActionRule(_HOST, "mobility:decide"),
    # The learner's side answers questions and appeals; either party may withdraw an open request.
    "respond": ActionRule(_BOTH, "mobility:write"),
    "appeal": ActionRule(_HOME, "mobility:write"),
    "withdraw": ActionRule(_BOTH, "mobility:write"),
}


def allowed_from(action: Action) -> tuple[State, ...]:
    """The states ``action`` may be taken from (the ``state = ANY(...)`` of the conditional update)."""
    return tuple(s for s in STATES if (s, action) in TRANSITIONS)


def party_of(institution: str, home: str, host: str) -> Party | None:
    if institution == host:
        return "host"
    if institution == home:
        return "home"
    return None


def _illegal(detail: str, state: State, action: Action) -> IllegalTransition:
    allowed = tuple(a for a in ACTIONS if (state, a) in TRANSITIONS)
    return IllegalTransition(detail, state=state, action=action, allowed=allowed)


def check_party(action: Action, party: Party) -> None:
    """``Forbidden`` unless ``party`` may take ``action`` (e.g. only the host decides)."""
    rule = RULES[action]
    if party not in rule.parties:
        who = " or ".join(sorted(rule.parties))
        raise Forbidden(f"only the {who} member may {action.replace('_', ' ')}", field="institution")


def transition(
    state: State, action: Action, *, round_: int, appeal_until: dt.datetime | None, now: dt.datetime
) -> State:
    """The next state, or ``IllegalTransition`` when the table (or the appeal rules) do not allow it."""
    target = TRANSITIONS.get((state, action))
    if target is None:
        raise _illegal(f"a request in state {state} cannot {action.replace('_', ' ')}", state, action)
    if action == "appeal":
        if round_ >= MAX_ROUNDS:
            raise _illegal("a request can be appealed once", state, action)
        if appeal_until is None or now > appeal_until:
            raise _illegal("the appeal window has ended", state, action)
    if action == "close" and round_ < MAX_ROUNDS and appeal_until is not None and now <= appeal_until:
        raise _illegal(f"the appeal window is open until {appeal_until.isoformat()}", state, action)
    return target


class Schedule(NamedTuple):
    """The SLA clock: ``due_at`` is when the next step is due (shown in the queue); ``decision_due`` the
    decision's own date, which stands still while information is requested (``paused_since``)."""

    due_at: dt.datetime | None
    decision_due: dt.datetime | None
    paused_since: dt.datetime | None = None
    appeal_until: dt.datetime | None = None

    @classmethod
    def submitted(cls, now: dt.datetime) -> Schedule:
        return cls(due_at=now + DECISION_SLA, decision_due=now + DECISION_SLA)


def reschedule(schedule: Schedule, action: Action, now: dt.datetime) -> Schedule:
    """The clock after ``action`` at ``now``."""
    if action == "request_info":
        return schedule._replace(due_at=now + INFO_RESPONSE_SLA, paused_since=now)
    if action == "respond":
        paused = (now - schedule.paused_since) if schedule.paused_since else dt.timedelta(0)
        due = schedule.decision_due + paused if schedule.decision_due else now + DECISION_SLA
        return schedule._replace(due_at=due, decision_due=due, paused_since=None)
    if action == "decide":
        until = now + APPEAL_WINDOW
        return Schedule(due_at=None, decision_due=None, paused_since=None, appeal_until=until)
    if action == "appeal":
        due = now + APPEAL_REVIEW_SLA
        return Schedule(due_at=due, decision_due=due, paused_since=None, appeal_until=None)
    if action in ("withdraw", "close"):
        return Schedule(due_at=None, decision_due=None, paused_since=None, appeal_until=schedule.appeal_until)
    return schedule  # review and assign do not move the clock


def check_outcome(outcome: Outcome, verdicts: Sequence[ItemVerdict]) -> None:
    """A request's outcome must agree with its items' verdicts: approved = every item granted in full,
    rejected = every item refused, partially approved = anything in between."""
    granted = sum(v == "granted" for v in verdicts)
    refused = sum(v == "refused" for v in verdicts)
    expected: Outcome
    if granted == len(verdicts):
        expected = "approved"
    elif refused == len(verdicts):
        expected = "rejected"
    else:
        expected = "partially_approved"
    if outcome != expected:
        raise InvalidRequest(
            f"the item decisions make this request {expected}, not {outcome}",
            field="outcome",
            expected=expected,
        )
