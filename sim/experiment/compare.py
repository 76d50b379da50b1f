"""Compare scenarios with a baseline as paired differences.

Scenarios run with the same seed use the same random streams in each
replication (common random numbers), so replication *r* of a scenario and
replication *r* of the baseline see the same crises from the same people. The
difference between them is then mostly the effect of the change, and the
confidence interval of the mean paired difference is much narrower than the
difference of two independent means.

For every metric :func:`compare` gives each scenario's mean with its CI, the
mean paired difference from baseline (scenario minus baseline) with its t CI,
the relative change, and the probabilities that the scenario's mean is above or
below the baseline's (t distribution of the mean paired difference, so a 95% CI
excludes zero exactly when one of them is above 97.5%).

:func:`headline` turns the most-asked metrics into effects stated as benefits
(the one sign convention of the console and the report): admissions avoided,
bed days saved, delayed days saved, net saving, rise in 4-hour performance.
:mod:`sim.report.effects` writes them in words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.experiment.stats import interval, mean_ci, prob_positive
from sim.outputs import schema

KEYS = ("scenario", "replication", "seed")


@dataclass(frozen=True)
class Effect:
    """How a metric's change reads as a benefit.

    Attributes:
        label: The benefit's name ("admissions avoided").
        sign: +1 if a rise is the benefit, -1 if a fall is.
        good: Word after a benefit ("avoided"); ``bad`` after a harm ("added").
        noun: What is counted, for sentences ("admissions").
        fewer: Words for a relative change that is a benefit and one that is not.
    """

    label: str
    sign: int
    good: str
    bad: str
    noun: str
    fewer: tuple[str, str] = ("fewer", "more")


_COST = ("lower", "higher")

#: metric -> how its change is stated, in the order shown
HEADLINE: dict[str, Effect] = {
    "emergency_admissions": Effect("admissions avoided", -1, "avoided", "added", "admissions"),
    "bed_days": Effect("bed days saved", -1, "saved", "extra", "bed days"),
    "dtoc_days": Effect("delayed days saved", -1, "saved", "extra", "delayed days"),
    "nctr_days": Effect(
        "bed days past the discharge-ready date saved",
        -1,
        "saved",
        "extra",
        "bed days past the discharge-ready date",
    ),
    "dtoc_days_nhs": Effect(
        "delayed days saved, NHS-attributed", -1, "saved", "extra", "NHS-attributed delayed days"
    ),
    "dtoc_days_social_care": Effect(
        "delayed days saved, social-care-attributed",
        -1,
        "saved",
        "extra",
        "social-care-attributed delayed days",
    ),
    "dtoc_days_both": Effect(
        "delayed days saved, attributed to both", -1, "saved", "extra", "delayed days (both)"
    ),
    "ae_attendances": Effect("A&E attendances avoided", -1, "avoided", "added", "attendances"),
    "cost_total": Effect("net saving, all budgets", -1, "saved", "extra", "cost", _COST),
    "cost_nhs": Effect("saving to the NHS", -1, "saved", "extra", "NHS cost", _COST),
    "cost_social_care": Effect(
        "saving to social care", -1, "saved", "extra", "social care cost", _COST
    ),
    "mean_bed_occupancy": Effect("fall in mean bed occupancy", -1, "lower", "higher", "occupancy"),
    "ae_4h_performance": Effect("rise in 4-hour performance", 1, "better", "worse", "performance"),
    "ae_12h_share": Effect(
        "fall in the share over 12 hours in A&E", -1, "lower", "higher", "12-hour waits"
    ),
    "ae_ambulance_arrivals": Effect(
        "ambulance conveyances avoided", -1, "avoided", "added", "conveyances"
    ),
    "community_managed": Effect(
        "more crises managed in the community",
        1,
        "more",
        "fewer",
        "crises managed in the community",
        ("more", "fewer"),
    ),
}


def effect_spec(metric: str) -> Effect:
    """How ``metric``'s change is stated: :data:`HEADLINE`, else by kind (costs, delays).

    A metric of no known direction gets a neutral wording ("higher"/"lower") and
    its rise counts as the "benefit" only in name.
    """
    if metric in HEADLINE:
        return HEADLINE[metric]
    if metric.startswith("budget_"):  # the section 75 budgets: money, less is better
        if metric.endswith("_cost"):
            who = metric.removeprefix("budget_").removesuffix("_cost")
            return Effect(f"saving to {who}", -1, "saved", "extra", f"cost to {who}", _COST)
        what = metric.removeprefix("budget_").replace("_", " ")
        return Effect(f"saving, {what}", -1, "saved", "extra", what, _COST)
    what = metric.removeprefix("cost_").replace("_", " ")
    if metric.startswith("cost_"):
        return Effect(f"saving, {what}", -1, "saved", "extra", f"{what} cost", _COST)
    if metric.startswith("dtoc_days"):
        return Effect(f"delayed days saved, {what}", -1, "saved", "extra", "delayed days")
    if metric.startswith(("nctr_days", "drd_bed_days_lost")):
        return Effect(
            f"bed days past the discharge-ready date saved, {what}",
            -1,
            "saved",
            "extra",
            "bed days past the discharge-ready date",
        )
    if metric.startswith("drd_mean_delay_days"):
        return Effect(
            f"shorter wait from discharge-ready date, {what}",
            -1,
            "shorter",
            "longer",
            "days from discharge-ready date to discharge",
            ("shorter", "longer"),
        )
    if metric.startswith("drd_delayed_share"):
        return Effect(
            f"fewer discharges after the discharge-ready date, {what}",
            -1,
            "lower",
            "higher",
            "share discharged after the discharge-ready date",
            ("lower", "higher"),
        )
    return Effect(metric.replace("_", " "), 1, "higher", "lower", what, ("higher", "lower"))


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
        ci_method, diff_mean, diff_ci_low, diff_ci_high, relative_change,
        p_increase, p_decrease. Differences are scenario minus baseline.
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
            mean, _, lo, hi, method = interval(m, x, confidence)
            bmean = float(np.mean(b[~np.isnan(b)])) if (~np.isnan(b)).any() else np.nan
            d = x - b
            d_mean, _, d_lo, d_hi = mean_ci(d, confidence)
            # a relative change needs a positive baseline of a quantity that cannot be
            # negative: against a negative one (a trend) its sign would be reversed
            rel = d_mean / bmean if bmean > 0 and schema.non_negative(m) else np.nan
            p_up, p_down = prob_positive(d), prob_positive(-d)
            method = method if len(common) > 1 else ""
            stats_row = (len(common), bmean, mean, lo, hi, method, d_mean, d_lo, d_hi, rel)
            rows.append((scen, m, *stats_row, p_up, p_down))
    cols = [
        "scenario",
        "metric",
        "n",
        "baseline_mean",
        "mean",
        "ci_low",
        "ci_high",
        "ci_method",
        "diff_mean",
        "diff_ci_low",
        "diff_ci_high",
        "relative_change",
        "p_increase",
        "p_decrease",
    ]
    return pd.DataFrame(rows, columns=cols)


def headline(
    comparison: pd.DataFrame, baseline: str = "baseline", metrics: list[str] | None = None
) -> pd.DataFrame:
    """Effects stated as benefits (admissions avoided, ...) per scenario, with CIs.

    Args:
        comparison: The table of :func:`compare`.
        baseline: The reference scenario (left out).
        metrics: Metrics to state (default: :data:`HEADLINE`); others are worded
            by :func:`effect_spec`.

    Returns:
        One row per scenario and :data:`HEADLINE` metric: scenario, effect,
        metric, n, estimate, ci_low, ci_high (benefit: positive = avoided, saved,
        better), relative_benefit (estimate / baseline mean; NaN for shares,
        whose changes are in percentage points), p_improves, baseline_mean.
    """
    wanted = list(HEADLINE) if metrics is None else list(metrics)
    rows = []
    for _, r in comparison.iterrows():
        scen, metric = str(r["scenario"]), str(r["metric"])
        if scen == baseline or metric not in wanted:
            continue
        e = effect_spec(metric)
        lo, hi = sorted((e.sign * r["diff_ci_low"], e.sign * r["diff_ci_high"]))
        share = schema.unit(metric) == "share"
        rel = np.nan if share else e.sign * r["relative_change"]
        rows.append(
            {
                "scenario": scen,
                "effect": e.label,
                "metric": metric,
                "n": r["n"],
                "estimate": e.sign * r["diff_mean"],
                "ci_low": lo,
                "ci_high": hi,
                "relative_benefit": rel,
                "p_improves": r["p_increase"] if e.sign > 0 else r["p_decrease"],
                "baseline_mean": r["baseline_mean"],
            }
        )
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    # scenarios in the order they were run, effects in the order of HEADLINE
    scen_order = {s: i for i, s in enumerate(dict.fromkeys(comparison["scenario"]))}
    order = {m: i for i, m in enumerate(wanted)}
    out["_s"] = out["scenario"].map(scen_order)
    out["_o"] = out["metric"].map(order)
    out = out.sort_values(["_s", "_o"], kind="stable")
    return out.drop(columns=["_s", "_o"]).reset_index(drop=True)
