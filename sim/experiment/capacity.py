"""The cheapest capacity: total cost against one capacity, with its uncertainty.

Downstream places cost money, and so do the delayed bed days a shortage of them
causes; the literature finds the total-cost minimum is not at zero delays (Wood
et al. 2023). :func:`capacity_cost_curve` runs one configuration per capacity
value on the same random numbers and finds the cheapest feasible one, with the
share of bootstrap resamples in which each value is cheapest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from sim.config.schema import Config


@dataclasses.dataclass
class CapacityCostCurve:
    """Total cost against one capacity, with the minimum and its uncertainty.

    Values at which the hospital gridlocks (:func:`sim.experiment.checks.gridlocked`)
    are marked infeasible and never chosen as the cheapest (``best_value`` is NaN
    if none is feasible).
    """

    parameter: str
    table: pd.DataFrame  # value, mean, ci_low, ci_high, feasible, ... (+ components)
    best_value: float
    best_share: pd.Series  # share of bootstrap resamples in which each feasible value is cheapest
    kpis: pd.DataFrame


def capacity_cost_curve(
    cfg_for: Callable[[int], Config],
    parameter: str,
    values: Sequence[int],
    replications: int = 5,
    n_jobs: int = -1,
    n_boot: int = 2000,
    seed: int = 1,
) -> CapacityCostCurve:
    """Run one configuration per capacity value (same seeds) and find the cheapest.

    Args:
        cfg_for: ``value -> Config`` giving the configuration at that capacity
            (e.g. ``lambda v: load_config("baseline", [f"{parameter}={v}"])``).
        parameter: Name of the capacity, for labels.
        values: Capacities to try.
    """
    from sim.experiment.checks import gridlocked
    from sim.experiment.runner import run_many
    from sim.experiment.stats import mean_ci

    cfgs = [dataclasses.replace(cfg_for(v), name=f"{parameter}={v}") for v in values]
    res = run_many(cfgs, replications=replications, n_jobs=n_jobs)
    kpis = pd.concat([r.kpis for r in res.values()], ignore_index=True)
    kpis["value"] = kpis["scenario"].str.split("=").str[-1].astype(float)
    days = cfgs[0].run.measured_days
    rows = []
    for v, df in kpis.groupby("value"):
        mean, _, lo, hi = mean_ci(df["cost_total"].to_numpy())
        why = gridlocked(df, days)
        rows.append(
            {
                "value": v,
                "mean": mean,
                "ci_low": lo,
                "ci_high": hi,
                "dtoc_days": df["dtoc_days"].mean(),
                "boarding_hours": df["boarding_hours"].mean(),
                "cost_acute_trust": df["cost_acute_trust"].mean(),
                "cost_social_care": df["cost_social_care"].mean(),
                # a gridlocked hospital turns emergencies away: its lower cost is no saving
                "feasible": why is None,
                "infeasible_because": why or "",
            }
        )
    table = pd.DataFrame(rows)
    feasible = table.loc[table["feasible"], "value"].to_numpy()
    wide = kpis.pivot(index="replication", columns="value", values="cost_total")[feasible]
    if len(feasible) == 0:
        return CapacityCostCurve(parameter, table, float("nan"), pd.Series(dtype=float), kpis)
    rng = np.random.default_rng(seed)
    boots = rng.integers(0, len(wide), size=(n_boot, len(wide)))
    means = wide.to_numpy()[boots].mean(axis=1)  # resample replications, all values together
    best = pd.Series(wide.columns[means.argmin(axis=1)]).value_counts(normalize=True)
    ok = table[table["feasible"]]
    # the first lowest mean, NaN skipped (as idxmin)
    best_value = float(ok["value"].to_numpy()[np.nanargmin(ok["mean"].to_numpy(dtype=float))])
    return CapacityCostCurve(parameter, table, best_value, best.sort_index(), kpis)
