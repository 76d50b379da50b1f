"""Crises arise at the configured rates, with the configured time pattern."""

from __future__ import annotations

import numpy as np

from sim.config import load_config
from sim.experiment import run_replication
from sim.model import CareSystemModel
from sim.theory import poisson_z


def test_crisis_count_matches_the_rates() -> None:
    """A year's crises are Poisson with the mean implied by strata and profiles.

    |z| < 4 for a Poisson count fails a correct model with probability about
    6e-5. The profiles average to one over whole weeks and months; over 365 days
    the weekday profile has one day to spare (at most 0.12 / 365, 0.03%) and
    months weigh by their lengths (under 0.1% with these monthly factors), so
    the year's expected total is within 0.2% of the annual rates."""
    cfg = load_config("baseline", ["run.years=1", "run.warmup_days=0"])
    model = CareSystemModel(cfg, 0)
    expected = sum(model.demand.expected_per_day(d).sum() for d in range(365))
    k = run_replication(cfg, 0).kpis
    assert abs(poisson_z(k["crises"], expected)) < 4
    # annual rate ~ the configured population rates (profiles average to one)
    assert abs(expected / model.demand.stratum_rate_per_year.sum() - 1) < 0.002


def test_arrivals_follow_hour_of_day_profile() -> None:
    """Most A&E arrivals fall in the day: the hourly profile is applied.

    Each arrival's hour follows the profile on its own, so the share between 9
    and 18 is binomial: about 10,000 arrivals and a share near 0.58 give a
    standard error of 0.005, and 0.02 is four of them. Under the constant
    community share (same-day access manages daytime crises more, so it shifts
    A&E's arrivals towards the evening: tests/test_same_day.py)."""
    cfg = load_config(
        "baseline",
        ["run.years=0.1", "run.warmup_days=0", "run.event_log=true", "community.model=share"],
    )
    ev = run_replication(cfg, 0).events
    arrivals = ev.loc[ev["event"] == "ae_arrival", "time_hours"].to_numpy()
    hours = np.floor(arrivals % 24).astype(int)
    prof = np.asarray(cfg.demand.profile.hourly)
    expected_share = prof[9:18].sum() / prof.sum()
    observed = np.isin(hours, range(9, 18)).mean()
    assert abs(observed - expected_share) < 0.02


def test_direct_admissions_rate() -> None:
    """Direct-admission mode produces a Poisson stream at the configured rate
    (|z| < 4: a correct model fails with probability about 6e-5)."""
    cfg = load_config(
        "baseline",
        [
            "demand.mode=direct_admissions",
            "demand.direct_admissions_per_day=20",
            "demand.time_varying=false",
            "run.years=1",
            "run.warmup_days=0",
            "readmission.enabled=false",
        ],
    )
    k = run_replication(cfg, 0).kpis
    assert abs(poisson_z(k["emergency_admissions"], 20 * 365)) < 4
    assert k["ae_attendances"] == 0


def test_drawing_days_in_blocks_gives_the_same_candidates() -> None:
    """Candidates drawn a block of days at a time equal those drawn day by day, so
    the block size (a speed setting) never changes results."""
    cfg = load_config("baseline", ["run.years=0.1", "run.warmup_days=0"])
    block = CareSystemModel(cfg, 3).demand.candidates(0, 10)
    daily_model = CareSystemModel(cfg, 3).demand
    days = [daily_model.candidates(d, 1) for d in range(10)]
    for i in range(3):
        np.testing.assert_array_equal(block[i], np.concatenate([d[i] for d in days]))
