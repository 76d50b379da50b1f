"""Cost-effectiveness of scenarios against a baseline, from paired replications.

The convention (as in health economics) places each scenario on the
cost-effectiveness plane by its mean paired change in total cost and its gain
in an outcome (admissions avoided, bed days saved):

* **dominant** - saves money and improves the outcome;
* **dominated** - costs more and worsens it;
* **costs more and improves** or **saves money and worsens** - the two
  trade-offs, which a payer has to judge.

A scenario's quadrant is that of its point estimate; the share of paired
bootstrap resamples (replication indices resampled, the same indices for cost
and outcome) in each quadrant says how sure that placement is, and a placement
is flagged uncertain when the CI of the cost change or of the gain includes
zero. A ratio (net cost per admission avoided, per bed day saved) is given only
for a scenario that costs more and whose gain is positive with a 95% CI above
zero: only there is "cost per unit gained" a price worth reading. Its CI is the
percentile interval of the ratio over the same bootstrap resamples; a resample
with no gain counts as an infinitely high ratio, and if more than 2.5% of them
have none the upper end is unbounded. Everywhere else the ratio is left out and
``reason`` says why in words.

Probabilities come from the t distribution of the mean paired difference (as
the CIs do): ``p_saves_money`` that the mean cost change is below zero,
``p_gain`` that the mean gain is above zero. With one replication there is no
interval and no probability.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.experiment.stats import mean_ci, prob_positive


@dataclass(frozen=True)
class Outcome:
    """An outcome whose reduction is the gain: its names for tables and sentences."""

    per: str  # "admission avoided"
    noun: str  # "admissions"
    verb: str  # "avoids"


#: outcome metric -> how it is named; a fall in each is the gain
OUTCOMES: dict[str, Outcome] = {
    "emergency_admissions": Outcome("admission avoided", "admissions", "avoids"),
    "bed_days": Outcome("bed day saved", "bed days", "saves"),
}

QUADRANTS: dict[str, str] = {
    "dominant": "dominant (saves money and improves)",
    "costs_more_improves": "trade-off: costs more and improves",
    "saves_worsens": "trade-off: saves money and worsens",
    "dominated": "dominated (costs more and worsens)",
    "no_difference": "no difference in cost or outcome",
}


def quadrant(cost_change: np.ndarray | float, gain: np.ndarray | float) -> np.ndarray:
    """Quadrant names of (cost change, gain) points; a zero on one axis goes with the other."""
    c, g = np.asarray(cost_change, dtype=float), np.asarray(gain, dtype=float)
    out = np.full(np.broadcast(c, g).shape, "no_difference", dtype=object)
    out[(c <= 0) & (g >= 0)] = "dominant"
    out[(c >= 0) & (g <= 0)] = "dominated"
    out[(c > 0) & (g > 0)] = "costs_more_improves"
    out[(c < 0) & (g < 0)] = "saves_worsens"
    out[(c == 0) & (g == 0)] = "no_difference"
    return out


def paired_differences(
    kpis: pd.DataFrame, baseline: str, metrics: list[str]
) -> dict[str, pd.DataFrame]:
    """Scenario -> replication-by-replication differences (scenario minus baseline).

    Returns:
        ``{scenario: DataFrame indexed by replication, one column per metric}``
        for every scenario except the baseline, in the order they appear.
    """
    if baseline not in set(kpis["scenario"]):
        raise ValueError(f"baseline scenario {baseline!r} is not in the results")
    base = kpis[kpis["scenario"] == baseline].set_index("replication")
    out: dict[str, pd.DataFrame] = {}
    for scen, df in kpis.groupby("scenario", sort=False):
        if scen == baseline:
            continue
        df = df.set_index("replication")
        idx = df.index.intersection(base.index)
        out[str(scen)] = (df.loc[idx, metrics] - base.loc[idx, metrics]).astype(float)
    return out


def bootstrap_means(
    diffs: pd.DataFrame, n_boot: int = 2000, seed: int = 1, scenario: str = ""
) -> pd.DataFrame:
    """Means of ``n_boot`` paired bootstrap resamples of the rows (replications) of ``diffs``.

    Every column is resampled with the same replication indices, so costs and
    outcomes stay paired. The generator is seeded by ``seed`` and the scenario's
    name, so a scenario's resamples do not depend on which others are compared.
    """
    rng = np.random.default_rng([seed, zlib.crc32(scenario.encode())])
    x = diffs.to_numpy(dtype=float)
    idx = rng.integers(0, len(x), size=(n_boot, len(x)))
    return pd.DataFrame(x[idx].mean(axis=1), columns=diffs.columns)


def cost_effectiveness(
    kpis: pd.DataFrame,
    baseline: str = "baseline",
    n_boot: int = 2000,
    seed: int = 1,
    confidence: float = 0.95,
    cost: str = "cost_total",
    outcomes: dict[str, Outcome] | None = None,
) -> pd.DataFrame:
    """Quadrant, probabilities and (where meaningful) cost per unit gained, per scenario.

    See the module docstring for the convention.

    Args:
        kpis: Stacked per-replication KPI tables of the scenarios and the baseline.
        baseline: Name of the reference scenario.
        n_boot: Paired bootstrap resamples.
        seed: Seed of the bootstrap.
        confidence: Confidence level of the intervals.
        cost: The cost KPI (scenario minus baseline is the cost change).
        outcomes: Outcome metric -> names (default :data:`OUTCOMES`).

    Returns:
        One row per scenario and outcome: scenario, outcome, measure, n,
        cost_change, cost_ci_low, cost_ci_high, p_saves_money, gain,
        gain_ci_low, gain_ci_high, p_gain, quadrant, quadrant_label, uncertain,
        share_<quadrant> for each quadrant, ratio, ratio_ci_low, ratio_ci_high,
        reason (why there is no ratio; empty when there is one).
    """
    outcomes = OUTCOMES if outcomes is None else outcomes
    rows = []
    diffs = paired_differences(kpis, baseline, [cost, *outcomes])
    for scen, d in diffs.items():
        n = len(d)
        dc = d[cost].to_numpy()
        c_mean, _, c_lo, c_hi = mean_ci(dc, confidence)
        boot = bootstrap_means(d, n_boot, seed, scen) if n > 1 else None
        for metric, o in outcomes.items():
            gain = -d[metric].to_numpy()
            g_mean, _, g_lo, g_hi = mean_ci(gain, confidence)
            q = str(quadrant(c_mean, g_mean))
            row = {
                "scenario": scen,
                "outcome": metric,
                "measure": f"net cost per {o.per}",
                "n": n,
                "cost_change": c_mean,
                "cost_ci_low": c_lo,
                "cost_ci_high": c_hi,
                "p_saves_money": prob_positive(-dc),
                "gain": g_mean,
                "gain_ci_low": g_lo,
                "gain_ci_high": g_hi,
                "p_gain": prob_positive(gain),
                "quadrant": q,
                "quadrant_label": QUADRANTS[q],
                "uncertain": n < 2 or c_lo <= 0 <= c_hi or g_lo <= 0 <= g_hi,
            }
            if boot is not None:
                bq = quadrant(boot[cost].to_numpy(), -boot[metric].to_numpy())
                for name in QUADRANTS:
                    row[f"share_{name}"] = float(np.mean(bq == name))
            else:
                row.update({f"share_{name}": np.nan for name in QUADRANTS})
            ratio = lo = hi = np.nan
            reason = _no_ratio_reason(n, c_mean, c_lo, c_hi, g_lo, g_hi, o)
            if not reason and boot is not None:  # a reason is given whenever boot is None
                ratio = c_mean / g_mean
                bc, bg = boot[cost].to_numpy(), -boot[metric].to_numpy()
                lo, hi = ratio_interval(bc, bg, confidence)
            row.update({"ratio": ratio, "ratio_ci_low": lo, "ratio_ci_high": hi})
            row["reason"] = reason
            rows.append(row)
    return pd.DataFrame(rows)


def ratio_interval(
    cost: np.ndarray, gain: np.ndarray, confidence: float = 0.95
) -> tuple[float, float]:
    """Percentile interval of cost / gain over bootstrap resamples.

    A resample with no gain (``gain <= 0``) has no finite cost per unit gained
    and counts as an infinitely high ratio; if more than ``(1 - confidence) / 2``
    of them have none, the upper end is ``inf`` (unbounded).
    """
    alpha = 1 - confidence
    r = np.where(gain > 0, cost / np.where(gain > 0, gain, 1.0), np.inf)
    lo, hi = np.quantile(r, [alpha / 2, 1 - alpha / 2], method="inverted_cdf")
    return float(lo), float(hi)


def _no_ratio_reason(
    n: int, c_mean: float, c_lo: float, c_hi: float, g_lo: float, g_hi: float, o: Outcome
) -> str:
    """Why a scenario gets no cost per unit gained ("" if it gets one)."""
    if n < 2:
        return "no ratio: with one replication no interval or probability can be given"
    if g_lo <= 0 <= g_hi:
        return f"no ratio: the effect on {o.noun} is not distinguishable from none"
    if g_hi < 0:
        if c_mean > 0:
            return f"no ratio: adds {o.noun} and costs more (dominated)"
        return f"no ratio: saves money but adds {o.noun} (a trade-off, not a price)"
    if c_mean <= 0:
        unsure = " (though the saving's CI includes zero)" if c_lo <= 0 <= c_hi else ""
        return f"no ratio: dominant - saves money and {o.verb} {o.noun}{unsure}"
    return ""
