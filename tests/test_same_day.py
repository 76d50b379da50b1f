"""Same-day access in general practice: slots by session, first come first booked.

The booking rule is checked against its own arithmetic (a day's slots, the
session a time falls in) and against queueing theory: with constant demand a
session's seekers on a day are Poisson, so the share who get a slot is
E[min(N, c)] / E[N]. Scenarios are compared in paired runs with common random
numbers (the same crises from the same people in both).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import poisson

from sim.community import SameDaySlots, _expected_served
from sim.config import ConfigError, load_config
from sim.config.schema import SameDayConfig, SameDaySession
from sim.experiment import run
from sim.experiment.stats import mean_ci
from sim.model import CareSystemModel

PAIRED = ["run.years=0.3", "run.warmup_days=20", "run.replications=4", "run.n_jobs=1"]
WEEKDAYS5 = ("Mon", "Tue", "Wed", "Thu", "Fri")


def _kpis(scenario: str, *overrides: str) -> pd.DataFrame:
    return run(load_config(scenario, [*PAIRED, *overrides])).kpis


@pytest.fixture(scope="module")
def baseline() -> pd.DataFrame:
    return _kpis("baseline")


def test_a_fractional_number_of_slots_is_spread_evenly_over_days() -> None:
    """2.5 slots a day: 2 or 3 each day, 25 in 10 days, never more than one apart."""
    cfg = SameDayConfig(sessions=(SameDaySession((*WEEKDAYS5, "Sat", "Sun"), 8, 18, 1.0),))
    slots = SameDaySlots(cfg, np.array([25_000.0]), start_weekday=0)
    caps = [slots.capacity(0, 0, d) for d in range(10)]
    assert sum(caps) == 25 and set(caps) == {2, 3}
    assert slots.offered(0, 10) == 25


def test_a_crisis_books_the_session_open_at_its_time_or_about_to_open() -> None:
    """Weekday 08:00-18:30 with one hour's call-ahead, none at the weekend; the run
    starts on a Monday (weekday 0)."""
    cfg = SameDayConfig(sessions=(SameDaySession(WEEKDAYS5, 8, 18.5, 4.0),), call_ahead_hours=1)
    slots = SameDaySlots(cfg, np.array([10_000.0]), start_weekday=0)
    assert slots.session_at(6.9) == -1  # Monday 06:54
    assert slots.session_at(7.0) == 0  # an hour before opening
    assert slots.session_at(18.49) == 0 and slots.session_at(18.5) == -1
    assert slots.session_at(5 * 24 + 10) == -1  # Saturday
    assert slots.session_at(7 * 24 + 10) == 0  # the next Monday
    # four slots on Monday, first come first booked; Tuesday starts afresh
    assert [slots.book(0, 0, 9.0 + i / 10) for i in range(5)] == [True] * 4 + [False]
    assert slots.book(0, 0, 24 + 9.0)


@pytest.mark.parametrize(
    "mean, slots", [(3.0, 4.0), (10.0, 8.5), (0.5, 0.0), (900.0, 880.5), (0.0, 3.0)]
)
def test_expected_served_is_the_poisson_mean_of_min_n_c(mean: float, slots: float) -> None:
    """E[min(N, c)] summed directly over the Poisson distribution."""
    n = np.arange(2000)
    pmf = poisson.pmf(n, mean)
    lo = math.floor(slots)
    frac = slots - lo
    direct = (1 - frac) * float((np.minimum(n, lo) * pmf).sum()) + frac * float(
        (np.minimum(n, lo + 1) * pmf).sum()
    )
    assert _expected_served(mean, slots) == pytest.approx(direct, rel=1e-9, abs=1e-12)


def test_share_booked_matches_poisson_theory_with_constant_demand() -> None:
    """With demand constant in time each neighbourhood's seekers in a session on
    a day are Poisson, so the share who book is E[min(N, c)] / E[N] (the
    community rule's own expectation, which the expected flows use).

    Tolerance: ~6,000 seekers of a 0.25-year run give a binomial standard error
    of ~0.006 on a share near 0.8; 0.02 is over three of them.
    """
    kpis = run(
        load_config(
            "baseline",
            [
                "run.years=0.25",
                "run.warmup_days=10",
                "run.replications=1",
                "demand.time_varying=false",
                "community.same_day.sessions=[{days: [Mon, Tue, Wed, Thu, Fri, Sat, Sun], "
                "open: 8.0, close: 18.0, slots_per_10k: 2.0}]",
                "community.same_day.call_ahead_hours=0",
            ],
        )
    ).kpis.iloc[0]
    in_window = kpis["same_day_sought"] - kpis["same_day_closed"]
    simulated = kpis["same_day_booked"] / in_window
    # 10 of 24 hours open, demand flat: seekers a day per neighbourhood
    cfg = load_config("baseline", ["demand.time_varying=false"])
    model = CareSystemModel(cfg, 0)
    strata = model.strata
    crises_day = np.asarray(model.demand.stratum_rate_per_year) / 365.0
    per_nb = np.bincount(strata.neighbourhood, weights=crises_day)
    registered = strata.registered_by_neighbourhood()
    served = seekers = 0.0
    for d, r in zip(per_nb, registered, strict=True):
        mean = d * 10 / 24 * cfg.community.same_day.first_contact_share
        served += _expected_served(mean, 2.0 * r / 10_000)
        seekers += mean
    assert simulated == pytest.approx(served / seekers, abs=0.02)
    assert 0.5 < served / seekers < 0.95  # the check bites: slots do run out


def test_managed_share_matches_the_expected_flows(baseline: pd.DataFrame) -> None:
    """The default borough's managed share against the community rule's
    expectation (profiles, Poisson days, NHS 111). The expectation leaves out
    the monthly profile and day-to-day clustering, so it is approximate: 0.01
    on a share near 0.155 (~36,000 crises a replication: binomial SE ~0.002)."""
    from sim.model import CareSystemModel

    cfg = load_config("baseline", PAIRED)

    model = CareSystemModel(cfg, 0)
    crises = np.asarray(model.demand.stratum_rate_per_year) / 365.0
    share = model.community.expected_managed_share(crises, model.demand.hourly, model.demand.weekly)
    expected_share = float((share * crises).sum() / crises.sum())
    simulated = float(baseline["community_managed_share"].mean())
    assert simulated == pytest.approx(expected_share, abs=0.01)


def test_no_slots_means_no_crisis_is_managed_by_general_practice(
    baseline: pd.DataFrame,
) -> None:
    """Zero slots: nobody books, every seeker in a session finds none, and more
    crises reach A&E than in the baseline, in every pair."""
    none = _kpis(
        "baseline",
        "community.same_day.sessions=[{days: [Mon], open: 8.0, close: 18.0, slots_per_10k: 0}]",
    )
    assert (none["same_day_booked"] == 0).all() and (none["same_day_managed"] == 0).all()
    assert (none["same_day_no_slot"] + none["same_day_closed"] == none["same_day_sought"]).all()
    assert (none["crises"] == baseline["crises"]).all()  # common random numbers
    assert (none["ae_attendances"] > baseline["ae_attendances"]).all()


def test_seven_day_access_lowers_attendances_and_admissions(baseline: pd.DataFrame) -> None:
    """The same_day_access scenario (8-8, seven days, more slots) against the
    baseline, paired: fewer A&E attendances and admissions in every pair, and
    the 95% CI of the mean paired log ratio below zero."""
    other = _kpis("same_day_access")
    assert (other["crises"] == baseline["crises"]).all()
    for metric in ("ae_attendances", "emergency_admissions"):
        b, o = baseline[metric].to_numpy(), other[metric].to_numpy()
        assert (o < b).all(), (metric, b, o)
        _, _, _, hi = mean_ci(np.log(o / b))
        assert hi < 0
    assert (other["same_day_closed"] < baseline["same_day_closed"]).all()


@pytest.mark.parametrize(
    "override, path",
    [
        (
            "community.same_day.sessions=[{days: [Mun], open: 8.0, close: 18.0, slots_per_10k: 1}]",
            "community.same_day.sessions[0].days",
        ),
        (
            "community.same_day.sessions=[{days: [Mon], open: 18.0, close: 8.0, slots_per_10k: 1}]",
            "community.same_day.sessions[0].close",
        ),
        (
            "community.same_day.sessions=[{days: [Mon], open: 8.0, close: 18.0, "
            "slots_per_10k: 1}, {days: [Mon, Tue], open: 17.0, close: 20.0, slots_per_10k: 1}]",
            "community.same_day.sessions[1]",
        ),
        ("community.nhs111.share=1.5", "community.nhs111.share"),
    ],
)
def test_bad_sessions_get_a_clear_error(override: str, path: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config("baseline", [override])
    assert path in str(info.value)


def test_same_day_access_moves_ae_arrivals_out_of_the_day() -> None:
    """Slots open in the day manage daytime crises, so A&E's share of arrivals
    between 09:00 and 18:00 falls below the crisis profile's (about 0.58; the
    binomial standard error of ~10,000 arrivals is 0.005), where under the
    constant share it matches it (tests/test_demand.py)."""
    cfg = load_config("baseline", ["run.years=0.1", "run.warmup_days=0", "run.event_log=true"])
    from sim.experiment import run_replication

    ev = run_replication(cfg, 0).events
    arrivals = ev.loc[ev["event"] == "ae_arrival", "time_hours"].to_numpy()
    hours = np.floor(arrivals % 24).astype(int)
    prof = np.asarray(cfg.demand.profile.hourly)
    expected_share = prof[9:18].sum() / prof.sum()
    assert np.isin(hours, range(9, 18)).mean() < expected_share - 0.02


def test_a_session_is_bookable_only_after_the_one_before_it_closes() -> None:
    """An evening session right after core hours: its hour of call-ahead would
    overlap them, so each time of day belongs to one session only (and the
    expected flows, which use the same windows, count it once)."""
    cfg = SameDayConfig(
        sessions=(
            SameDaySession(WEEKDAYS5, 8, 18.5, 4.0),
            SameDaySession(WEEKDAYS5, 18.5, 20, 1.0),
        ),
        call_ahead_hours=1,
    )
    slots = SameDaySlots(cfg, np.array([10_000.0]), start_weekday=0)
    assert slots.session_at(18.0) == 0 and slots.session_at(18.5) == 1
    assert [w[1] for w in slots.by_weekday[0]] == [7.0, 18.5]


def test_fractional_slots_are_spread_over_the_days_a_session_runs() -> None:
    """A weekend session of 0.5 slots a day: one slot every other weekend day,
    so 4 in 8 weekend days, whatever weekday the run starts on (spreading by
    calendar day instead locks the odd slot onto some weekdays)."""
    cfg = SameDayConfig(sessions=(SameDaySession(("Sat", "Sun"), 9, 17, 0.5),))
    for start in range(7):
        slots = SameDaySlots(cfg, np.array([10_000.0]), start_weekday=start)
        weekend = [d for d in range(28) if (start + d) % 7 >= 5]
        assert sum(slots.capacity(0, 0, d) for d in weekend) == 4
        assert slots.offered(0, 28) == 4
