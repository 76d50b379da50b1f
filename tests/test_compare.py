"""Scenario comparison: paired differences from common random numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.config import load_config
from sim.experiment.compare import compare, headline
from sim.experiment.runner import run_many

BASE = ["run.years=0.25", "run.warmup_days=30", "run.replications=6"]


@pytest.fixture(scope="module")
def kpis() -> pd.DataFrame:
    cfgs = [load_config(s, BASE) for s in ("baseline", "treat")]
    res = run_many(cfgs, n_jobs=2)
    return pd.concat([r.kpis for r in res.values()], ignore_index=True)


def test_paired_difference_has_smaller_variance_than_unpaired(kpis) -> None:
    """Common random numbers: var(treat - baseline) paired << var unpaired.

    The ratio estimates 1 - rho, rho the correlation CRN induces between a
    scenario and the baseline; the README promises at least a fourfold cut
    (ratio below 0.25). From 6 replications the variances have 5 and 10 degrees
    of freedom, so the ratio found can exceed the true one by up to 5.6 times
    (99th percentile of F(5, 10)); the ratios here are about 0.05 or less, and
    unpaired runs (ratio near 1) cannot pass."""
    base = kpis[kpis["scenario"] == "baseline"].sort_values("replication")
    treat = kpis[kpis["scenario"] == "treat"].sort_values("replication")
    for metric in ("emergency_admissions", "ae_attendances", "bed_days"):
        b, t = base[metric].to_numpy(), treat[metric].to_numpy()
        paired = np.var(t - b, ddof=1)
        unpaired = np.var(t, ddof=1) + np.var(b, ddof=1)
        assert paired < 0.25 * unpaired, (metric, paired, unpaired)


def test_comparison_table_is_paired_and_consistent(kpis) -> None:
    comp = compare(kpis).set_index(["scenario", "metric"])
    row = comp.loc[("treat", "emergency_admissions")]
    assert row["n"] == 6
    assert row["diff_ci_low"] <= row["diff_mean"] <= row["diff_ci_high"]
    assert row["diff_mean"] == pytest.approx(row["mean"] - row["baseline_mean"])
    assert row["relative_change"] == pytest.approx(row["diff_mean"] / row["baseline_mean"])
    # TREAT avoids admissions: the whole paired CI is below zero
    assert row["diff_ci_high"] < 0
    base_row = comp.loc[("baseline", "emergency_admissions")]
    assert base_row["diff_mean"] == 0


def test_headline_reports_admissions_avoided_as_positive(kpis) -> None:
    eff = headline(compare(kpis)).set_index(["scenario", "effect"])
    avoided = eff.loc[("treat", "admissions avoided")]
    assert avoided["estimate"] > 0 and avoided["ci_low"] > 0


def test_unpaired_seeds_are_refused(kpis) -> None:
    other = kpis.copy()
    other.loc[other["scenario"] == "treat", "seed"] = 99
    with pytest.raises(ValueError, match="not paired"):
        compare(other)
