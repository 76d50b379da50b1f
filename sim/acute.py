"""Acute beds: admission, boarding, length of stay and in-hospital death.

Emergency admissions need one of a finite number of general and acute beds. When
all are full the patient either waits in A&E (*boarding*, ``when_full: queue``)
or is diverted to another hospital and lost to this system (``divert``; with
Poisson arrivals this is the Erlang loss system). The acute stay - until the
patient is medically fit - depends on age and frailty and follows a configurable
distribution. A share of patients, rising with age, die in hospital.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from sim.components import Component, CostLineSpec
from sim.core.distributions import sampler
from sim.core.resources import ServerPool
from sim.core.window import mean_or_nan
from sim.patient import Draw, Patient, per_stratum

if TYPE_CHECKING:
    from sim.components import Site
    from sim.config.schema import AcuteConfig, BedsConfig, CostsConfig
    from sim.core.window import KpiWindow
    from sim.discharge.team import DischargeTeam


class AcuteBeds(Component):
    """The hospital's general and acute beds for emergency admissions."""

    name = "acute"
    kpi_docs: ClassVar[Mapping[str, tuple[str, str]]] = {
        "emergency_admissions": ("count", "Decisions to admit (incl. readmissions and diverted)."),
        "emergency_admissions_65plus": ("count", "Emergency admissions of people aged 65+."),
        "readmissions_30d": ("count", "Emergency readmissions within the readmission window."),
        "admissions_diverted": (
            "count",
            "Admissions lost because every bed was full (divert mode).",
        ),
        "bed_admissions": ("count", "Patients who got an acute bed."),
        "bed_days": ("days", "Acute bed days used (integral of beds occupied)."),
        "mean_los_days": (
            "days",
            "Mean stay in an acute bed of patients leaving it, incl. delays.",
        ),
        "mean_beds_occupied": ("beds", "Time-average number of acute beds occupied."),
        "peak_beds_occupied": ("beds", "Highest number of acute beds occupied."),
        "mean_bed_occupancy": ("share", "Mean beds occupied / acute beds."),
        "peak_bed_occupancy": ("share", "Peak beds occupied / acute beds."),
        "boarding_hours": (
            "hours",
            "Patient-hours spent waiting for a bed after a decision to admit.",
        ),
        "mean_bed_wait_hours": ("hours", "Mean wait for a bed after the decision to admit."),
        "care_home_admissions": ("count", "Emergency admissions of care-home residents."),
        "care_home_admissions_per_resident": (
            "per resident per year",
            "Emergency admissions of care-home residents a resident-year (England 2016/17: "
            "0.70, Wolters et al. 2019).",
        ),
    }
    uses = ("discharge",)  # discharge planning starts when the stay does
    cost_lines = (
        CostLineSpec("emergency_admission", "admission"),
        CostLineSpec("bed_day", "bed day not delayed"),
        CostLineSpec("delayed_bed_day", "delayed bed day"),
        CostLineSpec("boarding_hour", "patient-hour boarding in A&E"),
    )
    discharge: DischargeTeam

    def __init__(self, site: Site, cfg: AcuteConfig, beds: BedsConfig) -> None:
        super().__init__(site, cfg)
        self.n_admissions_diverted = self.rec.counter("admissions_diverted")
        self.cfg = cfg
        self.capacity = beds.acute
        self.divert = beds.when_full == "divert"
        self.beds = ServerPool(self.env, self.capacity)
        self.death_p: list[float] = per_stratum(
            site.strata, cfg.death_probability.as_tuple()
        ).tolist()
        self.occupied = self.rec.level("beds_occupied")
        self.boarding = self.rec.level("boarding")
        self.bed_waits = self.rec.sample_list("bed_wait_hours")
        self.stays = self.rec.sample_list("los_days")
        self.n_bed_starts = self.rec.counter("bed_admissions")
        self.n_admissions = self.rec.counter("emergency_admissions")
        self.n_admissions_older = self.rec.counter("emergency_admissions_65plus")
        self.n_readmissions = self.rec.counter("readmissions_30d")
        self.n_admissions_care_home = self.rec.counter("emergency_admissions_care_home")
        self.los_h = Draw("los_h", "acute.los", sampler(cfg.los_shape), self.mean_los_hours())
        self.u_death = Draw("u_death", "acute.death")

    def mean_los_hours(self) -> np.ndarray:
        """Mean acute stay per stratum, in hours (by age, frailty and care home)."""
        c = self.cfg
        strata = self.site.strata
        days = per_stratum(
            strata, c.los_mean_days.as_tuple(), by_frailty=c.los_frailty_multiplier.as_tuple()
        )
        return days * 24.0 * (1 + (c.los_care_home_multiplier - 1) * strata.care_home)

    def connect(self, links: Mapping[str, Component]) -> None:
        super().connect(links)
        from sim.discharge.team import DischargeTeam  # (it imports this module)

        self.discharge = self.link("discharge", DischargeTeam)

    def draws(self) -> list[Draw]:
        return [self.los_h, self.u_death]

    def kpis(self, window: KpiWindow) -> dict[str, float]:
        count, days, beds = window.count, window.days, self.capacity
        bed_days = window.integral_days("beds_occupied")
        mean_occupied = bed_days / days if days else float("nan")
        peak = window.peak("beds_occupied")
        resident_years = self.site.strata.care_home_residents * window.years
        return {
            "emergency_admissions": count("emergency_admissions"),
            "emergency_admissions_65plus": count("emergency_admissions_65plus"),
            "readmissions_30d": count("readmissions_30d"),
            "admissions_diverted": count("admissions_diverted"),
            "bed_admissions": count("bed_admissions"),
            "bed_days": bed_days,
            "mean_los_days": mean_or_nan(window.samples("los_days")),
            "mean_beds_occupied": mean_occupied,
            "peak_beds_occupied": peak,
            "mean_bed_occupancy": mean_occupied / beds if beds else float("nan"),
            "peak_bed_occupancy": peak / beds if beds else float("nan"),
            "boarding_hours": window.integral_days("boarding") * 24.0,
            "mean_bed_wait_hours": mean_or_nan(window.samples("bed_wait_hours")),
            "care_home_admissions": count("emergency_admissions_care_home"),
            "care_home_admissions_per_resident": (
                count("emergency_admissions_care_home") / resident_years
                if resident_years
                else float("nan")
            ),
        }

    def cost_quantities(
        self, window: KpiWindow, kpis: Mapping[str, float], costs: CostsConfig
    ) -> dict[str, float]:
        return {
            "emergency_admission": kpis["bed_admissions"],
            "bed_day": kpis["bed_days"] - kpis["dtoc_days"],
            "delayed_bed_day": kpis["dtoc_days"],
            "boarding_hour": kpis["boarding_hours"],
        }

    def admit(self, p: Patient) -> Generator[Any, Any, bool]:
        """Record the admission and wait for a bed; False if diverted."""
        rec, env = self.rec, self.env
        t = env.now
        nb = p.neighbourhood
        self.n_admissions.add(t, nb)
        if p.older:
            self.n_admissions_older.add(t, nb)
        if p.readmission:
            self.n_readmissions.add(t, nb)
        if p.care_home:
            self.n_admissions_care_home.add(t, nb)
        if self.divert and self.beds.busy >= self.capacity:
            self.n_admissions_diverted.add(t, p.neighbourhood)
            rec.log(t, p.id, p.person, "diverted")
            return False
        self.boarding.add(1, t)
        yield self.beds.acquire()
        now = env.now
        self.boarding.add(-1, now)
        self.bed_waits.append((now, now - t))
        self.occupied.add(1, now)
        self.n_bed_starts.add(now, p.neighbourhood)
        p.t_bed = now
        rec.log(now, p.id, p.person, "bed_start")
        return True

    def occupy(self, p: Patient) -> None:
        """Put ``p`` in a free bed now, without counting an admission (initial state)."""
        granted = self.beds.acquire()
        assert granted.processed, "initial state needs free beds"
        now = self.env.now
        self.occupied.add(1, now)
        p.t_bed = now
        self.rec.log(now, p.id, p.person, "bed_start", "initial state")

    def will_die(self, p: Patient) -> bool:
        return self.u_death.of(p) < self.death_p[p.stratum]

    def stay(self, p: Patient) -> Generator[Any, Any, str]:
        """The acute stay: returns ``"fit"``, ``"died"`` or ``"left_early"``.

        An early-discharge intervention may take the patient out before the end
        of the stay (``early_discharge`` hooks); then it has released the bed.
        """
        hooks = self.site.hooks
        m = hooks.los_multiplier(p) if hooks.los else 1.0
        los = self.los_h.of(p) * m * p.los_multiplier
        self.discharge.plan(p, los)  # discharge planning starts on the ward
        for early in hooks.early_discharge:
            lead = early.lead_hours(p)
            if 0 < lead < los:
                yield self.env.timeout(los - lead)
                left = yield from early.leave(p)
                if left:
                    return "left_early"
                los = lead  # not taken: the rest of the stay as planned
                break
        yield self.env.timeout(los)
        return "died" if self.will_die(p) else "fit"

    def release(self, p: Patient, outcome: str) -> None:
        """The patient leaves the bed (discharged, transferred or died)."""
        t = self.env.now
        self.beds.release()
        self.occupied.add(-1, t)
        self.stays.append((t, (t - p.t_bed) / 24.0))
        self.rec.log(t, p.id, p.person, "bed_end", outcome)
