"""Confidence intervals: log scale for quantities that cannot be negative, t otherwise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from sim.experiment.compare import compare
from sim.experiment.stats import (
    LOG_METHOD,
    T_METHOD,
    interval,
    log_mean_ci,
    mean_ci,
    prob_positive,
    summarise,
)
from sim.outputs import schema


def test_skewed_sample_gets_a_positive_lower_bound() -> None:
    """The t interval of this sample goes below zero; the log interval does not."""
    x = np.array([1e3, 2e3, 9e5, 1e3, 5e2])
    _, _, t_lo, _ = mean_ci(x)
    mean, _, lo, hi = log_mean_ci(x)
    assert t_lo < 0
    assert 0 < lo < mean < hi
    # wider above the mean than below it
    assert hi - mean > mean - lo


def test_precise_sample_gives_almost_the_t_interval() -> None:
    x = np.array([1000.0, 1003.0, 998.0, 1001.0, 999.0, 1002.0])
    _, _, t_lo, t_hi = mean_ci(x)
    _, _, lo, hi = log_mean_ci(x)
    assert lo == pytest.approx(t_lo, rel=1e-5)
    assert hi == pytest.approx(t_hi, rel=1e-5)


def test_formula_is_the_delta_method_on_the_log_scale() -> None:
    x = np.array([3.0, 5.0, 4.0, 9.0])
    mean, sd = x.mean(), x.std(ddof=1)
    t = sps.t.ppf(0.975, 3)
    factor = np.exp(t * sd / np.sqrt(4) / mean)
    assert log_mean_ci(x)[2:] == pytest.approx((mean / factor, mean * factor))


def test_all_zero_gives_zero_zero_and_one_value_gives_none() -> None:
    assert log_mean_ci(np.zeros(5))[2:] == (0.0, 0.0)
    mean, _, lo, hi = log_mean_ci(np.array([7.0]))
    assert mean == 7.0 and np.isnan(lo) and np.isnan(hi)


def test_negative_values_are_refused() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        log_mean_ci(np.array([1.0, -1.0]))


def test_share_upper_end_is_capped_at_one() -> None:
    x = np.array([0.99, 0.6, 0.98, 0.97])
    *_, hi, method = interval("ae_4h_performance", x)
    assert method == LOG_METHOD and hi == 1.0


def test_method_follows_the_schema_units() -> None:
    assert schema.non_negative("boarding_hours")
    assert schema.non_negative("cost_total") and schema.non_negative("dtoc_days_reason_x")
    assert not schema.non_negative("boarding_trend_per_day")  # a slope may be negative
    assert not schema.non_negative("not_a_documented_kpi")
    assert interval("bed_days", np.array([1.0, 2.0]))[-1] == LOG_METHOD
    assert interval("delayed_trend_per_day", np.array([1.0, 2.0]))[-1] == T_METHOD
    # a documented non-negative KPI with a negative value falls back to t, not an error
    assert interval("bed_days", np.array([-1.0, 2.0]))[-1] == T_METHOD


def test_summary_names_its_method_and_never_goes_below_zero() -> None:
    kpis = pd.DataFrame(
        {
            "scenario": "s",
            "replication": range(5),
            "seed": 1,
            "boarding_hours": [1e3, 2e3, 9e5, 1e3, 5e2],
            "boarding_trend_per_day": [-1.0, 0.5, 0.2, -0.3, 0.1],
        }
    )
    s = summarise(kpis).set_index("metric")
    assert s.loc["boarding_hours", "ci_method"] == "log"
    assert s.loc["boarding_hours", "ci_low"] > 0
    assert s.loc["boarding_trend_per_day", "ci_method"] == "t"
    assert s.loc["boarding_trend_per_day", "ci_low"] < 0


def test_probability_agrees_with_the_t_interval() -> None:
    """A 95% CI excludes zero exactly when P is above 97.5% (or below 2.5%)."""
    rng = np.random.default_rng(5)
    for _ in range(200):
        d = rng.normal(rng.normal(0, 1), 1, size=int(rng.integers(2, 9)))
        _, _, lo, hi = mean_ci(d)
        p = prob_positive(d)
        assert (lo > 0) == (p > 0.975)
        assert (hi < 0) == (p < 0.025)
    assert prob_positive(np.array([2.0, 2.0])) == 1.0
    assert prob_positive(np.zeros(3)) == 0.0
    assert np.isnan(prob_positive(np.array([1.0])))


def test_comparison_keeps_t_for_differences_and_log_for_means() -> None:
    kpis = pd.DataFrame(
        {
            "scenario": ["b"] * 4 + ["s"] * 4,
            "replication": [0, 1, 2, 3] * 2,
            "seed": 1,
            "boarding_hours": [10.0, 500.0, 20.0, 30.0, 5.0, 600.0, 10.0, 10.0],
        }
    )
    row = compare(kpis, "b").set_index("scenario").loc["s"]
    assert row["ci_method"] == "log" and row["ci_low"] > 0
    d = np.array([-5.0, 100.0, -10.0, -20.0])
    assert (row["diff_ci_low"], row["diff_ci_high"]) == pytest.approx(mean_ci(d)[2:])
    assert row["p_increase"] == pytest.approx(prob_positive(d))
    assert row["p_decrease"] == pytest.approx(prob_positive(-d))


def test_an_imprecise_estimate_keeps_the_t_interval_s_upper_end() -> None:
    """Two values 0.02 and 5.5: the delta method's factor exp(t se / mean) is about
    e^12, an upper end of ~400 for data no larger than 5.5. Beyond a factor of e
    the upper end is the t interval's; the lower end stays above zero."""
    x = np.array([0.02, 5.5])
    mean, sd, lo, hi = log_mean_ci(x)
    t_hi = mean + sps.t.ppf(0.975, 1) * sd / np.sqrt(2)
    assert 0 < lo < mean and hi == pytest.approx(t_hi) and hi < 40


def test_relative_change_needs_a_positive_baseline() -> None:
    """A trend of -0.072 a day falling to -0.095 is not a rise of 32%: no
    relative change is given against a baseline that is not positive."""
    kpis = pd.DataFrame(
        {
            "scenario": ["baseline"] * 3 + ["x"] * 3,
            "replication": [0, 1, 2] * 2,
            "seed": [1] * 6,
            "delayed_trend_per_day": [-0.07, -0.08, -0.066, -0.09, -0.1, -0.095],
            "bed_days": [100.0, 110.0, 105.0, 90.0, 99.0, 94.0],
        }
    )
    c = compare(kpis).set_index(["scenario", "metric"])
    assert np.isnan(c.loc[("x", "delayed_trend_per_day"), "relative_change"])
    assert c.loc[("x", "bed_days"), "relative_change"] == pytest.approx((283 / 3 - 105) / 105)
