"""Confidence intervals for the A/B report (docs/operations.md "A/B report"), in plain Python.

- a proportion (OCR, conversion): the Wilson score interval;
- a difference of two proportions: Newcombe's hybrid score interval (his method 10), built from the
  two Wilson intervals;
- a mean (AOV, CSAT): Student's t interval, mean ± t(0.975, n-1) · s/√n;
- a difference of two means: Welch's t interval (unequal variances, Welch-Satterthwaite degrees of freedom).

Student's t quantile comes from its CDF (the regularized incomplete beta function, by continued fraction)
inverted by bisection: no SciPy needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

CONFIDENCE = 0.95
Z = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)  # 1.959964


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    def crosses_zero(self) -> bool:
        return self.low <= 0 <= self.high


def wilson(successes: int, trials: int, z: float = Z) -> Interval | None:
    if trials <= 0:
        return None
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def newcombe(successes_a: int, trials_a: int, successes_b: int, trials_b: int) -> tuple[float, Interval] | None:
    """p_a - p_b with its interval (Newcombe 1998, method 10)."""
    interval_a, interval_b = wilson(successes_a, trials_a), wilson(successes_b, trials_b)
    if interval_a is None or interval_b is None:
        return None
    p_a, p_b = successes_a / trials_a, successes_b / trials_b
    difference = p_a - p_b
    low = difference - math.sqrt((p_a - interval_a.low) ** 2 + (interval_b.high - p_b) ** 2)
    high = difference + math.sqrt((interval_a.high - p_a) ** 2 + (p_b - interval_b.low) ** 2)
    return difference, Interval(low, high)


# -- Student's t ------------------------------------------------------------------------------------


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    tiny, epsilon = 1e-300, 3e-16
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c if abs(1 + aa / c) > tiny else tiny
        result *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c if abs(1 + aa / c) > tiny else tiny
        delta = d * c
        result *= delta
        if abs(delta - 1) < epsilon:
            break
    return result


def _incomplete_beta(a: float, b: float, x: float) -> float:
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x)
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1 - math.exp(log_front) * _beta_continued_fraction(b, a, 1 - x) / b


def t_cdf(t: float, df: float) -> float:
    tail = 0.5 * _incomplete_beta(df / 2, 0.5, df / (df + t * t))
    return 1 - tail if t > 0 else tail


def t_quantile(probability: float, df: float) -> float:
    """The t value below which `probability` of Student's t with `df` degrees of freedom lies (0.5 < p < 1)."""
    low, high = 0.0, 1e4
    for _ in range(200):
        middle = (low + high) / 2
        if t_cdf(middle, df) < probability:
            low = middle
        else:
            high = middle
    return (low + high) / 2


@dataclass(frozen=True)
class Sample:
    """A sample summarised by its size, sum and sum of squares (what one SQL aggregate returns)."""

    n: int
    total: float
    total_squares: float

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n else None

    @property
    def variance(self) -> float | None:
        if self.n < 2:
            return None
        return max(0.0, (self.total_squares - self.total * self.total / self.n) / (self.n - 1))


def mean_interval(sample: Sample) -> Interval | None:
    if sample.n < 2 or sample.mean is None or sample.variance is None:
        return None
    half = t_quantile(0.5 + CONFIDENCE / 2, sample.n - 1) * math.sqrt(sample.variance / sample.n)
    return Interval(sample.mean - half, sample.mean + half)


def welch(a: Sample, b: Sample) -> tuple[float, Interval] | None:
    """mean_a - mean_b with Welch's interval."""
    if a.n < 2 or b.n < 2 or a.variance is None or b.variance is None:
        return None
    difference = a.mean - b.mean  # type: ignore[operator]
    share_a, share_b = a.variance / a.n, b.variance / b.n
    spread = math.sqrt(share_a + share_b)
    if spread == 0:
        return difference, Interval(difference, difference)
    df = (share_a + share_b) ** 2 / (share_a**2 / (a.n - 1) + share_b**2 / (b.n - 1))
    half = t_quantile(0.5 + CONFIDENCE / 2, df) * spread
    return difference, Interval(difference - half, difference + half)
