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

The pooled fund has an envelope: each partner's contribution (``costs.budgets``),
scaled to the modelled services and population and to the measured period.
:func:`budget_kpis` sets the pooled spend against it, shares the over- or
underspend between the partners by the configured rule and gives each partner's
cost (``budget_*``): contribution + its share of the over- or underspend + the
aligned lines it commissions. The partners' costs add up to ``cost_total``, so a
scenario's paired differences in them are the cost shift between partners.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, get_args

from sim.config.schema import NHS_HOLDERS, CostLine, Holder

if TYPE_CHECKING:
    from sim.components import Component
    from sim.config.schema import CostsConfig
    from sim.core.window import KpiWindow
    from sim.model import CareSystemModel

HOLDERS: tuple[str, ...] = get_args(Holder)
BUDGETS: tuple[str, ...] = ("pooled", "aligned")


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
    spend = {(h, b): 0.0 for h in HOLDERS for b in BUDGETS}
    for name, units in qty.items():
        if name not in owner:  # a service switched off: nothing used, nothing paid
            out[f"cost_{name}"] = 0.0
            continue
        line: CostLine = owner[name].cost_line(name, costs)
        cost = units * costs.restate(line)
        out[f"cost_{name}"] = cost
        spend[(line.holder, line.budget)] += cost
    by_holder = {h: spend[(h, "pooled")] + spend[(h, "aligned")] for h in HOLDERS}
    for h, v in by_holder.items():
        out[f"cost_{h}"] = v
    out["cost_nhs"] = sum(by_holder[h] for h in NHS_HOLDERS)
    out["cost_pooled"] = sum(spend[(h, "pooled")] for h in HOLDERS)
    out["cost_aligned"] = sum(spend[(h, "aligned")] for h in HOLDERS)
    out["cost_total"] = sum(by_holder.values())
    out.update(budget_kpis(spend, costs, window.years, model.strata.registered))
    return out


def budget_kpis(
    spend: Mapping[tuple[str, str], float],
    costs: CostsConfig,
    years: float,
    registered: float,
) -> dict[str, float]:
    """The pooled fund against its envelope, the risk share and each partner's cost.

    Args:
        spend: Cost over the measured period by (holder, budget), at
            ``costs.price_year``; missing pairs count as zero.
        costs: The costs block (its ``budgets`` and price index).
        years: Length of the measured period in years.
        registered: Registered population of the modelled borough.

    Returns:
        ``budget_pooled_envelope``, ``budget_pooled_overspend`` (pooled spend
        minus envelope; negative = underspend), and per partner *p*
        ``budget_<p>_contribution`` (its part of the envelope),
        ``budget_<p>_risk_share`` (its part of the over- or underspend),
        ``budget_<p>_aligned`` (the aligned lines it commissions) and
        ``budget_<p>_cost`` (the sum of the three). The risk shares add up to
        the overspend and the partners' costs to the total cost.
    """
    b = costs.budgets
    scale = b.modelled_share * registered / b.source_population * years
    contribution = {
        p.name: costs.at_price_year(p.contribution_gbp_m * 1e6, b.price_year) * scale
        for p in b.partners
    }
    envelope = math.fsum(contribution.values())
    pooled = math.fsum(spend.get((h, "pooled"), 0.0) for h in HOLDERS)
    overspend = pooled - envelope
    out = {"budget_pooled_envelope": envelope, "budget_pooled_overspend": overspend}
    total_contribution = math.fsum(p.contribution_gbp_m for p in b.partners)
    for p in b.partners:
        if b.risk_share == "proportional":
            # validated: contributions above zero in total under this rule
            risk = overspend * p.contribution_gbp_m / total_contribution
        elif b.risk_share == "fixed":
            risk = overspend * p.fixed_share
        else:  # own_lines: what its pooled lines cost beyond its contribution
            own = math.fsum(spend.get((h, "pooled"), 0.0) * p.commissions.of(h) for h in HOLDERS)
            risk = own - contribution[p.name]
        aligned = math.fsum(spend.get((h, "aligned"), 0.0) * p.commissions.of(h) for h in HOLDERS)
        out[f"budget_{p.name}_contribution"] = contribution[p.name]
        out[f"budget_{p.name}_risk_share"] = risk
        out[f"budget_{p.name}_aligned"] = aligned
        out[f"budget_{p.name}_cost"] = contribution[p.name] + risk + aligned
    return out
