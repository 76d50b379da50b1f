"""Expected flows through the core services, and the offered load of each.

A service keeps up with its demand only if its *offered load* - arrivals a day
times the mean time each arrival holds it, over its capacity - is below one.
Near one, queues build slowly and drift for as long as the run lasts; above one
they grow without bound. Planners size services by this number, so every run
reports it, and a downstream service can start a run from the occupancy it
would have in a long run (``initial_occupancy: steady_state``) rather than from
a guess.

The flows follow the core pathway in closed form, stratum by stratum, without
interventions:

* crises a year (demand), times the share not managed in the community, times
  the probability that A&E admits, give first admissions;
* a discharged patient returns within the readmission window with probability
  *r* and is always admitted, so admissions are first admissions / (1 - (1 - d) r),
  *d* being the probability of dying in hospital;
* patients leaving alive split over pathways P0-P3 by the mix for their stratum,
  except residents going back to a place kept for them (below), who leave on P0.

A downstream place is held while the start is arranged and then for the stay.
In a short-term service the stay is cut short when the patient is readmitted
from it: for those readmitted the mean stay is E[min(stay, time to
readmission)]. A long-stay service (``keeps_place_when_admitted``: care homes)
keeps the place through a readmission, and the stay is cut short only when the
resident dies in hospital: by (stay - (time to readmission + acute stay))+ for
those who do. Each discharge to such a service, or back to it, is followed by
a readmission from it with probability *r x P(stay > time to readmission)*,
and a share *1 - d* of those go back on P0 and may be readmitted again: a
geometric series (:func:`_kept_places`). The expectations over stays and
readmission times are worked out on a grid of quantiles of the model's own
distributions (the acute stay at its mean). The monthly, weekly and daily
profiles average out over a year, so these are annual means; winter peaks are
higher.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim.core.distributions import sampler

if TYPE_CHECKING:
    from sim.config.schema import Config
    from sim.discharge.services import DownstreamService
    from sim.model import CareSystemModel

#: quantiles per distribution on the grid for E[min(stay, readmission time)]
_GRID = 400


@dataclass
class ServiceLoad:
    """Expected demand on one service and its offered load."""

    name: str
    arrivals_per_day: float
    mean_held_days: float  # mean time an arrival holds a place (or a server), days
    capacity: float  # places, beds or staff
    unit: str = "places"

    @property
    def busy(self) -> float:
        """Expected number of places (servers) busy on average: Little's law."""
        return self.arrivals_per_day * self.mean_held_days

    @property
    def offered_load(self) -> float:
        """Busy / capacity; infinite for demand on a service with no capacity."""
        if self.capacity > 0:
            return self.busy / self.capacity
        return float("inf") if self.busy > 0 else 0.0


@dataclass
class Flows:
    """Expected annual-average flows of the core services (per day)."""

    crises: float
    attendances: float
    admissions: float
    discharges: tuple[float, float, float, float]  # P0-P3
    services: dict[str, ServiceLoad] = field(default_factory=dict)
    #: patients discharged alive a day who will be readmitted, per stratum
    readmitted_by_stratum: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: emergency admissions a day (readmissions included), per stratum
    admissions_by_stratum: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: A&E attendances a day (returning readmissions included), per stratum
    attendances_by_stratum: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def offered_loads(self) -> dict[str, float]:
        return {name: s.offered_load for name, s in self.services.items()}

    def summary(self) -> str:
        """One line for the console: each service's offered load."""
        parts = []
        for name, s in self.services.items():
            note = " (clinical stays)" if name == "acute_beds" else ""
            parts.append(f"{name.replace('_', ' ')} {s.offered_load:.2f}{note}")
        return "offered load (arrivals a day x mean time held / capacity): " + ", ".join(parts)

    def as_dict(self) -> dict[str, object]:
        """Plain data for run metadata (rounded for reading)."""
        return {
            "per_day": {
                "crises": round(self.crises, 1),
                "ae_attendances": round(self.attendances, 1),
                "emergency_admissions": round(self.admissions, 1),
                **{f"discharges_p{k}": round(v, 2) for k, v in enumerate(self.discharges)},
            },
            "offered_load": {
                name: {
                    "offered_load": round(s.offered_load, 3),
                    "arrivals_per_day": round(s.arrivals_per_day, 2),
                    "mean_held_days": round(s.mean_held_days, 3),
                    "capacity": s.capacity,
                    "unit": s.unit,
                }
                for name, s in self.services.items()
            },
        }


def _readmission_hours(model: CareSystemModel) -> np.ndarray:
    """Quantiles of the time from discharge to readmission, in hours: exponential
    truncated to the window (:mod:`sim.readmission`)."""
    rcfg = model.cfg.readmission
    u = (np.arange(_GRID) + 0.5) / _GRID
    trunc = -np.expm1(-rcfg.window_days / rcfg.mean_days_to_readmission)
    return np.asarray(-rcfg.mean_days_to_readmission * 24.0 * np.log1p(-u * trunc))


def _held_days(model: CareSystemModel, stay_mean_days: float, stay_unit: np.ndarray) -> np.ndarray:
    """Mean days a place is held, per stratum: the stay, or less if readmitted from it."""
    readmit = model.readmission
    n = len(model.strata)
    if not readmit.enabled or stay_mean_days == 0:
        return np.full(n, stay_mean_days)
    stays = stay_unit * stay_mean_days * 24.0  # hours, one per quantile
    back = _readmission_hours(model)
    e_min = float(np.minimum(stays[:, None], back[None, :]).mean()) / 24.0
    r = np.asarray(readmit.prob, dtype=float)
    return (1 - r) * stay_mean_days + r * e_min


@dataclass
class _KeptPlaces:
    """A service that keeps places through readmissions, per stratum."""

    returns: np.ndarray  # readmissions from it that go back (per discharge to it or back)
    held_days: np.ndarray  # mean days a place is held (the stay, less deaths in hospital)


def _kept_places(
    model: CareSystemModel, stay_mean_days: float, stay_unit: np.ndarray
) -> _KeptPlaces:
    """Readmissions that go back to a kept place, and the mean days a place is held.

    After each discharge to the service or back to it, the resident is
    readmitted with probability *r* at time *T*; the place is still theirs if
    the stay *S* has not ended, so a share *c = r (1 - d) P(S > T)* of
    discharges come back on P0. The stay ends early only if the resident dies
    in hospital (probability *r d*), which takes (S - T - L)+ off the time the
    place is held, *L* being the acute stay (at its mean for the stratum). Each
    return starts the same again, 1 / (1 - c) cycles in all; with exponential
    stays (memoryless) this is exact, otherwise a close approximation since
    *T + L* is small against a residence.
    """
    readmit = model.readmission
    n = len(model.strata)
    if not readmit.enabled or stay_mean_days == 0:
        return _KeptPlaces(np.zeros(n), np.full(n, stay_mean_days))
    stays = stay_unit * stay_mean_days * 24.0  # hours, one per quantile
    back = _readmission_hours(model)
    still_there = float((stays[:, None] > back[None, :]).mean())
    r = np.asarray(readmit.prob, dtype=float)
    d = np.asarray(model.acute.death_p, dtype=float)
    los = np.asarray(model.acute.mean_los_hours(), dtype=float)
    lost_h = np.empty(n)  # E[(S - T - L)+] per stratum, hours
    for value in np.unique(los):
        e_min = float(np.minimum(stays[:, None], back[None, :] + value).mean())
        lost_h[los == value] = stay_mean_days * 24.0 - e_min
    c = r * (1.0 - d) * still_there
    held = stay_mean_days - r * d * lost_h / 24.0 / (1.0 - c)
    return _KeptPlaces(c, held)


def _mean_transfer_wait_days(model: CareSystemModel, svc: DownstreamService) -> float:
    """Mean wait, once a place is ready, for an hour when the service admits and
    the ward discharges, over the weekend gates of the service and the ward (each
    open at weekends for its share of patients).

    When a place is ready depends on what came before: after an arrangement of
    random length (care homes, intermediate care) at any hour of the week;
    without one (reablement), when the patient is declared fit on a ward round
    (``discharge.review``), most of them already assessed. Averaging over the
    whole week for reablement put its wait at twice the simulated one.
    """
    team = model.discharge
    p_svc, p_ward = svc.admits.weekend_share, team.hours.weekend_share
    week = np.arange(168) + 0.5  # hours of the run's first week
    hours = week
    if svc.cfg.arrange_days.mean == 0:
        rounds = np.array([h for h in week if team.review.wait_until_open(float(h)) == 0])
        hours = rounds if rounds.size else week
    total = 0.0
    for svc_weekend, p_a in ((True, p_svc), (False, 1.0 - p_svc)):
        for ward_weekend, p_b in ((True, p_ward), (False, 1.0 - p_ward)):
            if p_a * p_b == 0:
                continue
            cal = team.transfer_calendar[svc.name, svc_weekend, ward_weekend]
            waits = [cal.wait_until_open(float(h)) for h in hours]
            total += p_a * p_b * float(np.mean(waits))
    return total / 24.0


def expected_flows(model: CareSystemModel) -> Flows:
    """Expected flows and offered loads of ``model``'s core services."""
    cfg = model.cfg
    strata = model.strata
    n = len(strata)
    days_per_year = 365.0
    if model.demand.direct:
        w = model.demand.cum_weights
        share = np.diff(np.concatenate([[0.0], w]))
        first = share * cfg.demand.direct_admissions_per_day  # admissions a day
        crises = attend = np.zeros(n)
    else:
        crises = np.asarray(model.demand.stratum_rate_per_year, dtype=float) / days_per_year
        demand = model.demand
        managed = model.community.expected_managed_share(crises, demand.hourly, demand.weekly)
        attend = crises * (1.0 - managed)
        first = attend * np.asarray(model.ae.admit_p, dtype=float)
    death = np.asarray(model.acute.death_p, dtype=float)
    r = np.asarray(model.readmission.prob, dtype=float) if model.readmission.enabled else 0.0
    admissions = first / (1.0 - (1.0 - death) * r)
    alive = admissions * (1.0 - death)
    readmitted = alive * r
    if not model.discharge.enabled:
        mix = np.zeros((n, 4))
        mix[:, 0] = 1.0
    else:
        mix = model.discharge.pathway_mix()
    # residents of services that keep places go back on P0 when readmitted: a
    # share of the others' discharges reach service k, each followed by
    # c / (1 - c) returns; so returns = (alive - returns) x back, back summed over k
    kept: dict[str, _KeptPlaces] = {}
    if model.discharge.enabled:
        for svc in model.discharge.services.values():
            if svc.keeps_place:
                unit = sampler(svc.cfg.stay_days).from_uniform((np.arange(_GRID) + 0.5) / _GRID)
                kept[svc.name] = _kept_places(model, svc.cfg.stay_days.mean, unit)
    back = np.zeros(n)
    for name, k in kept.items():
        svc = model.discharge.services[name]
        per_placement = k.returns / (1 - k.returns)
        back = back + mix[:, svc.pathway] * model.discharge.share_of(svc) * per_placement
    returning = alive * back / (1 + back)
    by_pathway = (alive - returning)[:, None] * mix  # (n, 4) discharges a day
    by_pathway[:, 0] += returning
    flows = Flows(
        crises=float(crises.sum()),
        attendances=float(attend.sum() + readmitted.sum()),
        admissions=float(admissions.sum()),
        discharges=tuple(float(x) for x in by_pathway.sum(axis=0)),  # type: ignore[arg-type]
        readmitted_by_stratum=np.asarray(readmitted, dtype=float) * np.ones(n),
        admissions_by_stratum=np.asarray(admissions, dtype=float),
        attendances_by_stratum=np.asarray(attend + readmitted, dtype=float) * np.ones(n),
    )
    los_days = model.acute.mean_los_hours() / 24.0
    flows.services["acute_beds"] = ServiceLoad(
        "acute_beds",
        float(admissions.sum()),
        float((admissions * los_days).sum() / admissions.sum()) if admissions.sum() else 0.0,
        float(cfg.beds.acute),
        "beds (clinical stay only, before any delay)",
    )
    if not model.discharge.enabled:
        return flows
    dcfg = cfg.discharge
    supported = float(by_pathway[:, 1:].sum())
    a = dcfg.assessment
    # share of the week the team is on duty: working hours, and weekend hours at
    # the weekend share (the roster's ServiceHours)
    hours = model.discharge.assessment.hours
    open_share = (hours.full.mask.sum() + hours.weekend_share * hours.partial_mask.sum()) / 168.0
    flows.services["assessment"] = ServiceLoad(
        "assessment",
        supported,
        a.duration_hours.mean / 24.0,
        a.staff * open_share,
        "assessors (staff x share of the week on duty)",
    )
    u = (np.arange(_GRID) + 0.5) / _GRID
    for svc in model.discharge.services.values():
        if svc.name in kept:
            held = kept[svc.name].held_days
        else:
            unit = sampler(svc.cfg.stay_days).from_uniform(u)
            held = _held_days(model, svc.cfg.stay_days.mean, unit)
        arrivals = by_pathway[:, svc.pathway] * model.discharge.share_of(svc)
        total = float(arrivals.sum())
        # a place is held while the start is arranged and the patient waits for
        # a day the service admits and the ward discharges, then for the stay
        held = held + svc.cfg.arrange_days.mean + _mean_transfer_wait_days(model, svc)
        flows.services[svc.name] = ServiceLoad(
            svc.name,
            total,
            float((arrivals * held).sum() / total) if total else float(held.mean()),
            float(svc.capacity),
        )
    visits = model.discharge.visits
    if visits is not None:
        # pathway 1 as visit slots: patients a day x visits each (cut short by
        # readmissions) = visits booked a day, against the slots a day
        per_day = float(by_pathway[:, 1].sum())
        flows.services[visits.name] = ServiceLoad(
            visits.name,
            per_day,
            visits.mean_visits_per_patient(
                model.discharge.readmission_risk(1, np.asarray(admissions, dtype=float))
            ),
            float(visits.capacity),
            "visit slots a day (held: visits per patient)",
        )
    return flows


def offered_loads(cfg: Config) -> Flows:
    """The expected flows of a configuration (builds the model, runs nothing)."""
    from sim.model import CareSystemModel

    return expected_flows(CareSystemModel(cfg, 0, extensions=[]))
