"""A&E (emergency department): triage, assessment, decision and boarding.

An attender is triaged by a nurse, then assessed and treated by a clinician, then
waits for investigations and a decision (not limited by staff). The numbers of
triage nurses and clinicians on duty follow hourly rotas (weekday and optional
weekend). The decision is to admit or to discharge. An admitted patient stays in
the department - *boarding* - until an acute bed is free; the time in department
is measured from arrival to leaving A&E, against the 4-hour standard.

Most attenders go home from A&E, so the department is written for speed. Staff
follow a rota fixed in advance and each queue is first come, first served, so
when a patient starts triage is known the moment they arrive, and when they see
a clinician the moment triage ends (:class:`~sim.core.resources.RotaQueue`).
A visit therefore costs one scheduled call (the end of triage); the decision
is one more, for patients A&E admits. For those who go home, the departure is
booked in advance: the time in department and the exit are recorded with the
time they happen, and the A&E levels (patients in A&E, staff busy) apply their
booked changes at each midnight, so the daily census and the end-of-run figures
are those of an event-by-event model. The queueing is the same multi-server
queue with hourly staffing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from sim.community import CommunityResponse
from sim.components import Component, CostLineSpec
from sim.core.calls import Call
from sim.core.distributions import sampler
from sim.core.resources import HOURS_PER_WEEK, RotaQueue
from sim.core.window import mean_or_nan
from sim.patient import Draw, Patient, per_stratum

if TYPE_CHECKING:
    from sim.components import Site
    from sim.config.schema import AEConfig, CostsConfig
    from sim.core.window import KpiWindow


class EmergencyDepartment(Component):
    """The A&E department with rota-driven triage and clinician capacity."""

    name = "ae"
    kpi_docs: ClassVar[Mapping[str, tuple[str, str]]] = {
        "ae_attendances": ("count", "A&E attendances (incl. returning readmissions)."),
        "ae_attendances_65plus": ("count", "A&E attendances by people aged 65+."),
        "ae_ambulance_arrivals": ("count", "A&E attendances arriving by ambulance."),
        "ae_4h_performance": ("share", "Share of A&E departures within the 4-hour standard."),
        "ae_mean_hours": ("hours", "Mean time in A&E, arrival to departure (incl. boarding)."),
        "ae_p95_hours": ("hours", "95th percentile of time in A&E."),
        "ae_12h_waits": (
            "count",
            "A&E departures more than 12 hours after arrival (the measure NHS England has "
            "published monthly since 2023; the 2025/26 plan: under 10% of attendances).",
        ),
        "ae_12h_share": ("share", "A&E departures more than 12 hours after arrival / departures."),
        "ae_trolley_waits_12h": (
            "count",
            "Admitted patients who waited more than 12 hours from the decision to admit to "
            "leaving A&E (the older 12-hour trolley wait measure).",
        ),
        "ae_4h_target": (
            "share",
            "The 4-hour target set (ae.four_hour_standard; 78% by March 2026 in the "
            "2025/26 urgent and emergency care plan), shown next to ae_4h_performance.",
        ),
        "ae_attendances_care_home": ("count", "A&E attendances of care-home residents."),
        "ae_attendances_care_home_per_resident": (
            "per resident per year",
            "A&E attendances of care-home residents a resident-year (England 2016/17: 0.98, "
            "Wolters et al. 2019).",
        ),
        "ae_triage_utilisation": ("share", "Triage nurses' busy time / staffed time."),
        "ae_clinician_utilisation": ("share", "A&E clinicians' busy time / staffed time."),
    }
    uses = ("community",)  # who arrives by ambulance
    cost_lines = (
        CostLineSpec("ae_attendance", "attendance"),
        # the ambulance that brought the attender ("see, treat and convey")
        CostLineSpec("ambulance_conveyance", "conveyance"),
    )
    community: CommunityResponse

    def __init__(self, site: Site, cfg: AEConfig) -> None:
        super().__init__(site, cfg)
        self.cfg = cfg
        self.enabled = cfg.enabled
        #: staff on duty in each hour of the week, counted from hour 0 of the run
        self.triage_staff = self._weekly(cfg.triage_rota, cfg.triage_rota)
        self.clinician_staff = self._weekly(
            cfg.clinician_rota, cfg.clinician_rota_weekend or cfg.clinician_rota
        )
        self.admit_p: list[float] = per_stratum(
            site.strata,
            cfg.admit_probability.as_tuple(),
            care_home=cfg.care_home_admit_probability,
        ).tolist()
        self.target = cfg.four_hour_target_hours
        #: called with the patient when A&E decides to admit; set by the model
        self.on_admit: Callable[[Patient], None] = lambda p: None
        # the calls' callbacks, bound once (not a new bound method per call)
        self._after_triage: Callable[[Call], None] = self._triage_done
        self._after_decision: Callable[[Call], None] = self._decision_done
        self.horizon = horizon = site.run.total_days * 24.0
        self.in_ae = self.rec.deferred_level("in_ae")
        self.times = self.rec.sample_list("ae_hours")
        #: decision to admit to leaving A&E, admitted patients (hours)
        self.boarding = self.rec.sample_list("ae_boarding_hours")
        #: when A&E decided to admit each patient still in the department
        self._decided: dict[int, float] = {}
        self.n_attend = self.rec.counter("ae_attendances")
        self.n_attend_older = self.rec.counter("ae_attendances_65plus")
        self.n_ambulance = self.rec.counter("ae_ambulance_arrivals")
        self.n_care_home = self.rec.counter("ae_attendances_care_home")
        rec = self.rec
        self.triage = RotaQueue(self.triage_staff, rec.deferred_level("busy:ae_triage"), horizon)
        self.staffed_triage = rec.level("staffed:ae_triage", self.triage_staff[0])
        self.clinicians = RotaQueue(
            self.clinician_staff, rec.deferred_level("busy:ae_clinicians"), horizon
        )
        self.staffed_clinicians = rec.level("staffed:ae_clinicians", self.clinician_staff[0])
        c = cfg
        self.triage_h = Draw(
            "triage_h", "ae.triage", sampler(c.triage_minutes), c.triage_minutes.mean / 60
        )
        self.assess_h = Draw(
            "assess_h",
            "ae.assessment",
            sampler(c.assessment_minutes),
            c.assessment_minutes.mean / 60,
        )
        self.decision_h = Draw(
            "decision_h", "ae.decision", sampler(c.decision_minutes), c.decision_minutes.mean / 60
        )
        self.u_admit = Draw("u_admit", "ae.admit")

    def _weekly(self, weekday: Sequence[int], weekend: Sequence[int]) -> list[int]:
        """An hourly rota for the week that starts with the run."""
        weekday_of = self.site.clock.weekday
        return [
            (weekend if weekday_of(h // 24) >= 5 else weekday)[h % 24]
            for h in range(HOURS_PER_WEEK)
        ]

    def connect(self, links: Mapping[str, Component]) -> None:
        super().connect(links)
        self.community = self.link("community", CommunityResponse)

    def kpis(self, window: KpiWindow) -> dict[str, float]:
        count = window.count
        hours = window.samples("ae_hours")
        within = float((hours <= self.target).mean()) if hours.size else float("nan")
        over_12 = float((hours > 12.0).sum())
        trolley = window.samples("ae_boarding_hours")
        p95 = float(np.quantile(hours, 0.95)) if hours.size else float("nan")
        resident_years = self.site.strata.care_home_residents * window.years
        return {
            "ae_attendances": count("ae_attendances"),
            "ae_attendances_65plus": count("ae_attendances_65plus"),
            "ae_ambulance_arrivals": count("ae_ambulance_arrivals"),
            "ae_4h_performance": within,
            "ae_mean_hours": mean_or_nan(hours),
            "ae_p95_hours": p95,
            "ae_12h_waits": over_12,
            "ae_12h_share": over_12 / hours.size if hours.size else float("nan"),
            "ae_trolley_waits_12h": float((trolley > 12.0).sum()),
            "ae_4h_target": self.cfg.four_hour_standard,
            "ae_attendances_care_home": count("ae_attendances_care_home"),
            "ae_attendances_care_home_per_resident": (
                count("ae_attendances_care_home") / resident_years
                if resident_years
                else float("nan")
            ),
            "ae_triage_utilisation": window.utilisation("busy:ae_triage", "staffed:ae_triage"),
            "ae_clinician_utilisation": window.utilisation(
                "busy:ae_clinicians", "staffed:ae_clinicians"
            ),
        }

    def cost_quantities(
        self, window: KpiWindow, kpis: Mapping[str, float], costs: CostsConfig
    ) -> dict[str, float]:
        return {
            "ae_attendance": kpis["ae_attendances"],
            "ambulance_conveyance": kpis["ae_ambulance_arrivals"],
        }

    def draws(self) -> list[Draw]:
        return [self.triage_h, self.assess_h, self.decision_h, self.u_admit]

    def processes(self) -> Iterable[Generator[Any, Any, Any]]:
        return (self.rota(),) if self.enabled else ()

    def rota(self) -> Generator[Any, Any, None]:
        """Record the staff on duty at the start of every hour (for utilisation).

        The queues read the rota themselves; this only keeps the staffed levels.
        """
        env = self.env
        hour = 0
        while True:
            i = hour % HOURS_PER_WEEK
            for level, staff in (
                (self.staffed_triage, self.triage_staff[i]),
                (self.staffed_clinicians, self.clinician_staff[i]),
            ):
                level.add(staff - level.value, env.now)
            yield env.timeout(1.0)
            hour += 1

    def decides_admit(self, p: Patient) -> bool:
        return p.readmission or self.u_admit.of(p) < self.admit_p[p.stratum]

    def arrive(self, p: Patient) -> None:
        t, nb = self.env.now, p.neighbourhood
        self.n_attend.add(t, nb)
        if p.older:
            self.n_attend_older.add(t, nb)
        if self.community.by_ambulance(p):
            self.n_ambulance.add(t, nb)
        if p.care_home:
            self.n_care_home.add(t, nb)
        self.in_ae.add(1, t)
        self.rec.log(t, p.id, p.person, "ae_arrival")

    # A visit is worked out stage by stage: the triage queue gives the start of
    # triage on arrival, and at the end of triage (a call, with the patient on
    # it as ``call.p``) the clinician queue gives the start of assessment.

    def visit(self, p: Patient) -> None:
        """Start ``p``'s visit now; at a decision to admit, call :attr:`on_admit`."""
        self.arrive(p)
        triage_h = self.triage_h.of(p)
        start = self.triage.start(self.env.now, triage_h)
        if start < math.inf:
            Call(self.env, start + triage_h, self._after_triage, p)

    def _triage_done(self, call: Call) -> None:
        p: Patient = call.p  # typed, so compiled code reads its fields directly
        assess_h = self.assess_h.of(p)
        start = self.clinicians.start(self.env.now, assess_h)
        if start == math.inf:
            return  # no clinician is ever on duty: the patient stays
        decision = start + assess_h + self.decision_h.of(p)
        if self.decides_admit(p):
            Call(self.env, decision, self._after_decision, p)
        elif decision < self.horizon:  # else still in A&E when the run ends
            self._home(p, decision)

    def _decision_done(self, call: Call) -> None:
        p: Patient = call.p
        self._decided[p.id] = self.env.now
        self.on_admit(p)

    def _home(self, p: Patient, t: float) -> None:
        """``p`` will be discharged home from A&E at ``t``: book it now."""
        self.in_ae.book_exit(t)
        self.times.append((t, t - p.arrival))
        self.rec.log(t, p.id, p.person, "ae_departure", "home")
        self.site.flow.exit(p, "ae_discharged", t)

    def depart(self, p: Patient, outcome: str) -> None:
        """The patient leaves A&E (home, to a ward, or elsewhere)."""
        t = self.env.now
        self.in_ae.add(-1, t)
        self.times.append((t, t - p.arrival))
        decided = self._decided.pop(p.id, -1.0)
        if decided >= 0:
            self.boarding.append((t, t - decided))
        self.rec.log(t, p.id, p.person, "ae_departure", outcome)
