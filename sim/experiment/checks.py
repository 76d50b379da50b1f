"""Checks on a run's results that a user must be told about.

* **Overload**: a queue that grows through the run (patients in A&E, waiting
  for a bed, delayed) means demand exceeds capacity; its totals then depend on
  the run length, and a capacity that causes it is not a feasible option.
* **Gridlock**: patients wait more than 12 hours on average from the decision
  to admit to a bed (NHS England's "12-hour trolley wait", which should never
  happen to anyone), or more than 5% of emergency admissions are turned away
  because every bed is full: the fall in admissions that follows is not a
  saving.
* **Precision**: a headline KPI whose 95% confidence interval is wider than the
  stated target (``run.until_precision``) needs more replications before it
  can support a decision.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

#: queue levels checked for unbounded growth, and what they are
QUEUES: dict[str, str] = {
    "in_ae": "patients in A&E (clinicians or triage cannot keep up)",
    "boarding": "patients waiting for an acute bed",
    "delayed": "delayed patients waiting for assessment or a place",
}
#: mean hours from decision to admit to a bed above which the hospital is gridlocked
GRIDLOCK_BED_WAIT_HOURS = 12.0
#: share of emergency admissions turned away (beds.when_full: divert) above which
#: the hospital is gridlocked: a few diversions at winter peaks happen, routinely
#: sending a twentieth of emergencies elsewhere is not a way to run a hospital (R)
MAX_DIVERTED_SHARE = 0.05


@dataclass(frozen=True)
class Overload:
    """A queue growing through the run (means over replications)."""

    level: str
    growth_per_day: float
    at_end: float

    def note(self) -> str:
        return (
            f"overload: {QUEUES[self.level]} grew by {self.growth_per_day:.1f} a day to "
            f"{self.at_end:.0f} at the end; demand exceeds capacity, so totals depend on "
            "the run length"
        )


def overloads(kpis: pd.DataFrame, measured_days: int) -> list[Overload]:
    """Queues that grow without bound in a run's replications (KPI table)."""
    out = []
    for level in QUEUES:
        needed = [f"{level}_trend_per_day", f"{level}_at_end", f"{level}_mean"]
        if any(c not in kpis for c in needed):
            continue
        growth = float(kpis[f"{level}_trend_per_day"].mean())
        end = float(kpis[f"{level}_at_end"].mean())
        mean = float(kpis[f"{level}_mean"].mean())
        if level == "in_ae":  # A&E's own queue: not those boarding for a bed
            growth -= float(kpis["boarding_trend_per_day"].mean())
            end -= float(kpis["boarding_at_end"].mean())
            mean -= float(kpis["boarding_mean"].mean())
        # a queue growing without bound rises by a good part of its final size
        # over the period and ends well above its average; a winter surge at the
        # end of a year barely moves the year's trend. (These hold for steady
        # growth from the start of the run once the period is longer than about
        # half the warm-up; with the end at 1.5x the mean instead, only once it
        # was twice the warm-up.)
        if growth * measured_days > max(50.0, 0.3 * end) and end > max(50.0, 1.2 * mean):
            out.append(Overload(level, growth, end))
    return out


def gridlocked(kpis: pd.DataFrame, measured_days: int) -> str | None:
    """Why a run's hospital is gridlocked (an infeasible configuration), or None."""
    if any(o.level in ("boarding", "delayed") for o in overloads(kpis, measured_days)):
        return "queues for beds or for discharge grow without bound"
    if "admissions_diverted" in kpis and "emergency_admissions" in kpis:
        diverted = float(kpis["admissions_diverted"].sum())
        admitted = float(kpis["emergency_admissions"].sum())
        if admitted > 0 and diverted > MAX_DIVERTED_SHARE * admitted:
            return (
                f"{100 * diverted / admitted:.0f}% of emergency admissions are turned away "
                "because every bed is full"
            )
    if "mean_bed_wait_hours" in kpis:
        waits = kpis["mean_bed_wait_hours"].to_numpy(dtype=float)
        waits = waits[~np.isnan(waits)]  # no admissions, no wait to average
        wait = float(waits.mean()) if waits.size else 0.0
        if wait > GRIDLOCK_BED_WAIT_HOURS:
            return (
                f"admitted patients wait {wait:.0f} hours on average for a bed "
                f"(more than {GRIDLOCK_BED_WAIT_HOURS:.0f})"
            )
    return None


def relative_half_widths(
    kpis: pd.DataFrame, metrics: Sequence[str], confidence: float = 0.95
) -> dict[str, float]:
    """Half-width of each metric's t interval of the mean, as a share of the mean."""
    from sim.experiment.replications import relative_half_width

    return {
        m: relative_half_width(kpis[m].to_numpy(dtype=float), confidence)
        for m in metrics
        if m in kpis
    }


def precision_notes(
    kpis: pd.DataFrame, metrics: Sequence[str], target: float, confidence: float = 0.95
) -> list[str]:
    """A note for every metric whose CI is wider than ``target`` x its mean."""
    n = len(kpis)
    notes = []
    for m, d in relative_half_widths(kpis, metrics, confidence).items():
        if d <= target:
            continue
        width = (
            "cannot be estimated from one replication"
            if math.isinf(d) and n < 2
            else (f"is +/-{100 * d:.1f}% of its mean" if math.isfinite(d) else "is unbounded")
        )
        notes.append(
            f"precision: the {100 * confidence:g}% CI of {m} {width}, wider than the "
            f"+/-{100 * target:g}% target (run.until_precision.target); add replications "
            "(run.replications) or set run.until_precision.enabled=true"
        )
    return notes
