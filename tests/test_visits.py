"""Pathway 1 as visit capacity (sim.discharge.visits) against its rules and theory.

The service is driven by a small harness of its own (no discharge team): patients
arrive in a Poisson stream, ask for care, wait for the booked start, start it and
may be readmitted. Every patient's draws come from a generator seeded by the
test, so two runs with different capacities see the same patients with the same
needs (common random numbers).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import pytest
from scipy import stats

from sim.config.build import build
from sim.config.errors import ConfigError
from sim.config.schema import Calendar, Duration
from sim.config.visits import VisitKindShares, VisitRate, VisitServiceConfig
from sim.core.calendar import Clock, ServiceHours
from sim.core.event_queue import Environment
from sim.core.recorder import Recorder
from sim.core.window import KpiWindow
from sim.discharge.visits import (
    CARE_HOME,
    DEAD,
    HOME,
    REABLEMENT,
    Booking,
    ReadmissionRisk,
    VisitService,
    linear_profile,
    mean_profile_visits,
)
from sim.patient import Patient, StratumInfo

ALWAYS = Calendar(days=("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), start_hour=0, end_hour=24)
OLDER = StratumInfo(0, 3, 2, False, True)
YOUNGER = StratumInfo(0, 0, 0, False, False)


def _config(**changes: Any) -> VisitServiceConfig:
    return dataclasses.replace(VisitServiceConfig(enabled=True), **changes)


class Harness:
    """A visit service, a recorder, and patients who use the service as the
    discharge flow would: ask, wait for the start, start, maybe be readmitted."""

    def __init__(self, cfg: VisitServiceConfig, days: int, warmup: int = 0) -> None:
        self.env = Environment()
        self.days, self.warmup = days, warmup
        self.rec = Recorder(self.env, days, warmup, 1)
        self.hours = ServiceHours(Clock(dt.date(2024, 4, 1)), cfg.admits)
        self.svc = VisitService(self.env, cfg, self.hours, self.rec)
        self.draws = self.svc.draws()
        for k, d in enumerate(self.draws):
            d.column = k
        self.left: list[Patient] = []
        self.svc.on_leave = lambda p, svc: self.left.append(p)
        self.bookings: dict[int, Booking] = {}
        self.waits: dict[int, float] = {}  # patient id -> hours from asking to the start
        #: checks run after every request (the ledger within capacity, ...)
        self.after_request: list[Callable[[], None]] = []

    def patient(self, pid: int, draws: list[float], info: StratumInfo = OLDER) -> Patient:
        return Patient(pid, pid, 0, self.env.now, info, draws)

    def care(
        self, p: Patient, back_in: float | None = None, gives_up_after: float | None = None
    ) -> Generator[Any, Any, None]:
        """One patient's way through: ask, wait, start (or give up waiting)."""
        env, svc = self.env, self.svc
        asked = env.now
        ev = svc.request(p)
        b = svc.booking_of(p)
        assert b is not None
        self.bookings[p.id] = b
        for check in self.after_request:
            check()
        if gives_up_after is not None:
            yield ev | env.timeout(gives_up_after)
            if not ev.triggered:  # readmitted while waiting at home
                assert svc.cancel(p)
                return
        else:
            yield ev
        self.waits[p.id] = env.now - asked
        svc.start_stay(p, back_in)

    def poisson(
        self, per_day: float, seed: int, readmit: float = 0.0, n_max: int | None = None
    ) -> None:
        """Patients asking at ``per_day`` a day; ``readmit`` of them readmitted after
        a time as sim.readmission draws it (mean 10 days, truncated to 30)."""
        rng = np.random.default_rng(seed)

        def arrivals() -> Generator[Any, Any, None]:
            i = 0
            while n_max is None or i < n_max:
                yield self.env.timeout(rng.exponential(24.0 / per_day))
                i += 1
                draws = rng.random(len(self.draws)).tolist()
                u_readmit, u_time = rng.random(2)
                back = None
                if u_readmit < readmit:
                    back = -240.0 * math.log1p(-u_time * -math.expm1(-3.0))
                self.env.process(self.care(self.patient(i, draws), back))

        self.env.process(arrivals())

    def run(self, until_day: int | None = None) -> None:
        self.env.process(self.rec.monitor())
        self.env.run(until=(until_day or self.days) * 24.0)
        self.rec.finish()

    def window(self) -> KpiWindow:
        return KpiWindow(self.rec, self.warmup, self.days)


# --------------------------------------------------------------------------- profiles
def test_linear_profile_is_ipacs_rounded_sequence() -> None:
    """round(seq(IVR, FVR, length.out = L)) in R, rounded half to even."""
    assert linear_profile(4, 4, 1) == [4, 3, 2, 1]
    assert linear_profile(3, 4, 1) == [4, 2, 1]  # 2.5 rounds to 2, as in R
    assert linear_profile(1, 4, 1) == [4]
    assert linear_profile(2, 5, 2) == [5, 2]
    for n in range(1, 43):
        for a in range(1, 6):
            for b in range(1, 3):
                expected = np.round(np.linspace(a, b, n)).astype(int).tolist()
                assert linear_profile(n, a, b) == expected, (n, a, b)


def _independent_mean_visits(cfg: VisitServiceConfig) -> float:
    """E[visits of a reablement episode] with SciPy's laws, not the module's."""
    d = cfg.reablement_days
    sigma = math.sqrt(math.log1p(d.cv**2))
    law = stats.lognorm(s=sigma, scale=d.mean * math.exp(-0.5 * sigma**2))
    cap = cfg.max_episode_days
    below = [0.0] + [float(law.cdf(k + 0.5)) for k in range(1, cap)] + [1.0]
    p_days = {k: below[k] - below[k - 1] for k in range(1, cap + 1)}

    def rate(r: VisitRate) -> dict[int, float]:
        top = math.floor(r.mean + 3 * r.sd)
        w = {
            k: stats.norm.cdf(k + 0.5, r.mean, r.sd) - stats.norm.cdf(k - 0.5, r.mean, r.sd)
            for k in range(1, top + 1)
        }
        total = sum(w.values())
        return {k: v / total for k, v in w.items()}

    first, last = rate(cfg.initial_visits), rate(cfg.final_visits)
    return sum(
        pn * pa * pb * float(np.round(np.linspace(a, b, n)).sum())
        for n, pn in p_days.items()
        for a, pa in first.items()
        for b, pb in last.items()
    )


# --------------------------------------------------------------------------- capacity
def test_ledger_never_exceeds_capacity_and_is_the_sum_of_bookings() -> None:
    """Overloaded, with every kind of care, packages on the same slots,
    readmissions and withdrawn bookings: after every request no day is booked
    beyond capacity, and at the end each day's visits are exactly those of the
    bookings standing (cut at readmission, withdrawn ones gone)."""
    cfg = _config(
        visits_per_day=60,
        package_days=Duration(mean=25.0, distribution="exponential"),
        onward_on_same_capacity=True,
        initial_occupancy=0.5,
    )
    h = Harness(cfg, days=240)
    svc = h.svc
    h.svc.initial_occupants(np.random.default_rng(3), 1.0)
    initial = svc.booked.copy()

    def within() -> None:
        assert svc.booked.max() <= cfg.visits_per_day
        assert svc.booked.min() >= 0

    h.after_request.append(within)
    rng = np.random.default_rng(11)

    def arrivals() -> Generator[Any, Any, None]:
        for i in range(1, 400):
            yield h.env.timeout(rng.exponential(24.0 / 1.6))
            draws = rng.random(len(h.draws)).tolist()
            back = rng.uniform(0, 600) if rng.random() < 0.3 else None
            # a fifth wait at home and are readmitted after two days if not started
            give_up = 48.0 if rng.random() < 0.2 else None
            h.env.process(h.care(h.patient(i, draws), back, give_up))

    h.env.process(arrivals())
    h.run()
    within()
    assert sum(w > 0.5 for _, w in svc.waits) > 50  # the queue was used (days)
    assert any(b.cancelled for b in h.bookings.values())
    assert any(b.end_day >= 0 for b in h.bookings.values())
    # rebuild the ledger from the bookings: each standing booking's visits, up
    # to the day after its readmission once that has come (events at the end
    # time itself are not run)
    rebuilt = initial.copy()
    for b in h.bookings.values():
        if b.cancelled or b.start_day < 0:
            continue
        cut = b.started and b.end_day >= 0 and b.left < h.env.now
        stop = b.end_day - b.start_day if cut else len(b.main)
        n = max(0, min(stop, svc.n_days - b.start_day))
        rebuilt[b.start_day : b.start_day + n] += b.main[:n]
    assert np.array_equal(rebuilt, svc.booked)
    assert np.array_equal(sum(svc.by_kind), svc.booked)


def test_unlimited_capacity_nobody_waits_and_visits_match_the_formula() -> None:
    """With slots for everyone and a service open all hours, every patient starts
    when they ask, and the mean visits of a reablement episode is the expected
    sum of its rounded linear profile: the module's exact average over the laws
    of its length and rates equals one computed independently with SciPy, and
    the simulated mean is within 4 standard errors of it."""
    cfg = _config(
        visits_per_day=10**6,
        admits=ALWAYS,
        kinds=VisitKindShares(reablement=1.0, home_care=0.0, bridging=0.0),
        initial_occupancy=0.0,
    )
    h = Harness(cfg, days=800)
    h.poisson(per_day=8.0, seed=5)
    h.run()
    assert len(h.waits) > 5000
    assert max(h.waits.values()) == 0.0
    exact = mean_profile_visits(h.svc.reablement_days, h.svc.first_rate, h.svc.last_rate)
    assert exact == pytest.approx(_independent_mean_visits(cfg), rel=1e-6)
    # (the unrounded line L (IVR + FVR) / 2 is close but not equal)
    approx = h.svc.reablement_days.mean * (h.svc.first_rate.mean + h.svc.last_rate.mean) / 2
    assert abs(exact - approx) / exact < 0.02
    visits = np.array([b.visits for b in h.bookings.values()], dtype=float)
    se = visits.std(ddof=1) / math.sqrt(visits.size)
    assert abs(visits.mean() - exact) < 4 * se, (visits.mean(), exact, se)


def test_littles_law_for_patients_in_care() -> None:
    """Patients in care on the slots, time-averaged over the measured period,
    equal starts a day x mean time in care (Little's law), in a queue that
    waits (load ~0.9, weekday starts, readmissions cutting care short).

    The level is first checked exactly: its integral over the period is the sum
    of each stay's overlap with the period. Little's law then holds up to the
    stays cut by the period's ends, about E[S](1 + cv^2) / (2T) of the mean at
    each end (S the time in care, ~11 days, cv ~1.3, T = 1,500 days: ~1%); the
    test allows 3%.
    """
    cfg = _config(
        visits_per_day=110,
        kinds=VisitKindShares(reablement=0.8, home_care=0.0, bridging=0.2),
        initial_occupancy=0.0,
    )
    h = Harness(cfg, days=1600, warmup=100)
    h.poisson(per_day=3.6, seed=7, readmit=0.15)
    h.run()
    w = h.window()
    t0, t1 = w.start_h, w.T * 24.0
    overlap = 0.0
    stays: list[float] = []
    for b in h.bookings.values():
        if not b.started:
            continue
        start = b.start
        overlap += max(0.0, min(b.left, t1) - max(start, t0))
        if t0 <= start < t1:
            stays.append(b.left - start)
    assert w.integral_days("visit_patients:p1") * 24.0 == pytest.approx(overlap, rel=1e-9)
    mean_in_care = w.mean("visit_patients:p1")
    little = len(stays) / w.days * float(np.mean(stays)) / 24.0
    assert np.mean(list(h.waits.values())) > 6.0  # the queue is used (hours)
    assert abs(mean_in_care - little) / little < 0.03, (mean_in_care, little)


def test_booked_visits_a_day_are_start_rate_times_mean_visits() -> None:
    """With slots far above need (no waits), the time-average visits booked a day
    equal starts a day x the expected visits per patient (Little's law in
    visits), with all three kinds and the packages on the same slots.

    Tolerance: the starts are counted, so the error is that of the mean visits
    per patient (4 standard errors, from the simulated spread) plus the care
    cut by the ends of the period (E[visits-days] weighted, under 1% here)."""
    cfg = _config(
        visits_per_day=10**6,
        admits=ALWAYS,
        package_days=Duration(mean=30.0, distribution="exponential"),
        onward_on_same_capacity=True,
        initial_occupancy="steady_state",
    )
    per_day = 6.0
    h = Harness(cfg, days=1400, warmup=100)
    h.svc.initial_occupants(np.random.default_rng(2), per_day)
    h.poisson(per_day=per_day, seed=9)
    h.run()
    w = h.window()
    k = h.svc.kpis(w)
    starts = sum(k[f"p1_starts_{kind}"] for kind in ("reablement", "home_care", "bridging"))
    expected = starts / w.days * h.svc.mean_visits_per_patient()
    visits = np.array([b.visits for b in h.bookings.values()], dtype=float)
    rel_se = visits.std(ddof=1) / visits.mean() / math.sqrt(visits.size)
    got = k["p1_mean_booked_visits"]
    assert abs(got - expected) / expected < 4 * rel_se + 0.01, (got, expected, rel_se)
    assert k["p1_mean_wait_days"] == 0.0


def test_steady_state_start_holds_its_level() -> None:
    """People already in care at time 0, with the patients who start from day 0
    on, book the expected visits a day (arrivals x mean visits per patient,
    readmissions included) from the first weeks on: the ledger does not drift.

    Averaged over eight seeds the first ten days are within 1.1% of the long-run
    level (people in care at the start are never readmitted, which puts them
    slightly high); one seed's 30-day mean varies by about 1.5% at 80 patients
    a day. The test allows 5% on one seed. (The service admits every hour here:
    with weekday admissions a run starting on a Monday also lacks the weekend's
    queue, which is the acute beds' initial state, not this service's.)"""
    cfg = _config(
        visits_per_day=10**6,
        admits=ALWAYS,
        package_days=Duration(mean=20.0, distribution="exponential"),
        onward_on_same_capacity=True,
    )
    per_day = 80.0
    risk = ReadmissionRisk(0.15, 30.0, 10.0)
    h = Harness(cfg, days=300)
    placed = h.svc.initial_occupants(np.random.default_rng(4), per_day, risk)
    assert placed > 1000
    expected = h.svc.expected_busy_visits(per_day, risk)
    h.poisson(per_day=per_day, seed=3, readmit=0.15)
    h.run()
    early = h.svc.booked[0:30].mean()
    late = h.svc.booked[150:290].mean()
    assert early == pytest.approx(expected, rel=0.05)
    assert late == pytest.approx(expected, rel=0.05)


# --------------------------------------------------------------------------- paired runs
def test_more_capacity_lowers_waits_in_paired_runs() -> None:
    """The same patients (common random numbers) with more and more visit slots:
    the mean wait falls at each step, and with slots to spare the only waits
    left are for the service's admission hours.

    Each patient's care depends only on their own draws, so it is the same in
    every run. A single patient's wait is not monotone in capacity in general
    (an earlier patient starting sooner can take the days a later one would
    have used: a scheduling anomaly), so the test is on the means."""
    waits: list[float] = []
    plans: list[list[tuple[int, int]]] = []
    # loads ~0.98, 0.93, 0.88 (offered_load with readmissions), then no limit
    for cap in (360, 380, 400, 10**6):
        h = Harness(
            _config(
                visits_per_day=cap,
                initial_occupancy=0.0,
                package_days=Duration(mean=60.0, distribution="exponential"),
            ),
            days=500,
            warmup=60,
        )
        h.poisson(per_day=8.0, seed=21, readmit=0.14)
        h.run()
        waits.append(float(np.mean([v for pid, v in h.waits.items() if pid > 400])))
        plans.append([(b.kind, b.visits) for _, b in sorted(h.bookings.items())[:2000]])
    assert all(p == plans[0] for p in plans)  # the same patients with the same needs
    assert waits[0] > waits[1] > waits[2] > waits[3], waits
    assert waits[0] > 24.0  # the tightest capacity (load ~0.98): over a day on average
    # with slots to spare: each patient waits only for the admission hours
    # (weekdays 08:00-18:00), from when they ask
    for b in h.bookings.values():
        assert b.wait_hours == pytest.approx(h.hours.full.wait_until_open(b.requested))


# --------------------------------------------------------------------------- readmission
def test_readmission_gives_back_the_remaining_visits() -> None:
    """Four slots a day and care of four visits a day for ten days: A starts on
    day 0 and is readmitted at hour 60 (day 2). Until then days 3-9 are A's;
    from then they are free, the visits of day 2 counting as delivered, and C,
    who asks after the readmission, starts on day 3. D, who asks while the
    slots are taken, is booked later; when D withdraws (readmitted while at
    home), E takes D's place."""
    cfg = _config(
        visits_per_day=4,
        admits=ALWAYS,
        kinds=VisitKindShares(reablement=1.0, home_care=0.0, bridging=0.0),
        reablement_days=Duration(mean=10.0, distribution="fixed"),
        initial_visits=VisitRate(4.0, 0.0),
        final_visits=VisitRate(4.0, 0.0),
        onward_long_term_share=0.0,
        initial_occupancy=0.0,
    )
    h = Harness(cfg, days=60)
    env, svc = h.env, h.svc
    seen: dict[str, Any] = {}
    draws = [0.5] * len(h.draws)

    def story() -> Generator[Any, Any, None]:
        env.process(h.care(h.patient(1, draws), back_in=60.0))
        yield env.timeout(59.0)
        seen["before"] = svc.booked[:12].copy()
        yield env.timeout(2.0)  # hour 61
        seen["after"] = svc.booked[:12].copy()
        env.process(h.care(h.patient(3, draws)))
        yield env.timeout(1.0)
        env.process(h.care(h.patient(4, draws), gives_up_after=24.0))
        yield env.timeout(1.0)
        seen["d_start"] = h.bookings[4].start_day
        yield env.timeout(30.0)  # D gave up at hour 86
        env.process(h.care(h.patient(5, draws)))

    env.process(story())
    h.run()
    assert seen["before"].tolist() == [4] * 10 + [0, 0]
    assert seen["after"].tolist() == [4, 4, 4] + [0] * 9
    a, c, d, e = (h.bookings[i] for i in (1, 3, 4, 5))
    assert a.end_day == 3 and a.left == 60.0
    assert c.start_day == 3 and h.waits[3] == pytest.approx(72.0 - 61.0)
    assert seen["d_start"] == 13 and d.cancelled
    assert e.start_day == 13  # D's slots, given back
    assert svc.booked[:3].sum() == 12  # A's delivered visits
    assert svc.booked[3:23].tolist() == [4] * 20


@pytest.mark.parametrize(("back_days", "package_days"), [(None, 100), (20.5, 11), (5.0, 0)])
def test_onward_package_with_another_provider(back_days: float | None, package_days: int) -> None:
    """Reablement of 10 days, then (onward share 1) a package of 2 visits a day
    for 100 days with another provider: written on that provider's ledger from
    day 10, up to the day of a readmission (day 20 counts), and not started at
    all if the readmission comes first; the P1 slots hold only the reablement."""
    cfg = _config(
        visits_per_day=10**6,
        admits=ALWAYS,
        kinds=VisitKindShares(reablement=1.0, home_care=0.0, bridging=0.0),
        reablement_days=Duration(mean=10.0, distribution="fixed"),
        initial_visits=VisitRate(3.0, 0.0),
        final_visits=VisitRate(1.0, 0.0),
        package_visits=VisitRate(2.0, 0.0),
        package_days=Duration(mean=100.0, distribution="fixed"),
        onward_long_term_share=1.0,
        initial_occupancy=0.0,
    )
    h = Harness(cfg, days=150)
    back = None if back_days is None else back_days * 24.0
    h.env.process(h.care(h.patient(1, [0.5] * len(h.draws)), back))
    h.run()
    svc = h.svc
    assert svc.elsewhere.sum() == 2 * package_days
    assert svc.elsewhere[10 : 10 + package_days].tolist() == [2] * package_days
    reablement = linear_profile(10, 3, 1)
    delivered = reablement if back_days is None or back_days > 10 else reablement[:6]
    assert svc.booked.sum() == sum(delivered)
    k = svc.kpis(h.window())
    assert k["p1_onward_packages"] == (1 if package_days else 0)
    assert k["p1_visits_other_provider"] == 2 * package_days


# --------------------------------------------------------------------------- 91 days
def test_still_at_home_91_days_after_reablement() -> None:
    """The ASCOF 2B(1) measure on constructed people, all 65+ discharged from
    hospital into reablement unless said otherwise:

    a. never readmitted: at home;
    b. readmitted on day 5, nothing more known: in hospital, not at home;
    c. readmitted on day 5, home again on day 12: at home;
    d. readmitted, then into a care home on day 20: not at home;
    e. readmitted, died in hospital on day 8: not at home;
    f. under 65: not counted; g. not from hospital: not counted.

    Five followed, two at home: 40%."""
    cfg = _config(
        visits_per_day=10**6,
        admits=ALWAYS,
        kinds=VisitKindShares(reablement=1.0, home_care=0.0, bridging=0.0),
        initial_occupancy=0.0,
    )
    h = Harness(cfg, days=120)
    env, svc = h.env, h.svc
    where = svc.whereabouts
    draws = [0.5] * len(h.draws)

    def person(
        pid: int,
        info: StratumInfo,
        back_in: float | None,
        from_hospital: bool,
        moves: list[tuple[float, str]],
    ) -> Generator[Any, Any, None]:
        p = h.patient(pid, draws, info)
        ev = svc.request(p)
        yield ev
        svc.start_stay(p, back_in, from_hospital=from_hospital)
        t0 = env.now
        for day, place in moves:
            yield env.timeout(t0 + day * 24.0 - env.now)
            where.moved(p.person, env.now, place)

    five_days = 5 * 24.0
    env.process(person(1, OLDER, None, True, []))
    env.process(person(2, OLDER, five_days, True, []))
    env.process(person(3, OLDER, five_days, True, [(12, HOME)]))
    env.process(person(4, OLDER, five_days, True, [(20, CARE_HOME)]))
    env.process(person(5, OLDER, five_days, True, [(8, DEAD)]))
    env.process(person(6, YOUNGER, None, True, []))
    env.process(person(7, OLDER, None, False, []))
    h.run()
    k = svc.kpis(h.window())
    assert k["p1_followed_91d"] == 5
    assert k["p1_at_home_91d"] == 2
    assert k["p1_home_at_91_days"] == pytest.approx(0.4)
    assert len(where) == 0  # nobody is followed after day 91


# --------------------------------------------------------------------------- plumbing
def test_draws_are_the_same_whatever_the_settings() -> None:
    """Every patient carries the same draws whatever the kinds, capacities or
    rules, so paired scenarios stay aligned."""
    a = Harness(_config(), days=10).svc.draws()
    b = Harness(
        _config(
            visits_per_day=5,
            kinds=VisitKindShares(reablement=1.0, home_care=0.0, bridging=0.0),
            onward_on_same_capacity=True,
        ),
        days=10,
    ).svc.draws()
    assert [(d.name, d.stream) for d in a] == [(d.name, d.stream) for d in b]
    assert len({d.stream for d in a}) == len(a) == 3  # three columns, read in parts


def test_parts_of_one_draw_are_independent_uniforms() -> None:
    """The numbers read from the digits of one draw are uniform and independent:
    over 20,000 uniforms each part's Kolmogorov-Smirnov p-value and the
    correlation between parts (|r| < 4 / sqrt(n) = 0.028, four standard errors)
    pass, and each part is the midpoint of a cell, never 0 or 1."""
    from sim.patient import Draw, DrawPart

    d = Draw("u", "s")
    d.column = 0
    parts = [DrawPart(d, i, 4) for i in range(3)]
    u = np.random.default_rng(5).random(20_000)
    vals = np.array([[q.of(Patient(0, 0, 0, 0.0, OLDER, [x])) for q in parts] for x in u])
    for j in range(3):
        assert stats.kstest(vals[:, j], "uniform").pvalue > 0.01
        assert vals[:, j].min() > 0 and vals[:, j].max() < 1
    r = np.corrcoef(vals.T)
    assert np.abs(r[np.triu_indices(3, 1)]).max() < 4 / np.sqrt(len(u))
    with pytest.raises(ValueError, match="12th digit"):
        DrawPart(d, 3, 4)


def test_kpis_are_documented_and_costs_are_visit_hours() -> None:
    cfg = _config(visits_per_day=2000)
    h = Harness(cfg, days=200, warmup=20)
    h.svc.initial_occupants(np.random.default_rng(1), 8.0)
    h.poisson(per_day=8.0, seed=2, readmit=0.14)
    h.run()
    w = h.window()
    k = h.svc.kpis(w)
    assert set(k) == set(VisitService.kpi_docs)
    assert k["p1_visits_delivered"] == pytest.approx(
        k["p1_visits_reablement"]
        + k["p1_visits_home_care"]
        + k["p1_visits_bridging"]
        + k["p1_visits_onward"]
        - k["p1_visits_other_provider"]
    )
    assert 0 < k["p1_visit_utilisation"] < 1
    assert k["p1_onward_packages"] > 0 and k["p1_bridging_handovers"] > 0
    costs = h.svc.cost_quantities(w)
    assert costs["p1_visit_hour"] == pytest.approx(k["p1_visits_delivered"] * 45 / 60)
    assert costs["home_care_package_hour"] == pytest.approx(k["p1_visits_other_provider"] * 45 / 60)
    block = h.svc.cost_quantities(w, block=True)
    assert block["p1_visit_hour"] == pytest.approx(2000 * w.days * 0.75)


def test_default_sizing_matches_the_place_model_load() -> None:
    """The default slots give an offered load near the place model's reablement
    (0.87 with 178 places): 8.08 P1 discharges a day, 14.3% readmitted."""
    h = Harness(_config(), days=365)
    load = h.svc.offered_load(8.078, ReadmissionRisk(0.1435, 30.0, 10.0))
    assert 0.85 < load < 0.9


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"kinds": {"reablement": 0.5, "home_care": 0.2, "bridging": 0.2}}, "kinds"),
        ({"visits_per_day": 3}, "visits_per_day"),
        ({"final_visits": {"mean": 0.1, "sd": 0.2}}, "final_visits"),
    ],
)
def test_config_problems_name_the_field(data: dict[str, Any], where: str) -> None:
    with pytest.raises(ConfigError) as err:
        build(VisitServiceConfig, data)
    assert any(p.path.startswith(where) for p in err.value.problems), err.value
    build(VisitServiceConfig, {})  # the defaults are valid


def test_first_fit_can_pass_an_earlier_booking() -> None:
    """IPACS's rule: first come, first booked, no head-of-line blocking. With 4
    slots and care of 2 visits a day for 10 days, A and B fill days 0-9 and C is
    booked on day 10. B withdraws: D, asking after C, takes days 0-9 and starts
    before C, whose booking stays where it is (bookings are never moved)."""
    cfg = _config(
        visits_per_day=4,
        admits=ALWAYS,
        kinds=VisitKindShares(reablement=1.0, home_care=0.0, bridging=0.0),
        reablement_days=Duration(mean=10.0, distribution="fixed"),
        initial_visits=VisitRate(2.0, 0.0),
        final_visits=VisitRate(2.0, 0.0),
        onward_long_term_share=0.0,
        initial_occupancy=0.0,
    )
    h = Harness(cfg, days=60)
    draws = [0.5] * len(h.draws)
    svc = h.svc
    ps = [h.patient(i, draws) for i in range(1, 5)]
    for p in ps[:3]:
        svc.request(p)
    starts = [svc.booking_of(p).start_day for p in ps[:3]]  # type: ignore[union-attr]
    assert starts == [0, 0, 10]
    assert svc.cancel(ps[1])
    svc.request(ps[3])
    assert svc.booking_of(ps[3]).start_day == 0  # type: ignore[union-attr]
    assert svc.booking_of(ps[2]).start_day == 10  # type: ignore[union-attr]
    assert svc.booking_of(ps[2]).kind == REABLEMENT  # type: ignore[union-attr]
