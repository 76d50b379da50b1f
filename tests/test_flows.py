"""The closed-form flows of sim/flows.py against the simulation and against theory."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.config import load_config
from sim.experiment import run
from sim.flows import offered_loads
from tests.conftest import textbook


def test_textbook_offered_load_is_lambda_times_mean_stay_over_beds() -> None:
    """With Poisson admissions and nothing else, the offered load is a / c exactly."""
    cfg = textbook(20, 15.0)
    f = offered_loads(cfg)
    beds = f.services["acute_beds"]
    assert beds.arrivals_per_day == pytest.approx(15.0)
    assert beds.mean_held_days == pytest.approx(1.0)
    assert beds.offered_load == pytest.approx(15.0 / 20)
    assert "reablement" not in f.services  # discharge switched off: no downstream demand


def test_no_capacity_with_demand_is_an_infinite_load() -> None:
    cfg = load_config("baseline", ["discharge.intermediate_care.capacity=0"])
    assert offered_loads(cfg).services["intermediate_care"].offered_load == float("inf")


@pytest.fixture(scope="module")
def year() -> dict:
    cfg = load_config("baseline", ["run.years=1", "run.replications=6"])
    return {"cfg": cfg, "kpis": run(cfg, n_jobs=2).kpis, "flows": offered_loads(cfg)}


@pytest.mark.parametrize(
    ("kpi", "expected"),
    [
        ("emergency_admissions", lambda f: f.admissions),
        ("discharges_p1", lambda f: f.discharges[1]),
        ("discharges_p2", lambda f: f.discharges[2]),
        ("discharges_p3", lambda f: f.discharges[3]),
        ("reablement_mean_occupied", lambda f: f.services["reablement"].busy),
        ("intermediate_care_mean_occupied", lambda f: f.services["intermediate_care"].busy),
    ],
)
def test_expected_flows_match_a_simulated_year(year, kpi, expected) -> None:
    """Each flow's closed form lies within the simulated year's 99% CI, widened by 2%.

    The closed form averages demand over the year exactly and treats each stage
    as independent; the 2% allows for what it leaves out (a downstream place is
    also held while the patient waits for a day the service admits, and queues
    in winter shift some transfers in time), which a test of a flow's own
    arithmetic should not hide behind a loose tolerance.
    """
    x = year["kpis"][kpi].to_numpy(dtype=float)
    per_year = 1.0 if kpi.endswith("_occupied") else year["cfg"].run.measured_days
    want = expected(year["flows"]) * per_year
    n = x.size
    half = stats.t.ppf(0.995, n - 1) * x.std(ddof=1) / np.sqrt(n)
    assert abs(x.mean() - want) <= half + 0.02 * want, (kpi, x.mean(), want, half)


def test_steady_state_start_leaves_no_initial_dip() -> None:
    """Downstream services that start at their expected occupancy stay near it:
    the first measured month's mean is within 10% of the year's."""
    cfg = load_config("baseline", ["run.years=0.25", "run.warmup_days=0", "run.replications=3"])
    daily = run(cfg, n_jobs=2).daily
    for svc in ("reablement", "intermediate_care", "care_home"):
        busy = offered_loads(cfg).services[svc].busy
        first = daily.loc[daily["day"] < 30, f"{svc}_occupied_mean"].mean()
        assert abs(first - busy) < 0.1 * busy, (svc, first, busy)
