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

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from sim.core.distributions import sampler
from sim.core.resources import ServerPool
from sim.discharge.team import PATHWAYS
from sim.interventions.base import Intervention
from sim.patient import Draw, Patient

if TYPE_CHECKING:
    from sim.core.window import KpiWindow
    from sim.hooks import Hooks
    from sim.model import CareSystemModel


class Pace(Intervention):
    """The PACE early supported discharge team."""

    name = "pace"

    def __init__(self, model: CareSystemModel) -> None:
        super().__init__(model)
        cfg = self.cfg
        matching = self.strata_matching(cfg.eligible_ages, cfg.eligible_frailty)
        self.eligible: list[bool] = (matching & ~model.strata.care_home).tolist()
        self.pathways = {PATHWAYS.index(pw) for pw in cfg.eligible_pathways}
        self.lead = cfg.days_saved * 24.0
        self.support_unit = sampler(cfg.support_days)
        self.support_mean_h = cfg.support_days.mean * 24.0
        self.slots = ServerPool(self.env, cfg.capacity)
        self.slots.track(self.rec.level("busy:pace"), self.rec.level("staffed:pace"))
        self.patients = self.rec.level("pace_patients")
        self.saved = self.rec.sample_list("pace_hours_saved")
        # a uniform, converted to hours only for patients PACE takes home
        self.u_support = Draw("u_pace_support", "pace.support")

    def draws(self) -> list[Draw]:
        return [self.u_support]

    def install(self, hooks: Hooks) -> None:
        hooks.early_discharge.append(self)

    def lead_hours(self, p: Patient) -> float:
        """Hours before medically fit that ``p`` could leave with PACE (0: not eligible)."""
        model = self.model
        if (
            not model.discharge.enabled
            or not self.eligible[p.stratum]
            or model.discharge.pathway_of(p) not in self.pathways
            or model.acute.will_die(p)
            or not self.schedule.live(p.neighbourhood, self.env.now)
        ):
            return 0.0
        return self.lead

    def leave(self, p: Patient) -> Generator[Any, Any, bool]:
        """Take ``p`` home now if PACE has room; then support, then onward pathway."""
        env, rec, model = self.env, self.rec, self.model
        slots = self.slots
        if slots.busy >= slots.capacity or slots.queue:
            rec.count("pace_full", env.now, p.neighbourhood)
            return False
        yield slots.acquire()
        model.discharge.cancel_plan(p)  # PACE works with the social worker: no assessment
        pathway = p.pathway = model.discharge.pathway_of(p)
        rec.count("pace_patients", env.now, p.neighbourhood)
        model.discharge.n_discharges[pathway].add(env.now, p.neighbourhood)
        self.saved.append((env.now, self.lead))
        model.acute.release(p, "pace")
        p.readmit_ratio = self.cfg.readmission_ratio
        back_in = model.readmission.after_discharge(p)
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
        svc = model.discharge.services[1]
        t0 = env.now
        place = svc.places.acquire()
        if not place.processed:  # no place free now
            if back_at is None:
                yield place
            else:
                yield place | env.timeout(max(0.0, back_at - env.now))
                if not place.triggered:  # readmitted while waiting
                    svc.places.cancel(place)
                    rec.sample_list("pace_bridging_hours").append((env.now, env.now - t0))
                    self._finish(p, "pace_readmitted")
                    return True
        svc.occupied.add(1, env.now)
        wait = model.discharge.admission_hours(p, svc).wait_until_open(env.now)
        if wait > 0:
            yield env.timeout(wait)
        rec.sample_list("pace_bridging_hours").append((env.now, env.now - t0))
        self.patients.add(-1, env.now)
        slots.release()
        until_back = None if back_at is None else max(0.0, back_at - env.now)
        model.discharge.start_downstream_stay(p, svc, until_back)
        return True

    def _finish(self, p: Patient, route: str) -> None:
        """PACE support ends: free the slot; the patient leaves the system."""
        self.patients.add(-1, self.env.now)
        self.slots.release()
        self.model.exit(p, route)

    def in_system(self) -> dict[str, int]:
        return {"in_pace": int(self.patients.value)}

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
