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
    """A series that climbs for 100 steps then fluctuates is truncated near 100."""
    rng = np.random.default_rng(1)
    series = np.concatenate([np.linspace(0, 100, 100), 100 + rng.normal(0, 3, 600)])
    d = mser(series)
    assert 80 <= d <= 140 and d % 5 == 0
    assert mser(100 + rng.normal(0, 3, 600)) < 60  # stationary: little or nothing cut


def test_estimate_warmup_on_the_model() -> None:
    """Pilot runs from empty beds need a warm-up of weeks, not none and not months."""
    cfg = load_config("baseline", ["run.replications=2"])
    est = estimate_warmup(cfg, replications=2, years=0.5)
    assert 5 <= est.warmup_days <= 90
    assert {"day", "mean"} <= set(est.series.columns)


def test_initial_state_starts_near_steady_state() -> None:
    """Starting full (a count, or steady_state, the default) gives steady occupancy
    from day 0; empty does not."""

    def first_vs_later(*overrides: str) -> float:
        cfg = load_config("baseline", ["run.years=0.35", "run.warmup_days=0", *overrides])
        d = run_replication(cfg, 0).daily
        return (
            d["beds_occupied_mean"].iloc[:30].mean() / d["beds_occupied_mean"].iloc[60:120].mean()
        )

    full = first_vs_later("initial_state.acute_occupied=345", "initial_state.delayed=12")
    steady = first_vs_later()
    empty = first_vs_later("initial_state.acute_occupied=0")
    assert abs(full - 1) < 0.06
    assert abs(steady - 1) < 0.08  # beds start with their clinical stays; delays build
    assert empty < 0.8


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
    """Normal data with CV 10%: +/-5% needs about (1.96 * 0.1 / 0.05)^2 ~ 16-20 runs."""
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"a": rng.normal(100, 10, 200), "b": rng.normal(50, 1, 200)})
    out = ci_method(df, ["a", "b"], target=0.05).set_index("metric")
    assert 10 <= out.loc["a", "n_needed"] <= 30
    assert out.loc["b", "n_needed"] <= 4


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
