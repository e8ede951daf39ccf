"""The statistics of stats.py against values worked out by hand: each expected number derived in a
comment from its formula (the Student-t's closed forms for 1, 2 and 4 degrees of freedom, or a
numerical integral of its density), never copied from the function under test."""
import math
import warnings

import numpy as np
import pytest

# the root is on sys.path (conftest.py)
from stats import mean_std, t_interval, t_quantile, welch_interval, welch_t_test


def t_density(x, df):
    """Student-t density: Gamma((df+1)/2) / (sqrt(df pi) Gamma(df/2)) (1 + x^2/df)^(-(df+1)/2)."""
    scale = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)
    return scale * (1 + np.asarray(x) ** 2 / df) ** (-(df + 1) / 2)


def t_cdf_by_simpson(t, df, intervals=4000):
    """1/2 + the integral of the density from 0 to t, by Simpson's rule (independent of
    stats.py)."""
    x = np.linspace(0.0, t, intervals + 1)
    weights = np.ones(intervals + 1)
    weights[1:-1:2], weights[2:-1:2] = 4, 2
    return 0.5 + (t / intervals / 3) * float(np.sum(weights * t_density(x, df)))


def t4_cdf(t):
    """Closed form for 4 degrees of freedom: 1/2 + (3/8) u (1 - t^2 / (12 (1 + t^2/4))), u = t /
    sqrt(1 + t^2/4)."""
    u = t / math.sqrt(1 + t * t / 4)
    return 0.5 + 0.375 * u * (1 - t * t / (12 * (1 + t * t / 4)))


def test_mean_std():
    # [2, 4, 4, 4, 5, 5, 7, 9]: mean 40 / 8 = 5; squared deviations 9+1+1+1+0+0+4+16 = 32;
    # sample variance 32 / 7 = 4.571429, std 2.138090
    mean, std = mean_std([2, 4, 4, 4, 5, 5, 7, 9])
    assert mean == pytest.approx(5.0)
    assert std == pytest.approx(2.138090, abs=1e-6)
    # one value: no spread to estimate, std reported as 0
    assert mean_std([3.5]) == (3.5, 0.0)


def test_t_quantile_closed_forms():
    # 1 df is the Cauchy distribution, F(t) = 1/2 + atan(t)/pi: t = tan(pi (0.975 - 0.5)) =
    # tan(0.475 pi) = 12.706205
    assert t_quantile(0.975, 1) == pytest.approx(12.7062, abs=1e-4)
    assert t_quantile(0.975, 1) == pytest.approx(math.tan(0.475 * math.pi), rel=1e-9)
    # 2 df: F(t) = 1/2 + t / (2 sqrt(2 + t^2)), so t = (2p - 1) / sqrt(2 p (1 - p))
    # = 0.95 / sqrt(2 * 0.975 * 0.025) = 0.95 / 0.220794 = 4.302653
    assert t_quantile(0.975, 2) == pytest.approx(4.302653, abs=1e-6)
    # the same formula at p = 0.95: 0.9 / sqrt(0.095) = 2.919986
    assert t_quantile(0.95, 2) == pytest.approx(2.919986, abs=1e-6)
    # 4 df: the table value 2.776445 satisfies the closed-form cdf, F(2.776445) = 0.975
    assert t4_cdf(2.776445) == pytest.approx(0.975, abs=1e-7)
    assert t_quantile(0.975, 4) == pytest.approx(2.776445, abs=1e-6)


def test_t_quantile_nine_degrees_of_freedom():
    # the table value t_{0.975, 9} = 2.262157; the integral of the density up to it is 0.975
    assert t_cdf_by_simpson(2.262157, 9) == pytest.approx(0.975, abs=1e-7)
    assert t_quantile(0.975, 9) == pytest.approx(2.262157, abs=1e-6)
    # symmetry of the distribution: the lower quantile is the negative, the median is 0
    assert t_quantile(0.025, 9) == pytest.approx(-2.262157, abs=1e-6)
    # (near 0 the cdf is flat to ~1e-16 in t^2, so the bisection ends within ~3e-8 of the median)
    assert t_quantile(0.5, 9) == pytest.approx(0.0, abs=1e-7)


def test_t_interval():
    # [1, 2, 3, 4, 5]: mean 3, s = sqrt(10 / 4) = 1.581139, n = 5; half-width t_{0.975,4} s /
    # sqrt(5) = 2.776445 * 1.581139 / 2.236068 = 1.963243
    low, high = t_interval([1, 2, 3, 4, 5])
    assert (low, high) == pytest.approx((3 - 1.963243, 3 + 1.963243), abs=1e-6)
    # [1, 2, 3] at 90%: mean 2, s = 1, half-width t_{0.95,2} / sqrt(3) = 2.919986 / 1.732051 =
    # 1.685854
    assert t_interval([1, 2, 3],
                      confidence=0.90) == pytest.approx((2 - 1.685854, 2 + 1.685854), abs=1e-6)
    # one value has no interval
    assert all(math.isnan(v) for v in t_interval([7.0]))


def test_t_interval_of_fewer_than_two_values_warns_nothing():
    # no values or one: no interval, and no numpy RuntimeWarning (mean of an empty slice) on the way
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for values in ([], [7.0]):
            assert all(math.isnan(v) for v in t_interval(values))


def test_welch_t_test_worked_example():
    # a = [1, 2, 3, 4]: mean 2.5, s^2 = (2.25 + 0.25 + 0.25 + 2.25) / 3 = 5/3, s^2/n = 0.416667
    # b = [2, 4, 6, 8, 10]: mean 6, s^2 = (16 + 4 + 0 + 4 + 16) / 4 = 10, s^2/n = 2
    # t = (2.5 - 6) / sqrt(2.416667) = -3.5 / 1.554563 = -2.251436
    # df = 2.416667^2 / (0.416667^2 / 3 + 2^2 / 4) = 5.840278 / 1.057870 = 5.520788
    t, df, p = welch_t_test([1, 2, 3, 4], [2, 4, 6, 8, 10])
    assert t == pytest.approx(-2.251436, abs=1e-6)
    assert df == pytest.approx(5.520788, abs=1e-6)
    # p = 2 (1 - F(|t|)) with F the t cdf for 5.520788 df, integrated numerically: 0.0691
    expected_p = 2 * (1 - t_cdf_by_simpson(2.251436, 5.520788))
    assert expected_p == pytest.approx(0.0691, abs=1e-4)
    assert p == pytest.approx(expected_p, abs=1e-6)


def test_welch_t_test_two_degrees_of_freedom():
    # a = [0, 2], b = [10, 12]: both s^2 = 2, s^2/n = 1; t = (1 - 11) / sqrt(2) = -7.071068;
    # df = (1 + 1)^2 / (1/1 + 1/1) = 2, where F(t) = 1/2 + t / (2 sqrt(2 + t^2)):
    # F(7.071068) = 0.5 + 7.071068 / (2 sqrt(52)) = 0.990290, p = 2 (1 - F) = 0.019419
    t, df, p = welch_t_test([0, 2], [10, 12])
    assert (t, df) == pytest.approx((-7.071068, 2.0), abs=1e-6)
    assert p == pytest.approx(0.019419, abs=1e-6)
    # swapping the groups flips the sign of t only
    assert welch_t_test([10, 12], [0, 2]) == pytest.approx((7.071068, 2.0, 0.019419), abs=1e-6)


def test_welch_interval_two_degrees_of_freedom():
    # a = [10, 12], b = [0, 2]: difference 10, se sqrt(1 + 1) = 1.414214, df 2 (as above), where
    # t(0.975, 2) solves t / (2 sqrt(2 + t^2)) = 0.475, so t^2 = 2 / (1 / (4 * 0.475^2) - 1):
    # t = 4.302653, half-width 4.302653 * 1.414214 = 6.084870
    low, high = welch_interval([10, 12], [0, 2])
    assert (low, high) == pytest.approx((10 - 6.084870, 10 + 6.084870), abs=1e-5)
    # b moved by the lower end leaves a difference of one half-width: p = 0.05 (the interval
    # inverts the test)
    assert welch_t_test([10, 12], [low, low + 2])[2] == pytest.approx(0.05, abs=1e-6)
    assert all(math.isnan(v) for v in welch_interval([1.0], [2.0, 3.0]))


def test_welch_t_test_undefined_cases():
    # one value per group or no spread at all: no variance to test against
    assert all(math.isnan(v) for v in welch_t_test([1.0], [2.0, 3.0]))
    assert all(math.isnan(v) for v in welch_t_test([1.0, 1.0], [2.0, 2.0]))
