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

from collections.abc import Mapping
from typing import TYPE_CHECKING, get_args

from sim.config.schema import NHS_HOLDERS, CostLine, Holder

if TYPE_CHECKING:
    from sim.components import Component
    from sim.core.window import KpiWindow
    from sim.model import CareSystemModel

HOLDERS: tuple[str, ...] = get_args(Holder)


def cost_kpis(
    model: CareSystemModel, k: Mapping[str, float], window: KpiWindow
) -> dict[str, float]:
    """Cost KPIs: by line, by budget holder, NHS vs social care, pooled vs aligned.

    Each component counts the units of its own cost lines
    (:meth:`~sim.components.Component.cost_quantities`); every line of every
    known service is reported, at zero when the service is switched off, so all
    scenarios have the same columns.
    """
    from sim.services import service_classes

    costs = model.cfg.costs
    qty: dict[str, float] = {}
    owner: dict[str, Component] = {}
    for cls in [type(c) for c in model.components] + list(service_classes()):
        for spec in cls.cost_lines:
            qty.setdefault(spec.name, 0.0)
    for comp in model.components:
        declared = {spec.name for spec in comp.cost_lines}
        for name, units in comp.cost_quantities(window, k, costs).items():
            if name not in declared:
                raise KeyError(
                    f"component {comp.name!r} counts cost line {name!r} it does not declare "
                    f"in cost_lines ({sorted(declared)})"
                )
            qty[name] = units
            owner[name] = comp
    out: dict[str, float] = {}
    by_holder = dict.fromkeys(HOLDERS, 0.0)
    by_budget = {"pooled": 0.0, "aligned": 0.0}
    for name, units in qty.items():
        if name not in owner:  # a service switched off: nothing used, nothing paid
            out[f"cost_{name}"] = 0.0
            continue
        line: CostLine = owner[name].cost_line(name, costs)
        cost = units * costs.restate(line)
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
