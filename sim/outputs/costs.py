"""The cost model: who pays for what, and who saves.

City & Hackney pooled most CCG and council budgets under a section 75 agreement
while some stayed "aligned", and Barnet warned that integration savings may
accrue to the NHS while costs move to social care. The cost model turns a
replication's activity into money by line (A&E attendances, admissions, bed
days, delayed days, downstream places, the interventions' staff), each line
belonging to a budget holder and to the pooled or aligned budget, all at one
stated price year.

Costs are KPIs like any other (``cost_*``), so scenario comparisons give the net
change of each with a confidence interval, and
:func:`sim.experiment.economics.cost_effectiveness` places each scenario on the
cost-effectiveness plane, and :func:`sim.experiment.capacity.capacity_cost_curve`
searches one capacity for the total-cost minimum.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, get_args

from sim.config.schema import NHS_HOLDERS, Config, CostLine, Holder

if TYPE_CHECKING:
    from sim.core.window import KpiWindow

HOLDERS: tuple[str, ...] = get_args(Holder)


def quantities(cfg: Config, k: dict[str, float], window: KpiWindow) -> dict[str, float]:
    """Units of each cost line used over the measured period.

    Downstream places are paid for every commissioned place a day (block) or for
    every occupied place a day (spot); a place counts as occupied from when it is
    reserved, so under spot contracts the days a patient still waits in hospital
    for the start are paid to the service too, as providers charge for a bed
    held for an agreed admission.
    """
    days = window.days
    block = cfg.costs.downstream_contract == "block"
    d = cfg.discharge

    def places(name: str, capacity: int) -> float:
        return capacity * days if block else k.get(f"{name}_mean_occupied", 0.0) * days

    q = {
        "ae_attendance": k["ae_attendances"],
        "emergency_admission": k["bed_admissions"],
        "bed_day": k["bed_days"] - k["dtoc_days"],
        "delayed_bed_day": k["dtoc_days"],
        "boarding_hour": k["boarding_hours"],
        "reablement_place_day": places("reablement", d.reablement.capacity),
        "intermediate_care_bed_day": places("intermediate_care", d.intermediate_care.capacity),
        "care_home_week": places("care_home", d.care_home.capacity) / 7.0,
        "mdt_staff_year": 0.0,
        "mdt_case_review": k.get("mdt_reviews", 0.0),
        "treat_staff_hour": 0.0,
        "treat_support_day": 0.0,
        "pace_patient_day": 0.0,
    }
    levels = set(window.rec.level_names)
    if "mdt_capacity" in levels and cfg.mdt.caseload_per_staff:
        q["mdt_staff_year"] = (
            window.mean("mdt_capacity") / cfg.mdt.caseload_per_staff * window.years
        )
    if "staffed:treat_staff" in levels:
        q["treat_staff_hour"] = window.integral_days("staffed:treat_staff") * 24.0
        q["treat_support_day"] = window.integral_days("busy:treat_support")
    if "busy:pace" in levels:
        q["pace_patient_day"] = window.integral_days("busy:pace")
    return q


def cost_kpis(cfg: Config, k: dict[str, float], window: KpiWindow) -> dict[str, float]:
    """Cost KPIs: by line, by budget holder, NHS vs social care, pooled vs aligned."""
    out: dict[str, float] = {}
    by_holder = dict.fromkeys(HOLDERS, 0.0)
    by_budget = {"pooled": 0.0, "aligned": 0.0}
    for name, qty in quantities(cfg, k, window).items():
        line: CostLine = getattr(cfg.costs, name)
        cost = qty * cfg.costs.restated(name)
        out[f"cost_{name}"] = cost
        by_holder[line.holder] += cost
        by_budget[line.budget] += cost
    for h, v in by_holder.items():
        out[f"cost_{h}"] = v
    out["cost_nhs"] = sum(by_holder[h] for h in NHS_HOLDERS)
    out["cost_pooled"] = by_budget["pooled"]
    out["cost_aligned"] = by_budget["aligned"]
    out["cost_total"] = sum(by_holder.values())
    return out
