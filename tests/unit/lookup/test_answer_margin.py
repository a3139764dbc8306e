"""``AnswerMargin``: RFC 6298's estimator (section 2: alpha 1/8, beta 1/4, K 4) between a floor, a ceiling
and a tenth of the budget. Expected values are worked by hand from the RFC's formulas."""

from __future__ import annotations

import pytest

from gateway.lookup.margin import AnswerMargin


def test_before_any_cut_off_the_margin_is_the_floor() -> None:
    assert AnswerMargin(floor=0.01, ceiling=0.05).margin(2.0) == 0.01


def test_the_first_sample_sets_the_smoothed_time_and_half_of_it_as_deviation() -> None:
    margin = AnswerMargin(floor=0.001, ceiling=0.5)
    margin.observe(0.02)
    # RFC 6298 (2.2): SRTT = R, RTTVAR = R/2; RTO = SRTT + 4 RTTVAR = 0.02 + 0.04
    assert margin.margin(2.0) == pytest.approx(0.06)


def test_later_samples_update_deviation_before_the_smoothed_time() -> None:
    margin = AnswerMargin(floor=0.001, ceiling=0.5)
    margin.observe(0.02)
    margin.observe(0.04)
    # RFC 6298 (2.3): RTTVAR = 3/4 0.01 + 1/4 |0.02 - 0.04| = 0.0125; SRTT = 7/8 0.02 + 1/8 0.04 = 0.0225
    assert (margin.smoothed, margin.deviation) == (pytest.approx(0.0225), pytest.approx(0.0125))
    assert margin.margin(2.0) == pytest.approx(0.0225 + 4 * 0.0125)


def test_the_margin_stays_between_the_floor_the_ceiling_and_a_tenth_of_the_budget() -> None:
    quick = AnswerMargin(floor=0.01, ceiling=0.05)
    quick.observe(0.001)  # 0.001 + 4 x 0.0005 = 0.003, under the floor
    assert quick.margin(2.0) == 0.01
    slow = AnswerMargin(floor=0.01, ceiling=0.05)
    slow.observe(0.2)  # 0.2 + 4 x 0.1, over the ceiling
    assert slow.margin(2.0) == 0.05
    assert slow.margin(0.3) == pytest.approx(0.03)  # a tenth of a 300 ms budget
    assert AnswerMargin(floor=0.1, ceiling=0.05).margin(2.0) == 0.1  # the floor is the operator's word


def test_a_lookup_answered_before_its_cut_off_counts_as_no_time() -> None:
    margin = AnswerMargin(floor=0.0, ceiling=0.05)
    margin.observe(-0.003)
    assert (margin.smoothed, margin.deviation) == (0.0, 0.0)
