"""Configuration of home-based pathway 1 as visit capacity (issue 18).

Pathway 1 (home with new support) is modelled here the way the IPACS model of
BNSSG ICB models it (Harper et al. 2023, github.com/nhs-bnssg-analytics/ipacs-model,
``functions/visit_functions.R``): capacity is a number of carer visits a day,
not a number of places, and a patient can start only on a day from which every
day of their care fits in the visits left. The model itself is
:mod:`sim.discharge.visits`; this module holds the shape and the rules of its
settings. Sources of the defaults are given field by field below; the status
letters are those of ``docs/evidence.md`` (Q read in the source, S secondary,
R recalled or assumed, D derived here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from sim.config.build import num
from sim.config.errors import ConfigProblem
from sim.config.schema import (
    SUM_TOL,
    Attribution,
    AttributionShares,
    Calendar,
    CostLine,
    Duration,
    PlaceReason,
)

#: the kinds of pathway 1 support, in the order of :class:`VisitKindShares`
VISIT_KINDS: tuple[str, ...] = ("reablement", "home_care", "bridging")


@dataclass(frozen=True, slots=True)
class VisitRate:
    """Visits a day, drawn once per patient as IPACS draws them.

    A normal law with this ``mean`` and ``sd`` is rounded to whole visits and
    kept between 1 and ``mean + 3 sd`` (IPACS ``dis_init_slots`` and
    ``dis_end_slots`` redraw until the rounded value falls there; the model
    samples the same discrete law by inverse transform). ``sd`` = 0 gives
    ``round(mean)`` visits to everyone.
    """

    mean: float = num(gt=0, units="visits a day")
    sd: float = num(0.5, ge=0, units="visits a day")

    def largest(self) -> int:
        """The most visits a day this law can give."""
        if self.sd == 0:
            return max(1, round(self.mean))
        return max(1, math.floor(self.mean + 3.0 * self.sd))

    def check(self, path: str) -> list[ConfigProblem]:
        if self.mean + 3.0 * self.sd < 1.0 or (self.sd == 0 and round(self.mean) < 1):
            return [
                ConfigProblem(
                    path,
                    {"mean": self.mean, "sd": self.sd},
                    "a law that can give at least one whole visit a day (mean + 3 sd >= 1; "
                    "with sd = 0, a mean that rounds to 1 or more)",
                )
            ]
        return []


@dataclass(frozen=True, slots=True)
class VisitKindShares:
    """How pathway 1 patients split between the kinds of support; they sum to 1.

    * ``reablement``: time-limited reablement / home-based intermediate care,
      whose visits fall from an initial to a final rate over the episode;
    * ``home_care``: a long-term home-care package started at discharge (a new
      package, or one that lapsed while the person was in hospital): a constant
      number of visits a day for a long time;
    * ``bridging``: short-term care at home at the package's rate while the
      long-term package is arranged, after which the long-term provider takes
      the package over.
    """

    reablement: float = num(0.65, ge=0, le=1)
    home_care: float = num(0.20, ge=0, le=1)
    bridging: float = num(0.15, ge=0, le=1)

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.reablement, self.home_care, self.bridging)

    def check(self, path: str) -> list[ConfigProblem]:
        total = math.fsum(self.as_tuple())
        if abs(total - 1.0) > SUM_TOL:
            shown = dict(zip(VISIT_KINDS, self.as_tuple(), strict=True))
            return [ConfigProblem(path, shown, f"shares that sum to 1 (they sum to {total:.6g})")]
        return []


def _reablement_days() -> Duration:
    # lognormal with mean 14 and median 7 days: sigma^2 = 2 ln 2, cv = sqrt(3)
    return Duration(mean=14.0, distribution="lognormal", cv=math.sqrt(3.0))


@dataclass(frozen=True, slots=True)
class VisitServiceConfig:
    """Pathway 1 home-based services with a capacity of visits a day.

    ``visits_per_day`` is the number of visit slots the P1 providers can deliver
    each day; every patient books a profile of visits a day for each day of
    their care, and starts only on a day from which the whole profile fits in
    the slots not yet booked (IPACS's rule).

    Episodes: ``reablement_days`` and ``bridging_days`` are drawn in whole days
    (at least 1) and cut at ``max_episode_days``: an episode drawn longer ends
    on that day (reablement is time-limited, typically no longer than six
    weeks; IPACS redraws lengths above mean + 3 sd instead, which would move
    the mean the other way). With the defaults the reablement episode has mean
    11.6 days and median 7 once cut. A long-term package lasts
    ``package_days``. Reablement visits fall linearly from ``initial_visits``
    to ``final_visits`` a day over the episode; bridging and long-term packages
    have a constant ``package_visits`` a day.

    After reablement, ``onward_long_term_share`` of patients go on to a
    long-term home-care package; after bridging everyone does (the package the
    bridge was covering for). ``onward_on_same_capacity`` says whether those
    packages use these visit slots (one provider, or one pooled budget of
    visits) or another provider's (the usual case: reablement is an in-house
    council or NHS community team, long-term home care is bought from
    independent agencies). When false they are counted, with their visits, but
    never wait; when true the short-term care and the package that follows are
    booked together, so a patient starts only when both fit.

    ``admits``, ``initial_occupancy``, ``arrange_days``, ``delay_reason`` and
    ``attribution`` mean what they mean for a
    :class:`~sim.config.schema.DownstreamServiceConfig`; ``initial_occupancy``
    as a share is the share of visit slots booked on the first day.
    ``follow_up_days`` is when the Better Care Fund / ASCOF 2B(1) measure looks
    at people 65+ discharged from hospital into reablement (91 days).
    ``visit_minutes`` turns visits into hours for the cost lines.
    """

    enabled: bool = False
    # D: offered load 0.876 (VisitService.offered_load) at the default flow of
    # 8.08 P1 discharges a day, 14.3% readmitted within 30 days: the place
    # model's reablement load (0.875 with 178 places)
    visits_per_day: int = num(1440, ge=0, units="visit slots a day")
    # R: no national split of P1 found (ranges: reablement 0.5-0.8, home care
    # 0.1-0.3, bridging 0.05-0.2)
    kinds: VisitKindShares = field(default_factory=VisitKindShares)
    # mean 14, median 7 before the cut: IPACS BNSSG baseline P1 means 12-19 d,
    # medians 5-9 d, target mean 10 (Q); cut at 6 weeks (SALT STS004, Q)
    reablement_days: Duration = field(default_factory=_reablement_days)
    # bridging until the long-term package starts: R (no national figure)
    bridging_days: Duration = field(
        default_factory=lambda: Duration(mean=10.0, distribution="lognormal", cv=0.8)
    )
    max_episode_days: int = num(42, ge=1, units="days")
    # long-term home care: about a year (R; US paid home care < 1 year, S)
    package_days: Duration = field(
        default_factory=lambda: Duration(mean=365.0, distribution="exponential")
    )
    # IPACS defaults 4 -> 1 visits a day, sd 0.5 (Q)
    initial_visits: VisitRate = field(default_factory=lambda: VisitRate(4.0, 0.5))
    final_visits: VisitRate = field(default_factory=lambda: VisitRate(1.0, 0.5))
    # long-term package: ~2 visits a day (R: 10-15 h a week at 45 min)
    package_visits: VisitRate = field(default_factory=lambda: VisitRate(2.0, 1.0))
    # ASCOF 2D: 75-80% of short-term support ends with no or lower ongoing
    # support (79.5% 2019-20, 74.9% 2020-21, Q), so ~0.2-0.25 go on (D)
    onward_long_term_share: float = num(0.25, ge=0, le=1)
    onward_on_same_capacity: bool = False
    # R: not in IPACS; 30-60 minutes
    visit_minutes: float = num(45.0, gt=0, units="minutes a visit")
    # ASCOF 2B(1) / BCF: at home 91 days after discharge into reablement (Q)
    follow_up_days: int = num(91, ge=1, units="days")
    # admissions, start and attribution as the place model's reablement (R/C)
    admits: Calendar = field(
        default_factory=lambda: Calendar(
            days=("Mon", "Tue", "Wed", "Thu", "Fri"), start_hour=8, end_hour=18, weekend_share=0.7
        )
    )
    initial_occupancy: float | Literal["steady_state"] = num("steady_state", ge=0, le=1)
    arrange_days: Duration = field(default_factory=lambda: Duration(mean=0.0))
    #: a carer hour on the P1 visit slots (block: every slot; spot: every visit)
    visit_hour: CostLine = field(
        default_factory=lambda: CostLine(
            unit_cost=28.53, holder="social_care", budget="pooled", price_year="2024/25"
        )
    )
    #: a carer hour of a long-term package with another provider after P1
    package_hour: CostLine = field(
        default_factory=lambda: CostLine(
            unit_cost=28.53, holder="social_care", budget="aligned", price_year="2024/25"
        )
    )
    delay_reason: PlaceReason = "care_package_in_own_home"
    attribution: Attribution | AttributionShares = field(
        default_factory=lambda: AttributionShares(nhs=0.25, social_care=0.63, both=0.12)
    )

    def largest_daily_need(self) -> int:
        """The most visits one patient can need on one day."""
        return max(
            self.initial_visits.largest(),
            self.final_visits.largest(),
            self.package_visits.largest(),
        )

    def check(self, path: str) -> list[ConfigProblem]:
        need = self.largest_daily_need()
        if 0 < self.visits_per_day < need:
            return [
                ConfigProblem(
                    f"{path}.visits_per_day" if path else "visits_per_day",
                    self.visits_per_day,
                    f"0 (no capacity) or at least {need}, the most visits one patient can "
                    "need in a day, so that every patient's care fits an empty day",
                )
            ]
        return []
