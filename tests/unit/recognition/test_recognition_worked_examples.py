"""Worked examples across frameworks; each figure cites its row in shared/reference/domain.md."""

from __future__ import annotations

import pytest
from recognition_builders import MEMBERS, TODAY, B, E, N, S, U, agreement, everyone, recogniser, record

from contracts.credentials import CredentialRecord
from contracts.types import ConversionBasis
from gateway.recognition import RecognitionEngine
from gateway.recognition.models import (
    Bilateral,
    CredentialOutcome,
    GeneralCreditGrant,
    LevelRef,
    RecognisingMember,
    RecognitionAgreement,
)

US_AT_B = agreement(
    parties=Bilateral(members=(B, U), mutual=False),
    grant=GeneralCreditGrant(level=LevelRef(framework="uk-fheq", code="6")),
)


def evaluate(
    rec: CredentialRecord,
    to: RecognisingMember,
    basis: ConversionBasis = "convention",
    agreements: list[RecognitionAgreement] | None = None,
) -> CredentialOutcome:
    engine = RecognitionEngine(agreements or [agreement(parties=everyone())], members=MEMBERS)
    return engine.evaluate_credential(rec, to, TODAY, basis)


def test_three_us_semester_hours_are_twelve_uk_credits_by_convention() -> None:
    # Section 1, conversion conventions: "US SCH -> ECTS x2 (30 SCH/yr <-> 60 ECTS) | C" and
    # "UK credit -> ECTS x0.5 (2 UK = 1 ECTS) | B": 3 SCH = 6 ECTS = 12 UK credits, status C.
    us = record(issuer=U, framework="us-semester", amount=3, level=("us-semester", "bachelor"))
    outcome = evaluate(us, recogniser(B), agreements=[US_AT_B])
    assert outcome.status == "recognised"
    assert outcome.credits is not None
    assert outcome.credits.amount == 12
    assert (outcome.credits.ects, outcome.credits.ects_basis) == (6, "convention")
    (conversion,) = outcome.explanation.credit_conversions
    assert conversion.explanation.chain == ("us-semester", "ects", "uk-fheq")
    assert conversion.explanation.weakest_status == "C"  # "Not official."
    assert outcome.basis == "convention"


def test_the_same_credential_on_the_hours_basis() -> None:
    # Section 1: 1 SCH ~ 45 h (34 CFR 600.2, A); 1 UK credit = 10 h (A/B): 3 SCH = 135 h = 13.5 UK credits.
    # By hours the ECTS side is a range (25-30 h per ECTS), so no single ECTS figure is stated.
    us = record(issuer=U, framework="us-semester", amount=3, level=("us-semester", "bachelor"))
    outcome = evaluate(us, recogniser(B), "hours", agreements=[US_AT_B])
    assert outcome.credits is not None
    assert outcome.credits.amount == 13.5
    assert outcome.credits.ects is None
    assert outcome.explanation.credit_conversions[0].basis == "hours"


@pytest.mark.parametrize(
    ("issuer", "framework", "amount", "level", "to", "credits", "granted_level"),
    [
        # Section 1: "UK credit -> ECTS x0.5 (120 UK = 60 ECTS)"; section 2: FHEQ 7 -> EQF 7 (B).
        ("uni-a.ac.uk", "uk-fheq", 20, "7", E, 10, "7"),
        # Section 1: "SCQF credit -> ECTS x0.5"; section 2: SCQF 11 -> EQF 7 -> FHEQ 7 (B).
        (S, "scqf", 20, "11", B, 20, "7"),
        # ECTS 10 -> 20 UK credits; EQF 6 -> FHEQ 6 and RQF 6: the lowest candidate, FHEQ 6.
        (E, "ects", 10, "6", B, 20, "6"),
        # Gotcha 1, section 2: EQF 6 -> SCQF 9 and 10 (many-to-one): SCQF 9 is granted.
        (E, "ects", 10, "6", S, 20, "9"),
    ],
)
def test_credit_and_level_through_ects_and_eqf(
    issuer: str, framework: str, amount: float, level: str, to: str, credits: float, granted_level: str
) -> None:
    rec = record(issuer=issuer, framework=framework, amount=amount, level=(framework, level))
    outcome = evaluate(rec, recogniser(to))
    assert outcome.status == "recognised"
    assert outcome.credits is not None
    assert outcome.credits.amount == credits
    assert outcome.level is not None
    assert outcome.level.code == granted_level


def test_ambiguous_eqf_level_keeps_every_candidate_in_the_explanation() -> None:
    # Section 2, gotcha 1: "Inverting it ('EQF 6 -> which NFQ?') is ambiguous".
    outcome = evaluate(record(issuer=E, framework="ects", amount=10, level=("ects", "6")), recogniser(S))
    to_scqf = [c for c in outcome.explanation.level_conversions if c.to_framework == "scqf"]
    assert [c.code for c in to_scqf[0].candidates] == ["9", "10"]
    assert to_scqf[0].ambiguous


def test_nzqf_8_has_no_eqf_level_so_general_credit_needs_review() -> None:
    # Section 2: "NZQF,8,,A,NZQA: NZQF level 8 would remain unlevelled to the EQF".
    outcome = evaluate(record(issuer=N, framework="nzqf", amount=15, level=("nzqf", "8")), recogniser(B))
    assert outcome.status == "needs_review"
    assert outcome.undecided == ("conversion.level",)
    assert outcome.credits is None
