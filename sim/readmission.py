"""Emergency readmission within 30 days of discharge.

At discharge a share of patients (by age) is marked to return. The time to return
follows an exponential distribution truncated to the readmission window, because
the hazard of readmission is highest in the days after discharge. The returning
patient is a new episode of the same person: they attend A&E and are admitted.
If they are still in a downstream service when they return, that stay ends.
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


class Readmissions(Component):
    """Schedules readmissions of discharged patients."""

    name = "readmission"
    uses = ("ae",)  # a returning patient attends A&E if there is one
    ae: EmergencyDepartment

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
        self.rec.log(self.env.now, q.id, q.person, "readmission_return", f"after episode {p.id}")
        self.arrive(q)

    def arrive(self, q: Patient) -> None:
        """A readmitted patient ``q`` comes back now: to A&E, or straight to a bed."""
        flow = self.site.flow
        if self.ae.enabled:
            flow.enter(q)
            flow.handle_attendance(q)
        else:
            flow.handle_admission(q)
