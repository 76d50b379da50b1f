"""Cost-effectiveness: quadrants, probabilities and ratios only where they mean something."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.experiment.economics import (
    bootstrap_means,
    cost_effectiveness,
    quadrant,
    ratio_interval,
)


def paired(
    cost: list[float], admissions: list[float], bed_days: list[float] | None = None
) -> pd.DataFrame:
    """A baseline and a scenario whose paired differences are exactly the given ones.

    ``cost``: scenario minus baseline; ``admissions``/``bed_days``: scenario minus
    baseline too (negative = avoided).
    """
    n = len(cost)
    bed_days = bed_days if bed_days is not None else admissions
    base = pd.DataFrame(
        {
            "scenario": "baseline",
            "replication": range(n),
            "seed": 7,
            "cost_total": 1e6 + 1e4 * np.arange(n),
            "emergency_admissions": 1000.0 + 10 * np.arange(n),
            "bed_days": 5000.0 + 50 * np.arange(n),
        }
    )
    scen = base.assign(
        scenario="s",
        cost_total=base["cost_total"] + cost,
        emergency_admissions=base["emergency_admissions"] + admissions,
        bed_days=base["bed_days"] + bed_days,
    )
    return pd.concat([base, scen], ignore_index=True)


def row(kpis: pd.DataFrame, outcome: str = "emergency_admissions") -> pd.Series:
    ce = cost_effectiveness(kpis, "baseline", n_boot=500)
    return ce.set_index("outcome").loc[outcome]


def test_dominant_saves_money_and_avoids_admissions_and_gets_no_ratio() -> None:
    r = row(paired([-100, -110, -90, -105, -95], [-10, -11, -9, -12, -8]))
    assert r["quadrant"] == "dominant" and not r["uncertain"]
    assert r["share_dominant"] == 1.0
    assert np.isnan(r["ratio"])
    assert r["reason"] == "no ratio: dominant - saves money and avoids admissions"
    assert r["p_saves_money"] > 0.975 and r["p_gain"] > 0.975


def test_dominated_costs_more_and_adds_admissions() -> None:
    r = row(paired([100, 110, 90, 105, 95], [10, 11, 9, 12, 8]))
    assert r["quadrant"] == "dominated" and r["share_dominated"] == 1.0
    assert np.isnan(r["ratio"])
    assert r["reason"] == "no ratio: adds admissions and costs more (dominated)"
    assert r["p_saves_money"] < 0.025 and r["p_gain"] < 0.025


def test_trade_off_that_saves_money_but_adds_admissions_gets_no_ratio() -> None:
    """PACE's case in the issue: saves money, avoids -9 admissions: no 94,119 per admission."""
    r = row(paired([-100, -110, -90, -105, -95], [10, 11, 9, 12, 8]))
    assert r["quadrant"] == "saves_worsens"
    assert np.isnan(r["ratio"])
    assert r["reason"].startswith("no ratio: saves money but adds admissions")


def test_costs_more_and_surely_avoids_admissions_gets_a_ratio_with_a_bootstrap_ci() -> None:
    cost = [100.0, 110.0, 90.0, 105.0, 95.0]
    adm = [-10.0, -11.0, -9.0, -12.0, -8.0]
    r = row(paired(cost, adm))
    assert r["quadrant"] == "costs_more_improves" and not r["uncertain"]
    assert r["reason"] == ""
    assert r["ratio"] == pytest.approx(np.mean(cost) / -np.mean(adm))
    assert 0 < r["ratio_ci_low"] <= r["ratio"] <= r["ratio_ci_high"] < np.inf


def test_no_ratio_when_the_gain_is_not_distinguishable_from_none() -> None:
    """MDT's bed-day case in the issue: a ratio of -6,256 per bed day 'saved' is not shown."""
    r = row(paired([100, 110, 90, 105, 95], [-5, 6, -7, 4, -1]))
    assert np.isnan(r["ratio"]) and np.isnan(r["ratio_ci_low"])
    assert r["reason"] == "no ratio: the effect on admissions is not distinguishable from none"
    assert r["uncertain"]
    # the quadrant is still that of the estimate, and the resamples spread over two
    assert r["quadrant"] == "costs_more_improves"
    assert 0 < r["share_costs_more_improves"] < 1
    assert r["share_costs_more_improves"] + r["share_dominated"] == pytest.approx(1.0)


def test_uncertain_cost_is_flagged_even_with_a_clear_gain() -> None:
    r = row(paired([-50, 60, -40, 30, -10], [-10, -11, -9, -12, -8]))
    assert r["uncertain"]
    assert r["quadrant"] == "dominant"  # the estimate saves a little
    assert "the saving's CI includes zero" in r["reason"]


def test_outcomes_are_judged_separately() -> None:
    kpis = paired([-100, -110, -90, -105, -95], [5, -6, 7, -8, 1], [-50, -55, -45, -60, -40])
    ce = cost_effectiveness(kpis, "baseline", n_boot=200).set_index("outcome")
    assert "not distinguishable" in ce.loc["emergency_admissions", "reason"]
    assert ce.loc["bed_days", "quadrant"] == "dominant"
    assert ce.loc["bed_days", "measure"] == "net cost per bed day saved"


def test_one_replication_gives_no_interval_probability_or_ratio() -> None:
    r = row(paired([100.0], [-10.0]))
    assert np.isnan(r["cost_ci_low"]) and np.isnan(r["p_gain"]) and np.isnan(r["ratio"])
    assert np.isnan(r["share_dominant"])
    assert "one replication" in r["reason"]
    assert r["quadrant"] == "costs_more_improves" and r["uncertain"]


def test_quadrant_of_points_on_the_axes() -> None:
    q = quadrant(np.array([-1, 1, 1, -1, 0, 0, 0]), np.array([1, -1, 1, -1, 1, -1, 0]))
    assert list(q) == [
        "dominant",
        "dominated",
        "costs_more_improves",
        "saves_worsens",
        "dominant",
        "dominated",
        "no_difference",
    ]


def test_bootstrap_is_paired_and_reproducible() -> None:
    """Cost and outcome resampled with the same indices: a perfect relation survives."""
    d = pd.DataFrame({"cost_total": [1.0, 2.0, 3.0, 4.0], "bed_days": [-2.0, -4.0, -6.0, -8.0]})
    a = bootstrap_means(d, 300, seed=3, scenario="x")
    assert (a["bed_days"] == -2 * a["cost_total"]).all()
    assert a.equals(bootstrap_means(d, 300, seed=3, scenario="x"))
    assert not a.equals(bootstrap_means(d, 300, seed=3, scenario="y"))


def test_ratio_interval_is_unbounded_when_many_resamples_show_no_gain() -> None:
    cost = np.full(1000, 100.0)
    gain = np.linspace(1.0, 10.0, 1000)
    lo, hi = ratio_interval(cost, gain)
    assert 10 < lo < hi < 100
    gain[:100] = 0.0  # 10% of resamples gain nothing: no upper bound
    assert ratio_interval(cost, gain)[1] == np.inf
    gain[10:100] = 5.0  # 1%: the upper end stays finite
    assert np.isfinite(ratio_interval(cost, gain)[1])
