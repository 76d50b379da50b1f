"""The discharge flow: from medically fit to leaving the acute bed.

1. **Review.** Medically-fit decisions are made on ward rounds (``discharge.review``).
   A stay that ends outside ward-round hours waits for the next round; that wait
   is extra length of stay, not a delayed transfer.
2. **Pathway.** The patient's pathway (P0-P3) is drawn from the mix for their
   frailty band (or under-65s, or care-home residents).
3. **P0** leaves as soon as the discharge team works (``discharge.calendar``; at
   weekends only ``weekend_share`` of patients can go). A wait for a working day
   is extra length of stay, not a delayed transfer: NHS England counted delays of
   patients waiting for another service.
4. **P1-P3** are delayed from the moment they are fit: first awaiting assessment,
   then awaiting a place in the downstream service, then awaiting a day on which
   the service admits and the discharge team works. The delay ends when they
   leave the bed; they then stay in the downstream service.

Interventions that act at this point run through the ``at_fit`` hook before the
pathway; seven-day working changes the weekend shares through ``weekend_share``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.components import Component
from sim.core.calendar import ServiceHours, WorkingCalendar
from sim.core.calls import Call
from sim.discharge.assessment import AssessmentTeam
from sim.discharge.dtoc import AWAITING_ASSESSMENT, DelayTracker
from sim.discharge.services import DownstreamService
from sim.patient import Draw, Patient

if TYPE_CHECKING:
    from sim.model import CareSystemModel

PATHWAYS = ("p0", "p1", "p2", "p3")
SERVICE_OF_PATHWAY = {1: "reablement", 2: "intermediate_care", 3: "care_home"}


class DischargeTeam(Component):
    """Discharge planning, assessment and transfer to downstream services."""

    name = "discharge"

    def __init__(self, model: CareSystemModel) -> None:
        super().__init__(model)
        cfg = model.cfg.discharge
        self.cfg = cfg
        self.enabled = cfg.enabled
        clock = model.clock
        self.review = WorkingCalendar.from_config(clock, cfg.review)
        self.hours = ServiceHours(clock, cfg.calendar)
        self.assessment = AssessmentTeam(
            self.env, cfg.assessment, ServiceHours(clock, cfg.assessment.calendar)
        )
        self.services: dict[int, DownstreamService] = {}
        # transfer needs the service to admit and the ward to discharge: one
        # calendar per pathway and per (service at weekend?, ward at weekend?)
        self.transfer_calendar: dict[tuple[int, bool, bool], WorkingCalendar] = {}
        for pathway, name in SERVICE_OF_PATHWAY.items():
            scfg = getattr(cfg, name)
            admits = ServiceHours(clock, scfg.admits)
            self.services[pathway] = DownstreamService(
                self.env, name, pathway, scfg, admits, self.rec
            )
            for svc_weekend in (False, True):
                for ward_weekend in (False, True):
                    svc_cal = admits.extended if svc_weekend else admits.full
                    ward_cal = self.hours.extended if ward_weekend else self.hours.full
                    self.transfer_calendar[pathway, svc_weekend, ward_weekend] = svc_cal & ward_cal
        reasons = [AWAITING_ASSESSMENT] + [s.reason for s in self.services.values()]
        self.delays = DelayTracker(self.rec, reasons)
        self.assessment.assessors.track(
            self.rec.level("busy:assessment"), self.rec.level("staffed:assessment")
        )
        self.awaiting_review = self.rec.level("awaiting_review")
        self.awaiting_discharge = self.rec.level("awaiting_discharge")
        self.cum_pathway = self._pathway_table()
        #: discharges counted by pathway (P0-P3), also by interventions
        self.n_discharges = [self.rec.counter(f"discharges_{pw}") for pw in PATHWAYS]
        # the callback ending a downstream stay, bound once
        self._after_stay: Callable[[Call], None] = self._end_downstream_stay

    def _pathway_table(self) -> list[tuple[float, float, float]]:
        strata = self.model.strata
        p = self.cfg.pathways
        groups = [p.fit, p.mild, p.moderate, p.severe]
        table = []
        for i in range(len(strata)):
            if strata.care_home[i]:
                mix = p.care_home
            elif strata.age[i] == 0:
                mix = p.under_65
            else:
                mix = groups[int(strata.frailty[i])]
            c = np.cumsum(mix.as_tuple())
            table.append((float(c[0]), float(c[1]), float(c[2])))
        return table

    def draws(self) -> list[Draw]:
        a = self.cfg.assessment.duration_hours
        from sim.core.distributions import sampler

        # a stay in each service is drawn up front (CRN), whichever is used; as a
        # uniform, converted to hours only for the patients who go there
        stays = [Draw(svc.u_stay, f"discharge.stay.{svc.name}") for svc in self.services.values()]
        return [
            Draw("u_pathway", "discharge.pathway"),
            Draw("u_joint", "discharge.joint_funding"),
            Draw("assessment_h", "discharge.assessment", sampler(a), a.mean),
            Draw("u_weekend", "discharge.weekend"),
            Draw("u_weekend_service", "discharge.weekend_service"),
            *stays,
        ]

    def processes(self) -> Iterable[Generator[Any, Any, Any]]:
        if not self.enabled:
            return ()
        procs: list[Generator[Any, Any, Any]] = [self.assessment.roster()]
        for svc in self.services.values():
            # one stream per service: changing one service leaves the others paired
            rng = self.model.streams.get(f"discharge.initial_occupants.{svc.name}")
            proc = svc.initial_occupants(rng)
            if proc is not None:
                procs.append(proc)
        return procs

    def pathway_of(self, p: Patient) -> int:
        c0, c1, c2 = self.cum_pathway[p.stratum]
        u = p.u_pathway
        return 0 if u < c0 else 1 if u < c1 else 2 if u < c2 else 3

    def weekend_share(self, kind: str, p: Patient, base: float) -> float:
        """Weekend share for this patient: an intervention's, else the calendar's."""
        for hook in self.model.hooks.weekend_share:
            share = hook(kind, p)
            if share is not None:
                return share
        return base

    def transfer_hours(self, p: Patient, svc: DownstreamService) -> WorkingCalendar:
        """When patient ``p`` can move to ``svc``: service admits and ward discharges.

        The two weekend gates are separate capacities, so each has its own uniform.
        """
        svc_weekend = p.u_weekend_service < self.weekend_share(
            "downstream", p, svc.admits.weekend_share
        )
        ward_weekend = p.u_weekend < self.weekend_share(
            "acute_discharge", p, self.hours.weekend_share
        )
        return self.transfer_calendar[svc.pathway, svc_weekend, ward_weekend]

    def admission_hours(self, p: Patient, svc: DownstreamService) -> WorkingCalendar:
        """When ``svc`` admits patient ``p`` from home (no ward discharge involved)."""
        share = self.weekend_share("downstream", p, svc.admits.weekend_share)
        return svc.admits.for_patient(p.u_weekend_service, share)

    def attribution_of(self, p: Patient, svc: DownstreamService) -> str:
        return "both" if p.u_joint < self.cfg.joint_funded_share else svc.attribution

    def leave_hospital(self, p: Patient, reviewed: bool = False) -> Generator[Any, Any, None]:
        """From the end of the acute stay to leaving the bed, then the downstream stay.

        ``reviewed``: the patient is already declared fit (initial state).
        """
        env, model = self.env, self.model
        acute = model.acute
        wait = 0.0 if reviewed else self.review.wait_until_open(env.now)
        if wait > 0:
            self.awaiting_review.add(1, env.now)
            yield env.timeout(wait)
            self.awaiting_review.add(-1, env.now)
        p.t_fit = env.now
        self.rec.log(env.now, p.id, p.person, "medically_fit")
        for hook in model.hooks.at_fit:
            done = yield from hook(p)
            if done:
                return
        pathway = p.pathway = self.pathway_of(p)
        self.n_discharges[pathway].add(env.now, p.neighbourhood)
        if pathway == 0:
            share = self.weekend_share("acute_discharge", p, self.hours.weekend_share)
            wait = self.hours.for_patient(p.u_weekend, share).wait_until_open(env.now)
            if wait > 0:
                self.awaiting_discharge.add(1, env.now)
                yield env.timeout(wait)
                self.awaiting_discharge.add(-1, env.now)
            acute.release(p, "home_p0")
            model.readmission.after_discharge(p)
            model.exit(p, "discharged_home_p0")
            return
        svc = self.services[pathway]
        attribution = self.attribution_of(p, svc)
        who = self.cfg.assessment.attribution
        assess_attr = attribution if who == "service" or attribution == "both" else who
        self.delays.start(p, AWAITING_ASSESSMENT, assess_attr, env.now)
        assessors = self.assessment.assessors
        yield assessors.acquire()
        if p.assessment_h > 0:  # zero when assessment takes no time: no timeout
            yield env.timeout(p.assessment_h)
        assessors.release()
        self.delays.change(p, svc.reason, attribution, env.now)
        yield svc.places.acquire()
        svc.occupied.add(1, env.now)  # the place is reserved from now on
        wait = self.transfer_hours(p, svc).wait_until_open(env.now)
        if wait > 0:
            yield env.timeout(wait)
        self.delays.stop(p, env.now)
        acute.release(p, f"to_{svc.name}")
        back_in = model.readmission.after_discharge(p)
        self.start_downstream_stay(p, svc, back_in)

    def start_downstream_stay(
        self, p: Patient, svc: DownstreamService, back_in: float | None
    ) -> None:
        """Start ``p``'s stay in ``svc``, in the place ``p`` holds (already counted
        in ``svc.occupied`` from when it was reserved); it ends without a process."""
        svc.patients.add(1, self.env.now)
        stay = svc.stay_hours(getattr(p, svc.u_stay))
        if back_in is not None and back_in < stay:
            stay = back_in  # readmitted from the service: the place is freed
        Call(self.env, self.env.now + stay, self._after_stay, p)

    def _end_downstream_stay(self, call: Call) -> None:
        p: Patient = call.p  # typed, so compiled code reads its fields directly
        svc = self.services[p.pathway]  # the service of the patient's pathway
        now = self.env.now
        svc.places.release()
        svc.occupied.add(-1, now)
        svc.patients.add(-1, now)
        self.model.exit(p, f"left_{svc.name}")
