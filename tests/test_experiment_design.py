"""Warm-up, initial state and the number of replications."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.config import load_config
from sim.experiment import run_replication
from sim.experiment.replications import (
    ci_method,
    look_ahead,
    relative_half_width,
    sequential,
)
from sim.experiment.warmup import estimate_warmup, mser


def test_mser5_finds_the_end_of_a_transient() -> None:
    """A series that climbs for 100 steps then fluctuates is truncated at 100.

    MSER-5 works on means of batches of 5 (standard error 3 / sqrt(5) = 1.3
    here): the ramp's batches before step 95 lie 5 or more below the level, four
    standard errors, so no series is cut before 95. How far past 100 it cuts is
    chance (up to 165 for 1% of single series), so the test takes the median of
    21 series: in 2,000 sets of 21 it was 100 or 105 in all but one (110). For
    stationary series the median cut was 0 in 97% of sets and never above 10.
    """
    rng = np.random.default_rng(1)
    ramp = [
        mser(np.concatenate([np.linspace(0, 100, 100), 100 + rng.normal(0, 3, 600)]))
        for _ in range(21)
    ]
    flat = [mser(100 + rng.normal(0, 3, 600)) for _ in range(21)]
    assert min(ramp) >= 95 and all(d % 5 == 0 for d in ramp), ramp
    assert 95 <= np.median(ramp) <= 105, ramp
    assert np.median(flat) <= 10, flat


def test_estimate_warmup_on_the_model() -> None:
    """From empty beds the model needs weeks of warm-up; from its steady state
    (the default start), a batch at most.

    Started empty, beds fall short of their level on day t by the admissions a
    day times E[(S - t)+], S the stay. Stays average about 4 days, mixed
    exponential: a fifth of them from a phase of mean 12 days, which alone
    leaves 76 x 0.2 x 12 x exp(-20 / 12) = 35 beds short on day 20. The mean
    of a 5-day batch of two replications varies by about 9 beds (the daily
    census, about 340, is Poisson-like and stays last days), so MSER cannot
    stop before day 20. It can cut at most 85 days of a half-year pilot (half
    its batches): a cut inside that range means it found the transient's end.
    """
    pilot = ["run.replications=2"]
    steady = estimate_warmup(load_config("baseline", pilot), replications=2, years=0.5)
    empty = estimate_warmup(
        load_config("baseline", [*pilot, "initial_state.acute_occupied=0"]),
        replications=2,
        years=0.5,
    )
    assert 20 <= empty.warmup_days < 85, empty.warmup_days
    assert steady.warmup_days <= 10, steady.warmup_days
    assert {"day", "mean"} <= set(empty.series.columns)


def test_initial_state_starts_near_steady_state() -> None:
    """Starting full (a count, or steady_state, the default) gives steady occupancy
    from day 0; empty does not.

    The ratio is the mean occupancy of days 0-29 over that of days 60-119 (April
    against June and July, whose demand factors differ by under 2%), pooled over
    3 replications. A 30-day mean varies by about 3% between replications, so
    the pooled ratio has a standard error of about 0.018 and 0.06 is 3.3 of
    them. The count start (345 in beds and 12 delayed) is some 5% above the
    later level, an excess that drains within a stay or two, so it is allowed
    0.02 more. From empty the first month falls short by about a stay's mean
    residual (8 days for these mixed exponential stays) over the 30 days: a
    ratio near 0.73 before delays build, below 0.8 by four standard errors.
    """

    def first_vs_later(*overrides: str) -> float:
        cfg = load_config("baseline", ["run.years=0.35", "run.warmup_days=0", *overrides])
        first = later = 0.0
        for rep in range(3):
            beds = run_replication(cfg, rep).daily["beds_occupied_mean"]
            first += beds.iloc[:30].mean()
            later += beds.iloc[60:120].mean()
        return first / later

    full = first_vs_later("initial_state.acute_occupied=345", "initial_state.delayed=12")
    steady = first_vs_later()
    empty = first_vs_later("initial_state.acute_occupied=0")
    assert abs(full - 1) < 0.08, full
    assert abs(steady - 1) < 0.06, steady
    assert empty < 0.8, empty


def test_initial_state_is_validated() -> None:
    from sim.config import ConfigError

    with pytest.raises(ConfigError, match=r"initial_state\.acute_occupied"):
        load_config("baseline", ["initial_state.acute_occupied=10000"])
    with pytest.raises(ConfigError, match=r"initial_state\.delayed"):
        load_config("baseline", ["initial_state.acute_occupied=10", "initial_state.delayed=20"])


def test_relative_half_width_matches_definition() -> None:
    x = np.array([10.0, 12.0, 11.0, 9.0])
    from scipy import stats

    expected = stats.t.ppf(0.975, 3) * x.std(ddof=1) / 2 / x.mean()
    assert relative_half_width(x) == pytest.approx(expected)
    assert relative_half_width(np.array([5.0])) == math.inf


def test_ci_method_on_known_variance() -> None:
    """Normal data with CV 10%: +/-5% needs about (2.1 * 0.1 / 0.05)^2 ~ 17 runs.

    Where the interval first stays within the target depends on the sample
    standard deviations along the way: over 400 seeds the number needed for
    ``a`` ran from 2 to 32, between 5 and 32 in 99.5% of them (this seed: 25).
    With CV 2% (``b``) three runs reach it when the sample sd is near the true
    one (t(2) = 4.3, 4.3 * 0.02 / sqrt(3) = 0.050), never more than 5 in 400.
    """
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"a": rng.normal(100, 10, 200), "b": rng.normal(50, 1, 200)})
    out = ci_method(df, ["a", "b"], target=0.05).set_index("metric")
    assert 5 <= out.loc["a", "n_needed"] <= 32
    assert out.loc["b", "n_needed"] <= 5


def test_sequential_algorithm_stops_after_look_ahead() -> None:
    """HRD: stops at n_sol + look-ahead with every metric within target."""
    rng = np.random.default_rng(5)
    draws = rng.normal(100, 10, 500)
    res = sequential(lambda r: {"x": draws[r]}, ["x"], target=0.05)
    assert res.met
    assert res.replications_run == res.n_solution + look_ahead(res.n_solution)
    assert relative_half_width(draws[: res.n_solution]) <= 0.05
    assert look_ahead(50) == 5 and look_ahead(200) == 10


def test_sequential_algorithm_gives_up_at_the_cap() -> None:
    rng = np.random.default_rng(6)
    draws = rng.normal(1, 10, 100)  # CV 1000%: never within 5%
    res = sequential(lambda r: {"x": draws[r]}, ["x"], target=0.05, max_replications=20)
    assert not res.met and res.replications_run == 20
