"""Properties of the engine over generated agreements, equivalences and credentials (Hypothesis).

- determinism: the same inputs, in any order, give the same outcome, byte for byte;
- monotonicity: more credit, or a better grade, never lowers ``outcome_rank`` (not_recognised <
  needs_review < partially_recognised = recognised, then credits granted);
- an agreement version not in force on the issue date and on the evaluation date never applies;
- explanations always name the agreement and equivalence versions used;
- the outcome's fields agree with its status.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from hypothesis import event, given, settings
from hypothesis import strategies as st
from recognition_builders import MEMBERS, UNITS, credits, record

from contracts.credentials import CredentialRecord
from contracts.credits import Grade
from gateway.recognition import RecognitionEngine, outcome_rank
from gateway.recognition.models import (
    AgreementConditions,
    AgreementScope,
    Bilateral,
    ConsortiumWide,
    CredentialOutcome,
    EqfRange,
    Equivalence,
    GeneralCreditGrant,
    MaxAge,
    ModuleGrant,
    NormalisedGradeMinimum,
    RecognisedModule,
    RecognisingMember,
    RecognitionAgreement,
)

ON = dt.date(2026, 9, 1)
IDS = sorted(MEMBERS)
LEVELS = {
    "uk-fheq": ("4", "5", "6", "7", "8"),
    "scqf": ("7", "8", "9", "10", "11"),
    "ects": ("5", "6", "7"),
    "us-semester": ("associate", "bachelor"),
    "nzqf": ("5", "7", "8", "9"),
}
SUBJECTS = ("0613", "0612", "0413", "06", "0588")
SETTINGS = settings(max_examples=150, deadline=None)

days = st.integers(min_value=0, max_value=3 * 365)


def _minimum(value: float) -> NormalisedGradeMinimum:
    return NormalisedGradeMinimum(value=value)


def day(offset: int) -> dt.date:
    return dt.date(2024, 1, 1) + dt.timedelta(days=offset)


def sometimes(strategy: st.SearchStrategy[Any], default: Any = None) -> st.SearchStrategy[Any]:
    """``default`` two times in three: most generated agreements should apply to something."""
    return st.sampled_from((True, True, False)).flatmap(lambda plain: st.just(default) if plain else strategy)


@st.composite
def agreements(draw: st.DrawFn) -> list[RecognitionAgreement]:
    found: list[RecognitionAgreement] = []
    for n in range(draw(st.integers(min_value=1, max_value=5))):
        if draw(st.sampled_from((True, True, False))):
            parties: Bilateral | ConsortiumWide = ConsortiumWide()
        else:
            a, b = draw(st.lists(st.sampled_from(IDS), min_size=2, max_size=2, unique=True))
            parties = Bilateral(members=(a, b), mutual=draw(st.booleans()))
        eqf = draw(sometimes(st.tuples(st.integers(4, 7), st.integers(0, 2))))
        scope = AgreementScope(
            eqf=EqfRange(min=eqf[0], max=min(8, eqf[0] + eqf[1])) if eqf else None,
            subjects=draw(sometimes(st.sampled_from((("06",), ("04", "0613"), ("0613",))), ())),
            credential_types=draw(sometimes(st.sampled_from((("standalone",), ("stackable",))), ())),
        )
        conditions = AgreementConditions(
            qa_current_at_award=draw(st.sampled_from((False, False, True))),
            max_age=draw(sometimes(st.integers(1, 4).map(lambda y: MaxAge(amount=y, unit="years")))),
            min_grade=draw(sometimes(st.sampled_from((0.4, 0.5, 0.6)).map(_minimum))),
        )
        framework = MEMBERS[parties.members[0]] if isinstance(parties, Bilateral) else "ects"
        if draw(st.booleans()) and isinstance(parties, Bilateral):
            level = draw(st.sampled_from(LEVELS[framework]))
            grant: Any = ModuleGrant(
                modules=(
                    RecognisedModule(code=f"M{n}", title="M", credits=credits(10, framework), level=level),
                )
            )
        else:
            cap = draw(st.none() | st.sampled_from((5.0, 10.0, 30.0)))
            grant = GeneralCreditGrant(max_credits=credits(cap, "ects") if cap else None)
        start = draw(st.integers(min_value=0, max_value=300))
        length = draw(sometimes(st.integers(min_value=200, max_value=900)))
        first = RecognitionAgreement(
            id=f"AG{n}",
            version=1,
            parties=parties,
            valid_from=day(start),
            valid_to=day(start + length) if length is not None else None,
            scope=scope,
            conditions=conditions,
            grant=grant,
            status=draw(st.sampled_from(("active",) * 7 + ("suspended",))),
        )
        found.append(first)
        if length is not None and draw(st.booleans()):  # a second version, after the first one ends
            found.append(
                msgspec.structs.replace(first, version=2, valid_from=day(start + length + 1), valid_to=None)
            )
    return found


@st.composite
def equivalences(draw: st.DrawFn) -> list[Equivalence]:
    found = []
    for n in range(draw(st.integers(min_value=0, max_value=3))):
        issuer, recogniser = draw(st.lists(st.sampled_from(IDS), min_size=2, max_size=2, unique=True))
        framework = MEMBERS[recogniser]
        module = RecognisedModule(
            code=f"EQ{n}",
            title="Equivalent",
            credits=credits(draw(st.sampled_from((5, 10, 20))), framework),
            level=draw(st.sampled_from(LEVELS[framework])),
        )
        start = draw(days)
        found.append(
            Equivalence(
                id=f"EQ{n}",
                version=1,
                issuer=issuer,
                credential=f"{issuer}:DATA101" if draw(st.booleans()) else f"{issuer}:DATA*",
                recogniser=recogniser,
                modules=(module,),
                valid_from=day(start),
                valid_to=draw(st.none() | st.just(day(start + 400))),
                approved_by="Registrar",
            )
        )
    return found


@st.composite
def credentials(draw: st.DrawFn) -> CredentialRecord:
    issuer = draw(st.sampled_from(IDS))
    framework = MEMBERS[issuer]
    mark = draw(st.integers(min_value=40, max_value=100))
    issued = draw(st.integers(min_value=365, max_value=940))  # 2025-01-01 .. 2026-07-29, before ON
    return record(
        issuer=issuer,
        framework=framework,
        amount=draw(st.sampled_from((1, 2.5, 5, 10, 15, 20, 30, 60))),
        level=(framework, draw(st.sampled_from(LEVELS[framework]))),
        issued_on=day(issued),
        field=draw(sometimes(st.none(), draw(st.sampled_from(SUBJECTS)))),
        stackable=draw(sometimes(st.none(), draw(st.booleans()))),
        review_due=draw(sometimes(st.none() | st.just(day(issued - 1)), day(issued + 365))),
        grade=Grade(framework="uk-fheq", scheme="uk-marks", value=str(mark)) if draw(st.booleans()) else None,
    )


# Reversed, so that the simplest recogniser is not the simplest issuer (that case is covered too).
recognisers = st.sampled_from(IDS[::-1]).map(lambda m: RecognisingMember(id=m, framework=MEMBERS[m]))


def evaluate(
    agrs: list[RecognitionAgreement], eqs: list[Equivalence], rec: CredentialRecord, to: RecognisingMember
) -> CredentialOutcome:
    return RecognitionEngine(agrs, eqs, members=MEMBERS).evaluate_credential(rec, to, ON)


def with_amount(rec: CredentialRecord, amount: float) -> CredentialRecord:
    workload = rec.credential.workload
    more = msgspec.structs.replace(workload, amount=amount)
    return msgspec.structs.replace(rec, credential=msgspec.structs.replace(rec.credential, workload=more))


@SETTINGS
@given(agreements(), equivalences(), credentials(), recognisers)
def test_deterministic_whatever_the_order_of_inputs(
    agrs: list[RecognitionAgreement], eqs: list[Equivalence], rec: CredentialRecord, to: RecognisingMember
) -> None:
    engine = RecognitionEngine(agrs, eqs, members=MEMBERS)
    first = msgspec.json.encode(engine.evaluate_credential(rec, to, ON))
    assert msgspec.json.encode(engine.evaluate_credential(rec, to, ON)) == first
    reordered = RecognitionEngine(list(reversed(agrs)), list(reversed(eqs)), members=MEMBERS)
    assert msgspec.json.encode(reordered.evaluate_credential(rec, to, ON)) == first


@SETTINGS
@given(agreements(), equivalences(), credentials(), recognisers, st.sampled_from((0.5, 5, 20, 100)))
def test_more_credit_never_lowers_the_outcome(
    agrs: list[RecognitionAgreement],
    eqs: list[Equivalence],
    rec: CredentialRecord,
    to: RecognisingMember,
    extra: float,
) -> None:
    engine = RecognitionEngine(agrs, eqs, members=MEMBERS)
    before = engine.evaluate_credential(rec, to, ON)
    after = engine.evaluate_credential(with_amount(rec, rec.credential.workload.amount + extra), to, ON)
    assert outcome_rank(after) >= outcome_rank(before)


@SETTINGS
@given(agreements(), credentials(), recognisers, st.integers(min_value=0, max_value=60))
def test_a_better_grade_never_lowers_the_outcome(
    agrs: list[RecognitionAgreement], rec: CredentialRecord, to: RecognisingMember, better: int
) -> None:
    grade = rec.grade or Grade(framework="uk-fheq", scheme="uk-marks", value="40")
    improved = min(100, int(grade.value) + better)
    engine = RecognitionEngine(agrs, [], members=MEMBERS)
    before = engine.evaluate_credential(msgspec.structs.replace(rec, grade=grade), to, ON)
    after = engine.evaluate_credential(
        msgspec.structs.replace(rec, grade=msgspec.structs.replace(grade, value=str(improved))), to, ON
    )
    assert outcome_rank(after) >= outcome_rank(before)


@SETTINGS
@given(agreements(), equivalences(), credentials(), recognisers)
def test_a_version_not_in_force_never_applies(
    agrs: list[RecognitionAgreement], eqs: list[Equivalence], rec: CredentialRecord, to: RecognisingMember
) -> None:
    outcome = evaluate(agrs, eqs, rec, to)
    if outcome.agreement is None:
        return
    used = next(a for a in agrs if (a.id, a.version) == (outcome.agreement.id, outcome.agreement.version))
    assert used.status == "active"
    for when in (rec.issued_on, ON):
        assert used.valid_from <= when
        assert used.valid_to is None or when <= used.valid_to
    if outcome.equivalence is not None:
        eq = next(e for e in eqs if e.id == outcome.equivalence.id)
        assert eq.valid_from <= rec.issued_on
        assert eq.valid_to is None or eq.valid_to >= ON


@SETTINGS
@given(agreements(), equivalences(), credentials(), recognisers)
def test_explanations_name_the_versions_used(
    agrs: list[RecognitionAgreement], eqs: list[Equivalence], rec: CredentialRecord, to: RecognisingMember
) -> None:
    outcome = evaluate(agrs, eqs, rec, to)
    named = {(r.id, r.version) for r in outcome.explanation.agreements}
    labels = {f"{i}@{v}" for i, v in named}
    assert {r.agreement for r in outcome.explanation.rules} <= labels | {None}
    if outcome.agreement is not None:
        assert (outcome.agreement.id, outcome.agreement.version) in named
        assert any(
            r.agreement == f"{outcome.agreement.id}@{outcome.agreement.version}"
            for r in outcome.explanation.rules
        )
    if outcome.equivalence is not None:
        assert outcome.equivalence in outcome.explanation.equivalences
    assert outcome.explanation.basis == outcome.basis == "convention"


@SETTINGS
@given(agreements(), equivalences(), credentials(), recognisers)
def test_fields_agree_with_the_status(
    agrs: list[RecognitionAgreement], eqs: list[Equivalence], rec: CredentialRecord, to: RecognisingMember
) -> None:
    outcome = evaluate(agrs, eqs, rec, to)
    event(outcome.status)
    granted = outcome.status in ("recognised", "partially_recognised")
    assert (outcome.credits is not None) == granted
    assert (outcome.level is not None) == granted
    assert bool(outcome.undecided) == (outcome.status == "needs_review")
    if outcome.credits is not None:
        assert outcome.credits.framework == to.framework
        assert outcome.credits.unit == UNITS[to.framework]
        assert outcome.credits.amount > 0
    if outcome.status == "needs_review":
        undecidable = {r.rule for r in outcome.explanation.rules if r.result == "undecidable"}
        assert set(outcome.undecided) <= undecidable
    assert msgspec.json.decode(msgspec.json.encode(outcome), type=CredentialOutcome) == outcome
