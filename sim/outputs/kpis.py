"""Key performance indicators of one replication, from the recorder.

Totals cover the measured period only: from the end of warm-up
(``run.warmup_days``) to the end of the run. Counts are summed over those days;
time-integrals (bed days, delayed days, boarding hours) are differences of the
level integrals read at the two midnights; per-patient samples (time in A&E,
length of stay) are kept if their event fell in the period. The meaning and unit
of every KPI is documented in :mod:`sim.outputs.schema`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.config.schema import DELAY_REASONS
from sim.core.window import KpiWindow
from sim.core.window import mean_or_nan as _mean
from sim.core.window import window_samples as _window_samples
from sim.discharge.team import PATHWAYS

if TYPE_CHECKING:
    from sim.model import CareSystemModel, RunInfo


def compute_kpis(model: CareSystemModel, info: RunInfo) -> dict[str, float]:
    """KPIs of a finished replication, as a flat ``{name: value}`` mapping."""
    cfg = model.cfg
    rec = model.recorder
    win = KpiWindow(model)
    W, T = win.W, win.T
    years = win.years
    start_h = win.start_h
    count, integral_days, peak_of = win.count, win.integral_days, win.peak

    k: dict[str, float] = {}
    # demand and community
    k["crises"] = count("crises")
    k["community_managed"] = count("community_managed")
    # A&E
    ae_hours = _window_samples(rec.samples.get("ae_hours", []), start_h)
    k["ae_attendances"] = count("ae_attendances")
    k["ae_attendances_65plus"] = count("ae_attendances_65plus")
    k["ae_ambulance_arrivals"] = count("ae_ambulance_arrivals")
    target = cfg.ae.four_hour_target_hours
    k["ae_4h_performance"] = float((ae_hours <= target).mean()) if ae_hours.size else float("nan")
    k["ae_mean_hours"] = _mean(ae_hours)
    k["ae_p95_hours"] = float(np.quantile(ae_hours, 0.95)) if ae_hours.size else float("nan")
    # admissions and beds
    k["emergency_admissions"] = count("emergency_admissions")
    k["emergency_admissions_65plus"] = count("emergency_admissions_65plus")
    k["readmissions_30d"] = count("readmissions_30d")
    k["admissions_diverted"] = count("admissions_diverted")
    k["bed_admissions"] = count("bed_admissions")
    beds = cfg.beds.acute
    k["bed_days"] = integral_days("beds_occupied")
    los = _window_samples(rec.samples.get("los_days", []), start_h)
    k["mean_los_days"] = _mean(los)
    k["mean_beds_occupied"] = k["bed_days"] / (T - W) if T > W else float("nan")
    k["peak_beds_occupied"] = peak_of("beds_occupied")
    k["mean_bed_occupancy"] = k["mean_beds_occupied"] / beds if beds else float("nan")
    k["peak_bed_occupancy"] = k["peak_beds_occupied"] / beds if beds else float("nan")
    k["boarding_hours"] = integral_days("boarding") * 24.0
    k["mean_bed_wait_hours"] = _mean(
        _window_samples(rec.samples.get("bed_wait_hours", []), start_h)
    )
    k["excess_days_awaiting_review"] = integral_days("awaiting_review")
    k["excess_days_awaiting_discharge"] = integral_days("awaiting_discharge")
    # delayed transfers of care
    k["dtoc_days"] = integral_days("delayed")
    for a in ("nhs", "social_care", "both"):
        k[f"dtoc_days_{a}"] = integral_days(f"delayed_{a}")
    k["delayed_patients"] = count("delayed_patients")
    for a in ("nhs", "social_care", "both"):
        k[f"delayed_patients_{a}"] = count(f"delayed_patients_{a}")
    k["mean_delayed_patients"] = k["dtoc_days"] / (T - W) if T > W else float("nan")
    for a in ("nhs", "social_care", "both"):
        # NHS England's "delayed beds" from April 2017: delayed days / days
        k[f"mean_delayed_patients_{a}"] = k[f"dtoc_days_{a}"] / (T - W) if T > W else float("nan")
    k["peak_delayed_patients"] = peak_of("delayed")
    for r in DELAY_REASONS:
        k[f"dtoc_days_reason_{r}"] = integral_days(f"delayed_reason:{r}")
    # discharge pathways and downstream services
    for pw in PATHWAYS:
        k[f"discharges_{pw}"] = count(f"discharges_{pw}")
    k["assessments"] = count("assessments")
    days = T - W
    expected = model.flows().services  # (no downstream services when discharge is off)
    for svc in model.discharge.services.values():
        occ = integral_days(f"service:{svc.name}") / days if days else float("nan")
        k[f"{svc.name}_mean_occupied"] = occ
        k[f"{svc.name}_utilisation"] = occ / svc.capacity if svc.capacity else float("nan")
        # offered load: patients assigned to the pathway a day x the mean time one
        # holds a place (the stay, cut short by readmissions: sim.flows) / places
        held = expected[svc.name].mean_held_days if svc.name in expected else float("nan")
        arrivals = count(f"discharges_p{svc.pathway}") / days if days else float("nan")
        k[f"{svc.name}_offered_load"] = (
            arrivals * held / svc.capacity if svc.capacity else float("nan")
        )
    k["ae_attendances_care_home"] = count("ae_attendances_care_home")
    k["care_home_admissions"] = count("emergency_admissions_care_home")
    # staff utilisation (busy time / staffed time)
    k["ae_triage_utilisation"] = win.utilisation("busy:ae_triage", "staffed:ae_triage")
    k["ae_clinician_utilisation"] = win.utilisation("busy:ae_clinicians", "staffed:ae_clinicians")
    k["assessment_utilisation"] = win.utilisation("busy:assessment", "staffed:assessment")
    # interventions and other components add their own KPIs
    for comp in model.components:
        k.update(comp.kpis(win))
    # rates (annualised)
    pop, older = model.strata.registered, model.strata.aged_65_plus
    for name in ("ae_attendances", "emergency_admissions", "bed_days", "dtoc_days"):
        k[f"{name}_per_1000_pop"] = k[name] / years / pop * 1000 if pop and years else float("nan")
    for name in ("ae_attendances_65plus", "emergency_admissions_65plus"):
        k[f"{name}_per_1000_65plus"] = (
            k[name] / years / older * 1000 if older and years else float("nan")
        )
    # accounting: every patient created is either gone or still inside
    inside = model.in_system()
    k["patients_created"] = float(rec.created)
    k["patients_exited"] = float(sum(rec.exits.values()))
    k["patients_in_system_end"] = float(sum(inside.values()))
    for where, n in inside.items():
        k[f"end_{where}"] = float(n)
    k["delayed_at_end"] = float(rec.levels["delayed"].value)
    # queues that grow through the run signal demand above capacity
    for level in ("in_ae", "boarding", "delayed"):
        k[f"{level}_trend_per_day"] = win.trend_per_day(level)
        k[f"{level}_at_end"] = float(rec.levels[level].value)
        k[f"{level}_mean"] = win.mean(level)
    # money: every line, holder and budget (sim/outputs/costs.py)
    from sim.outputs.costs import cost_kpis

    k.update(cost_kpis(model, k, win))
    k["events"] = float(info.events)
    return k
