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
* patients leaving alive split over pathways P0-P3 by the mix for their stratum.

A downstream place is held while the start is arranged and then for the stay,
cut short when the patient is readmitted from the service: for those
readmitted the mean stay is E[min(stay, time to readmission)], worked out on a
grid of quantiles of the model's own distributions. The monthly, weekly and
daily profiles average out over a year, so these are annual means; winter
peaks are higher.
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


def _held_days(model: CareSystemModel, stay_mean_days: float, stay_unit: np.ndarray) -> np.ndarray:
    """Mean days a place is held, per stratum: the stay, or less if readmitted from it."""
    readmit = model.readmission
    n = len(model.strata)
    if not readmit.enabled or stay_mean_days == 0:
        return np.full(n, stay_mean_days)
    rcfg = model.cfg.readmission
    stays = stay_unit * stay_mean_days * 24.0  # hours, one per quantile
    u = (np.arange(_GRID) + 0.5) / _GRID
    # time to readmission: exponential truncated to the window (sim.readmission)
    trunc = -np.expm1(-rcfg.window_days / rcfg.mean_days_to_readmission)
    back = -rcfg.mean_days_to_readmission * 24.0 * np.log1p(-u * trunc)
    e_min = float(np.minimum(stays[:, None], back[None, :]).mean()) / 24.0
    r = np.asarray(readmit.prob, dtype=float)
    return (1 - r) * stay_mean_days + r * e_min


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
        managed = np.asarray(model.community.share) if model.community.enabled else 0.0
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
        cum = np.asarray(model.discharge.cum_pathway, dtype=float)  # (n, 3)
        edges = np.column_stack([np.zeros(n), cum, np.ones(n)])
        mix = np.diff(edges, axis=1)
    by_pathway = alive[:, None] * mix  # (n, 4) discharges a day
    flows = Flows(
        crises=float(crises.sum()),
        attendances=float(attend.sum() + readmitted.sum()),
        admissions=float(admissions.sum()),
        discharges=tuple(float(x) for x in by_pathway.sum(axis=0)),  # type: ignore[arg-type]
        readmitted_by_stratum=np.asarray(readmitted, dtype=float) * np.ones(n),
        admissions_by_stratum=np.asarray(admissions, dtype=float),
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
    return flows


def offered_loads(cfg: Config) -> Flows:
    """The expected flows of a configuration (builds the model, runs nothing)."""
    from sim.model import CareSystemModel

    return expected_flows(CareSystemModel(cfg, 0, extensions=[]))
