"""Satisfaction measures, pure: NPS, CSAT and the weighted satisfaction index, each with its
sample size and a 95 % margin of error, so nobody over-reads five answers.

Inputs are counts per answer value (what a GROUP BY in the database returns), never rows.
Denominators count answered questions only: a skipped question is not a 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

Z95 = 1.96
SMALL_SAMPLE = 30
PROMOTER_MIN = 9  # NPS 9–10
DETRACTOR_MAX = 6  # NPS 0–6
SATISFIED_MIN = 4  # CSAT: 4 or 5 of 5
DISSATISFIED_RATING_MAX = 2  # a rating5 answer this low opens an issue


@dataclass(frozen=True)
class Estimate:
    """A measure on a 0–100 scale (NPS: −100..100) with its sample size and 95 % margin."""

    value: float | None
    n: int
    margin: float | None

    @property
    def small_sample(self) -> bool:
        return self.n < SMALL_SAMPLE

    def as_dict(self) -> dict[str, float | int | bool | None]:
        return {
            "value": None if self.value is None else round(self.value, 1),
            "n": self.n,
            "margin": None if self.margin is None else round(self.margin, 1),
            "small_sample": self.small_sample,
        }


EMPTY = Estimate(value=None, n=0, margin=None)


def _counts(counts: Mapping[int, int], low: int, high: int) -> dict[int, int]:
    out: dict[int, int] = {}
    for value, count in counts.items():
        if not low <= value <= high:
            raise ValueError(f"answer {value} outside {low}..{high}")
        if count < 0:
            raise ValueError("negative count")
        out[value] = out.get(value, 0) + count
    return out


def nps(counts: Mapping[int, int]) -> Estimate:
    """NPS = % promoters (9–10) − % detractors (0–6) of the 0–10 answers;
    margin = 1.96·√((p_P + p_D − (p_P − p_D)²)/n)·100."""
    c = _counts(counts, 0, 10)
    n = sum(c.values())
    if n == 0:
        return EMPTY
    p_p = sum(v for k, v in c.items() if k >= PROMOTER_MIN) / n
    p_d = sum(v for k, v in c.items() if k <= DETRACTOR_MAX) / n
    variance = p_p + p_d - (p_p - p_d) ** 2
    return Estimate((p_p - p_d) * 100, n, Z95 * math.sqrt(max(variance, 0.0) / n) * 100)


def csat(counts: Mapping[int, int]) -> Estimate:
    """CSAT = % of rating5 answers that are 4 or 5; margin = 1.96·√(p(1−p)/n)·100."""
    c = _counts(counts, 1, 5)
    n = sum(c.values())
    if n == 0:
        return EMPTY
    p = sum(v for k, v in c.items() if k >= SATISFIED_MIN) / n
    return Estimate(p * 100, n, Z95 * math.sqrt(p * (1 - p) / n) * 100)


@dataclass(frozen=True)
class IndicatorScore:
    key: str
    weight: float  # as configured, in percent
    effective_weight: float  # rescaled over the indicators that have answers (0..1)
    mean: float | None  # of its rating5 answers, 1..5
    score: Estimate  # (mean − 1)/4 · 100 with its margin


def _mean_and_variance(c: Mapping[int, int]) -> tuple[float, float, int]:
    n = sum(c.values())
    mean = sum(k * v for k, v in c.items()) / n
    # sample variance; one answer has none to speak of, so its margin is unknown
    var = sum(v * (k - mean) ** 2 for k, v in c.items()) / (n - 1) if n > 1 else math.nan
    return mean, var, n


def satisfaction_index(
    weights: Mapping[str, float], counts: Mapping[str, Mapping[int, int]]
) -> tuple[Estimate, list[IndicatorScore]]:
    """Index (0–100) = Σ weight_i · (mean_i − 1)/4 · 100 over indicators, mean_i the mean of
    that indicator's rating5 answers. Indicators with no answers are left out and the remaining
    weights rescaled. The margin treats indicators as independent samples:
    1.96·√(Σ w_i² · s_i²/n_i) · 25. n is the smallest indicator sample (the weakest link)."""
    stats: dict[str, tuple[float, float, int]] = {}
    for key in weights:
        c = _counts(counts.get(key, {}), 1, 5)
        if sum(c.values()) > 0:
            stats[key] = _mean_and_variance(c)
    answered_weight = sum(weights[k] for k in stats)
    scores: list[IndicatorScore] = []
    total = 0.0
    variance = 0.0
    margin_known = True
    for key, weight in weights.items():
        if key not in stats or answered_weight <= 0:
            scores.append(IndicatorScore(key, weight, 0.0, None, EMPTY))
            continue
        mean, var, n = stats[key]
        w = weight / answered_weight
        margin = None if math.isnan(var) else Z95 * math.sqrt(var / n) * 25
        scores.append(IndicatorScore(key, weight, w, mean, Estimate((mean - 1) * 25, n, margin)))
        total += w * (mean - 1) * 25
        if math.isnan(var):
            margin_known = False
        else:
            variance += w * w * var / n
    if not stats or answered_weight <= 0:
        return EMPTY, scores
    n_min = min(n for _, _, n in stats.values())
    margin = Z95 * math.sqrt(variance) * 25 if margin_known else None
    return Estimate(total, n_min, margin), scores


def response_rate(responded: int, delivered: int) -> float | None:
    """Responded / delivered invitations (app.surveys.models.delivered), in percent; None
    before anything was delivered."""
    if delivered <= 0:
        return None
    return responded / delivered * 100


def is_dissatisfied(question_type: str, value: int) -> bool:
    """An answer that must become an issue: NPS ≤ 6, or any rating5 ≤ 2."""
    if question_type == "nps":
        return value <= DETRACTOR_MAX
    if question_type == "rating5":
        return value <= DISSATISFIED_RATING_MAX
    return False


def weights_valid(weights: Mapping[str, float], tolerance: float = 0.01) -> bool:
    """Weights are entered in percent per indicator and must sum to 100 %."""
    return (
        bool(weights)
        and all(w > 0 for w in weights.values())
        and abs(sum(weights.values()) - 100) <= tolerance
    )
