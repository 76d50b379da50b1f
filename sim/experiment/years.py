"""Outputs by year of a run that measures more than one year.

A planner looking at the years ahead asks how each year compares with the one
before: the population grows and ages (:mod:`sim.projection`), interventions go
live in phases (``rollout.phases``), and capacity that copes today may not in
year four. The measured period is cut into years of 365 days from the end of
warm-up - the same blocks in which the projected population changes - and the
headline KPIs are worked out for each, with the definitions of the whole-run
table: each component's own ``kpis`` and the cost model read a view of the
recorder that ends at the year's last midnight, through a
:class:`~sim.core.window.KpiWindow` that starts at the year's first.

So counts, bed days, delayed days and costs of the years add up to the
whole-run KPIs (a test checks), and shares and means are those of the year's
own patients. A part year at the end (``run.years`` = 2.5) is its own row, with
its ``days``. Rates per 1,000 are annualised and use that year's registered
population. A run of one year or less has no table (its KPI table says it all).
"""

from __future__ import annotations

import datetime as _dt
from bisect import bisect_left
from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd

from sim.core.recorder import Recorder
from sim.core.window import KpiWindow
from sim.interventions.base import Intervention
from sim.outputs.costs import cost_kpis
from sim.outputs.tables import keys
from sim.population import AGE_65_74, AGE_85_PLUS
from sim.projection import DAYS_PER_YEAR, measured_years

if TYPE_CHECKING:
    from sim.model import CareSystemModel

#: the KPIs each year's row carries (those the model has), in this order
YEAR_KPIS: Final = (
    "crises",
    "community_managed",
    "ae_attendances",
    "ae_attendances_65plus",
    "ae_4h_performance",
    "emergency_admissions",
    "emergency_admissions_65plus",
    "readmissions_30d",
    "admissions_diverted",
    "bed_days",
    "mean_beds_occupied",
    "mean_bed_occupancy",
    "peak_bed_occupancy",
    "mean_los_days",
    "boarding_hours",
    "dtoc_days",
    "dtoc_days_nhs",
    "dtoc_days_social_care",
    "dtoc_days_both",
    "nctr_days",
    "cost_total",
    "cost_nhs",
    "cost_social_care",
)
#: annualised rates per 1,000 of the year's population: (rate, KPI, population column);
#: the names of the whole-run table's rates, which use the configured population
RATES: Final = (
    ("crises_per_1000_pop", "crises", "registered"),
    ("ae_attendances_per_1000_pop", "ae_attendances", "registered"),
    ("emergency_admissions_per_1000_pop", "emergency_admissions", "registered"),
    ("bed_days_per_1000_pop", "bed_days", "registered"),
    ("dtoc_days_per_1000_pop", "dtoc_days", "registered"),
    ("ae_attendances_65plus_per_1000_65plus", "ae_attendances_65plus", "aged_65_plus"),
    (
        "emergency_admissions_65plus_per_1000_65plus",
        "emergency_admissions_65plus",
        "aged_65_plus",
    ),
)
#: columns of the table besides the KPIs: meaning (see :func:`year_frame`)
COLUMNS: Final = {
    "year": "Measured year, from 1 (365-day blocks from the end of warm-up).",
    "start_date": "Date of the year's first day.",
    "days": "Days in the year (365, fewer for a part year at the end).",
    "registered": "Registered population in the year (projected, or as configured).",
    "aged_65_plus": "Registered population aged 65+ in the year.",
    "aged_85_plus": "Registered population aged 85+ in the year.",
    "crises_per_1000_pop": "Crises per 1,000 registered a year, in the year.",
}


def year_bounds(warmup_days: int, total_days: int) -> list[tuple[int, int]]:
    """First and end day (exclusive) of each measured year."""
    return [
        (first, min(first + DAYS_PER_YEAR, total_days))
        for first in range(warmup_days, total_days, DAYS_PER_YEAR)
    ]


def recorder_until(rec: Recorder, end_day: int) -> Recorder:
    """A copy of ``rec``'s readings up to midnight ``end_day``: counts of the days
    before it, the census to it, samples taken before it.

    Levels' current values are not copied (they are the run's end state); the
    components' ``kpis`` read only counts, census and samples.
    """
    out = Recorder(rec.env, end_day, rec.warmup_days, rec.n_neighbourhoods)
    for name in rec.level_names:  # same names in the same order: the census columns
        out.level(name)
    cells = end_day * rec.n_neighbourhoods
    for name, counter in rec.counters.items():
        out.counter(name).cells = counter.cells[:cells]
    out.census_value = rec.census_value[: end_day + 1]
    out.census_area = rec.census_area[: end_day + 1]
    out.census_peak = rec.census_peak[: end_day + 1]
    end_h = end_day * 24.0
    for name, samples in rec.samples.items():  # in time order after the run's finish()
        out.samples[name] = samples[: bisect_left(samples, (end_h,))]
    return out


def year_kpis(model: CareSystemModel, first: int, end: int) -> dict[str, float]:
    """Every component's KPIs and the costs over days ``first`` to ``end`` (exclusive)."""
    win = KpiWindow(recorder_until(model.recorder, end), first, end)
    k: dict[str, float] = {"crises": win.count("crises")}
    for comp in model.components:
        k.update(comp.kpis(win))
    k.update(cost_kpis(model, k, win))
    return k


def year_frame(model: CareSystemModel) -> pd.DataFrame | None:
    """One row per measured year of a finished replication (None for a run of one
    year or less): keys, the year, its population and :data:`YEAR_KPIS`, rates per
    1,000 and the KPIs of the interventions that are switched on (to follow a
    phased roll-out)."""
    run = model.cfg.run
    if run.measured_days <= DAYS_PER_YEAR:
        return None
    strata = model.strata
    sizes = model.demand.year_sizes
    n_years = measured_years(run)
    if sizes is None:
        sizes = np.repeat(strata.size[np.newaxis, :], n_years, axis=0)
    older = strata.age >= AGE_65_74
    oldest = strata.age >= AGE_85_PLUS
    # the interventions' own KPIs follow a phased roll-out year by year
    own = [name for c in model.components if isinstance(c, Intervention) for name in c.kpi_docs]
    rows = []
    for y, (first, end) in enumerate(year_bounds(run.warmup_days, run.total_days)):
        k = year_kpis(model, first, end)
        days = end - first
        pop = {
            "registered": float(sizes[y].sum()),
            "aged_65_plus": float(sizes[y][older].sum()),
            "aged_85_plus": float(sizes[y][oldest].sum()),
        }
        row: dict[str, object] = {
            **keys(model),
            "year": y + 1,
            "start_date": (run.start + _dt.timedelta(days=first)).isoformat(),
            "days": days,
            **pop,
        }
        row.update({name: k[name] for name in YEAR_KPIS if name in k})
        for rate, name, of in RATES:
            if name in k:
                per_year = k[name] / (days / 365.0)
                row[rate] = per_year / pop[of] * 1000 if pop[of] else float("nan")
        row.update({name: k[name] for name in own if name in k})
        rows.append(row)
    return pd.DataFrame(rows)
