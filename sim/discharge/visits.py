"""Home-based pathway 1 as visit capacity: reablement, home-care packages, bridging.

A place-based service (:class:`~sim.discharge.services.DownstreamService`) says
"178 reablement places". Home care is not bought or run that way: providers
have carers who can make so many visits a day, and a patient needs more visits
early in a reablement episode than late. This module follows the IPACS model
(Harper et al. 2023; github.com/nhs-bnssg-analytics/ipacs-model,
``functions/visit_functions.R`` and ``functions/visit_model.R``):

* capacity is a number of **visit slots a day** (:attr:`VisitService.capacity`);
* each patient draws an episode length in whole days and visit rates a day;
  a reablement episode of ``L`` days needs ``round(seq(IVR, FVR, length = L))``
  visits on its days: a linear fall from the initial rate to the final one,
  rounded to whole visits (:func:`linear_profile`);
* a patient starts only on a day from which **every day** of their care fits
  in the slots not yet booked; until then they wait (in the acute bed).

How the queue is served. In IPACS a patient is booked the moment they arrive
(``add_patient``, ``visit_functions.R`` lines 194-212): starting from the day
of arrival, the first day from which the whole sequence fits in the remaining
slots is taken, and those slots are taken off the ``resources`` vector for the
days of the episode. Arrivals are booked one after another in order of arrival
(``visit_model.R`` lines 101-113). So service is first come, first *booked*:

* nobody's booking is ever moved later by someone who arrived after them (no
  starvation of patients who need many visits), but
* there is no head-of-line blocking: a later patient whose care fits in the
  gaps left before an earlier patient's start does start first.

:meth:`VisitService.request` does exactly that, at the moment the patient asks,
on the days the service admits (and the ward discharges, through the calendar
the caller passes). No daily process is needed: a booking is a start day fixed
in advance, and an event fires at the start. A booking withdrawn
(:meth:`VisitService.cancel`) or cut short by readmission frees its slots for
patients who ask later; bookings already made are not moved earlier (IPACS has
neither, and moving them would let a withdrawal reorder the queue).

Kinds of pathway 1 support (``kinds`` shares): **reablement** (falling visits,
then a long-term package for ``onward_long_term_share``), **home_care** (a
long-term package from discharge: a constant rate for ``package_days``) and
**bridging** (the package's visits from a short-term provider for
``bridging_days``, then the long-term provider takes it over). Long-term
packages after reablement or bridging use these slots only if
``onward_on_same_capacity``; otherwise they are counted, on a ledger of their
own with no limit.

The ledgers are arrays indexed by simulation day (no object per visit), as
long as the run plus the longest short-term episode; a package running past
the end is cut there, which changes nothing inside the run.

The Better Care Fund measure (ASCOF 2B(1)): people 65+ discharged from hospital
into reablement, and of them those at home 91 days later - not in hospital, in
a care home or dead. The service knows each patient's readmission time (the
discharge flow passes it to :meth:`~VisitService.start_stay`); what happens to
a readmitted person afterwards is known only if the flow reports it
(:class:`Whereabouts`). See :meth:`VisitService.start_stay` and the KPI notes.

Use. From hospital, where a place-based service would be asked for a place::

    ev = svc.request(p, team.transfer_hours(p, svc), earliest=now + arrange)
    if svc.booking_of(p).wait_hours > 0:
        delays.start(p, svc.reason_for(u), who, now)   # waits in the acute bed
    yield ev
    delays.stop(p, env.now)
    svc.start_stay(p, team.leave_bed(p, "to_p1_visits"))

From home (waiting after an early discharge): ``yield ev | env.timeout(...)``
and :meth:`VisitService.cancel` if readmitted first. At the start of a run,
:meth:`VisitService.initial_occupants`; :meth:`VisitService.draws` with the
team's draws; :meth:`VisitService.kpis` and
:meth:`VisitService.cost_quantities` with the team's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, ClassVar, Final

import numpy as np
from simpy.events import Event

from sim.config.schema import Duration
from sim.config.visits import VisitRate, VisitServiceConfig
from sim.core.calendar import ServiceHours, WorkingCalendar
from sim.core.calls import Call
from sim.core.distributions import UnitSampler, sampler
from sim.core.event_queue import Environment
from sim.core.level import DeferredLevel
from sim.core.recorder import DailyCount, Recorder
from sim.patient import Draw, DrawPart, Patient

if TYPE_CHECKING:
    from sim.core.window import KpiWindow

HOURS_PER_DAY: Final = 24.0

#: kinds of support (the order of the config's ``kinds`` shares)
REABLEMENT: Final = 0
HOME_CARE: Final = 1
BRIDGING: Final = 2
#: visits are also counted for long-term packages that follow reablement or bridging
ONWARD: Final = 3
KIND_NAMES: Final = ("reablement", "home_care", "bridging")
VISIT_NAMES: Final = ("reablement", "home_care", "bridging", "onward")

#: where a person followed for the 91-day measure can be (:class:`Whereabouts`)
HOME: Final = "home"
HOSPITAL: Final = "hospital"
BED_BASED_CARE: Final = "bed_based_care"
CARE_HOME: Final = "care_home"
DEAD: Final = "dead"
PLACES: Final = (HOME, HOSPITAL, BED_BASED_CARE, CARE_HOME, DEAD)


# --------------------------------------------------------------------------- laws
def linear_profile(days: int, first: int, last: int) -> list[int]:
    """Visits on each day of an episode: ``round(seq(first, last, length.out = days))``
    in R, rounded half to even as R's ``round`` and Python's both do.

    R's ``seq`` puts ``first`` and ``last`` exactly at the ends and
    ``first + i * (last - first) / (days - 1)`` between; so does this.
    """
    if days <= 0:
        return []
    if days == 1:
        return [first]
    step = (last - first) / (days - 1)
    out = [first]
    for i in range(1, days - 1):
        out.append(round(first + i * step))
    out.append(last)
    return out


def _phi(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


class RateLaw:
    """Whole visits a day: IPACS's rounded normal kept between 1 and mean + 3 sd,
    sampled by inverse transform from one uniform."""

    def __init__(self, rate: VisitRate) -> None:
        if rate.sd == 0:
            values = [max(1, round(rate.mean))]
            weights = [1.0]
        else:
            top = max(1, math.floor(rate.mean + 3.0 * rate.sd))
            values = list(range(1, top + 1))
            weights = [
                _phi((k + 0.5 - rate.mean) / rate.sd) - _phi((k - 0.5 - rate.mean) / rate.sd)
                for k in values
            ]
        total = math.fsum(weights)
        if not total > 0:
            raise ValueError(f"visit rate law {rate} gives no whole visits a day")
        self.values: list[int] = values
        self.pmf: list[float] = [w / total for w in weights]
        cum: list[float] = []
        acc = 0.0
        for w in self.pmf:
            acc += w
            cum.append(acc)
        cum[-1] = 1.0
        self.cum = cum
        self.mean: float = math.fsum(v * w for v, w in zip(values, self.pmf, strict=True))
        self.largest: int = values[-1]

    def of(self, u: float) -> int:
        cum = self.cum
        for i in range(len(cum)):
            if u < cum[i]:
                return self.values[i]
        return self.values[-1]


class DaysLaw:
    """Whole days of an episode or package: ``round(mean x unit variate)``, at least
    1 and at most ``cap`` (None: no cap), from one uniform."""

    def __init__(self, spec: Duration, cap: int | None) -> None:
        self.mean_days = spec.mean
        self.unit: UnitSampler = sampler(spec)
        self.cap = cap
        #: P(days = k) for k = 0..cap (only for a capped law; entry 0 is 0)
        self.pmf: list[float] = self._pmf() if cap is not None else []
        if cap is not None:
            self.mean: float = math.fsum(k * w for k, w in enumerate(self.pmf))
        else:
            self.mean = max(1.0, spec.mean)  # rounding and the floor of 1 aside
        #: cumulative law of the days of an episode started before day 0 and still
        #: under way on day 0 (capped laws only): k days long with probability
        #: ~ (k - 1) P(days = k), as it started on one of the k - 1 days before
        self.started_cum: list[float] = self._started() if cap is not None else []

    def of(self, u: float) -> int:
        d = round(self.unit.one(u) * self.mean_days)
        if d < 1:
            d = 1
        cap = self.cap
        if cap is not None and d > cap:
            d = cap
        return d

    def survival(self, j: int) -> float:
        """P(days > j)."""
        if j < 1:
            return 1.0
        if self.cap is not None:
            return max(0.0, 1.0 - math.fsum(self.pmf[: j + 1])) if j < self.cap else 0.0
        return 1.0 - self._below(j + 0.5)

    def _below(self, x: float) -> float:
        """P(mean_days x unit variate < x), by bisection on the inverse transform."""
        if self.mean_days == 0:
            return 1.0 if x > 0 else 0.0
        lo, hi = 0.0, 1.0
        for _ in range(64):
            mid = 0.5 * (lo + hi)
            if self.unit.one(mid) * self.mean_days < x:
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)

    def _pmf(self) -> list[float]:
        cap = self.cap
        assert cap is not None
        # P(days <= k) = P(variate < k + 0.5) for 1 <= k < cap
        below = [0.0] + [self._below(k + 0.5) for k in range(1, cap)] + [1.0]
        pmf = [0.0] * (cap + 1)
        for k in range(1, cap + 1):
            pmf[k] = max(0.0, below[k] - below[k - 1])
        return pmf

    def _started(self) -> list[float]:
        w = [max(0, k - 1) * p for k, p in enumerate(self.pmf)]
        total = math.fsum(w)
        if total == 0:  # every episode lasts one day: none is under way at day 0
            return [1.0] * len(w)
        cum: list[float] = []
        acc = 0.0
        for x in w:
            acc += x / total
            cum.append(acc)
        cum[-1] = 1.0
        return cum


def mean_profile_visits(days: DaysLaw, first: RateLaw, last: RateLaw) -> float:
    """Expected visits of a reablement episode: the rounded linear profile summed,
    averaged exactly over the laws of its length and its two rates."""
    total = 0.0
    for n, pn in enumerate(days.pmf):
        if pn == 0:
            continue
        for a, pa in zip(first.values, first.pmf, strict=True):
            for b, pb in zip(last.values, last.pmf, strict=True):
                total += pn * pa * pb * sum(linear_profile(n, a, b))
    return total


class ReadmissionRisk:
    """Readmission cutting care short, as :mod:`sim.readmission` draws it.

    ``share`` of the patients are readmitted, after a time exponential with
    mean ``mean_days`` truncated to ``window_days``. Care delivered is that of
    the days before the readmission (day i of care counts if the readmission
    comes i days or more after the start: the hour of the start is ignored, an
    error of under a day of visits per readmitted patient).
    """

    def __init__(self, share: float, window_days: float, mean_days: float) -> None:
        self.share = share
        self.window_days = window_days
        self.mean_days = mean_days
        self.window = math.ceil(window_days)
        self._trunc = -math.expm1(-window_days / mean_days)

    def out_at(self, day: float) -> float:
        """P(a readmitted patient is not yet back ``day`` days after the start)."""
        if day >= self.window_days:
            return 0.0
        return (math.exp(-day / self.mean_days) - (1.0 - self._trunc)) / self._trunc

    def delivered(self, total: float, daily: list[float]) -> float:
        """Expected care delivered of care whose expected total is ``total`` and
        expected amount on day i from the start ``daily[i]`` (i = 0..window)."""
        kept = math.fsum(daily[i] * self.out_at(float(i)) for i in range(len(daily)))
        return (1.0 - self.share) * total + self.share * kept


# --------------------------------------------------------------------------- who is where
class Whereabouts:
    """Where the people followed for the 91-day measure are, as far as the model knows.

    Only people being followed are kept (:meth:`follow` to :meth:`unfollow`);
    :meth:`moved` for anyone else costs a dictionary look-up. Moves may be
    written down ahead of time (a readmission booked at discharge): the place
    at a time is that of the last move at or before it.
    """

    def __init__(self) -> None:
        self._moves: dict[int, list[tuple[float, str]]] = {}
        self._refs: dict[int, int] = {}

    def follow(self, person: int, t: float, place: str) -> None:
        self._refs[person] = self._refs.get(person, 0) + 1
        moves = self._moves.get(person)
        if moves is None:
            self._moves[person] = [(t, place)]
        else:
            moves.append((t, place))

    def moved(self, person: int, t: float, place: str) -> None:
        """``person`` is at ``place`` from time ``t`` (one of :data:`PLACES`)."""
        moves = self._moves.get(person)
        if moves is not None:
            moves.append((t, place))

    def place_at(self, person: int, t: float) -> str:
        """Where ``person`` is at time ``t`` (home if nothing is known)."""
        best_t = -math.inf
        place = HOME
        for mt, mp in self._moves.get(person, []):
            if best_t <= mt <= t:  # later moves, and at equal times the later written
                best_t, place = mt, mp
        return place

    def unfollow(self, person: int) -> None:
        n = self._refs.get(person, 0) - 1
        if n > 0:
            self._refs[person] = n
        else:
            self._refs.pop(person, None)
            self._moves.pop(person, None)

    def __len__(self) -> int:
        return len(self._refs)


# --------------------------------------------------------------------------- bookings
class Booking:
    """One patient's booked care: which days, how many visits each day.

    ``main`` is the profile on the service's own slots from ``start_day`` (the
    first ``head_days`` of it of the patient's kind, the rest a long-term
    package booked with it); ``other`` the visits of a long-term package with
    another provider, from ``start_day + head_days``. ``end_day``: after a
    readmission, the first day whose visits are given back (-1: none).
    """

    def __init__(
        self,
        p: Patient,
        kind: int,
        main: np.ndarray,
        head_days: int,
        other: np.ndarray,
        onward: bool,
        requested: float,
    ) -> None:
        self.p = p
        self.kind = kind
        self.main = main
        self.head_days = head_days
        self.other = other
        self.onward = onward
        self.requested = requested
        self.event: Event | None = None
        self.start_day = -1
        self.start = math.inf
        self.fired = False
        self.cancelled = False
        self.started = False
        self.end_day = -1
        self.left = math.inf  # when the patient leaves the service

    @property
    def wait_hours(self) -> float:
        """Hours from the request to the booked start (inf: never)."""
        return self.start - self.requested

    @property
    def visits(self) -> int:
        """Visits booked on the service's own slots."""
        return int(self.main.sum())


# --------------------------------------------------------------------------- the service
class VisitService:
    """Pathway 1 home-based care with a capacity of visit slots a day.

    The discharge flow uses it as it uses a
    :class:`~sim.discharge.services.DownstreamService` (see "Use" in the
    module's description): :meth:`request` (an event that fires at the booked
    start; the patient keeps the acute bed until then), :meth:`start_stay` when
    they leave hospital, :meth:`cancel` when they are readmitted while still
    waiting at home, and :attr:`on_leave` when their time with the service
    ends. KPI names are those of :attr:`kpi_docs` for the default ``name``
    ``"p1"`` (another name replaces the prefix).
    """

    kpi_docs: ClassVar[Mapping[str, tuple[str, str]]] = {
        "p1_visits_delivered": (
            "count",
            "Visits delivered by the pathway 1 home-based services on their own visit slots "
            "(visits booked on days in the period; a readmission gives back the days after it).",
        ),
        "p1_visits_reablement": ("count", "Pathway 1 visits delivered as reablement."),
        "p1_visits_home_care": (
            "count",
            "Pathway 1 visits delivered as long-term home-care packages started at discharge.",
        ),
        "p1_visits_bridging": ("count", "Pathway 1 visits delivered as bridging care."),
        "p1_visits_onward": (
            "count",
            "Visits of long-term packages that followed reablement or bridging (on the P1 "
            "slots or with another provider).",
        ),
        "p1_visits_other_provider": (
            "count",
            "Visits of those long-term packages delivered by another provider (not on the "
            "P1 slots; 0 when onward_on_same_capacity).",
        ),
        "p1_visit_slots": ("count", "Pathway 1 visit slots commissioned in the period."),
        "p1_visit_utilisation": ("share", "Pathway 1 visits delivered / visit slots."),
        "p1_mean_booked_visits": (
            "visits a day",
            "Time-average pathway 1 visits booked a day (visits delivered / days).",
        ),
        "p1_visit_offered_load": (
            "ratio",
            "Pathway 1 patients asking a day x expected visits each on the P1 slots / slots a "
            "day (above about 0.9 waits build; at 1 or more they grow without bound).",
        ),
        "p1_requests": ("count", "Patients who asked for pathway 1 home-based care."),
        "p1_starts_reablement": ("count", "Reablement episodes started."),
        "p1_starts_home_care": ("count", "Long-term home-care packages started at discharge."),
        "p1_starts_bridging": ("count", "Bridging-care episodes started."),
        "p1_onward_packages": (
            "count",
            "Long-term home-care packages started after reablement (not readmitted first).",
        ),
        "p1_bridging_handovers": (
            "count",
            "Bridging episodes handed over to the long-term provider (not readmitted first).",
        ),
        "p1_mean_wait_days": (
            "days",
            "Mean days from asking for pathway 1 care to its booked start, over starts in the "
            "period.",
        ),
        "p1_mean_patients": (
            "patients",
            "Time-average patients receiving pathway 1 care on the P1 slots.",
        ),
        "p1_mean_waiting": (
            "patients",
            "Time-average patients booked for pathway 1 care and waiting for its start.",
        ),
        "p1_followed_91d": (
            "count",
            "People 65+ discharged from hospital into reablement whose 91st day fell in the "
            "period (the ASCOF 2B(1) denominator).",
        ),
        "p1_at_home_91d": (
            "count",
            "Of those, people at home on the 91st day: not known to be in hospital, a "
            "bed-based service, a care home or dead (the model has no deaths outside hospital).",
        ),
        "p1_home_at_91_days": (
            "share",
            "Share of people 65+ discharged into reablement still at home 91 days later "
            "(Better Care Fund metric / ASCOF 2B(1), as far as the model knows).",
        ),
    }

    #: the cost lines this service counts units of (see :meth:`cost_quantities`)
    cost_line_units: ClassVar[Mapping[str, str]] = {
        "p1_visit_hour": "carer hour on the P1 visit slots",
        "home_care_package_hour": "carer hour of long-term packages with another provider",
    }

    def __init__(
        self,
        env: Environment,
        cfg: VisitServiceConfig,
        admits: ServiceHours,
        rec: Recorder,
        name: str = "p1",
    ) -> None:
        self.env = env
        self.cfg = cfg
        self.name = name
        self.pathway = 1
        self.capacity = cfg.visits_per_day
        self.admits = admits
        self.reason: str = cfg.delay_reason
        self.attribution = cfg.attribution
        self.nursing_share = 0.0
        self.onward_share = cfg.onward_long_term_share
        self.same_capacity = cfg.onward_on_same_capacity
        shares = cfg.kinds.as_tuple()
        self.kind_cum: list[float] = [shares[0], shares[0] + shares[1], 1.0]
        self.shares: list[float] = list(shares)
        # laws of the patient's care
        self.reablement_days = DaysLaw(cfg.reablement_days, cfg.max_episode_days)
        self.bridging_days = DaysLaw(cfg.bridging_days, cfg.max_episode_days)
        self.package_days = DaysLaw(cfg.package_days, None)
        self.first_rate = RateLaw(cfg.initial_visits)
        self.last_rate = RateLaw(cfg.final_visits)
        self.package_rate = RateLaw(cfg.package_visits)
        self.arrange_unit = sampler(cfg.arrange_days)
        self.mean_arrange_hours = cfg.arrange_days.mean * HOURS_PER_DAY
        # ledgers: visits booked by simulation day, long enough for any short-term
        # episode started in the run; long-term packages are cut at the end
        self.n_days: int = rec.days + cfg.max_episode_days + 1
        n = self.n_days
        #: visits booked on the service's own slots (what capacity limits)
        self.booked: np.ndarray = np.zeros(n, dtype=np.int64)
        #: the same visits by what they are for (:data:`VISIT_NAMES`)
        self.by_kind: list[np.ndarray] = [np.zeros(n, dtype=np.int64) for _ in VISIT_NAMES]
        #: visits of long-term packages with another provider (no limit)
        self.elsewhere: np.ndarray = np.zeros(n, dtype=np.int64)
        # every patient's random numbers, drawn for everyone whether used or not (CRN)
        # (three columns of the patient's row, read in parts: the row is built for
        # every patient-to-be, and only P1 patients need these)
        self.u_choice = Draw(f"u_{name}_choice", f"discharge.{name}.choice")
        self.u_rates = Draw(f"u_{name}_rates", f"discharge.{name}.rates")
        self.u_lengths = Draw(f"u_{name}_lengths", f"discharge.{name}.lengths")
        self.u_kind = DrawPart(self.u_choice, 0, 4)
        self.u_onward = DrawPart(self.u_choice, 1, 4)
        self.u_first = DrawPart(self.u_rates, 0, 4)
        self.u_last = DrawPart(self.u_rates, 1, 4)
        self.u_package_rate = DrawPart(self.u_rates, 2, 4)
        self.u_days = DrawPart(self.u_lengths, 0, 4)
        self.u_package_days = DrawPart(self.u_lengths, 1, 4)
        # what it measures
        self.patients: DeferredLevel = rec.deferred_level(f"visit_patients:{name}")
        self.waiting: DeferredLevel = rec.deferred_level(f"visit_waiting:{name}")
        self.waits: list[tuple[float, float]] = rec.sample_list(f"visit_wait_days:{name}")
        self.n_requests: DailyCount = rec.counter(f"{name}_requests")
        self.n_starts: list[DailyCount] = [rec.counter(f"{name}_starts_{k}") for k in KIND_NAMES]
        self.n_onward: DailyCount = rec.counter(f"{name}_onward_packages")
        self.n_handovers: DailyCount = rec.counter(f"{name}_bridging_handovers")
        self.n_followed: DailyCount = rec.counter(f"{name}_followed_91d")
        self.n_at_home: DailyCount = rec.counter(f"{name}_at_home_91d")
        #: where people followed for the 91-day measure are (the flow reports moves)
        self.whereabouts = Whereabouts()
        self.follow_up_hours = cfg.follow_up_days * HOURS_PER_DAY
        #: patients in care on the service's slots now (for the conservation check)
        self.in_service = 0
        #: initial occupants put on the ledgers at the start (no patients: no events)
        self.n_initial = 0
        # bookings not yet started, by patient id
        self._bookings: dict[int, Booking] = {}
        #: called with the patient when their time with the service ends
        self.on_leave: Callable[[Patient, VisitService], None] = _nowhere
        self._fire_call: Callable[[Call], None] = self._fire
        self._end_call: Callable[[Call], None] = self._end
        self._follow_up_call: Callable[[Call], None] = self._follow_up

    # ------------------------------------------------------------------ draws
    def draws(self) -> list[Draw]:
        """The service's per-patient draws: the same list whatever the settings, so
        every patient carries the same numbers in every scenario."""
        return [
            self.u_choice,
            self.u_rates,
            self.u_lengths,
        ]

    def kind_of(self, p: Patient) -> int:
        """The kind of support ``p`` gets (:data:`REABLEMENT`, ...)."""
        u = self.u_kind.of(p)
        cum = self.kind_cum
        return REABLEMENT if u < cum[0] else HOME_CARE if u < cum[1] else BRIDGING

    def plan(self, p: Patient, requested: float = 0.0) -> Booking:
        """``p``'s care, from their draws (not yet booked)."""
        kind = self.kind_of(p)
        horizon = self.n_days
        onward = False
        rate = 0
        package = 0
        if kind == REABLEMENT:
            days = self.reablement_days.of(self.u_days.of(p))
            head = linear_profile(
                days, self.first_rate.of(self.u_first.of(p)), self.last_rate.of(self.u_last.of(p))
            )
            onward = self.u_onward.of(p) < self.onward_share
        elif kind == HOME_CARE:
            rate = self.package_rate.of(self.u_package_rate.of(p))
            head = [rate] * min(self.package_days.of(self.u_package_days.of(p)), horizon)
        else:
            rate = self.package_rate.of(self.u_package_rate.of(p))
            head = [rate] * self.bridging_days.of(self.u_days.of(p))
            onward = True
        if onward:
            if kind == REABLEMENT:
                rate = self.package_rate.of(self.u_package_rate.of(p))
            package = min(self.package_days.of(self.u_package_days.of(p)), horizon)
        tail = np.full(package, rate, dtype=np.int64)
        head_arr = np.asarray(head, dtype=np.int64)
        if onward and self.same_capacity:
            main = np.concatenate([head_arr, tail])
            other = np.zeros(0, dtype=np.int64)
        else:
            main, other = head_arr, tail
        return Booking(p, kind, main, len(head), other, onward, requested)

    # ------------------------------------------------------------------ requests
    def request(
        self, p: Patient, hours: WorkingCalendar | None = None, earliest: float | None = None
    ) -> Event:
        """Book ``p``'s care at the first start that fits; the event fires at it.

        ``hours``: when ``p`` can start (the caller's calendar: the service
        admits and, from hospital, the ward discharges; default the days the
        service admits at full strength, without weekends at a share).
        ``earliest``: not before this time (e.g. after the start is arranged).
        The start day is the first day from then with an hour in ``hours``
        from which every day of the care fits in the visits not yet booked
        (IPACS's rule); the event fires at that hour of that day. With no
        capacity, or no such day in the run, it never fires. The booking
        (:meth:`booking_of`) says when, and so whether ``p`` waits.
        """
        env = self.env
        now = env.now
        if p.id in self._bookings:
            raise ValueError(f"patient {p.id} already has a pathway 1 booking")
        b = self.plan(p, now)
        ev = Event(env)
        b.event = ev
        self._bookings[p.id] = b
        self.n_requests.add(now, p.neighbourhood)
        cal = self.admits.full if hours is None else hours
        t0 = now if earliest is None or earliest < now else earliest
        day, start = self._first_fit(b.main, t0, cal) if self.capacity > 0 else (-1, math.inf)
        b.start_day, b.start = day, start
        if day < 0:  # never: waits for the rest of the run
            self.waiting.add(1.0, now)
            return ev
        self._add(b, b.start_day, 1)
        if start <= now:
            self._start_now(b)
        else:
            self.waiting.add(1.0, now)
            Call(env, start, self._fire_call, b)
        return ev

    def booking_of(self, p: Patient) -> Booking | None:
        """``p``'s booking while it has not started (None otherwise)."""
        return self._bookings.get(p.id)

    def _first_fit(self, profile: np.ndarray, t0: float, cal: WorkingCalendar) -> tuple[int, float]:
        """The first day (and hour) from ``t0`` on which ``cal`` is open and from which
        ``profile`` fits; (-1, inf) if none in the ledger."""
        n_days = self.n_days
        cap = self.capacity
        booked = self.booked
        length = len(profile)
        day = int(t0 // HOURS_PER_DAY)
        first = int(profile[0]) if length else 0
        while day < n_days:
            t = max(t0, day * HOURS_PER_DAY)
            w = cal.wait_until_open(t)
            if math.isinf(w):
                return -1, math.inf
            start = t + w
            open_day = int(start // HOURS_PER_DAY)
            if open_day > day:  # closed for the rest of this day
                day = open_day
                continue
            if int(booked[day]) + first <= cap:  # quick look at the first day
                n = min(length, n_days - day)
                if bool(np.all(booked[day : day + n] + profile[:n] <= cap)):
                    return day, start
            day += 1
        return -1, math.inf

    def _fire(self, call: Call) -> None:
        b: Booking = call.p
        if b.cancelled:
            return
        self.waiting.add(-1.0, self.env.now)
        self._start_now(b)

    def _start_now(self, b: Booking) -> None:
        b.fired = True
        now = self.env.now
        self.waits.append((now, (now - b.requested) / HOURS_PER_DAY))
        ev = b.event
        assert ev is not None
        ev.succeed()

    def cancel(self, p: Patient) -> bool:
        """Withdraw ``p``'s booking (readmitted while waiting at home); its visits are
        given back. False if ``p`` has no booking waiting to start."""
        b = self._bookings.pop(p.id, None)
        if b is None:
            return False
        b.cancelled = True
        now = self.env.now
        if not b.fired:
            self.waiting.add(-1.0, now)
        if b.start_day >= 0:
            self._remove_from(b, b.start_day)  # never started: nothing was delivered
        return True

    # ------------------------------------------------------------------ care
    def start_stay(self, p: Patient, back_in: float | None, from_hospital: bool = True) -> None:
        """Start ``p``'s booked care now (call it when the request's event fires).

        ``back_in``: hours from now to ``p``'s readmission, or None. If it comes
        before the care ends, the care ends then and the visits of the days
        after that day are given back (the day of the readmission counts as
        delivered); a long-term package that would follow is not started.
        ``from_hospital``: ``p`` leaves hospital now (the 91-day measure counts
        people 65+ discharged from hospital into reablement).
        """
        b = self._bookings.pop(p.id, None)
        if b is None or not b.fired:
            raise RuntimeError(f"patient {p.id}: no pathway 1 booking due to start")
        env = self.env
        now = env.now
        today = int(now // HOURS_PER_DAY)
        b.started = True
        if today > b.start_day:  # started late: the days missed were not delivered
            self._remove_range(b, b.start_day, today)
        self.n_starts[b.kind].add(now, p.neighbourhood)
        # care ends at the midnight after its last day of visits (not before now)
        end = max(now, (b.start_day + len(b.main)) * HOURS_PER_DAY)
        cut = back_in is not None and now + back_in < end
        leave = now + back_in if back_in is not None and cut else end
        b.left = leave
        if cut:
            b.end_day = int(leave // HOURS_PER_DAY) + 1
        self.in_service += 1
        self.patients.book(now, leave)
        Call(env, leave, self._end_call, b)
        if b.onward:
            t_onward = (b.start_day + b.head_days) * HOURS_PER_DAY
            back_at = math.inf if back_in is None else now + back_in
            if back_at > t_onward:
                counter = self.n_onward if b.kind == REABLEMENT else self.n_handovers
                counter.add(t_onward, p.neighbourhood)
            if len(b.other):
                # another provider's package: no limit, so it is written down now,
                # up to the day of a readmission
                day0 = b.start_day + b.head_days
                stop = self.n_days if math.isinf(back_at) else int(back_at // HOURS_PER_DAY) + 1
                n = min(len(b.other), stop - day0, self.n_days - day0)
                if n > 0:
                    self.elsewhere[day0 : day0 + n] += b.other[:n]
        if b.kind == REABLEMENT and p.older and from_hospital:
            self.whereabouts.follow(p.person, now, HOME)
            if back_in is not None:
                self.whereabouts.moved(p.person, now + back_in, HOSPITAL)
            Call(env, now + self.follow_up_hours, self._follow_up_call, p)

    def _end(self, call: Call) -> None:
        b: Booking = call.p
        if b.end_day >= 0:  # readmitted: the rest of the care is given back
            self._remove_from(b, b.end_day)
        self.in_service -= 1
        self.on_leave(b.p, self)

    def in_system(self) -> int:
        """Patients in care on the service's slots now (the conservation check;
        people in care at the start are not patients of the run)."""
        return self.in_service

    def _follow_up(self, call: Call) -> None:
        p: Patient = call.p
        now = self.env.now
        self.n_followed.add(now, p.neighbourhood)
        if self.whereabouts.place_at(p.person, now) == HOME:
            self.n_at_home.add(now, p.neighbourhood)
        self.whereabouts.unfollow(p.person)

    # ------------------------------------------------------------------ ledgers
    def _add(self, b: Booking, day0: int, sign: int) -> None:
        """Add (sign 1) or take off (-1) ``b``'s visits on the service's slots from
        its start, for the days from ``day0`` on."""
        self._change(b, day0, self.n_days, sign)

    def _remove_from(self, b: Booking, day0: int) -> None:
        self._change(b, day0, self.n_days, -1)

    def _remove_range(self, b: Booking, day0: int, day1: int) -> None:
        self._change(b, day0, day1, -1)

    def _change(self, b: Booking, day0: int, day1: int, sign: int) -> None:
        s = b.start_day
        lo = max(day0, s)
        hi = min(day1, s + len(b.main), self.n_days)
        if hi <= lo:
            return
        part = b.main[lo - s : hi - s] * sign
        self.booked[lo:hi] += part
        # by what the visits are for: the kind's own days, then a package
        split = min(max(s + b.head_days, lo), hi)
        if split > lo:
            self.by_kind[b.kind][lo:split] += part[: split - lo]
        if hi > split:
            self.by_kind[ONWARD][split:hi] += part[split - lo :]

    # ------------------------------------------------------------------ expectations
    def phase_means(self, risk: ReadmissionRisk | None = None) -> dict[str, tuple[float, float]]:
        """Expected (visits, days) of each phase of care per patient of its kind.

        Phases: ``reablement``, ``bridging`` and ``home_care`` from the start, and
        ``reablement_package`` and ``bridging_package``, the long-term packages
        that follow (per patient of the kind, so the first includes the onward
        share). ``risk``: readmission cutting care short (visits of the days
        before the readmission are delivered); None: no readmissions. The
        reablement phase is averaged exactly over its laws; a package's days are
        its law's mean (the floor of one day aside).
        """
        w = risk.window if risk is not None else 0
        n = w + 1
        q = self.onward_share
        rate = self.package_rate.mean
        pkg_days = self.package_days.mean
        pkg_left = [self.package_days.survival(j) for j in range(n)]

        def cut(total: float, daily: list[float]) -> float:
            return total if risk is None else risk.delivered(total, daily)

        out: dict[str, tuple[float, float]] = {}
        # reablement, and the package after it for the onward share
        law = self.reablement_days
        visits = [0.0] * n
        on = [0.0] * n
        after = [0.0] * n
        total = 0.0
        for days, p_days in enumerate(law.pmf):
            if p_days == 0:
                continue
            for i in range(min(days, n)):
                on[i] += p_days
            for i in range(days, n):
                after[i] += p_days * q * pkg_left[i - days]
            for a, pa in zip(self.first_rate.values, self.first_rate.pmf, strict=True):
                for b, pb in zip(self.last_rate.values, self.last_rate.pmf, strict=True):
                    weight = p_days * pa * pb
                    profile = linear_profile(days, a, b)
                    total += weight * sum(profile)
                    for i in range(min(days, n)):
                        visits[i] += weight * profile[i]
        out["reablement"] = (cut(total, visits), cut(law.mean, on))
        held = cut(q * pkg_days, after)
        out["reablement_package"] = (rate * held, held)
        # bridging at the package's rate, then the package
        law = self.bridging_days
        on = [law.survival(i) for i in range(n)]
        after = [0.0] * n
        for days, p_days in enumerate(law.pmf):
            for i in range(days, n):
                after[i] += p_days * pkg_left[i - days]
        held = cut(law.mean, on)
        out["bridging"] = (rate * held, held)
        held = cut(pkg_days, after)
        out["bridging_package"] = (rate * held, held)
        # a long-term package from the start
        held = cut(pkg_days, pkg_left)
        out["home_care"] = (rate * held, held)
        return out

    def mean_visits(self, risk: ReadmissionRisk | None = None) -> list[float]:
        """Expected visits on the service's own slots per patient of each kind."""
        m = self.phase_means(risk)
        same = 1.0 if self.same_capacity else 0.0
        return [
            m["reablement"][0] + same * m["reablement_package"][0],
            m["home_care"][0],
            m["bridging"][0] + same * m["bridging_package"][0],
        ]

    def mean_days(self, risk: ReadmissionRisk | None = None) -> list[float]:
        """Expected days of care on the service's own slots per patient of each kind."""
        m = self.phase_means(risk)
        same = 1.0 if self.same_capacity else 0.0
        return [
            m["reablement"][1] + same * m["reablement_package"][1],
            m["home_care"][1],
            m["bridging"][1] + same * m["bridging_package"][1],
        ]

    def mean_visits_per_patient(self, risk: ReadmissionRisk | None = None) -> float:
        """Expected visits on the service's own slots per patient asking."""
        per_kind = self.mean_visits(risk)
        return math.fsum(s * v for s, v in zip(self.shares, per_kind, strict=True))

    def expected_busy_visits(
        self, arrivals_per_day: float, risk: ReadmissionRisk | None = None
    ) -> float:
        """Visits booked a day on average when ``arrivals_per_day`` patients start a
        day (Little's law, in visits)."""
        return arrivals_per_day * self.mean_visits_per_patient(risk)

    def offered_load(self, arrivals_per_day: float, risk: ReadmissionRisk | None = None) -> float:
        """Expected visits a day / visit slots a day."""
        busy = self.expected_busy_visits(arrivals_per_day, risk)
        if self.capacity > 0:
            return busy / self.capacity
        return math.inf if busy > 0 else 0.0

    def arrange_hours(self, u: float) -> float:
        """Time from booking to the patient being able to move, in hours."""
        if self.mean_arrange_hours == 0:
            return 0.0
        return self.arrange_unit.one(u) * self.mean_arrange_hours

    def reason_for(self, u_nursing: float) -> str:
        """The delay reason of a patient waiting for this service."""
        return self.reason

    # ------------------------------------------------------------------ start of a run
    def initial_occupants(
        self,
        rng: np.random.Generator,
        arrivals_per_day: float,
        risk: ReadmissionRisk | None = None,
    ) -> int:
        """Put on the ledgers the care of people already with the services at time 0.

        In steady state (``initial_occupancy: steady_state``), with
        ``arrivals_per_day`` patients asking a day, these are the people whose
        care started before day 0 and goes on into it (patients of the run start
        from day 0 on). Care of ``L`` days started on one of the days before
        covers day 0 if it started fewer than ``L`` days ago, so each phase that
        starts at discharge (reablement, bridging, a package from discharge)
        holds arrivals a day x (mean days - 1) such people (the days cut by
        readmission under ``risk``), in care of ``L`` days with probability
        ~ (L - 1) P(L), 1 to L - 1 days done. A package that followed
        reablement or bridging can have started on day 0 itself: arrivals a day
        x its mean days of them, the days left drawn from the residual life of
        the package law. The phase after the one someone is in follows in full
        (IPACS gives its initial occupants the tail of a longer sequence the
        same way, ``visit_functions.R`` lines 162-181). A share as
        ``initial_occupancy`` scales these numbers so that share of the first
        day's slots is booked (before the first day's starts). No process is
        needed: their visits are written on the ledgers at once, and they are
        counted in the level of patients in care until they end, but they are
        not patients of the run (no events, no readmissions, which puts the
        first weeks' visits slightly high). Returns the number of people put on
        this service's slots.
        """
        occ = self.cfg.initial_occupancy
        lam = arrivals_per_day
        if occ != "steady_state":
            shape = lam if lam > 0 else 1.0
            busy = self.expected_busy_visits(shape, risk)
            if busy <= 0 or self.capacity == 0:
                return 0
            lam = shape * float(occ) * self.capacity / busy
        if lam <= 0:
            return 0
        s_r, s_h, s_b = self.shares
        m = self.phase_means(risk)
        groups = (
            (REABLEMENT, lam * s_r * max(0.0, m["reablement"][1] - 1.0)),
            (BRIDGING, lam * s_b * max(0.0, m["bridging"][1] - 1.0)),
            (HOME_CARE, lam * s_h * max(0.0, m["home_care"][1] - 1.0)),
            (ONWARD, lam * (s_r * m["reablement_package"][1] + s_b * m["bridging_package"][1])),
        )
        placed = 0
        for group, mean_n in groups:
            # one generator per group, seeded in a fixed order: a change to one
            # group's number leaves the others' people unchanged
            g = np.random.Generator(np.random.PCG64(int(rng.integers(2**62))))
            n = round(mean_n)
            if n > 0:
                placed += self._place_initial(group, n, g)
        self.n_initial = placed
        return placed

    def _place_initial(self, group: int, n: int, g: np.random.Generator) -> int:
        """Put ``n`` people found in phase ``group`` at time 0 on the ledgers."""
        # seven uniforms per person, so person i keeps theirs if n changes
        u = g.random((n, 7)).tolist()
        horizon = self.n_days
        placed = 0
        for row in u:
            rate = self.package_rate.of(row[3])
            package = min(self.package_days.of(row[6]), horizon)
            if group in (REABLEMENT, BRIDGING):
                law = self.reablement_days if group == REABLEMENT else self.bridging_days
                # started on one of the days before day 0: 1 to length - 1 days done
                length = _index(law.started_cum, row[0])
                if length < 2:
                    continue
                done = 1 + min(int(row[1] * (length - 1)), length - 2)
                if group == REABLEMENT:
                    full = linear_profile(
                        length, self.first_rate.of(row[2]), self.last_rate.of(row[4])
                    )
                    onward = row[5] < self.onward_share
                else:
                    full = [rate] * length
                    onward = True
                left = full[done:]
                head_days = len(left)
                tail = [rate] * package if onward else []
                if self.same_capacity:
                    own, other = left + tail, []
                else:
                    own, other = left, tail
                kind = group
            else:
                # a package under way: its remaining days are the residual life of
                # the package law (length-biased, a uniform share of it left)
                rest = self.package_days.unit.residual(np.asarray([row[0]]), np.asarray([row[1]]))
                days = min(max(1, math.ceil(float(rest[0]) * self.package_days.mean_days)), horizon)
                head_days = days
                kind = group
                if group == ONWARD and not self.same_capacity:
                    own, other = [], [rate] * days
                else:
                    own, other = [rate] * days, []
            if other:
                day0 = head_days if own else 0
                m = min(len(other), horizon - day0)
                if m > 0:
                    self.elsewhere[day0 : day0 + m] += np.asarray(other[:m], dtype=np.int64)
            if not own:
                continue
            m = min(len(own), horizon)
            arr = np.asarray(own[:m], dtype=np.int64)
            self.booked[:m] += arr
            hd = min(head_days, m)
            self.by_kind[kind][:hd] += arr[:hd]
            if m > hd:
                self.by_kind[ONWARD][hd:m] += arr[hd:]
            self.patients.book(0.0, len(own) * HOURS_PER_DAY)
            placed += 1
        return placed

    # ------------------------------------------------------------------ results
    def kpis(self, window: KpiWindow) -> dict[str, float]:
        """The service's KPIs over the measured period (names in :attr:`kpi_docs`)."""
        w0, w1, days = window.W, window.T, window.days
        name = self.name
        nan = float("nan")
        delivered = float(self.booked[w0:w1].sum())
        k: dict[str, float] = {f"{name}_visits_delivered": delivered}
        for i, kind in enumerate(VISIT_NAMES):
            k[f"{name}_visits_{kind}"] = float(self.by_kind[i][w0:w1].sum())
        outside = float(self.elsewhere[w0:w1].sum())
        k[f"{name}_visits_onward"] += outside
        k[f"{name}_visits_other_provider"] = outside
        slots = float(self.capacity * days)
        k[f"{name}_visit_slots"] = slots
        k[f"{name}_visit_utilisation"] = delivered / slots if slots else nan
        k[f"{name}_mean_booked_visits"] = delivered / days if days else nan
        requests = window.count(f"{name}_requests")
        k[f"{name}_requests"] = requests
        per_day = requests / days if days else nan
        k[f"{name}_visit_offered_load"] = (
            per_day * self.mean_visits_per_patient() / self.capacity if self.capacity else nan
        )
        for kind in KIND_NAMES:
            k[f"{name}_starts_{kind}"] = window.count(f"{name}_starts_{kind}")
        k[f"{name}_onward_packages"] = window.count(f"{name}_onward_packages")
        k[f"{name}_bridging_handovers"] = window.count(f"{name}_bridging_handovers")
        waits = window.samples(f"visit_wait_days:{name}")
        k[f"{name}_mean_wait_days"] = float(waits.mean()) if waits.size else nan
        k[f"{name}_mean_patients"] = window.mean(f"visit_patients:{name}")
        k[f"{name}_mean_waiting"] = window.mean(f"visit_waiting:{name}")
        followed = window.count(f"{name}_followed_91d")
        at_home = window.count(f"{name}_at_home_91d")
        k[f"{name}_followed_91d"] = followed
        k[f"{name}_at_home_91d"] = at_home
        k[f"{name}_home_at_91_days"] = at_home / followed if followed else nan
        return k

    def cost_quantities(self, window: KpiWindow, block: bool = False) -> dict[str, float]:
        """Carer hours of the two cost lines (:attr:`cost_line_units`): on the P1
        slots, every slot commissioned (``block``) or every visit delivered (spot);
        long-term packages with another provider, every visit delivered."""
        w0, w1 = window.W, window.T
        hours = self.cfg.visit_minutes / 60.0
        own = self.capacity * window.days if block else float(self.booked[w0:w1].sum())
        return {
            "p1_visit_hour": own * hours,
            "home_care_package_hour": float(self.elsewhere[w0:w1].sum()) * hours,
        }


def _index(cum: list[float], u: float) -> int:
    """The first index whose cumulative probability is above ``u``."""
    for i in range(len(cum)):
        if u < cum[i]:
            return i
    return len(cum) - 1


def _nowhere(p: Patient, svc: VisitService) -> None:
    raise RuntimeError(f"{svc.name!r} is not connected to a discharge team")
