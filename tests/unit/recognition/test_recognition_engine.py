"""The recognition engine, rule by rule: applicability, scope, QA, currency, grade, equivalences, grants."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import msgspec
import pytest
from recognition_builders import (
    ISSUED,
    MEMBERS,
    TODAY,
    A,
    B,
    E,
    N,
    S,
    U,
    agreement,
    credits,
    equivalence,
    everyone,
    module,
    recogniser,
    record,
)

from contracts.credentials import CredentialRecord
from contracts.credits import Grade
from contracts.frameworks import EctsConvention, FrameworkOverrides
from gateway.recognition import RecognitionEngine
from gateway.recognition.models import (
    AgreementConditions,
    AgreementScope,
    AwardRef,
    Bilateral,
    BlockCreditGrant,
    CredentialOutcome,
    EqfRange,
    Equivalence,
    EvaluationRequest,
    FrameworkGradeMinimum,
    GeneralCreditGrant,
    LevelRef,
    MaxAge,
    ModuleGrant,
    NormalisedGradeMinimum,
    RecognitionAgreement,
)


def evaluate(
    agreements: list[RecognitionAgreement],
    rec: CredentialRecord | None = None,
    *,
    to: str = B,
    equivalences: Sequence[Equivalence] = (),
    on: dt.date = TODAY,
) -> CredentialOutcome:
    engine = RecognitionEngine(agreements, equivalences, members=MEMBERS)
    return engine.evaluate_credential(rec or record(), recogniser(to), on)


def rules_of(outcome: CredentialOutcome) -> list[tuple[str, str]]:
    return [(r.rule, r.result) for r in outcome.explanation.rules]


# --- applicability -----------------------------------------------------------------------------------------


def test_a_bilateral_agreement_recognises_in_full_and_explains_each_rule() -> None:
    outcome = evaluate([agreement()])
    assert outcome.status == "recognised"
    assert outcome.credits is not None
    assert (outcome.credits.amount, outcome.credits.unit) == (20, "uk-credit")
    # 20 UK credits = 10 ECTS on the convention basis (domain.md section 1, "UK credit -> ECTS x0.5", B).
    assert (outcome.credits.ects, outcome.credits.ects_basis) == (10, "convention")
    assert outcome.level is not None
    assert (outcome.level.code, outcome.level.eqf) == ("7", 7)
    assert outcome.agreement is not None
    assert (outcome.agreement.id, outcome.agreement.version) == ("A1", 1)
    assert rules_of(outcome) == [
        ("agreement.applies", "pass"),
        ("agreement.validity", "pass"),
        ("equivalence", "pass"),
        ("conversion.credits", "pass"),
        ("conversion.level", "pass"),
        ("grant", "pass"),
    ]
    assert all(r.agreement == "A1@1" for r in outcome.explanation.rules)


def test_no_agreement_between_the_members() -> None:
    outcome = evaluate([agreement()], record(issuer=S, framework="scqf", level=("scqf", "11")))
    assert outcome.status == "not_recognised"
    assert rules_of(outcome) == [("agreement.applies", "fail")]
    assert outcome.explanation.agreements == ()


def test_one_way_agreement_binds_only_its_direction() -> None:
    one_way = agreement(parties=Bilateral(members=(B, A), mutual=False))  # B recognises A's credentials
    assert evaluate([one_way]).status == "recognised"
    assert evaluate([one_way], record(issuer=B), to=A).status == "not_recognised"


def test_a_consortium_wide_agreement_binds_every_pair() -> None:
    wide = agreement("ALL", parties=everyone())
    assert evaluate([wide], to=S).status == "recognised"
    assert evaluate([wide], to=E).status == "recognised"


def test_the_recogniser_does_not_recognise_its_own_credentials() -> None:
    outcome = evaluate([agreement("ALL", parties=everyone())], record(issuer=B))
    assert outcome.status == "not_recognised"
    assert "issued by the recognising member itself" in outcome.explanation.rules[0].reason


@pytest.mark.parametrize("status", ["suspended", "withdrawn"])
def test_only_active_versions_apply(status: str) -> None:
    outcome = evaluate([agreement(status=status)])
    assert outcome.status == "not_recognised"
    assert rules_of(outcome) == [("agreement.applies", "fail")]


def test_an_expired_version_never_applies_even_to_credentials_issued_under_it() -> None:
    expired = agreement(valid_from=dt.date(2024, 1, 1), valid_to=dt.date(2026, 6, 30))
    outcome = evaluate([expired], record(issued_on=dt.date(2026, 3, 1)), on=dt.date(2026, 9, 1))
    assert outcome.status == "not_recognised"
    assert outcome.explanation.rules[-1].reason == "expired before the evaluation date"


def test_a_version_must_be_in_force_on_the_issue_date() -> None:
    later = agreement(valid_from=dt.date(2026, 4, 1))
    outcome = evaluate([later], record(issued_on=dt.date(2026, 3, 1)))
    assert outcome.status == "not_recognised"
    assert outcome.explanation.rules[-1].reason == "not in force on the issue date"


def test_the_version_in_force_is_used_and_every_version_is_named() -> None:
    v1 = agreement(valid_to=dt.date(2025, 12, 31), grant=GeneralCreditGrant(max_credits=credits(10)))
    v2 = agreement(version=2, valid_from=dt.date(2026, 1, 1))
    outcome = evaluate([v2, v1])
    assert outcome.status == "recognised"
    assert outcome.agreement is not None
    assert outcome.agreement.version == 2
    assert [(r.id, r.version) for r in outcome.explanation.agreements] == [("A1", 1), ("A1", 2)]
    assert [r.agreement for r in outcome.explanation.rules[:2]] == ["A1@1", "A1@1"]


# --- scope -------------------------------------------------------------------------------------------------


def test_eqf_range_compares_through_the_level_referencing() -> None:
    # SCQF 11 -> EQF 7 (domain.md section 2, level referencing table, SCQF row 11, B).
    scoped = agreement(parties=everyone(), scope=AgreementScope(eqf=EqfRange(min=7, max=7)))
    scottish = record(issuer=S, framework="scqf", level=("scqf", "11"))
    assert evaluate([scoped], scottish).status == "recognised"
    scottish_9 = record(issuer=S, framework="scqf", level=("scqf", "9"))  # SCQF 9 -> EQF 6
    outcome = evaluate([scoped], scottish_9)
    assert outcome.status == "not_recognised"
    assert ("scope.level", "fail") in rules_of(outcome)


def test_a_level_without_eqf_referencing_cannot_be_checked_against_an_eqf_range() -> None:
    # NZQF 8 "would remain unlevelled to the EQF" (domain.md section 2, NZQF row 8, A).
    nz = record(issuer=N, framework="nzqf", level=("nzqf", "8"), amount=15)
    outcome = evaluate([agreement(parties=everyone(), scope=AgreementScope(eqf=EqfRange(min=7, max=8)))], nz)
    assert outcome.status == "needs_review"
    assert outcome.undecided[0] == "scope.level"


def test_named_levels_match_whatever_the_alias() -> None:
    scope = AgreementScope(levels=(LevelRef(framework="uk-fheq", code="fheq-7"),))
    assert evaluate([agreement(scope=scope)]).status == "recognised"
    assert evaluate([agreement(scope=scope)], record(level=("uk-fheq", "6"))).status == "not_recognised"


def test_subjects_match_as_isced_prefixes() -> None:
    ict = AgreementScope(subjects=("06",))
    assert evaluate([agreement(scope=ict)], record(field="0613")).status == "recognised"
    assert evaluate([agreement(scope=ict)], record(field="0413")).status == "not_recognised"
    narrow = AgreementScope(subjects=("0613",))
    broad = evaluate([agreement(scope=narrow)], record(field="06"))
    assert (broad.status, broad.undecided) == ("needs_review", ("scope.subject",))
    assert evaluate([agreement(scope=narrow)], record(field=None)).status == "needs_review"


def test_credential_types_come_from_stackability() -> None:
    stackable_only = AgreementScope(credential_types=("stackable",))
    assert evaluate([agreement(scope=stackable_only)], record(stackable=True)).status == "recognised"
    assert evaluate([agreement(scope=stackable_only)], record(stackable=False)).status == "not_recognised"
    assert evaluate([agreement(scope=stackable_only)], record(stackable=None)).status == "needs_review"


# --- quality assurance, currency, grade ------------------------------------------------------------------


def test_qa_type_must_be_accepted() -> None:
    external = agreement(conditions=AgreementConditions(qa_types=("External",)))
    assert evaluate([external], record(qa_type="external")).status == "recognised"
    assert evaluate([external], record(qa_type="internal")).status == "not_recognised"


def test_qa_review_current_at_award_and_unknown_review_date_needs_review() -> None:
    current = agreement(conditions=AgreementConditions(qa_current_at_award=True))
    assert evaluate([current], record(review_due=ISSUED)).status == "recognised"
    overdue = evaluate([current], record(review_due=ISSUED - dt.timedelta(days=1)))
    assert overdue.status == "not_recognised"
    unknown = evaluate([current], record(review_due=None))
    assert unknown.status == "needs_review"
    assert unknown.undecided == ("qa.current_at_award",)
    assert unknown.credits is None
    assert "QA review date is unknown" in unknown.explanation.rules[2].reason


def test_a_failed_rule_wins_over_an_undecidable_one() -> None:
    both = agreement(
        conditions=AgreementConditions(qa_current_at_award=True, qa_types=("external",)),
    )
    assert evaluate([both], record(review_due=None, qa_type="internal")).status == "not_recognised"
    later_fail = agreement(
        conditions=AgreementConditions(qa_current_at_award=True, max_age=MaxAge(amount=30, unit="days"))
    )
    assert evaluate([later_fail], record(review_due=None)).status == "not_recognised"


@pytest.mark.parametrize(
    ("max_age", "on", "status"),
    [
        (MaxAge(amount=2, unit="years"), dt.date(2028, 3, 1), "recognised"),
        (MaxAge(amount=2, unit="years"), dt.date(2028, 3, 2), "not_recognised"),
        (MaxAge(amount=184, unit="days"), dt.date(2026, 9, 1), "recognised"),
        (MaxAge(amount=183, unit="days"), dt.date(2026, 9, 1), "not_recognised"),
    ],
)
def test_currency_max_age(max_age: MaxAge, on: dt.date, status: str) -> None:
    assert evaluate([agreement(conditions=AgreementConditions(max_age=max_age))], on=on).status == status


def test_a_credential_past_its_own_expiry_is_not_recognised() -> None:
    outcome = evaluate([agreement()], record(valid_until=dt.date(2026, 8, 31)))
    assert outcome.status == "not_recognised"
    assert ("currency.valid_until", "fail") in rules_of(outcome)


def test_normalised_minimum_grade() -> None:
    # UK marks are normalised as mark / 100 (grading_schemes UK_MARKS; domain.md section 4).
    minimum = agreement(conditions=AgreementConditions(min_grade=NormalisedGradeMinimum(value=0.6)))
    good = Grade(framework="uk-fheq", scheme="uk-marks", value="65")
    weak = Grade(framework="uk-fheq", scheme="uk-marks", value="55")
    assert evaluate([minimum], record(grade=good)).status == "recognised"
    assert evaluate([minimum], record(grade=weak)).status == "not_recognised"
    assert evaluate([minimum], record(grade=None)).status == "needs_review"
    failed = Grade(framework="uk-fheq", scheme="uk-marks", value="65", passed=False)
    assert evaluate([minimum], record(grade=failed)).status == "not_recognised"


def test_pass_fail_grades_cannot_show_more_than_a_pass() -> None:
    passed = Grade(framework="uk-fheq", scheme="pass-fail", value="pass")
    low = agreement(conditions=AgreementConditions(min_grade=NormalisedGradeMinimum(value=0.4)))
    high = agreement(conditions=AgreementConditions(min_grade=NormalisedGradeMinimum(value=0.6)))
    assert evaluate([low], record(grade=passed)).status == "recognised"
    assert evaluate([high], record(grade=passed)).undecided == ("grade.minimum",)


def test_minimum_grade_in_the_recognising_framework_converts_the_grade() -> None:
    # US B+ = 3.3 points -> 0.825 on 0..1; UK honours bands: First >= 0.7 (domain.md section 4, C).
    first = FrameworkGradeMinimum(framework="uk-fheq", scheme="uk-honours", value="first")
    minimum = agreement(parties=Bilateral(members=(B, U)), conditions=AgreementConditions(min_grade=first))

    def us(letter: str) -> CredentialRecord:
        grade = Grade(framework="us-semester", scheme="us-letter", value=letter)
        return record(
            issuer=U, framework="us-semester", level=("us-semester", "master"), amount=3, grade=grade
        )

    good, weak = us("B+"), us("B-")  # 3.3 / 4 = 0.825 (First); 2.7 / 4 = 0.675 (2:1)
    grant_level = GeneralCreditGrant(level=LevelRef(framework="uk-fheq", code="7"))
    ok = evaluate([msgspec.structs.replace(minimum, grant=grant_level)], good)
    assert ok.status == "recognised"
    assert ok.explanation.grade_conversions[0].value == "first"
    assert evaluate([msgspec.structs.replace(minimum, grant=grant_level)], weak).status == "not_recognised"


# --- equivalences and grants --------------------------------------------------------------------------------


def test_an_equivalence_wins_over_general_credit() -> None:
    eq = equivalence(modules=(module("DS7001", 20, "7"),))
    outcome = evaluate([agreement()], equivalences=[eq])
    assert outcome.status == "recognised"
    assert outcome.equivalence is not None
    assert (outcome.equivalence.id, outcome.equivalence.version) == ("E1", 1)
    assert [m.code for m in outcome.modules] == ["DS7001"]
    assert outcome.explanation.equivalences[0].id == "E1"
    # The private note is for registrars only.
    assert b"syllabus" not in msgspec.json.encode(outcome)


def test_an_equivalence_granting_less_than_the_credential_is_partial() -> None:
    eq = equivalence(modules=(module("DS7001", 15, "7"),))
    outcome = evaluate([agreement()], equivalences=[eq])
    assert outcome.status == "partially_recognised"
    assert outcome.credits is not None
    assert outcome.credits.amount == 15


def test_equivalences_by_prefix_expired_versions_and_agreement_limits() -> None:
    prefix = equivalence("E-PFX", credential=f"{A}:DATA*", modules=(module("P1"),))
    exact = equivalence("E-EXACT", modules=(module("X1"),))
    assert [m.code for m in evaluate([agreement()], equivalences=[prefix, exact]).modules] == ["X1"]
    expired = equivalence(valid_to=dt.date(2026, 6, 30))
    outcome = evaluate([agreement()], equivalences=[expired])
    assert (outcome.equivalence, outcome.modules) == (None, ())
    other = equivalence(agreement_id="SOMETHING-ELSE")
    assert evaluate([agreement()], equivalences=[other]).equivalence is None


def test_general_credit_capped_is_partial() -> None:
    capped = agreement(grant=GeneralCreditGrant(max_credits=credits(5, "ects")))  # 5 ECTS = 10 UK credits
    outcome = evaluate([capped])
    assert outcome.status == "partially_recognised"
    assert outcome.credits is not None
    assert outcome.credits.amount == 10


def test_module_grant_and_block_credit() -> None:
    mod = agreement(grant=ModuleGrant(modules=(module("M1", 10, "6"), module("M2", 10, "7"))))
    outcome = evaluate([mod])
    assert (outcome.status, [m.code for m in outcome.modules]) == ("recognised", ["M1", "M2"])
    block = BlockCreditGrant(
        award=AwardRef(framework="uk-fheq", id="pg-certificate"),
        credits=credits(20),
        level=LevelRef(framework="uk-fheq", code="7"),
    )
    outcome = evaluate([agreement(grant=block)])
    assert (outcome.status, outcome.award) == ("recognised", "pg-certificate")
    at_scot = evaluate([agreement(parties=everyone(), grant=block)], to=S)
    assert at_scot.status == "not_recognised"
    assert at_scot.explanation.rules[-1].rule == "grant"


def test_the_best_agreement_wins_and_the_others_are_explained() -> None:
    small = agreement("A-SMALL", grant=GeneralCreditGrant(max_credits=credits(10)))
    full = agreement("B-FULL", parties=everyone())
    outcome = evaluate([small, full])
    assert outcome.status == "recognised"
    assert outcome.agreement is not None
    assert outcome.agreement.id == "B-FULL"
    assert {r.agreement for r in outcome.explanation.rules} == {"A-SMALL@1", "B-FULL@1"}


def test_general_credit_without_a_level_to_grant_needs_review() -> None:
    # US degree levels carry no EQF level (adapters us_degree_levels), so no UK level can be derived.
    us = record(issuer=U, framework="us-semester", level=("us-semester", "bachelor"), amount=3)
    outcome = evaluate([agreement(parties=everyone())], us)
    assert (outcome.status, outcome.undecided) == ("needs_review", ("conversion.level",))


def test_evaluate_validates_and_keeps_request_order() -> None:
    engine = RecognitionEngine([agreement(parties=everyone())], members=MEMBERS)
    request = EvaluationRequest(
        credentials=(record("r1"), record("r2", issuer=S, framework="scqf", level=("scqf", "11"))),
        recogniser=recogniser(B),
        evaluation_date=TODAY,
    )
    result = engine.evaluate(request)
    assert [o.credential for o in result.outcomes] == [f"{A}:r1", f"{S}:r2"]
    assert result.basis == "convention"
    assert result.award_progress is None
    again = msgspec.json.decode(msgspec.json.encode(result), type=type(result))
    assert again == result


def test_a_members_own_conversion_factor_is_used_and_never_leaks_to_another_member() -> None:
    # The UK credit -> ECTS convention is status B (domain.md section 1), so a member may set its own.
    own = EctsConvention(units=3, ects=1, source="Member B regulations", status="C")
    engine = RecognitionEngine(
        [agreement(parties=everyone())],
        members=MEMBERS,
        member_overrides={B: FrameworkOverrides(ects_convention=own)},
    )
    ects = record(issuer=E, framework="ects", amount=10, level=("ects", "7"))
    at_a = engine.evaluate_credential(ects, recogniser(A), TODAY)
    at_b = engine.evaluate_credential(ects, recogniser(B), TODAY)
    assert at_a.credits is not None
    assert at_b.credits is not None
    assert (at_a.credits.amount, at_b.credits.amount) == (20, 30)
    step = at_b.explanation.credit_conversions[0].explanation.steps[-1]
    assert step.source == "Member B regulations"
