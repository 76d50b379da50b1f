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
        ("p1_mean_booked_visits", lambda f: f.services["p1"].busy),
        ("intermediate_care_mean_occupied", lambda f: f.services["intermediate_care"].busy),
        ("care_home_mean_occupied", lambda f: f.services["care_home"].busy),
    ],
)
def test_expected_flows_match_a_simulated_year(year, kpi, expected) -> None:
    """Each flow's closed form lies within the simulated year's 99% CI, widened by 2%.

    The counts (admissions, discharges by pathway) are exact in expectation. The
    occupied places also hold the wait for a day the service admits, which the
    closed form approximates from the hours places become ready (within about
    a fifth of a day of the simulated wait, under 1.5% of a stay), and winter
    queues shift some transfers in time: 2% covers these, and a test of the
    arithmetic should not hide behind more. Care homes start the year at the
    closed form's occupancy and their residences last two years, so their
    year mostly tests that the places kept through readmissions (held 730
    days, not the 630 of places freed at readmissions) stay taken;
    tests/test_care_home_places.py checks the days held with short stays.
    """
    x = year["kpis"][kpi].to_numpy(dtype=float)
    per_day = kpi.endswith(("_occupied", "_booked_visits"))
    per_year = 1.0 if per_day else year["cfg"].run.measured_days
    want = expected(year["flows"]) * per_year
    n = x.size
    half = stats.t.ppf(0.995, n - 1) * x.std(ddof=1) / np.sqrt(n)
    assert abs(x.mean() - want) <= half + 0.02 * want, (kpi, x.mean(), want, half)


def test_steady_state_start_leaves_no_initial_dip() -> None:
    """Downstream services that start at their expected occupancy stay near it.

    The discharge pipeline starts empty, so a few days' arrivals are late: over
    the first month (mean of 3 replications) reablement measured 2% below its
    expected occupancy, intermediate care 12% (few beds, fed through the whole
    pipeline), care homes on it. Between replications these month means vary by
    about 1.5%, 4% and 1% of the level, so each service is allowed its measured
    shortfall plus three standard errors, rounded up (:data:`NEAR`).

    Started empty, a service whose stays average m days reaches on average
    1 - (m / 30) (1 - exp(-30 / m)) of its level over the first 30 days with
    exponential stays: 0.50 for reablement and intermediate care (about 19
    days), 0.02 for care homes (634 days). Below 0.6 leaves room for noise
    and for stays that are not exponential.
    """
    base = ["run.years=0.1", "run.warmup_days=0", "run.replications=3"]

    def first_month(*overrides: str) -> dict[str, float]:
        cfg = load_config("baseline", [*base, *overrides])
        daily = run(cfg, n_jobs=2).daily
        first = daily[daily["day"] < 30]
        return {s: first[f"{s}_occupied_mean"].mean() for s in SERVICES}

    busy = {s: offered_loads(load_config("baseline")).services[s].busy for s in SERVICES}
    steady = first_month()
    block = {"p1": "p1_visits"}  # pathway 1's visit slots have their own block
    empty = first_month(*(f"discharge.{block.get(s, s)}.initial_occupancy=0" for s in SERVICES))
    for s in SERVICES:
        assert abs(steady[s] - busy[s]) < NEAR[s] * busy[s], (s, steady[s], busy[s])
        assert empty[s] < 0.6 * busy[s], (s, empty[s], busy[s])


SERVICES = ("p1", "intermediate_care", "care_home")
#: service -> how far below (or above) its expected occupancy the first month of
#: a steady-state start may be: the measured shortfall (2%, 12%, 0%) plus three
#: standard errors of a mean of 3 replications (4.5%, 12%, 3%)
NEAR = {"p1": 0.07, "intermediate_care": 0.25, "care_home": 0.04}
