"""Stacking recognised credit towards an award: worked examples from shared/reference/domain.md section 3.

Each expected figure is written in the test with the table row it comes from.
"""

from __future__ import annotations

import msgspec
import pytest
from recognition_builders import MEMBERS, TODAY, A, B, S, agreement, everyone, granted, recogniser, record

from adapters.frameworks import reference_registry
from contracts.errors import InvalidFrameworkOverrides, InvalidRequest, NotFound
from contracts.frameworks import AwardRule, CreditRequirement, FrameworkOverrides, RplCap
from gateway.recognition import RecognitionEngine, award_progress
from gateway.recognition.models import (
    AwardProgress,
    EvaluationRequest,
    RecognisingMember,
    RequirementProgress,
)

REGISTRY = reference_registry()
UK = REGISTRY.get("uk-fheq")
SCQF = REGISTRY.get("scqf")
NZ = REGISTRY.get("nzqf")

# Sheffield Hallam: "at most 2/3 of an award's credit from prior certificated learning" (domain.md section 3,
# "Recognition of prior learning and credit-transfer limits", C).
SHU = FrameworkOverrides(
    rpl_caps=(RplCap(max_fraction=2 / 3, source="Sheffield Hallam RPL regulations", status="C"),)
)
# Aberystwyth credit-transfer caps (same section, C): "Honours 240 ... PGCert 30".
ABERYSTWYTH = FrameworkOverrides(
    rpl_caps=(
        RplCap(award="bachelors-honours", max_credits=240, source="Aberystwyth credit transfer", status="C"),
        RplCap(award="pg-certificate", max_credits=30, source="Aberystwyth credit transfer", status="C"),
    )
)


def by_kind(progress: AwardProgress, kind: str, levels: tuple[str, ...] = ()) -> RequirementProgress:
    return next(r for r in progress.requirements if r.kind == kind and (not levels or r.levels == levels))


# --- England, QAA Credit Framework 2021 ---------------------------------------------------------------------


def test_postgraduate_certificate_met_with_40_at_level_7() -> None:
    # "Postgraduate certificate,7,60,40,,B": 60 credits in total, 40 at FHEQ 7.
    progress = award_progress(
        [granted("c1", 20, "7"), granted("c2", 20, "7"), granted("c3", 20, "6")], UK, "pg-certificate"
    )
    assert (progress.total_required, progress.total_counted) == (60, 60)
    assert by_kind(progress, "at_level").counted == 40
    assert progress.eligible
    assert progress.missing == ()
    assert progress.counted_credentials == ("c1", "c2", "c3")
    assert [(lc.level, lc.credits) for lc in progress.credits_by_level] == [("6", 20), ("7", 40)]
    assert not progress.capstone_required


def test_postgraduate_certificate_short_at_level_7() -> None:
    # Same row: 20 at L7 + 40 at L6 gives the 60 total but only 20 of the 40 needed at L7.
    progress = award_progress([granted("c1", 20, "7"), granted("c2", 40, "6")], UK, "pg-certificate")
    at_7 = by_kind(progress, "at_level")
    assert (at_7.counted, at_7.missing, at_7.met) == (20, 20, False)
    assert by_kind(progress, "total").met
    assert not progress.eligible
    assert progress.missing == ("20 more uk-credit at level 7",)


def test_taught_masters_180_with_150_at_level_7() -> None:
    # "Taught master's (MA/MSc),7,180,150,...,B".
    nine = [granted(f"c{i}", 20, "7") for i in range(9)]
    progress = award_progress(nine, UK, "taught-masters")
    assert progress.total_counted == 180
    assert by_kind(progress, "at_level").counted == 180
    assert progress.eligible
    mixed = [granted(f"c{i}", 20, "7") for i in range(7)] + [granted("c7", 20, "6"), granted("c8", 20, "6")]
    progress = award_progress(mixed, UK, "taught-masters")
    assert progress.total_counted == 180
    assert by_kind(progress, "at_level").missing == 10  # 140 at L7 of the 150 needed
    assert not progress.eligible


def test_block_credit_counts_towards_its_own_award_only() -> None:
    block = granted("blk", 20, "7", award="pg-certificate")
    assert award_progress([block], UK, "pg-certificate").total_counted == 20
    other = award_progress([block], UK, "taught-masters")
    assert other.total_counted == 0
    assert other.excluded_credentials[0].reason == "block credit towards pg-certificate only"


def test_only_granted_credit_counts() -> None:
    outcomes = [
        granted("ok", 20, "7"),
        granted("review", 20, "7", status="needs_review"),
        granted("no", 20, "7", status="not_recognised"),
        granted("scot", 20, "11", "scqf"),
        granted("ok", 20, "7"),
    ]
    progress = award_progress(outcomes, UK, "pg-certificate")
    assert progress.total_counted == 20
    assert [e.credential for e in progress.excluded_credentials] == ["review", "no", "scot", "ok"]


def test_not_credit_rated_awards_cannot_be_stacked() -> None:
    # "PhD/DPhil,8,,,,B,not typically credit-rated".
    progress = award_progress([granted("c1", 60, "8")], UK, "phd")
    assert (progress.credit_rated, progress.eligible, progress.total_required) == (False, False, None)


def test_unknown_award() -> None:
    with pytest.raises(NotFound) as err:
        award_progress([], UK, "mba")
    assert err.value.field == "award"


# --- Scotland, SCQF / FQHEIS ------------------------------------------------------------------------------


def test_scottish_honours_480_with_180_at_9_10_and_90_at_10() -> None:
    # "Honours degree | 10 | 480 | >=180 at 9-10, incl. >=90 @10 | B".
    full = [granted("c7", 120, "7", "scqf"), granted("c8", 120, "8", "scqf")]
    full += [granted("c9", 120, "9", "scqf"), granted("c10", 120, "10", "scqf")]
    progress = award_progress(full, SCQF, "honours")
    assert progress.total_counted == 480
    assert by_kind(progress, "at_level", ("9", "10")).counted == 240
    assert by_kind(progress, "at_level", ("10",)).counted == 120
    assert progress.eligible
    short = [granted("c7", 160, "7", "scqf"), granted("c8", 120, "8", "scqf")]
    short += [granted("c9", 120, "9", "scqf"), granted("c10", 80, "10", "scqf")]
    progress = award_progress(short, SCQF, "honours")
    assert progress.total_counted == 480
    assert by_kind(progress, "at_level", ("9", "10")).met  # 200 >= 180
    assert by_kind(progress, "at_level", ("10",)).missing == 10  # 80 of 90 at level 10
    assert progress.missing == ("10 more scqf-credit at level 10",)


def test_nz_diploma_counts_levels_at_or_above() -> None:
    # "Diploma L5 | 5 | >=120 from L4+, incl. >=72 at L5+ | B".
    outcomes = [granted("a", 40, "4", "nzqf"), granted("b", 40, "5", "nzqf"), granted("c", 40, "6", "nzqf")]
    progress = award_progress(outcomes, NZ, "diploma-l5")
    assert by_kind(progress, "total").counted == 120
    assert by_kind(progress, "at_level").counted == 80
    assert progress.eligible
    lower = award_progress([granted("z", 40, "3", "nzqf"), *outcomes[1:]], NZ, "diploma-l5")
    assert by_kind(lower, "total").missing == 40  # level 3 does not count towards "from L4+"


# --- RPL and credit-transfer caps (member overrides) -------------------------------------------------------


def test_two_thirds_cap_honours_360_gives_at_most_240() -> None:
    # Sheffield Hallam: "Hons 360 -> max 240 RPCL" (C).
    shu = UK.with_overrides(SHU)
    outcomes = [granted(f"c{i}", 60, "5" if i < 3 else "6") for i in range(5)]  # 300 recognised
    progress = award_progress(outcomes, shu, "bachelors-honours")
    assert progress.rpl_cap is not None
    assert (progress.rpl_cap.limit, progress.rpl_cap.recognised, progress.rpl_cap.bites) == (240, 300, True)
    assert progress.total_counted == 240
    assert progress.remaining_at_member == 120
    assert progress.capstone_required
    assert not progress.eligible
    assert "at most 240 of 360 uk-credit may come from prior learning" in progress.missing[-1]


@pytest.mark.parametrize(("award", "limit"), [("taught-masters", 120), ("pg-certificate", 40)])
def test_two_thirds_cap_for_masters_and_pg_certificate(award: str, limit: float) -> None:
    # Sheffield Hallam: "MSc 180 -> max 120. PGCert 60 -> max 40" (C).
    progress = award_progress([granted("c", 20, "7")], UK.with_overrides(SHU), award)
    assert progress.rpl_cap is not None
    assert progress.rpl_cap.limit == limit
    assert not progress.rpl_cap.bites
    assert progress.capstone_required


def test_per_award_caps_in_credits() -> None:
    # Aberystwyth: "PGCert 30" and "Honours 240" (C).
    aber = UK.with_overrides(ABERYSTWYTH)
    progress = award_progress([granted("c1", 20, "7"), granted("c2", 20, "7")], aber, "pg-certificate")
    assert progress.rpl_cap is not None
    assert (progress.rpl_cap.limit, progress.total_counted) == (30, 30)
    assert by_kind(progress, "at_level").counted == 30  # at most the cap counts towards any requirement
    assert award_progress([], aber, "taught-masters").rpl_cap is None  # no cap names it, none for all


def test_an_institution_may_be_stricter_than_the_national_rule() -> None:
    # Keele Regulation E1: "120 credits at the award level for ... Bachelor's (360/120)" (section 3, C).
    keele = FrameworkOverrides(
        award_rules=(
            AwardRule(
                id="bachelors-honours",
                name="Bachelor's degree with honours",
                level="6",
                source="Keele Regulation E1",
                status="C",
                total=CreditRequirement(min_credits=360, source="Keele Regulation E1", status="C"),
                at_level=(
                    CreditRequirement(
                        min_credits=120, levels=("6",), source="Keele Regulation E1", status="C"
                    ),
                ),
            ),
        )
    )
    outcomes = [granted("c4", 120, "4"), granted("c5", 120, "5"), granted("c6", 100, "6")]
    assert award_progress(outcomes, UK, "bachelors-honours").missing == ("20 more uk-credit in total",)
    strict = award_progress(outcomes, UK.with_overrides(keele), "bachelors-honours")
    assert strict.missing == ("20 more uk-credit in total", "20 more uk-credit at level 6")


# --- through the engine ------------------------------------------------------------------------------------


def test_engine_applies_the_recognisers_overrides_and_target_award() -> None:
    engine = RecognitionEngine([agreement(parties=everyone())], members=MEMBERS, member_overrides={B: SHU})
    credentials = tuple(record(f"r{i}", amount=20) for i in range(3))  # 3 x 20 UK credits at FHEQ 7
    request = EvaluationRequest(
        credentials=credentials,
        recogniser=recogniser(B),
        evaluation_date=TODAY,
        target_award="pg-certificate",
    )
    progress = engine.evaluate(request).award_progress
    assert progress is not None
    assert progress.rpl_cap is not None
    # PGCert 60 -> max 40 from prior learning (Sheffield Hallam, C).
    assert (progress.total_recognised, progress.total_counted, progress.rpl_cap.bites) == (60, 40, True)
    # The same request at a member without overrides: the national rule alone, 60 of 60.
    other = msgspec.structs.replace(request, recogniser=RecognisingMember(id=A, framework="uk-fheq"))
    credentials_b = tuple(record(f"r{i}", issuer=B, amount=20) for i in range(3))
    plain = engine.evaluate(msgspec.structs.replace(other, credentials=credentials_b)).award_progress
    assert plain is not None
    assert (plain.total_counted, plain.eligible, plain.rpl_cap) == (60, True, None)


def test_scottish_member_target_award_in_its_own_framework() -> None:
    engine = RecognitionEngine([agreement(parties=everyone())], members=MEMBERS)
    request = EvaluationRequest(
        credentials=(record("r1", amount=20, level=("uk-fheq", "7")),),
        recogniser=recogniser(S),
        evaluation_date=TODAY,
        target_award="masters",
    )
    progress = engine.evaluate(request).award_progress
    assert progress is not None
    # 20 UK credits = 20 SCQF credit points (both x0.5 to ECTS, domain.md section 1);
    # FHEQ 7 -> EQF 7 -> SCQF 11 (section 2, level referencing table).
    assert [(lc.level, lc.credits) for lc in progress.credits_by_level] == [("11", 20)]


def test_bad_target_award_and_bad_overrides() -> None:
    engine = RecognitionEngine([agreement()], members=MEMBERS)
    request = EvaluationRequest(
        credentials=(record(),), recogniser=recogniser(B), evaluation_date=TODAY, target_award="mba"
    )
    with pytest.raises(InvalidRequest) as err:
        engine.evaluate(request)
    assert (err.value.field, err.value.expected is not None) == ("$.target_award", True)
    bad = FrameworkOverrides(rpl_caps=(RplCap(award="mba", max_fraction=0.5, source="s", status="C"),))
    with pytest.raises(InvalidFrameworkOverrides):
        RecognitionEngine([agreement()], members=MEMBERS, member_overrides={B: bad})
