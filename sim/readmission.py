"""Emergency readmission within 30 days of discharge.

At discharge a share of patients (by age) is marked to return. The time to return
follows an exponential distribution truncated to the readmission window, because
the hazard of readmission is highest in the days after discharge. The returning
patient is a new episode of the same person: they attend A&E and are admitted.
If they are still in a short-term downstream service (reablement, intermediate
care) when they return, that stay ends. A care-home resident keeps their place
(a service with ``keeps_place_when_admitted``): the new episode leaves hospital
on pathway 0, back to the place, whatever the pathway mix of their stratum; if
they die in hospital the place is given up (:meth:`Readmissions.died`).
"""

from __future__ import annotations

import math
from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any

from sim.ae import EmergencyDepartment
from sim.components import Component
from sim.patient import Draw, Patient, per_stratum

if TYPE_CHECKING:
    from sim.components import Site
    from sim.config.schema import ReadmissionConfig
    from sim.discharge.team import DischargeTeam


class Readmissions(Component):
    """Schedules readmissions of discharged patients."""

    name = "readmission"
    # a returning patient attends A&E if there is one; a care-home resident goes
    # back to the place the discharge team's service keeps for them
    uses = ("ae", "discharge")
    ae: EmergencyDepartment
    discharge: DischargeTeam

    def __init__(self, site: Site, cfg: ReadmissionConfig) -> None:
        super().__init__(site, cfg)
        self.enabled = cfg.enabled
        self.prob: list[float] = per_stratum(site.strata, cfg.probability.as_tuple()).tolist()
        self.window_days = cfg.window_days
        self.mean_days = cfg.mean_days_to_readmission
        self.window_h = cfg.window_days * 24.0
        self.mean_h = cfg.mean_days_to_readmission * 24.0
        self._trunc = 1.0 - math.exp(-self.window_h / self.mean_h)
        self.u_readmit = Draw("u_readmit", "readmission.occurs")
        self.u_time = Draw("u_readmit_time", "readmission.time")

    def connect(self, links: Mapping[str, Component]) -> None:
        super().connect(links)
        self.ae = self.link("ae", EmergencyDepartment)
        from sim.discharge.team import DischargeTeam  # (it imports this module)

        self.discharge = self.link("discharge", DischargeTeam)

    def draws(self) -> list[Draw]:
        return [self.u_readmit, self.u_time]

    def after_discharge(self, p: Patient) -> float | None:
        """Schedule the patient's return if they are to be readmitted; hours until it."""
        if not self.enabled or self.u_readmit.of(p) >= self.prob[p.stratum] * p.readmit_ratio:
            return None
        delay = -self.mean_h * math.log1p(-self.u_time.of(p) * self._trunc)
        self.env.process(self._return(p, delay))
        return delay

    def _return(self, p: Patient, delay: float) -> Generator[Any, Any, None]:
        yield self.env.timeout(delay)
        factory, flow = self.site.readmission_factory, self.site.flow
        assert factory is not None  # set by the model before the run
        q = factory.make_one(flow.next_id(), p.person, p.stratum, self.env.now)
        q.readmission = True
        detail = f"after episode {p.id}"
        kept = self.place_kept_for(q.person)
        if kept:
            # back to the kept place on pathway 0: a pathway draw below every
            # share makes the discharge team pick P0, and plan no assessment
            self.discharge.u_pathway.set(q, -1.0)
            detail += f"; place kept in {kept}"
        self.rec.log(self.env.now, q.id, q.person, "readmission_return", detail)
        self.arrive(q)

    def place_kept_for(self, person: int) -> str:
        """The service keeping a place for ``person`` now (a care home), or ''."""
        for svc in self.discharge.services.values():
            if svc.keeps_place and svc.holds_place_for(person):
                return svc.name
        return ""

    def died(self, p: Patient) -> None:
        """``p`` died in hospital: a place kept for the person is given up."""
        if not p.readmission:  # only a readmitted person can hold one
            return
        for svc in self.discharge.services.values():
            if svc.keeps_place:
                svc.give_up(p.person)

    def arrive(self, q: Patient) -> None:
        """A readmitted patient ``q`` comes back now: to A&E, or straight to a bed."""
        flow = self.site.flow
        if self.ae.enabled:
            flow.enter(q)
            flow.handle_attendance(q)
        else:
            flow.handle_admission(q)
