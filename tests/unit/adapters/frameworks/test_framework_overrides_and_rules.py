"""Award rules as shipped (shared/reference/domain.md section 3) and a member's overrides of C/U values."""

from __future__ import annotations

import pytest

from adapters.frameworks import Converter, reference_registry
from contracts.errors import InvalidFrameworkOverrides, NotFound
from contracts.frameworks import (
    AwardRule,
    CreditRequirement,
    EctsConvention,
    FrameworkOverrides,
    HoursPerUnit,
    MicroCredentialRules,
    RplCap,
)

REGISTRY = reference_registry()
UK = REGISTRY.get("uk-fheq")


@pytest.mark.parametrize(
    ("framework", "award", "level", "total", "at_level"),
    [
        # England, QAA 2021 (B): taught master's 180 / 150 at L7; PGCert 60 / 40; integrated 480 / 120.
        ("uk-fheq", "taught-masters", "7", 180, 150),
        ("uk-fheq", "pg-certificate", "7", 60, 40),
        ("uk-fheq", "integrated-masters", "7", 480, 120),
        ("uk-fheq", "professional-doctorate", "8", 540, 360),
        # Pearson HNC (A): 120 credits at L4.
        ("uk-fheq", "hnc", "4", 120, 120),
        # Scotland (B): master's 180 / 150 at 11; ordinary degree 360 / 60 at 9; HNC 96 / 48 at 7.
        ("scqf", "masters", "11", 180, 150),
        ("scqf", "ordinary-degree", "9", 360, 60),
        ("scqf", "hnc", "7", 96, 48),
        # QF-EHEA (A): second cycle 90 or 120 ECTS, with at least 60 at second-cycle level.
        ("ects", "second-cycle", "7", 90, 60),
    ],
)
def test_award_rule_rows(framework: str, award: str, level: str, total: float, at_level: float) -> None:
    rule = REGISTRY.get(framework).award_rule(award)
    assert rule.level == level
    assert rule.total is not None
    assert rule.total.min_credits == total
    assert rule.at_level[0].min_credits == at_level


def test_uncertain_figures_keep_their_status() -> None:
    # "Bachelor's with honours ... 360 total is B (QAA diagram); 90@L6 is U (memory)".
    rule = UK.award_rule("bachelors-honours")
    assert rule.total is not None
    assert (rule.total.min_credits, rule.total.status) == (360, "B")
    assert (rule.at_level[0].min_credits, rule.at_level[0].status) == (90, "U")
    assert rule.status == "U"


def test_not_credit_rated_awards() -> None:
    assert UK.award_rule("phd").total is None
    assert REGISTRY.get("ects").award_rule("third-cycle").total is None


def test_nz_diploma_counts_credits_at_or_above_a_level() -> None:
    # "Diploma L5: >=120 from L4+, incl. >=72 at L5+" (B).
    rule = REGISTRY.get("nzqf").award_rule("diploma-l5")
    assert rule.total is not None
    assert (rule.total.min_credits, rule.total.levels, rule.total.or_above) == (120, ("4",), True)
    assert (rule.at_level[0].min_credits, rule.at_level[0].levels, rule.at_level[0].or_above) == (
        72,
        ("5",),
        True,
    )


def test_unknown_award() -> None:
    with pytest.raises(NotFound) as err:
        UK.award_rule("mba")
    assert err.value.field == "award"


KEELE = FrameworkOverrides(
    # Keele Regulation E1: 120 credits at the award level for Bachelor's (360/120).
    award_rules=(
        AwardRule(
            id="bachelors-honours",
            name="Bachelor's degree with honours",
            level="6",
            source="Keele Regulation E1",
            status="C",
            total=CreditRequirement(min_credits=360, source="Keele Regulation E1", status="C"),
            at_level=(
                CreditRequirement(min_credits=120, levels=("6",), source="Keele Regulation E1", status="C"),
            ),
        ),
    ),
    # Sheffield Hallam: at most 2/3 of an award's credit from prior certificated learning (C).
    rpl_caps=(RplCap(max_fraction=2 / 3, source="Sheffield Hallam RPL regulations", status="C"),),
)


def test_member_overrides_replace_award_rules_and_rpl_caps() -> None:
    keele = UK.with_overrides(KEELE)
    assert keele.award_rule("bachelors-honours").at_level[0].min_credits == 120
    assert keele.award_rule("taught-masters") == UK.award_rule("taught-masters")
    assert keele.spec.rpl_caps[0].max_fraction == pytest.approx(2 / 3)
    assert UK.spec.rpl_caps == ()  # defaults untouched: no national maximum was found
    assert keele.spec.levels == UK.spec.levels  # levels are never overridden


def test_c_and_u_conversion_factors_are_overridable() -> None:
    # NZ credit -> ECTS has no official factor (U); US SCH x2 is common practice (C).
    nz = REGISTRY.get("nzqf")
    assert nz.credit.ects is not None
    assert nz.credit.ects.status == "U"
    own = EctsConvention(units=4, ects=1, source="Member agreement 2026", status="C")
    registry = REGISTRY.with_overrides({"nzqf": FrameworkOverrides(ects_convention=own)})
    answer = Converter(registry).credits(120, "nzqf", "ects")
    assert answer.value == 30
    assert answer.explanation.steps[0].source == "Member agreement 2026"
    # Irish practice of 20-25 h per ECTS is C: a member may say 25-30.
    ie = REGISTRY.get("ie-nfq").with_overrides(
        FrameworkOverrides(hours_per_unit=HoursPerUnit(min=25, max=30, source="Member", status="C"))
    )
    assert (ie.credit.hours.min, ie.credit.hours.max) == (25, 30)


def test_status_a_facts_are_not_overridable() -> None:
    # NZQA rule 3: "each credit representing ten notional learning hours" (A).
    with pytest.raises(InvalidFrameworkOverrides) as err:
        REGISTRY.get("nzqf").with_overrides(
            FrameworkOverrides(hours_per_unit=HoursPerUnit(min=8, max=12, source="x", status="C"))
        )
    assert err.value.field == "overrides.hours_per_unit"


def test_overrides_must_name_existing_levels_and_awards() -> None:
    bad_level = AwardRule(
        id="x",
        name="X",
        level="13",
        source="s",
        status="C",
        total=CreditRequirement(min_credits=1, source="s", status="C"),
    )
    with pytest.raises(InvalidFrameworkOverrides) as err:
        UK.with_overrides(FrameworkOverrides(award_rules=(bad_level,)))
    assert err.value.field == "overrides"
    assert "unknown level '13'" in err.value.detail
    with pytest.raises(InvalidFrameworkOverrides) as err:
        UK.with_overrides(
            FrameworkOverrides(rpl_caps=(RplCap(award="mba", max_fraction=0.5, source="s", status="C"),))
        )
    assert "unknown award 'mba'" in err.value.detail
    with pytest.raises(InvalidFrameworkOverrides) as err:
        UK.with_overrides(FrameworkOverrides(withdrawn_award_rules=("mba",)))
    assert err.value.field == "overrides.withdrawn_award_rules"


def test_micro_credential_rule_sets_are_versioned_and_overridable() -> None:
    nz = REGISTRY.get("nzqf")
    now, before = nz.micro_credential_rules(), nz.micro_credential_rules("nzqa-2018")
    assert now is not None
    assert before is not None
    # Now "1 to 40 credits", review of 1-3 years (A); 2018 policy: 5-40 credits, reviewed annually.
    assert (now.min_credits, now.max_credits, now.max_review_years) == (1, 40, 3)
    assert (before.min_credits, before.max_credits, before.max_review_years) == (5, 40, 1)
    stricter = MicroCredentialRules(
        rule_set="nzqa-2022",
        name="NZQA 2022 as applied by Member X",
        source="Member X",
        status="C",
        min_credits=5,
        max_credits=40,
        max_review_years=2,
        requires_level=True,
    )
    member = nz.with_overrides(FrameworkOverrides(micro_credential_rules=(stricter,)))
    assert member.micro_credential_rules() == stricter


def test_empty_overrides_change_nothing() -> None:
    for framework in REGISTRY:
        assert framework.with_overrides(FrameworkOverrides()).spec == framework.spec
