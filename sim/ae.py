"""A&E (emergency department): triage, assessment, decision and boarding.

An attender is triaged by a nurse, then assessed and treated by a clinician, then
waits for investigations and a decision (not limited by staff). The numbers of
triage nurses and clinicians on duty follow hourly rotas (weekday and optional
weekend). The decision is to admit or to discharge. An admitted patient stays in
the department - *boarding* - until an acute bed is free; the time in department
is measured from arrival to leaving A&E, against the 4-hour standard.

Most attenders go home from A&E, so the department is written for speed: a
visit is a chain of scheduled callbacks (triage, assessment, decision) rather
than a SimPy process, and a process is started only for patients A&E decides
to admit. The queueing is the same first-come-first-served multi-server queue either way.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from typing import TYPE_CHECKING, Any

from sim.components import Component
from sim.core.calls import Call
from sim.core.distributions import sampler
from sim.core.resources import ServicePool
from sim.patient import Draw, Patient, per_stratum

if TYPE_CHECKING:
    from sim.model import CareSystemModel


class EmergencyDepartment(Component):
    """The A&E department with rota-driven triage and clinician capacity."""

    name = "ae"

    def __init__(self, model: CareSystemModel) -> None:
        super().__init__(model)
        cfg = model.cfg.ae
        self.cfg = cfg
        self.enabled = cfg.enabled
        self.weekday_rota = (tuple(cfg.triage_rota), tuple(cfg.clinician_rota))
        self.weekend_rota = (
            tuple(cfg.triage_rota),
            tuple(cfg.clinician_rota_weekend or cfg.clinician_rota),
        )
        self.triage = ServicePool(self.env, cfg.triage_rota[0])
        self.clinicians = ServicePool(self.env, cfg.clinician_rota[0])
        self.admit_p = per_stratum(
            model.strata,
            cfg.admit_probability.as_tuple(),
            care_home=cfg.care_home_admit_probability,
        ).tolist()
        self.target = cfg.four_hour_target_hours
        self.by_ambulance = model.community.by_ambulance
        #: called with (patient, admit?) when A&E decides; set by the model
        self.on_decision: Callable[[Patient, bool], None] = lambda p, admit: None
        self.in_ae = self.rec.level("in_ae")
        self.times = self.rec.sample_list("ae_hours")
        self.n_attend = self.rec.counter("ae_attendances")
        self.n_attend_older = self.rec.counter("ae_attendances_65plus")
        self.n_ambulance = self.rec.counter("ae_ambulance_arrivals")
        self.n_care_home = self.rec.counter("ae_attendances_care_home")
        self.triage.track(self.rec.level("busy:ae_triage"), self.rec.level("staffed:ae_triage"))
        self.clinicians.track(
            self.rec.level("busy:ae_clinicians"), self.rec.level("staffed:ae_clinicians")
        )

    def draws(self) -> list[Draw]:
        c = self.cfg
        return [
            Draw("triage_h", "ae.triage", sampler(c.triage_minutes), c.triage_minutes.mean / 60),
            Draw(
                "assess_h",
                "ae.assessment",
                sampler(c.assessment_minutes),
                c.assessment_minutes.mean / 60,
            ),
            Draw(
                "decision_h",
                "ae.decision",
                sampler(c.decision_minutes),
                c.decision_minutes.mean / 60,
            ),
            Draw("u_admit", "ae.admit"),
        ]

    def processes(self) -> Iterable[Generator[Any, Any, Any]]:
        return (self.rota(),) if self.enabled else ()

    def rota(self) -> Generator[Any, Any, None]:
        """Set staff numbers at the start of every hour."""
        clock = self.model.clock
        hour = 0
        while True:
            weekend = clock.weekday(hour // 24) >= 5
            triage, clinicians = self.weekend_rota if weekend else self.weekday_rota
            self.triage.set_capacity(triage[hour % 24])
            self.clinicians.set_capacity(clinicians[hour % 24])
            yield self.env.timeout(1.0)
            hour += 1

    def decides_admit(self, p: Patient) -> bool:
        return p.readmission or p.u_admit < self.admit_p[p.stratum]

    def arrive(self, p: Patient) -> None:
        t, nb = self.env.now, p.neighbourhood
        self.n_attend.add(t, nb)
        if p.older:
            self.n_attend_older.add(t, nb)
        if self.by_ambulance(p):
            self.n_ambulance.add(t, nb)
        if p.care_home:
            self.n_care_home.add(t, nb)
        self.in_ae.add(1, t)
        self.rec.log(t, p.id, p.person, "ae_arrival")

    # The visit is a chain of stages, each a callback of the call that ends the
    # previous one; the patient rides on the call as ``call.p``. The triage and
    # clinician pools start a waiting patient's service when a server is free.

    def visit(self, p: Patient) -> None:
        """Start ``p``'s visit now; at the decision, call :attr:`on_decision`."""
        self.arrive(p)
        self.triage.serve(p, p.triage_h, self._triage_done)

    def _triage_done(self, call: Call) -> None:
        p = call.p
        self.triage.release()
        self.clinicians.serve(p, p.assess_h, self._assess_done)

    def _assess_done(self, call: Call) -> None:
        p = call.p
        self.clinicians.release()
        Call(self.env, p.decision_h, self._decision_done, p)

    def _decision_done(self, call: Call) -> None:
        p = call.p
        self.on_decision(p, self.decides_admit(p))

    def depart(self, p: Patient, outcome: str) -> None:
        """The patient leaves A&E (home, to a ward, or elsewhere)."""
        t = self.env.now
        self.in_ae.add(-1, t)
        self.times.append((t, t - p.arrival))
        self.rec.log(t, p.id, p.person, "ae_departure", outcome)
