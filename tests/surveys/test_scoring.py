"""The satisfaction measures, against hand-computed values."""

from __future__ import annotations

import math

import pytest

from app.surveys.scoring import (
    EMPTY,
    csat,
    is_dissatisfied,
    nps,
    response_rate,
    satisfaction_index,
    weights_valid,
)


def test_nps_counts_promoters_minus_detractors_with_its_margin():
    # 5 promoters, 3 passives, 2 detractors of 10 → NPS 30
    est = nps({10: 3, 9: 2, 8: 2, 7: 1, 6: 1, 0: 1})
    assert est.n == 10
    assert est.value == pytest.approx(30.0)
    p_p, p_d = 0.5, 0.2
    expected = 1.96 * math.sqrt((p_p + p_d - (p_p - p_d) ** 2) / 10) * 100
    assert est.margin == pytest.approx(expected)
    assert est.small_sample


def test_nps_of_all_promoters_is_100_with_no_spread():
    est = nps({10: 40})
    assert est.value == 100 and est.margin == 0 and not est.small_sample


def test_csat_is_the_share_of_fours_and_fives():
    est = csat({5: 30, 4: 30, 3: 20, 2: 10, 1: 10})
    assert est.value == pytest.approx(60.0)
    assert est.margin == pytest.approx(1.96 * math.sqrt(0.6 * 0.4 / 100) * 100)


def test_no_answers_is_no_value_not_zero():
    assert nps({}) == EMPTY and csat({}) == EMPTY
    assert satisfaction_index({"a": 100}, {})[0] == EMPTY


def test_out_of_range_answers_are_refused():
    with pytest.raises(ValueError):
        csat({6: 1})
    with pytest.raises(ValueError):
        nps({11: 1})


def test_index_is_the_weighted_rescaled_mean():
    weights = {"quality": 50, "speed": 30, "attitude": 20}
    counts = {"quality": {5: 10}, "speed": {1: 10}, "attitude": {3: 10}}
    est, scores = satisfaction_index(weights, counts)
    # 0.5·100 + 0.3·0 + 0.2·50 = 60
    assert est.value == pytest.approx(60.0)
    assert est.n == 10
    assert [s.mean for s in scores] == [5, 1, 3]
    assert est.margin == pytest.approx(0.0)  # no spread inside any indicator


def test_indicators_without_answers_are_left_out_and_weights_rescaled():
    weights = {"quality": 60, "speed": 40}
    est, scores = satisfaction_index(weights, {"quality": {4: 5, 5: 5}})
    # only quality answered: its mean 4.5 → 87.5, weight rescaled to 1
    assert est.value == pytest.approx(87.5)
    assert scores[0].effective_weight == 1 and scores[1].score == EMPTY


def test_index_margin_combines_the_indicators_spread():
    est, _ = satisfaction_index({"a": 50, "b": 50}, {"a": {4: 10, 2: 10}, "b": {5: 20}})
    var_a = sum([(4 - 3) ** 2] * 10 + [(2 - 3) ** 2] * 10) / 19
    expected = 1.96 * math.sqrt(0.25 * var_a / 20) * 25
    assert est.margin == pytest.approx(expected)


def test_weights_must_sum_to_one_hundred_percent():
    assert weights_valid({"a": 60, "b": 40})
    assert not weights_valid({"a": 60, "b": 30})
    assert not weights_valid({"a": 110, "b": -10})
    assert not weights_valid({})


def test_dissatisfied_answers_and_response_rate():
    assert is_dissatisfied("nps", 6) and not is_dissatisfied("nps", 7)
    assert is_dissatisfied("rating5", 2) and not is_dissatisfied("rating5", 3)
    assert not is_dissatisfied("text", 0)
    assert response_rate(0, 0) is None and response_rate(25, 100) == 25
