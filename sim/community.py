"""Where a crisis goes first: same-day access, NHS 111, or on towards A&E.

When someone's health suddenly gets worse, most first ring their practice, NHS
111 or 999. In general practice and neighbourhood health centres a share of
the day's appointments is kept for urgent needs; a crisis that gets one of
those slots in time is often managed there, and then never reaches A&E. The
number of slots is finite and they are offered in sessions (weekday core
hours, evenings, weekends), so whether a crisis finds one depends on when it
happens and how many others came first that day. That is the model
(``community.model: same_day``):

1. a share of crises (``same_day.first_contact_share``) first seek a same-day
   appointment. One that happens during a session, or up to
   ``call_ahead_hours`` before it opens, books the neighbourhood's next free
   slot of that session's day, first come first booked; when the day's slots
   are gone, or no session is open, it goes on;
2. a crisis that got a slot is managed in the community with probability
   ``same_day.managed_given_slot`` (by age band; care-home residents have their
   own); one the practice could not manage is referred on by the GP;
3. the others call NHS 111 (a share ``nhs111.share``), which resolves some with
   advice or self-care (``nhs111.resolved_share``) and refers the rest on, or
   call 999 or walk into A&E.

A crisis referred on is offered to the services that take referrals (urgent
community response, through the ``crisis_referral`` hook) with its source: the
GP, NHS 111, the ambulance crew (those who would arrive at A&E by ambulance)
or the care home; if none takes it, or it walked in, it attends A&E.

``community.model: share`` keeps the older rule, a constant share managed by
age band (``managed_share``), with no capacity; it remains for textbook checks
and configurations written for it.

Interventions (case management, care-home support) may change who is managed
through the ``community`` hook, reading :meth:`CommunityResponse.base_share`
and :meth:`CommunityResponse.managed_below` (the same uniform as the base
rule, so a raised share keeps those it had), and services may follow up a
managed crisis through the ``community_managed`` hook (step-up care).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.components import Component, CostLineSpec
from sim.config.schema import WEEKDAYS
from sim.patient import Draw, DrawPart, Patient, per_stratum

if TYPE_CHECKING:
    from sim.components import Site
    from sim.config.schema import CommunityConfig, CostLine, CostsConfig, SameDayConfig
    from sim.core.window import KpiWindow

#: who refers an unmanaged crisis on
SOURCES: tuple[str, ...] = ("gp", "nhs111", "ambulance", "care_home")


class SameDaySlots:
    """Each neighbourhood's same-day slots, session by session, day by day.

    A session's slots are booked in order of request and renewed each day; a
    neighbourhood with a fractional number of slots a day gets the whole part
    every day and one more on a share of days equal to the fraction, spread
    evenly over the days the session runs (its *k*-th day has
    ``floor((k + 1) x c) - floor(k x c)`` of them). A session can be booked from
    ``call_ahead_hours`` before it opens, but not before an earlier session of
    the same day has closed: each time of day belongs to one session at most.
    """

    def __init__(self, cfg: SameDayConfig, registered: np.ndarray, start_weekday: int) -> None:
        self.start_weekday = start_weekday
        self.sessions = cfg.sessions
        #: per neighbourhood and session, slots a day (may be fractional)
        self.per_day: list[list[float]] = [
            [s.slots_per_10k * float(r) / 10_000.0 for s in cfg.sessions] for r in registered
        ]
        # for each weekday, the sessions that day: (index, bookable from, close)
        self.by_weekday: list[list[tuple[int, float, float]]] = []
        for wd in range(7):
            today = [(j, s) for j, s in enumerate(cfg.sessions) if WEEKDAYS[wd] in s.days]
            windows = []
            for j, s in today:
                start = max(0.0, s.open - cfg.call_ahead_hours)
                for _, other in today:  # not before an earlier session has closed
                    if other.close <= s.open:
                        start = max(start, other.close)
                windows.append((j, start, s.close))
            self.by_weekday.append(windows)
        # the k-th day a session runs: whole weeks x its days a week, plus its days
        # so far in the week (run days counted from the run's first weekday)
        self._per_week = [sum(WEEKDAYS[wd] in s.days for wd in range(7)) for s in cfg.sessions]
        self._so_far = [
            [
                sum(WEEKDAYS[(start_weekday + r) % 7] in s.days for r in range(offset))
                for offset in range(7)
            ]
            for s in cfg.sessions
        ]
        n_nb, n_s = len(self.per_day), len(cfg.sessions)
        self._day = [[-1] * n_s for _ in range(n_nb)]
        self._left = [[0] * n_s for _ in range(n_nb)]

    def capacity(self, nb: int, j: int, day: int) -> int:
        """Slots of session ``j`` in neighbourhood ``nb`` on run day ``day`` (a day
        the session runs)."""
        c = self.per_day[nb][j]
        k = (day // 7) * self._per_week[j] + self._so_far[j][day % 7]
        return int(math.floor((k + 1) * c) - math.floor(k * c))

    def session_at(self, t: float) -> int:
        """The session a crisis at hour ``t`` may book, or -1 if none."""
        day = int(t // 24.0)
        tod = t - 24.0 * day
        for j, start, close in self.by_weekday[(self.start_weekday + day) % 7]:
            if start <= tod < close:
                return j
        return -1

    def book(self, nb: int, j: int, t: float) -> bool:
        """Take one of session ``j``'s slots on the day of ``t``, if any is left."""
        day = int(t // 24.0)
        if self._day[nb][j] != day:
            self._day[nb][j] = day
            self._left[nb][j] = self.capacity(nb, j, day)
        if self._left[nb][j] <= 0:
            return False
        self._left[nb][j] -= 1
        return True

    def offered(self, first_day: int, last_day: int) -> float:
        """Slots offered in days ``first_day`` to ``last_day - 1``, all neighbourhoods."""
        total = 0.0
        for day in range(first_day, last_day):
            for j, _, _ in self.by_weekday[(self.start_weekday + day) % 7]:
                total += sum(self.capacity(nb, j, day) for nb in range(len(self.per_day)))
        return total


class CommunityResponse(Component):
    """Decides where a crisis goes first, and whether it is managed there."""

    name = "community"
    kpi_docs: ClassVar[Mapping[str, tuple[str, str]]] = {
        "community_managed": (
            "count",
            "Crises resolved without A&E by general practice, NHS 111 or interventions "
            "(urgent community response counts its own).",
        ),
        "community_managed_share": ("share", "Community-managed crises / crises."),
        "same_day_sought": (
            "count",
            "Crises whose first call was to general practice (same_day.first_contact_share).",
        ),
        "same_day_booked": ("count", "Crises that got a same-day slot."),
        "same_day_managed": ("count", "Crises managed by general practice in a same-day slot."),
        "same_day_no_slot": (
            "count",
            "Crises that sought a same-day slot during or just before a session and found "
            "none left that day.",
        ),
        "same_day_closed": (
            "count",
            "Crises that sought a same-day slot when no session was open or about to open.",
        ),
        "same_day_slots_offered": ("count", "Same-day slots offered for urgent needs."),
        "same_day_slot_utilisation": ("share", "Same-day slots booked / slots offered."),
        "nhs111_calls": ("count", "Crises whose first call was to NHS 111."),
        "nhs111_resolved": ("count", "Crises NHS 111 resolved by advice or self-care."),
        **{
            f"referred_on_{s}": (
                "count",
                f"Unmanaged crises offered to referral services (urgent community response) "
                f"with source {s}.",
            )
            for s in SOURCES
        },
    }
    cost_lines = (CostLineSpec("same_day_slot", "same-day slot offered"),)

    def __init__(self, site: Site, cfg: CommunityConfig) -> None:
        super().__init__(site, cfg)
        self.cfg = cfg
        self.enabled = cfg.enabled
        strata = site.strata
        self.same_day = cfg.model == "same_day"
        if self.same_day:
            sd = cfg.same_day
            self.share: list[float] = per_stratum(
                strata, sd.managed_given_slot.as_tuple(), care_home=sd.care_home_managed_given_slot
            ).tolist()
            self.slots: SameDaySlots | None = SameDaySlots(
                sd, strata.registered_by_neighbourhood(), site.clock.start_weekday
            )
        else:
            self.share = per_stratum(
                strata, cfg.managed_share.as_tuple(), care_home=cfg.care_home_managed_share
            ).tolist()
            self.slots = None
        self.ambulance: list[float] = per_stratum(strata, cfg.ambulance_share.as_tuple()).tolist()
        self.hooks = site.hooks
        rec = self.rec
        self.n_managed = rec.counter("community_managed")
        self.n_sought = rec.counter("same_day_sought")
        self.n_booked = rec.counter("same_day_booked")
        self.n_same_day = rec.counter("same_day_managed")
        self.n_no_slot = rec.counter("same_day_no_slot")
        self.n_closed = rec.counter("same_day_closed")
        self.n_111 = rec.counter("nhs111_calls")
        self.n_111_resolved = rec.counter("nhs111_resolved")
        self.n_referred = {s: rec.counter(f"referred_on_{s}") for s in SOURCES}
        self.u_managed = Draw("u_community", "community.managed")
        self.u_ambulance = Draw("u_ambulance", "ae.ambulance")
        # the route's uniforms: first call to the practice? to 111? resolved by 111?
        self.u_route = Draw("u_community_route", "community.route")
        self.u_first = DrawPart(self.u_route, 0, 4)
        self.u_111 = DrawPart(self.u_route, 1, 4)
        self.u_111_resolved = DrawPart(self.u_route, 2, 4)
        self.nhs111_share = cfg.nhs111.share
        self.nhs111_resolved = cfg.nhs111.resolved_share
        #: the episode a GP saw and could not manage (its referral source is "gp")
        self._seen_by_gp = -1

    def draws(self) -> list[Draw]:
        if self.same_day:
            return [self.u_managed, self.u_ambulance, self.u_route]
        return [self.u_managed, self.u_ambulance]

    # ------------------------------------------------------------------ the decision
    def manages(self, p: Patient) -> bool:
        """True if the crisis is resolved in the community (and records it)."""
        hooks = self.hooks
        forced = hooks.community_override(p) if hooks.community else None
        if forced is not None:
            managed = forced
        elif not self.enabled:
            managed = False
        elif self.slots is not None:
            managed = self._same_day(p) or self._nhs111(p)
        else:
            managed = self.u_managed.of(p) < self.share[p.stratum]
        if forced is None and not managed and hooks.kept_home:
            managed = any(f(p) for f in hooks.kept_home)
        if managed:
            self.n_managed.add(p.arrival, p.neighbourhood)
            self.rec.exit("community_managed")
            self.rec.log(p.arrival, p.id, p.person, "community_managed")
            for follow_up in hooks.community_managed:
                follow_up(p)
        return managed

    def _same_day(self, p: Patient) -> bool:
        """Seek a same-day slot: managed in it, or not (remembering a GP saw them)."""
        slots = self.slots
        assert slots is not None
        if self.u_first.of(p) >= self.cfg.same_day.first_contact_share:
            return False
        t, nb = p.arrival, p.neighbourhood
        self.n_sought.add(t, nb)
        j = slots.session_at(t)
        if j < 0:
            self.n_closed.add(t, nb)
            return False
        if not slots.book(nb, j, t):
            self.n_no_slot.add(t, nb)
            return False
        self.n_booked.add(t, nb)
        if self.u_managed.of(p) < self.share[p.stratum]:
            self.n_same_day.add(t, nb)
            return True
        self._seen_by_gp = p.id
        return False

    def _nhs111(self, p: Patient) -> bool:
        """A crisis that did not reach the practice may call 111, which resolves some."""
        if self._seen_by_gp == p.id or self.u_111.of(p) >= self.nhs111_share:
            return False
        self.n_111.add(p.arrival, p.neighbourhood)
        if self.u_111_resolved.of(p) < self.nhs111_resolved:
            self.n_111_resolved.add(p.arrival, p.neighbourhood)
            return True
        return False

    def referral_source(self, p: Patient) -> str:
        """Who refers ``p``'s unmanaged crisis on: the GP who saw them, the care
        home, NHS 111, the ambulance crew called out; '' if they walk in."""
        if self._seen_by_gp == p.id:
            return "gp"
        if p.care_home:
            return "care_home"
        if self.slots is not None and self.u_111.of(p) < self.nhs111_share:
            return "nhs111"
        if self.by_ambulance(p):
            return "ambulance"
        # under the older rule every unmanaged crisis is treated as a call to 111
        return "" if self.slots is not None else "nhs111"

    def refers_on(self, p: Patient) -> bool:
        """Offer an unmanaged crisis to the services that take referrals (urgent
        community response); True if one took the patient over."""
        hooks = self.hooks
        if not hooks.crisis_referral:
            return False
        source = self.referral_source(p)
        if not source:
            return False
        self.n_referred[source].add(p.arrival, p.neighbourhood)
        return hooks.refer_crisis(p, source)

    def by_ambulance(self, p: Patient) -> bool:
        return self.u_ambulance.of(p) < self.ambulance[p.stratum]

    def base_share(self, p: Patient) -> float:
        """Share of crises like ``p``'s the base rule manages when it reaches them
        (under same-day access: given a slot)."""
        return self.share[p.stratum] if self.enabled else 0.0

    def managed_below(self, p: Patient, share: float) -> bool:
        """Whether ``p``'s crisis is managed if a share ``share`` of such crises is:
        the same uniform as the base rule, so a raised share keeps those it had."""
        return self.u_managed.of(p) < share

    # ------------------------------------------------------------------ expectations
    def expected_managed_share(
        self, crises_per_day: np.ndarray, hourly: np.ndarray, weekly: np.ndarray
    ) -> np.ndarray:
        """Expected share of each stratum's crises the base rule manages.

        ``crises_per_day`` is per stratum; ``hourly`` and ``weekly`` are the
        demand's profiles (mean one). Under same-day access a crisis is managed
        with probability *f B s + (1 - f B) q r*: *f* the first-contact share,
        *B* the chance of a slot (each session's share of the week's crises
        times the share of its seekers who get one), *s* the managed share given
        a slot, *q r* the share NHS 111 resolves. The share who get a slot is
        *E[min(N, c)] / E[N]* for a Poisson day's seekers *N* and *c* slots,
        weekday by weekday; the monthly profile is left out (it averages to one).
        """
        share = np.asarray(self.share, dtype=float)
        if not self.enabled:
            return np.zeros(len(share))
        slots = self.slots
        if slots is None:
            return share
        cfg = self.cfg.same_day
        strata = self.site.strata
        n_nb = len(strata.names)
        per_nb = np.bincount(strata.neighbourhood, weights=crises_per_day, minlength=n_nb)
        got = np.zeros(n_nb)  # B per neighbourhood: P(slot) for a crisis that seeks one
        for wd in range(7):
            for j, start, close in slots.by_weekday[wd]:
                in_window = _profile_share(hourly, start, close) * weekly[wd] / 7.0
                for nb in range(n_nb):
                    seekers = per_nb[nb] * weekly[wd] * _profile_share(hourly, start, close)
                    seekers *= cfg.first_contact_share
                    c = slots.per_day[nb][j]
                    served = _expected_served(seekers, c)
                    got[nb] += in_window * (served / seekers if seekers > 0 else 1.0)
        b = cfg.first_contact_share * got[strata.neighbourhood]
        q, r = self.nhs111_share, self.nhs111_resolved
        return np.asarray(b * share + (1.0 - b) * q * r)

    # ------------------------------------------------------------------ results
    def kpis(self, window: KpiWindow) -> dict[str, float]:
        count = window.count
        crises = count("crises")
        k = {
            "community_managed": count("community_managed"),
            "community_managed_share": count("community_managed") / crises
            if crises
            else float("nan"),
        }
        if self.slots is None:
            return k
        offered = self.slots.offered(window.W, window.T)
        booked = count("same_day_booked")
        k.update(
            {
                "same_day_sought": count("same_day_sought"),
                "same_day_booked": booked,
                "same_day_managed": count("same_day_managed"),
                "same_day_no_slot": count("same_day_no_slot"),
                "same_day_closed": count("same_day_closed"),
                "same_day_slots_offered": offered,
                "same_day_slot_utilisation": booked / offered if offered else float("nan"),
                "nhs111_calls": count("nhs111_calls"),
                "nhs111_resolved": count("nhs111_resolved"),
            }
        )
        if self.hooks.crisis_referral:
            k.update({f"referred_on_{s}": count(f"referred_on_{s}") for s in SOURCES})
        return k

    def cost_quantities(
        self, window: KpiWindow, kpis: Mapping[str, float], costs: CostsConfig
    ) -> dict[str, float]:
        return {"same_day_slot": kpis.get("same_day_slots_offered", 0.0)}

    def cost_line(self, name: str, costs: CostsConfig) -> CostLine:
        if name == "same_day_slot":
            return self.cfg.same_day.slot_cost
        return super().cost_line(name, costs)


def _profile_share(hourly: np.ndarray, start: float, close: float) -> float:
    """Share of a day's crises between hours ``start`` and ``close`` (the hourly
    profile is constant within each hour and has mean one)."""
    total = 0.0
    for h in range(int(start), min(24, math.ceil(close))):
        overlap = min(close, h + 1.0) - max(start, float(h))
        if overlap > 0:
            total += overlap * float(hourly[h])
    return total / 24.0


def _expected_served(mean: float, slots: float) -> float:
    """E[min(N, c)] for N Poisson with ``mean`` and c slots (a fractional c is
    the mix of its floor and ceiling that gives the same mean).

    E[min(N, c)] is the sum over k < c of P(N > k); the Poisson terms are
    summed here directly (SciPy's distributions cost most of a second to import,
    more than a short run)."""
    lo = math.floor(slots)
    frac = slots - lo
    out = 0.0
    for c, w in ((lo, 1.0 - frac), (lo + 1, frac)):
        if w == 0 or c <= 0:
            continue
        if mean <= 0:
            continue  # nobody seeks a slot: none is used
        cdf = 0.0
        total = 0.0
        for k in range(c):
            # in logs, so a large mean does not underflow exp(-mean)
            cdf += math.exp(k * math.log(mean) - mean - math.lgamma(k + 1))  # P(N <= k)
            total += max(0.0, 1.0 - cdf)
        out += w * total
    return out
