"""Credit conversion. Expected figures come from shared/reference/domain.md section 1 (the table row is
cited beside each case), never from running the code."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.frameworks import Converter, reference_registry, require_single_basis
from contracts.credits import CreditValue
from contracts.errors import InvalidRequest, MixedConversionBasis, UnknownFramework

CONVERTER = Converter(reference_registry())
IDS = "one of: ects, ie-nfq, nzqf, scqf, uk-fheq, us-quarter, us-semester"


@pytest.mark.parametrize(
    ("amount", "src", "dst", "expected", "status"),
    [
        # "UK credit -> ECTS | x0.5 (2 UK = 1 ECTS; 120 UK = 60 ECTS; 360 = 180; 480 = 240) | B"
        (120, "uk-fheq", "ects", 60, "B"),
        (360, "uk-fheq", "ects", 180, "B"),
        (480, "uk-fheq", "ects", 240, "B"),
        (2, "uk-fheq", "ects", 1, "B"),
        (60, "ects", "uk-fheq", 120, "B"),
        # "SCQF credit -> ECTS | x0.5 | B"
        (120, "scqf", "ects", 60, "B"),
        # both x0.5: one UK credit is one SCQF credit point (SCQF credit = UK credit = 10 h)
        (120, "uk-fheq", "scqf", 120, "B"),
        # "US SCH -> ECTS | x2 (30 SCH/yr <-> 60 ECTS) | C"
        (30, "us-semester", "ects", 60, "C"),
        (3, "us-semester", "ects", 6, "C"),
        # "US QCH -> ECTS | x(2/1.5) ~ 1.333 (45 QCH/yr <-> 60 ECTS) | C"
        (45, "us-quarter", "ects", 60, "C"),
        # "derived from the SCH rule; 1 SCH = 1.5 QCH"
        (45, "us-quarter", "us-semester", 30, "C"),
        (3, "us-semester", "us-quarter", 4.5, "C"),
        # us-semester -> ects -> uk-fheq: 30 SCH = 60 ECTS = 120 UK credits
        (30, "us-semester", "uk-fheq", 120, "C"),
    ],
)
def test_convention_rows(amount: float, src: str, dst: str, expected: float, status: str) -> None:
    result = CONVERTER.credits(amount, src, dst)
    assert result.basis == "convention"
    assert result.value == pytest.approx(expected, rel=1e-12)
    assert result.min == result.max == result.value
    assert not result.is_range
    assert result.explanation.basis == "convention"
    assert result.explanation.weakest_status == status


def test_chain_and_factors_are_explained() -> None:
    result = CONVERTER.credits(30, "us-semester", "uk-fheq")
    why = result.explanation
    assert why.chain == ("us-semester", "ects", "uk-fheq")
    assert [(s.from_, s.to) for s in why.steps] == [("us-semester", "ects"), ("ects", "uk-fheq")]
    assert [s.factor for s in why.steps] == [2, 2]  # 1 SCH = 2 ECTS; 1 ECTS = 2 UK credits
    assert [s.status for s in why.steps] == ["C", "B"]
    assert all(s.source for s in why.steps)
    assert {t.id for t in why.tables} == {"credit-conventions"}
    assert all(t.version for t in why.tables)


def test_result_encodes_to_json_with_from_key() -> None:
    import msgspec

    body = msgspec.json.decode(msgspec.json.encode(CONVERTER.credits(120, "uk-fheq", "ects")))
    assert body["value"] == 60
    assert body["explanation"]["steps"][0]["from"] == "uk-fheq"


@pytest.mark.parametrize(
    ("amount", "src", "low", "high"),
    [
        # Gotcha: "by hours, 1 UK credit (10 h) would be only 0.33-0.40 ECTS"
        (1, "uk-fheq", 10 / 30, 10 / 25),
        # "and 1 SCH (~45 h) would be 1.5-1.8 ECTS"
        (1, "us-semester", 1.5, 1.8),
        # 120 UK credits = 1,200 h; ECTS 25-30 h per credit -> 40-48 ECTS
        (120, "uk-fheq", 40, 48),
        # NZ credit = 10 h (rule 3): 120 NZ credits = 1,200 h -> 40-48 ECTS
        (120, "nzqf", 40, 48),
        # US quarter hour ~30-36 h: 45 QCH = 1,350-1,620 h -> 45-64.8 ECTS
        (45, "us-quarter", 45, 64.8),
    ],
)
def test_hours_basis_gives_ranges(amount: float, src: str, low: float, high: float) -> None:
    result = CONVERTER.credits(amount, src, "ects", "hours")
    assert result.basis == "hours"
    assert result.is_range
    assert result.value is None
    assert result.min == pytest.approx(low)
    assert result.max == pytest.approx(high)
    assert result.explanation.chain == (src, "hours", "ects")
    assert any("range" in note for note in result.explanation.notes)


def test_hours_basis_between_fixed_hour_units_is_exact() -> None:
    # UK credit and SCQF credit point are both 10 h: 15 -> 15, one value.
    result = CONVERTER.credits(15, "uk-fheq", "scqf", "hours")
    assert not result.is_range
    assert result.value == 15


def test_same_framework_is_identity_on_either_basis() -> None:
    for basis in ("convention", "hours"):
        result = CONVERTER.credits(7.5, "ects", "ects", basis)
        assert result.value == 7.5
        assert result.explanation.steps[0].factor == 1


def test_zero_converts_to_zero() -> None:
    assert CONVERTER.credits(0, "us-quarter", "uk-fheq").value == 0


@pytest.mark.parametrize(("field", "args"), [("from", ("nope", "ects")), ("to", ("ects", "nope"))])
def test_unknown_framework(field: str, args: tuple[str, str]) -> None:
    with pytest.raises(UnknownFramework) as err:
        CONVERTER.credits(10, *args)
    assert err.value.field == field
    assert err.value.expected == IDS
    assert err.value.status == 400


@pytest.mark.parametrize("amount", [-1, -0.001, "10", "abc", None, True, math.nan, math.inf, 100_001])
def test_bad_amounts(amount: object) -> None:
    with pytest.raises(InvalidRequest) as err:
        CONVERTER.credits(amount, "uk-fheq", "ects")  # type: ignore[arg-type]
    assert err.value.field == "amount"
    assert err.value.expected == "a number from 0 to 100000"


def test_bad_basis() -> None:
    with pytest.raises(InvalidRequest) as err:
        CONVERTER.credits(10, "uk-fheq", "ects", "weeks")  # type: ignore[arg-type]
    assert (err.value.field, err.value.expected) == ("basis", "convention or hours")


def test_credit_value_keeps_its_basis() -> None:
    hours_based = CreditValue(amount=10, unit="uk-credit", framework="uk-fheq", ects=4, ects_basis="hours")
    with pytest.raises(MixedConversionBasis) as err:
        CONVERTER.credit_value(hours_based, "ects", "convention")
    assert err.value.field == "ects_basis"
    assert err.value.expected == "hours"
    # Without an explicit basis it stays on its own basis.
    assert CONVERTER.credit_value(hours_based, "ects").basis == "hours"


def test_credit_value_unit_must_match_framework() -> None:
    wrong = CreditValue(amount=10, unit="ects", framework="uk-fheq")
    with pytest.raises(InvalidRequest) as err:
        CONVERTER.credit_value(wrong, "ects")
    assert (err.value.field, err.value.expected) == ("unit", "uk-credit")


def test_normalise_fills_ects_and_hours() -> None:
    value = CreditValue(amount=20, unit="uk-credit", framework="uk-fheq")
    filled = CONVERTER.normalise(value)
    # 20 UK credits = 10 ECTS by convention; 1 credit ~ 10 h -> 200 h (a 20-credit module is ~200 h).
    assert (filled.ects, filled.ects_basis, filled.notional_hours) == (10, "convention", 200)


def test_one_decision_never_mixes_bases() -> None:
    a = CreditValue(amount=10, unit="uk-credit", framework="uk-fheq", ects=5, ects_basis="convention")
    b = CreditValue(amount=10, unit="uk-credit", framework="uk-fheq", ects=4, ects_basis="hours")
    assert require_single_basis([a, a]) == "convention"
    with pytest.raises(MixedConversionBasis) as err:
        require_single_basis([a, b])
    assert err.value.field == "ects_basis"
    assert err.value.expected == "one basis (convention or hours) for every credit value"


# --- properties -------------------------------------------------------------------------------------------

FRAMEWORKS = st.sampled_from(reference_registry().ids)
AMOUNTS = st.floats(min_value=0, max_value=5000, allow_nan=False)


@given(AMOUNTS, AMOUNTS, FRAMEWORKS, FRAMEWORKS)
def test_convention_is_monotonic_and_linear(a: float, b: float, src: str, dst: str) -> None:
    ca, cb = CONVERTER.credits(a, src, dst).min, CONVERTER.credits(b, src, dst).min
    if a <= b:
        assert ca <= cb
    assert CONVERTER.credits(a + b, src, dst).min == pytest.approx(ca + cb, rel=1e-9, abs=1e-9)


@given(AMOUNTS, FRAMEWORKS, FRAMEWORKS, FRAMEWORKS)
def test_convention_paths_agree(a: float, x: str, y: str, z: str) -> None:
    # x -> y -> z equals x -> z: every convention goes through the same ECTS pivot.
    via = CONVERTER.credits(CONVERTER.credits(a, x, y).min, y, z).min
    assert via == pytest.approx(CONVERTER.credits(a, x, z).min, rel=1e-9, abs=1e-9)


@given(AMOUNTS, FRAMEWORKS, FRAMEWORKS)
def test_hours_range_is_ordered_and_round_trips(a: float, src: str, dst: str) -> None:
    there = CONVERTER.credits(a, src, dst, "hours")
    assert there.min <= there.max
    back_low = CONVERTER.credits(there.min, dst, src, "hours").min
    back_high = CONVERTER.credits(there.max, dst, src, "hours").max
    assert back_low - 1e-9 <= a <= back_high + 1e-9
