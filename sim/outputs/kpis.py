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

from sim.core.window import KpiWindow

if TYPE_CHECKING:
    from sim.model import CareSystemModel, RunInfo


def compute_kpis(model: CareSystemModel, info: RunInfo) -> dict[str, float]:
    """KPIs of a finished replication, as a flat ``{name: value}`` mapping."""
    rec = model.recorder
    win = KpiWindow.of(model)
    years = win.years
    k: dict[str, float] = {"crises": win.count("crises")}
    # each component reports its own (sim.components.Component.kpis)
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
