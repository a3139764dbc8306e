"""A learner's credentials against a member's awards: own credit beside recognised credit, records that
cannot be evaluated, and every award ranked. Award figures come from shared/reference/domain.md section 3
(QAA Credit Framework 2021 rows, quoted at each test); caps are Sheffield Hallam's two thirds (C)."""

from __future__ import annotations

import msgspec
import pytest
from recognition_builders import MEMBERS, TODAY, A, B, agreement, everyone, granted, recogniser, record

from adapters.frameworks import reference_registry
from contracts.errors import NotFound, UnknownMember
from contracts.frameworks import FrameworkOverrides, RplCap
from gateway.recognition import RecognitionEngine, award_progress
from gateway.recognition.models import OwnCredit, RecognisingMember

UK = reference_registry().get("uk-fheq")
SHU = FrameworkOverrides(
    rpl_caps=(RplCap(max_fraction=2 / 3, source="Sheffield Hallam RPL regulations", status="C"),)
)


def own(rid: str, amount: float, level: str) -> OwnCredit:
    return OwnCredit(credential=rid, level=level, credits=amount)


def test_own_credit_is_not_capped_and_completes_the_part_studied_at_the_member() -> None:
    # "Bachelor's degree with honours,6,360,90,...": 360 in total, 90 at FHEQ 6; SHU: Hons 360 -> at most
    # 240 from prior learning, so at least 120 must be studied at the member.
    recognised = [granted(f"p{i}", 60, "5" if i < 3 else "6") for i in range(5)]  # 300, capped to 240
    progress = award_progress(recognised, UK.with_overrides(SHU), "bachelors-honours", [own("o1", 120, "6")])
    assert (progress.total_recognised, progress.total_own, progress.total_counted) == (300, 120, 360)
    assert progress.rpl_cap is not None
    assert progress.rpl_cap.bites
    assert progress.capstone_required  # the award still cannot come from prior learning alone ...
    assert progress.missing == ()  # ... but the learner has studied the rest at the member
    assert progress.eligible
    assert progress.remaining_at_member == 0
    assert progress.own_credentials == ("o1",)
    assert [(lc.level, lc.credits) for lc in progress.credits_by_level] == [("5", 180), ("6", 240)]


def test_own_credit_short_of_the_part_to_study_at_the_member() -> None:
    recognised = [granted(f"p{i}", 60, "5" if i < 3 else "6") for i in range(5)]
    progress = award_progress(recognised, UK.with_overrides(SHU), "bachelors-honours", [own("o1", 60, "6")])
    assert progress.total_counted == 300  # 240 (cap) + 60 own
    assert progress.remaining_at_member == 60
    assert progress.missing == (
        "60 more uk-credit in total",
        "at most 240 of 360 uk-credit may come from prior learning: at least 120 must be studied at the "
        "member (60 already are)",
    )
    assert not progress.eligible


def test_a_credential_given_as_own_and_recognised_counts_once() -> None:
    progress = award_progress([granted("x", 20, "7")], UK, "pg-certificate", [own("x", 20, "7")])
    assert progress.total_counted == 20
    assert [e.reason for e in progress.excluded_credentials] == ["given twice: counted once"]


def engine() -> RecognitionEngine:
    return RecognitionEngine([agreement(parties=everyone())], members=MEMBERS)


def test_pathways_rank_every_credit_rated_award() -> None:
    records = [record(f"r{i}", amount=20) for i in range(3)]  # 3 x 20 UK credits at FHEQ 7 from A
    records.append(record("mine", issuer=B, amount=20, level=("uk-fheq", "6")))  # earned at B itself
    report = engine().pathways(records, recogniser(B), TODAY)
    assert [o.credential for o in report.outcomes] == [f"{A}:r0", f"{A}:r1", f"{A}:r2"]
    assert {o.status for o in report.outcomes} == {"recognised"}
    assert report.own_credit == (own(f"{B}:mine", 20, "6"),)
    ids = [p.award for p in report.awards]
    # Not credit-rated, so not a pathway: "PhD/DPhil ... not typically credit-rated".
    assert "phd" not in ids
    assert "research-masters" not in ids
    # PGCE and PG certificate "7,60,40": 80 counted with 60 at level 7 -> both reachable now.
    assert ids[:2] == ["pgce", "pg-certificate"]
    assert all(p.eligible for p in report.awards[:2])
    assert not any(p.eligible for p in report.awards[2:])
    # Graduate certificate "6,40,40": 20 at level 6 of 40, the smallest shortfall of the rest.
    assert ids[2] == "graduate-certificate"
    assert report.awards[2].missing == ("20 more uk-credit at level 6",)


def test_pathways_for_one_award_and_records_that_cannot_be_used() -> None:
    good = record("ok", amount=20)
    no_level = record("bare", issuer=B, level=None)
    bare = record("blank")
    blank = msgspec.structs.replace(bare, credential=msgspec.structs.replace(bare.credential, title=" "))
    report = engine().pathways([good, good, no_level, blank], recogniser(B), TODAY, "taught-masters")
    assert [a.award for a in report.awards] == ["taught-masters"]
    # "Taught master's,7,180,150": 20 counted, 160 still to earn.
    assert report.awards[0].missing == ("160 more uk-credit in total", "130 more uk-credit at level 7")
    reasons = {u.credential: u.reason for u in report.unusable}
    assert reasons[f"{A}:ok"] == "given twice: evaluated once"
    assert "outside its framework" in reasons[f"{B}:bare"]
    assert "blank" in reasons[f"{A}:blank"]


def test_pathways_refuse_an_unknown_member_or_award() -> None:
    with pytest.raises(UnknownMember) as err:
        engine().pathways([], RecognisingMember(id="nowhere.edu", framework="uk-fheq"), TODAY)
    assert err.value.field == "member"
    with pytest.raises(NotFound) as missing:
        engine().pathways([], recogniser(B), TODAY, "mba")
    assert missing.value.field == "award"
