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

    def expected_per_day(self, day: int) -> np.ndarray:
        """Expected base (not candidate) arrivals in each hour of simulation day ``day``."""
        clock = self.site.clock
        factor = self.weekly[clock.weekday(day)] * self.monthly[clock.month(day)]
        return self.rate_per_hour * factor * self.hourly

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
        strata = np.searchsorted(self.cum_weights, self.rng_stratum.random(n), side="right")
        strata = np.minimum(strata, len(self.cum_weights) - 1)
        return times, strata, self.rng_accept.random(n)

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
        if self._dynamic and call.u >= self._base_accept * site.hooks.rate_multiplier(p):
            return
        if self.direct:
            site.flow.handle_admission(p)
        else:
            site.flow.handle_crisis(p)
