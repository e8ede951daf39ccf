"""The statistics of the analysis scripts, in numpy and math alone: mean and sample standard
deviation, Student-t quantiles and intervals, Welch's t-test."""
import math

import numpy as np


# ----------------------------------------------------------------------------- statistics
# numpy and math only (no scipy): mean, sample std, Student-t quantiles and Welch's test.

def mean_std(values):
    """Mean and sample standard deviation (ddof=1; 0 for a single value)."""
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0


def _betacf(a, b, x):
    # continued fraction of the incomplete beta function (modified Lentz)
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def betainc(a, b, x):
    """Regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b
                     * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t, df):
    """Student-t cumulative distribution function."""
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p, df):
    """Inverse of t_cdf by bisection (monotone; the bracket covers p in [1e-9, 1 - 1e-9] for df >=
    1)."""
    lo, hi = -1e9, 1e9
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if t_cdf(mid, df) < p else (lo, mid)
    return 0.5 * (lo + hi)


def t_interval(values, confidence=0.95):
    """Two-sided confidence interval of the mean: mean -+ t_{(1+c)/2, n-1} * s / sqrt(n).
    A single value gives (nan, nan)."""
    n = len(values)
    if n < 2:
        return float("nan"), float("nan")  # before mean_std: numpy warns on the mean of no values
    m, s = mean_std(values)
    half = t_quantile(0.5 + confidence / 2, n - 1) * s / math.sqrt(n)
    return m - half, m + half


def welch_terms(a, b):
    """(mean(a) - mean(b), its standard error sqrt(s_a^2/n_a + s_b^2/n_b), Welch-Satterthwaite's
    df); NaNs without two values per group or with no spread in either."""
    if len(a) < 2 or len(b) < 2:
        return float("nan"), float("nan"), float("nan")
    (ma, sa), (mb, sb) = mean_std(a), mean_std(b)
    va, vb = sa ** 2 / len(a), sb ** 2 / len(b)
    if va + vb == 0:
        return float("nan"), float("nan"), float("nan")
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    return ma - mb, math.sqrt(va + vb), df


def welch_t_test(a, b):
    """Welch's unequal-variance t-test: (t, df, two-sided p). Needs two values per group."""
    diff, se, df = welch_terms(a, b)
    if math.isnan(df):
        return float("nan"), float("nan"), float("nan")
    t = diff / se
    p = betainc(df / 2.0, 0.5, df / (df + t * t))
    return t, df, p


def welch_interval(a, b, confidence=0.95):
    """Confidence interval of mean(a) - mean(b) with unequal variances: the difference -+
    t_{(1+c)/2, df} * its standard error (welch_terms)."""
    diff, se, df = welch_terms(a, b)
    if math.isnan(df):
        return float("nan"), float("nan")
    half = t_quantile(0.5 + confidence / 2, df) * se
    return diff - half, diff + half
