"""Compare scenarios with a baseline as paired differences.

Scenarios run with the same seed use the same random streams in each
replication (common random numbers), so replication *r* of a scenario and
replication *r* of the baseline see the same crises from the same people. The
difference between them is then mostly the effect of the change, and the
confidence interval of the mean paired difference is much narrower than the
difference of two independent means.

For every metric the comparison table gives each scenario's mean with its CI,
the mean paired difference from baseline with its CI, and the relative change.
:data:`HEADLINE` turns the most-asked ones into plain words: admissions avoided,
bed days saved, delayed days reduced.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.experiment.stats import mean_ci

KEYS = ("scenario", "replication", "seed")

#: metric -> (label, sign): sign -1 turns a reduction into a positive "saved"
HEADLINE: dict[str, tuple[str, int]] = {
    "emergency_admissions": ("admissions avoided", -1),
    "bed_days": ("bed days saved", -1),
    "dtoc_days": ("delayed days reduced", -1),
    "dtoc_days_nhs": ("  NHS-attributed", -1),
    "dtoc_days_social_care": ("  social-care-attributed", -1),
    "ae_attendances": ("A&E attendances avoided", -1),
    "cost_total": ("net cost change (GBP)", 1),
    "cost_nhs": ("  NHS (acute + community)", 1),
    "cost_social_care": ("  social care", 1),
    "mean_bed_occupancy": ("change in mean bed occupancy", 1),
    "ae_4h_performance": ("change in 4-hour performance", 1),
}


def compare(
    kpis: pd.DataFrame, baseline: str = "baseline", confidence: float = 0.95
) -> pd.DataFrame:
    """Paired comparison of every scenario in ``kpis`` with ``baseline``.

    Args:
        kpis: Stacked per-replication KPI tables (keys + metrics) of several
            scenarios run with the same seed.
        baseline: Name of the reference scenario.
        confidence: Confidence level of the intervals.

    Returns:
        Long table: scenario, metric, n, baseline_mean, mean, ci_low, ci_high,
        diff_mean, diff_ci_low, diff_ci_high, relative_change.
    """
    if baseline not in set(kpis["scenario"]):
        raise ValueError(f"baseline scenario {baseline!r} is not in the results")
    metrics = [c for c in kpis.columns if c not in KEYS and kpis[c].dtype.kind in "fiub"]
    base = kpis[kpis["scenario"] == baseline].set_index("replication")
    rows = []
    for scen, df in kpis.groupby("scenario", sort=False):
        df = df.set_index("replication")
        common = df.index.intersection(base.index)
        if (df.loc[common, "seed"] != base.loc[common, "seed"]).any():
            raise ValueError(f"scenario {scen!r} was run with another seed: not paired")
        for m in metrics:
            b = base.loc[common, m].to_numpy(dtype=float)
            x = df.loc[common, m].to_numpy(dtype=float)
            mean, _, lo, hi = mean_ci(x, confidence)
            bmean = float(np.mean(b[~np.isnan(b)])) if (~np.isnan(b)).any() else np.nan
            d_mean, _, d_lo, d_hi = mean_ci(x - b, confidence)
            rel = d_mean / bmean if bmean not in (0.0,) and not np.isnan(bmean) else np.nan
            rows.append((scen, m, len(common), bmean, mean, lo, hi, d_mean, d_lo, d_hi, rel))
    cols = [
        "scenario",
        "metric",
        "n",
        "baseline_mean",
        "mean",
        "ci_low",
        "ci_high",
        "diff_mean",
        "diff_ci_low",
        "diff_ci_high",
        "relative_change",
    ]
    return pd.DataFrame(rows, columns=cols)


def headline(comparison: pd.DataFrame, baseline: str = "baseline") -> pd.DataFrame:
    """Effects in plain words (admissions avoided, ...) per scenario, with CIs."""
    rows = []
    for (scen, metric), r in comparison.set_index(["scenario", "metric"]).iterrows():
        if scen == baseline or metric not in HEADLINE:
            continue
        label, sign = HEADLINE[metric]
        lo, hi = sorted((sign * r["diff_ci_low"], sign * r["diff_ci_high"]))
        rows.append(
            {
                "scenario": scen,
                "effect": label.strip(),
                "metric": metric,
                "estimate": sign * r["diff_mean"],
                "ci_low": lo,
                "ci_high": hi,
                "relative_change": r["relative_change"],
            }
        )
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    order = {m: i for i, m in enumerate(HEADLINE)}
    out["_o"] = out["metric"].map(order)
    return (
        out.sort_values(["scenario", "_o"], kind="stable").drop(columns="_o").reset_index(drop=True)
    )


def effects_table(effects: pd.DataFrame) -> str:
    """Plain-text table of effects: estimate, 95% CI and relative change per scenario."""
    if effects.empty:
        return "(no scenarios to compare)"
    lines = []
    w = max(len(e) for e in effects["effect"]) + 2
    for scen, df in effects.groupby("scenario", sort=False):
        lines.append(f"{scen}")
        for _, r in df.iterrows():
            share = r["metric"] in ("mean_bed_occupancy", "ae_4h_performance")
            fmt = (lambda x: f"{100 * x:+.2f} pts") if share else (lambda x: f"{x:,.0f}")
            rel = "" if pd.isna(r["relative_change"]) else f"  ({100 * r['relative_change']:+.1f}%)"
            lines.append(
                f"  {r['effect']:<{w}}{fmt(r['estimate']):>12}  "
                f"95% CI {fmt(r['ci_low'])} to {fmt(r['ci_high'])}{rel if not share else ''}"
            )
    return "\n".join(lines)
