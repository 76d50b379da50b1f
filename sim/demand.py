"""Demand: health crises arising in the registered population.

Crises arise in each population stratum at an annual rate that depends on age,
eFI frailty and care-home residence, and that varies by hour of day, day of week
and month (a non-homogeneous Poisson process). Demand is generated from strata,
never from one process per resident:

1. for each hour of a day the number of candidate crises is Poisson with mean
   *headroom x base rate x profile(hour, weekday, month)* (exact for a rate that
   is constant within the hour);
2. each candidate gets a time within its hour and a stratum drawn in proportion
   to the strata's rates, and so the person's attributes;
3. candidates are thinned: a candidate is kept with probability
   *multiplier / headroom*, where the multiplier comes from interventions acting
   on that person (1 in the baseline). Generating at a fixed headroom keeps the
   candidate stream identical across scenarios, so common random numbers hold
   even when an intervention changes crisis rates.

With ``population.projection`` the strata's sizes change at the start of each
measured year (:mod:`sim.projection`): the hourly means and the stratum weights
are the year's, the random numbers the same, so scenarios with one projection
keep common random numbers.

In ``direct_admissions`` mode the same machinery produces a plain Poisson stream
of emergency admissions at ``demand.direct_admissions_per_day`` (optionally
time-varying), for textbook queueing checks.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from sim.components import Component
from sim.core.calls import Call
from sim.patient import Patient, per_stratum
from sim.people import People
from sim.projection import configured, population_by_year, year_of_day

if TYPE_CHECKING:
    from sim.components import Site
    from sim.config.schema import DemandConfig

HOURS_PER_YEAR: Final = 365.0 * 24.0
#: crises are drawn and scheduled in blocks of days with about this many candidates:
#: larger blocks make fewer NumPy calls (each has a fixed cost), smaller ones hold
#: fewer patients made in advance (they wait beside the event heap, not in it)
CANDIDATES_PER_BLOCK: Final = 2000


def _normalised(values: Iterable[float]) -> np.ndarray:
    arr = np.asarray(list(values), dtype=float)
    return arr / arr.mean()


class CrisisDemand(Component):
    """Generates crises (or direct admissions) and hands each to the model."""

    name = "demand"

    def __init__(self, site: Site, cfg: DemandConfig) -> None:
        super().__init__(site, cfg)
        strata = site.strata
        self.direct = cfg.mode == "direct_admissions"
        rate_pp = per_stratum(
            strata,
            cfg.crisis_rate_per_person_year.as_tuple(),
            care_home=cfg.care_home_crisis_rate_per_person_year,
            by_frailty=cfg.frailty_rate_ratio.as_tuple(),
        )
        weights = strata.size * rate_pp
        if weights.sum() <= 0:  # e.g. zero population in direct mode: pick strata evenly
            weights = np.ones(len(strata))
        self.stratum_rate_per_year = strata.size * rate_pp
        self.cum_weights = np.cumsum(weights) / weights.sum()
        self.cum_weights[-1] = 1.0
        if self.direct:
            self.rate_per_hour = cfg.direct_admissions_per_day / 24.0
        else:
            self.rate_per_hour = float(self.stratum_rate_per_year.sum()) / HOURS_PER_YEAR
        # The registered population year by year (sim.projection): each measured
        # year's crises come from that year's strata, stepwise from the year's first
        # day. Without a projection these stay empty and the base year serves the
        # whole run; the first year's numbers equal the base year's exactly, so a
        # projection leaves the first measured year's candidates as they were.
        self.n_years = 1
        self.year_sizes: np.ndarray | None = None
        self.year_rate_per_hour: list[float] = []
        self.year_cum_weights: list[np.ndarray] = []
        if not self.direct:  # a stream of direct admissions has no population behind it
            sizes = population_by_year(strata, configured(site.flow), site.run)
            if sizes is not None:
                self._set_years(sizes, rate_pp)
        self.headroom = cfg.thinning_headroom
        prof = cfg.profile
        if cfg.time_varying:
            self.hourly = _normalised(prof.hourly)
            self.weekly = _normalised(prof.weekly)
            self.monthly = _normalised(prof.monthly)
        else:
            self.hourly, self.weekly, self.monthly = np.ones(24), np.ones(7), np.ones(12)
        s = site.streams
        self.rng_count = s.get("demand.count")
        self.rng_time = s.get("demand.time")
        self.rng_stratum = s.get("demand.stratum")
        self.rng_accept = s.get("demand.accept")

    def _set_years(self, sizes: np.ndarray, rate_pp: np.ndarray) -> None:
        """Crisis rate and stratum weights of each measured year, from its strata's
        sizes (years x strata) and the per-person rates."""
        self.year_sizes = sizes
        self.n_years = int(sizes.shape[0])
        weights = sizes * rate_pp[np.newaxis, :]
        for y in range(self.n_years):
            total = float(weights[y].sum())
            row = weights[y] if total > 0 else np.ones(weights.shape[1])
            cum = np.cumsum(row) / row.sum()
            cum[-1] = 1.0
            self.year_rate_per_hour.append(total / HOURS_PER_YEAR)
            self.year_cum_weights.append(cum)

    def year_of(self, day: int) -> int:
        """Measured year (0 = the first, warm-up included) of simulation day ``day``."""
        return year_of_day(day, self.site.run.warmup_days, self.n_years)

    def expected_per_day(self, day: int) -> np.ndarray:
        """Expected base (not candidate) arrivals in each hour of simulation day ``day``."""
        clock = self.site.clock
        factor = self.weekly[clock.weekday(day)] * self.monthly[clock.month(day)]
        rate = self.rate_per_hour
        if self.year_sizes is not None:
            rate = self.year_rate_per_hour[self.year_of(day)]
        return rate * factor * self.hourly

    def candidates(
        self, first_day: int, n_days: int = 1
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Candidate crises of ``n_days`` days from ``first_day``: times (h), strata
        and thinning uniforms, in time order.

        Each stream is consumed in time order, so drawing several days at once
        gives the same numbers as drawing them day by day, with fewer calls.
        """
        means = [self.expected_per_day(d) for d in range(first_day, first_day + n_days)]
        counts = self.rng_count.poisson(np.concatenate(means) * self.headroom)
        n = int(counts.sum())
        hours = first_day * 24.0 + np.arange(24.0 * n_days)  # start of each hour
        times = np.repeat(hours, counts) + self.rng_time.random(n)
        times.sort()
        u_stratum = self.rng_stratum.random(n)
        if self.year_sizes is None:
            strata = np.searchsorted(self.cum_weights, u_stratum, side="right")
        else:
            strata = self._strata_by_year(u_stratum, counts, first_day, n_days)
        strata = np.minimum(strata, len(self.cum_weights) - 1)
        return times, strata, self.rng_accept.random(n)

    def _strata_by_year(
        self, u: np.ndarray, counts: np.ndarray, first_day: int, n_days: int
    ) -> np.ndarray:
        """Strata of candidates in time order, each drawn with its own year's weights.

        A candidate stays within its hour, so the sorted candidates fall into days
        in the order of ``counts`` (per hour); each run of days in one year takes
        that year's weights. The uniforms are the ones an unprojected run draws, so
        scenarios with the same projection keep common random numbers.
        """
        per_day = counts.reshape(n_days, 24).sum(axis=1)
        out = np.empty(u.size, dtype=np.int64)
        start = 0
        d = 0
        while d < n_days:
            y = self.year_of(first_day + d)
            e = d + 1
            while e < n_days and self.year_of(first_day + e) == y:
                e += 1
            k = int(per_day[d:e].sum())
            out[start : start + k] = np.searchsorted(
                self.year_cum_weights[y], u[start : start + k], side="right"
            )
            start += k
            d = e
        return out

    def processes(self) -> Iterable[Generator[Any, Any, Any]]:
        return (self.generate(),)

    def generate(self) -> Generator[Any, Any, None]:
        """Schedule the crises of each block of days as calls (one each, no process)."""
        site = self.site
        env = self.env
        factory = site.factory
        assert factory is not None  # set by the model before the run
        flow = site.flow
        hooks = site.hooks
        self._base_accept = 1.0 / self.headroom
        self._dynamic = bool(hooks.crisis_rate)
        # the people behind the crises (sim.people), when crises go to people
        people = getattr(flow, "people", None)
        self._people: People | None = (
            people if isinstance(people, People) and people.active else None
        )
        # candidates above the ceiling are thinned away whatever the hooks say
        ceiling = self._base_accept * (hooks.rate_ceiling if self._dynamic else 1.0)
        happen = self._happen
        days = site.run.total_days
        per_day = 24.0 * self.rate_per_hour * self.headroom
        block_days = int(min(28, max(1, CANDIDATES_PER_BLOCK // max(per_day, 1.0))))
        for first in range(0, days, block_days):
            n_days = min(block_days, days - first)
            times, strata, u_accept = self.candidates(first, n_days)
            keep = np.flatnonzero(u_accept < ceiling)
            draws = factory.draw_block(strata, keep)
            kept_times: list[float] = times[keep].tolist()
            kept_strata: list[int] = strata[keep].tolist()
            kept_u: list[float] = u_accept[keep].tolist()
            now = env.now
            for i in range(len(kept_times)):
                t = kept_times[i]
                pid = flow.next_id()
                p = factory.make(pid, pid, kept_strata[i], t, draws, i)
                # the patient and its thinning uniform ride on the call, at the
                # time a Timeout of t - now would get (t, or within a bit of it);
                # candidates come in time order, block after block
                Call(env, now + (t - now), happen, p, kept_u[i], in_order=True)
            yield env.timeout(24.0 * n_days)

    def _happen(self, call: Call) -> None:
        """A candidate crisis's time has come: thin it, else hand it to the model."""
        p: Patient = call.p  # typed, so compiled code reads its fields directly
        # interventions' multipliers are read when the crisis happens
        site = self.site
        people = self._people
        # whose crisis it is, before the multipliers (they act on the person)
        known = people.identify(p) if people is not None else -1
        if self._dynamic and call.u >= self._base_accept * site.hooks.rate_multiplier(p):
            return  # thinned away: nobody is created or counted
        if people is not None:
            people.commit(p, known)
        if self.direct:
            site.flow.handle_admission(p)
        else:
            site.flow.handle_crisis(p)
