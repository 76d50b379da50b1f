"""Emergency readmission within 30 days of discharge.

At discharge a share of patients (by age) is marked to return. The time to return
follows an exponential distribution truncated to the readmission window, because
the hazard of readmission is highest in the days after discharge. The returning
patient is a new episode of the same person: they attend A&E and are admitted.
If they are still in a downstream service when they return, that stay ends.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from sim.components import Component
from sim.patient import Draw, Patient, per_stratum

if TYPE_CHECKING:
    from sim.model import CareSystemModel


class Readmissions(Component):
    """Schedules readmissions of discharged patients."""

    name = "readmission"

    def __init__(self, model: CareSystemModel) -> None:
        super().__init__(model)
        cfg = model.cfg.readmission
        self.enabled = cfg.enabled
        self.prob: list[float] = per_stratum(model.strata, cfg.probability.as_tuple()).tolist()
        self.window_h = cfg.window_days * 24.0
        self.mean_h = cfg.mean_days_to_readmission * 24.0
        self._trunc = 1.0 - math.exp(-self.window_h / self.mean_h)
        self.u_readmit = Draw("u_readmit", "readmission.occurs")
        self.u_time = Draw("u_readmit_time", "readmission.time")

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
        model = self.model
        q = model.readmission_factory.make_one(model.next_id(), p.person, p.stratum, self.env.now)
        q.readmission = True
        self.rec.log(self.env.now, q.id, q.person, "readmission_return", f"after episode {p.id}")
        self.arrive(q)

    def arrive(self, q: Patient) -> None:
        """A readmitted patient ``q`` comes back now: to A&E, or straight to a bed."""
        model = self.model
        if model.ae.enabled:
            model.enter(q)
            model.handle_attendance(q)
        else:
            model.handle_admission(q)
