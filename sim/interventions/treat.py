"""TREAT: triage and rapid elderly assessment in A&E.

The Royal Free's Triage and Rapid Elderly Assessment Team (since 2011) sees older
A&E attenders whom A&E has decided to admit. When a TREAT clinician is on duty
and free, they assess the patient (taking time in A&E); ``home_share`` of those
assessed can go home the same day, but only with a rapid community support
package, of which there are ``support_slots`` at once - with none free, the
patient is admitted after all. Patients TREAT admits have shorter stays
(``los_ratio``: -11.25% in Wright et al. 2013). Admissions avoided are counted
directly.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from sim.components import CostLineSpec
from sim.core.calendar import ServiceHours
from sim.core.distributions import sampler
from sim.core.resources import ServerPool
from sim.interventions.base import Intervention
from sim.patient import Draw, Patient

if TYPE_CHECKING:
    from sim.components import Site
    from sim.config.schema import CostsConfig, TreatConfig
    from sim.core.window import KpiWindow
    from sim.hooks import Hooks


class Treat(Intervention):
    """The TREAT team and its rapid community support packages."""

    name = "treat"
    order = 30
    kpi_docs: ClassVar[Mapping[str, tuple[str, str]]] = {
        "treat_assessed": ("count", "Would-be admissions assessed by TREAT."),
        "treat_admissions_avoided": ("count", "Assessed patients sent home with rapid support."),
        "treat_admitted": ("count", "Assessed patients admitted (with TREAT's shorter stay)."),
        "treat_no_support_slot": ("count", "Could go home but no rapid support package was free."),
        "treat_not_seen": (
            "count",
            "Eligible would-be admissions TREAT could not see (off duty/busy).",
        ),
        "treat_staff_utilisation": ("share", "TREAT clinicians' busy time / staffed time."),
        "treat_support_utilisation": ("share", "Rapid support packages in use / available."),
    }

    cost_lines = (
        CostLineSpec("treat_staff_hour", "staffed clinician hour"),
        CostLineSpec("treat_support_day", "support package day"),
    )

    def __init__(self, site: Site, cfg: TreatConfig) -> None:
        super().__init__(site, cfg)
        self.n_treat_admissions_avoided = self.rec.counter("treat_admissions_avoided")
        self.n_treat_admitted = self.rec.counter("treat_admitted")
        self.n_treat_assessed = self.rec.counter("treat_assessed")
        self.n_treat_no_support_slot = self.rec.counter("treat_no_support_slot")
        self.n_treat_not_seen = self.rec.counter("treat_not_seen")
        self.eligible: list[bool] = self.strata_matching(
            cfg.eligible_ages, cfg.eligible_frailty
        ).tolist()
        self.hours = ServiceHours(site.clock, cfg.calendar)
        self.staff = ServerPool(self.env, 0)
        self.staff.track(self.rec.level("busy:treat_staff"), self.rec.level("staffed:treat_staff"))
        self.support = ServerPool(self.env, cfg.support_slots)
        self.support_unit = sampler(cfg.support_days)
        self.support_mean_h = cfg.support_days.mean * 24.0
        self.support.track(
            self.rec.level("busy:treat_support"), self.rec.level("staffed:treat_support")
        )
        self.in_support = self.rec.level("treat_supported_at_home")
        self.u_home = Draw("u_treat", "treat.home")
        self.assess_h = Draw(
            "treat_h", "treat.assessment", sampler(cfg.assessment_hours), cfg.assessment_hours.mean
        )
        # a uniform, converted to hours only for patients TREAT sends home
        self.u_support = Draw("u_treat_support", "treat.support")

    def draws(self) -> list[Draw]:
        return [self.u_home, self.assess_h, self.u_support]

    def install(self, hooks: Hooks) -> None:
        hooks.before_admission.append(self.assess)

    def processes(self) -> Iterable[Generator[Any, Any, Any]]:
        return (self.roster(),)

    def roster(self) -> Generator[Any, Any, None]:
        env, hours = self.env, self.hours
        while True:
            self.staff.set_capacity(hours.on_duty(self.cfg.staff, env.now))
            yield env.timeout(hours.next_check(env.now))

    def assess(self, p: Patient) -> Generator[Any, Any, bool]:
        """Assess an eligible would-be admission; True if they went home instead."""
        env = self.env
        if not self.eligible[p.stratum] or not self.schedule.live(p.neighbourhood, env.now):
            return False
        staff = self.staff
        if staff.busy >= staff.capacity or staff.queue:
            self.n_treat_not_seen.add(env.now, p.neighbourhood)  # off duty or all busy
            return False
        yield staff.acquire()
        self.n_treat_assessed.add(env.now, p.neighbourhood)
        yield env.timeout(self.assess_h.of(p))
        staff.release()
        if self.u_home.of(p) < self.cfg.home_share:
            support = self.support
            if support.busy < support.capacity and not support.queue:
                support.acquire()  # free now: taken at once, so no one else gets it
                self.n_treat_admissions_avoided.add(env.now, p.neighbourhood)
                env.process(self._supported_at_home(p))
                return True
            self.n_treat_no_support_slot.add(env.now, p.neighbourhood)
        p.los_multiplier *= self.cfg.los_ratio
        self.n_treat_admitted.add(env.now, p.neighbourhood)
        return False

    def _supported_at_home(self, p: Patient) -> Generator[Any, Any, None]:
        """Hold the support package (already acquired) for the support period."""
        env = self.env
        self.in_support.add(1, env.now)
        yield env.timeout(self.support_unit.one(self.u_support.of(p)) * self.support_mean_h)
        self.support.release()
        self.in_support.add(-1, env.now)
        self.site.flow.exit(p, "treat_home_with_support")

    def in_system(self) -> dict[str, int]:
        return {"in_treat_support": int(self.in_support.value)}

    def cost_quantities(
        self, window: KpiWindow, kpis: Mapping[str, float], costs: CostsConfig
    ) -> dict[str, float]:
        return {
            "treat_staff_hour": window.integral_days("staffed:treat_staff") * 24.0,
            "treat_support_day": window.integral_days("busy:treat_support"),
        }

    def kpis(self, window: KpiWindow) -> dict[str, float]:
        return {
            "treat_assessed": window.count("treat_assessed"),
            "treat_admissions_avoided": window.count("treat_admissions_avoided"),
            "treat_admitted": window.count("treat_admitted"),
            "treat_no_support_slot": window.count("treat_no_support_slot"),
            "treat_not_seen": window.count("treat_not_seen"),
            "treat_staff_utilisation": window.utilisation(
                "busy:treat_staff", "staffed:treat_staff"
            ),
            "treat_support_utilisation": window.utilisation(
                "busy:treat_support", "staffed:treat_support"
            ),
        }
