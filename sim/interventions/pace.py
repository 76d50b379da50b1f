"""PACE: post-acute care enablement (early supported discharge).

Eligible inpatients (pathway, age and frailty rules; not those who will die in
hospital) can leave ``days_saved`` days before they would be medically fit, into
3-5 days of support at home from the PACE team, which works with the patient's
social worker (so no separate discharge assessment is needed). The team supports
at most ``capacity`` patients at once; if it is full the patient stays in
hospital as usual. After PACE support a P0 patient is simply home; a P1 patient
moves on to reablement, and PACE keeps supporting them until a reablement place
is free (bridging). PACE patients' readmission risk is scaled by
``readmission_ratio``. Bed days saved are counted directly.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from sim.acute import AcuteBeds
from sim.components import Component, CostLineSpec
from sim.core.distributions import sampler
from sim.core.resources import ServerPool
from sim.discharge.team import PATHWAYS, DischargeTeam
from sim.interventions.base import Intervention
from sim.patient import Draw, Patient

if TYPE_CHECKING:
    from sim.components import Site
    from sim.config.schema import CostsConfig, PaceConfig
    from sim.core.window import KpiWindow
    from sim.hooks import Hooks


class Pace(Intervention):
    """The PACE early supported discharge team."""

    name = "pace"
    order = 40
    kpi_docs: ClassVar[Mapping[str, tuple[str, str]]] = {
        "pace_patients": ("count", "Patients discharged early into PACE support."),
        "pace_bed_days_saved": (
            "days",
            "Acute bed days saved by early discharge (days_saved each).",
        ),
        "pace_full": ("count", "Eligible patients PACE could not take (team full)."),
        "pace_bridging_days": ("days", "Days PACE supported P1 patients waiting for reablement."),
        "pace_utilisation": ("share", "PACE places in use / places."),
    }
    cost_lines = (CostLineSpec("pace_patient_day", "patient-day supported"),)
    uses = ("acute", "discharge")
    acute: AcuteBeds
    discharge: DischargeTeam

    def __init__(self, site: Site, cfg: PaceConfig) -> None:
        super().__init__(site, cfg)
        self.n_pace_full = self.rec.counter("pace_full")
        self.n_pace_patients = self.rec.counter("pace_patients")
        matching = self.strata_matching(cfg.eligible_ages, cfg.eligible_frailty)
        self.eligible: list[bool] = (matching & ~site.strata.care_home).tolist()
        self.pathways = {PATHWAYS.index(pw) for pw in cfg.eligible_pathways}
        self.lead = cfg.days_saved * 24.0
        self.support_unit = sampler(cfg.support_days)
        self.support_mean_h = cfg.support_days.mean * 24.0
        self.slots = ServerPool(self.env, cfg.capacity)
        self.slots.track(self.rec.level("busy:pace"), self.rec.level("staffed:pace"))
        self.patients = self.rec.level("pace_patients")
        self.saved = self.rec.sample_list("pace_hours_saved")
        self.bridging = self.rec.sample_list("pace_bridging_hours")
        # a uniform, converted to hours only for patients PACE takes home
        self.u_support = Draw("u_pace_support", "pace.support")

    def connect(self, links: Mapping[str, Component]) -> None:
        super().connect(links)
        self.acute = self.link("acute", AcuteBeds)
        self.discharge = self.link("discharge", DischargeTeam)

    def draws(self) -> list[Draw]:
        return [self.u_support]

    def install(self, hooks: Hooks) -> None:
        hooks.early_discharge.append(self)

    def lead_hours(self, p: Patient) -> float:
        """Hours before medically fit that ``p`` could leave with PACE (0: not eligible)."""
        discharge = self.discharge
        if (
            not discharge.enabled
            or not self.eligible[p.stratum]
            or discharge.pathway_of(p) not in self.pathways
            or self.acute.will_die(p)
            or not self.schedule.live(p.neighbourhood, self.env.now)
        ):
            return 0.0
        return self.lead

    def leave(self, p: Patient) -> Generator[Any, Any, bool]:
        """Take ``p`` home now if PACE has room; then support, then onward pathway."""
        env, discharge = self.env, self.discharge
        slots = self.slots
        if slots.busy >= slots.capacity or slots.queue:
            self.n_pace_full.add(env.now, p.neighbourhood)
            return False
        yield slots.acquire()
        self.n_pace_patients.add(env.now, p.neighbourhood)
        self.saved.append((env.now, self.lead))
        p.readmit_ratio = self.cfg.readmission_ratio  # before the readmission is drawn
        # PACE works with the social worker: no assessment
        pathway, back_in = discharge.discharge_early(p, "pace")
        back_at = None if back_in is None else env.now + back_in
        self.patients.add(1, env.now)
        # support at home; a readmission during it ends PACE's part
        support = self.support_unit.one(self.u_support.of(p)) * self.support_mean_h
        if back_at is not None and back_at - env.now < support:
            yield env.timeout(back_at - env.now)
            self._finish(p, "pace_readmitted")
            return True
        yield env.timeout(support)
        if pathway != 1:
            self._finish(p, "pace_home")
            return True
        # P1: PACE bridges until a reablement place is free and reablement admits
        t0 = env.now
        svc = yield from discharge.place_from_home(p, pathway, back_at)
        self.bridging.append((env.now, env.now - t0))
        if svc is None:  # readmitted while waiting
            self._finish(p, "pace_readmitted")
            return True
        self.patients.add(-1, env.now)
        slots.release()
        until_back = None if back_at is None else max(0.0, back_at - env.now)
        discharge.start_downstream_stay(p, svc, until_back)
        return True

    def _finish(self, p: Patient, route: str) -> None:
        """PACE support ends: free the slot; the patient leaves the system."""
        self.patients.add(-1, self.env.now)
        self.slots.release()
        self.site.flow.exit(p, route)

    def in_system(self) -> dict[str, int]:
        return {"in_pace": int(self.patients.value)}

    def cost_quantities(
        self, window: KpiWindow, kpis: Mapping[str, float], costs: CostsConfig
    ) -> dict[str, float]:
        return {"pace_patient_day": window.integral_days("busy:pace")}

    def kpis(self, window: KpiWindow) -> dict[str, float]:
        saved = window.samples("pace_hours_saved")
        bridging = window.samples("pace_bridging_hours")
        return {
            "pace_patients": window.count("pace_patients"),
            "pace_bed_days_saved": float(saved.sum()) / 24.0,
            "pace_full": window.count("pace_full"),
            "pace_bridging_days": float(bridging.sum()) / 24.0,
            "pace_utilisation": window.utilisation("busy:pace", "staffed:pace"),
        }
