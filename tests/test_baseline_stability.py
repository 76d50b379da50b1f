"""The default baseline is in a steady state: it neither drifts nor needs more warm-up.

An earlier default ran its downstream services at an offered load near one:
their queues built for years, mean occupied beds rose from about 325 in the
first summer to about 378 a year later and delayed patients from 4 to 40. These
tests would have failed on it.

The drift tests read one set of pilot runs: 8 replications of the default
baseline with no warm-up, long enough for three measured years after the
default warm-up. The warm-up rule itself needs five such sets, so its test is
marked slow (`pytest -m slow`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import stats

from sim.config import load_config
from sim.experiment import run
from sim.experiment.warmup import warmup_rule
from sim.flows import offered_loads

#: daily series -> margin: the largest drift accepted between the first and the
#: third measured year, in the series' unit
MARGINS = {
    "beds_occupied_mean": 8.0,  # 2% of the 400 beds
    "delayed_mean": 3.0,  # about a fifth of the ~13 delayed patients
    # 3% of the slots: a fifth of the visits are year-long packages, so year
    # means move slowly, as for care homes
    "p1_occupied_mean": 43.0,
    # 2 of 36 beds: a small service whose year means vary by about 2 beds between
    # replications, so a tighter margin could not be told from noise with 8 of them
    "intermediate_care_occupied_mean": 2.0,
    # 5% of the places: stays last two years, so a replication's year means move
    # together slowly and vary more between replications
    "care_home_occupied_mean": 15.0,
}


@pytest.fixture(scope="module")
def pilot():
    cfg = load_config("baseline", ["run.replications=8"])
    days = cfg.run.warmup_days + 3 * 365
    pilot_run = dataclasses.replace(cfg.run, warmup_days=0, years=days / 365)
    return cfg, run(dataclasses.replace(cfg, run=pilot_run), n_jobs=2).daily


def test_default_services_are_not_saturated() -> None:
    """Every default service has headroom at annual-average demand (offered load
    below 0.9), so winter peaks (about 6% above average) stay below one."""
    loads = offered_loads(load_config("baseline")).offered_loads()
    assert all(load < 0.9 for load in loads.values()), loads


@pytest.mark.slow  # a 3-year pilot of several replications
@pytest.mark.parametrize("level", list(MARGINS))
def test_third_year_agrees_with_the_first(pilot, level) -> None:
    """The first and third measured years of a three-year baseline agree.

    Paired by replication, the mean difference (year 3 - year 1) must lie within
    the margin, and its 95% CI within twice the margin: a model drifting by the
    margin fails the first, one too noisy to tell fails the second. Years 1 and
    3 cover the same months, so seasonality cancels; the halves of a three-year
    run would not (one has two winters).
    """
    cfg, daily = pilot
    w = cfg.run.warmup_days
    d = daily[daily["day"] >= w].copy()
    d["year"] = (d["day"] - w) // 365
    by = d.groupby(["replication", "year"])[level].mean().unstack()
    diff = (by[2] - by[0]).to_numpy()
    n = diff.size
    half = stats.t.ppf(0.975, n - 1) * diff.std(ddof=1) / np.sqrt(n)
    m = MARGINS[level]
    assert abs(diff.mean()) < m, (level, diff.mean(), half, m)
    assert abs(diff.mean()) + half < 2 * m, (level, diff.mean(), half, m)


@pytest.mark.slow
def test_default_warmup_covers_the_measured_rule() -> None:
    """run.warmup_days is at least what the warm-up rule measures (five sets of 8
    replications, the median of their values), as nsim-warmup reports it."""
    cfg = load_config("baseline")
    rule = warmup_rule(cfg, n_jobs=2)
    assert rule.warmup_days <= cfg.run.warmup_days, rule.describe()
