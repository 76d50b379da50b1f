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
bed days saved, delayed days saved, net saving, rise in 4-hour performance. An
effect that goes the other way is written with the opposite word ("9 added",
"GBP 1.27m extra"), never as a negative "avoided".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.experiment.stats import interval, mean_ci, prob_positive
from sim.outputs import report as fmt
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
}


def effect_spec(metric: str) -> Effect:
    """How ``metric``'s change is stated: :data:`HEADLINE`, else by kind (costs, delays).

    A metric of no known direction gets a neutral wording ("higher"/"lower") and
    its rise counts as the "benefit" only in name.
    """
    if metric in HEADLINE:
        return HEADLINE[metric]
    what = metric.removeprefix("cost_").replace("_", " ")
    if metric.startswith("cost_"):
        return Effect(f"saving, {what}", -1, "saved", "extra", f"{what} cost", _COST)
    if metric.startswith("dtoc_days"):
        return Effect(f"delayed days saved, {what}", -1, "saved", "extra", "delayed days")
    return Effect(metric.replace("_", " "), 1, "higher", "lower", what, ("higher", "lower"))


SIGN_CONVENTION = (
    "Every effect is stated as a benefit of the scenario over the baseline: admissions "
    "avoided, bed days saved, money saved, performance better. An effect that goes the other "
    'way says so ("added", "extra", "worse"). P(better) is the probability that the effect is '
    "a benefit, from the t distribution of the paired differences."
)


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
    for (scen, metric), r in comparison.set_index(["scenario", "metric"]).iterrows():
        if scen == baseline or metric not in wanted:
            continue
        e = effect_spec(metric)
        lo, hi = sorted((e.sign * r["diff_ci_low"], e.sign * r["diff_ci_high"]))
        share = fmt.kind(metric) == "share"
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


# --- effects in words: shared by the console and the HTML report -----------------------


def _mag(metric: str, x: float, unit: bool = True, ref: float | None = None) -> str:
    """The size of a change of ``metric`` without its sign (``ref``: the other end of
    a range, for money's unit)."""
    k = fmt.kind(metric)
    if k == "gbp":
        return fmt.gbp(abs(x), symbol=unit, ref=ref)
    if k == "share":
        text = fmt.pp(x)
        return text if unit else text.removesuffix(" pp")
    return fmt.count(abs(x))  # effects are totals over the period (admissions, days): whole


def _pair(metric: str, a: float, b: float) -> str:
    """Two sizes of the same sign as a range, the unit written once ("GBP 1.41m to 3.51m")."""
    k = fmt.kind(metric)
    if k == "gbp":
        return f"{_mag(metric, a, ref=b)} to {_mag(metric, b, unit=False, ref=a)}"
    return f"{_mag(metric, a, unit=k != 'share')} to {_mag(metric, b)}"


def estimate_text(metric: str, estimate: float) -> str:
    """A benefit in words: "444 avoided", "9 added", "GBP 2.46m saved", "2.7 pp better"."""
    if fmt.missing(estimate):
        return "-"
    e = effect_spec(metric)
    if estimate == 0:
        return "no change"
    return f"{_mag(metric, estimate)} {e.good if estimate > 0 else e.bad}"


def no_interval(lo: float, hi: float) -> bool:
    """True when there is no interval (a single replication)."""
    return fmt.missing(lo) or fmt.missing(hi)


def includes_no_effect(lo: float, hi: float) -> bool:
    """True when a benefit's CI includes zero (and is not just zero: no change at all)."""
    return not no_interval(lo, hi) and lo <= 0 <= hi and (lo, hi) != (0, 0)


def ci_text(metric: str, lo: float, hi: float, word: bool = True) -> str:
    """A benefit's CI in words, from its least to its most favourable end.

    Both ends benefits: "409 to 478 avoided"; both harms: "2 to 21 added"; across
    zero: "21 added to 2 avoided". ``word=False`` leaves out the word when both
    ends are on one side (for sentences that already say it).
    """
    if no_interval(lo, hi):
        return "no interval (one replication)"
    e = effect_spec(metric)
    if lo == hi == 0:
        return "none in any replication"
    if lo == hi:
        return f"{_mag(metric, lo)} {e.good if lo > 0 else e.bad} in every replication"
    if lo > 0:
        return _pair(metric, lo, hi) + (f" {e.good}" if word else "")
    if hi < 0:
        return _pair(metric, -hi, -lo) + (f" {e.bad}" if word else "")
    low = "0" if lo == 0 else f"{_mag(metric, lo, ref=hi)} {e.bad}"
    high = "0" if hi == 0 else f"{_mag(metric, hi, ref=lo)} {e.good}"
    return f"{low} to {high}"


def relative_text(metric: str, rel: float) -> str:
    """A relative change with the same direction words ("1.6% fewer", "3.0% lower")."""
    if fmt.missing(rel):
        return ""
    e = effect_spec(metric)
    if rel == 0:
        return "no change"
    pct = fmt.rounded(abs(100 * rel), 1)
    return f"{pct}% {e.fewer[0] if rel > 0 else e.fewer[1]}"


def effect_cells(r: pd.Series | dict) -> dict[str, str]:
    """The texts of one headline row: effect, estimate, ci, relative, p_better, flag."""
    m = r["metric"]
    lo, hi = r["ci_low"], r["ci_high"]
    flat = lo == hi == 0 and r["estimate"] == 0
    return {
        "effect": r["effect"],
        "estimate": estimate_text(m, r["estimate"]),
        "ci": ci_text(m, lo, hi),
        "relative": "" if flat else relative_text(m, r["relative_benefit"]),
        "p_better": "" if flat else fmt.probability(r["p_improves"]),
        "flag": "CI includes no effect" if includes_no_effect(lo, hi) else "",
    }


def effects_table(effects: pd.DataFrame, baseline: str | None = None) -> str:
    """Plain-text table of effects as benefits: estimate, 95% CI, relative change, P(better)."""
    if effects.empty:
        return "(no scenarios to compare)"
    head = {
        "effect": "effect",
        "estimate": "estimate",
        "ci": "95% CI",
        "relative": "relative",
        "p_better": "P(better)",
        "flag": "",
    }
    cells = [effect_cells(r) for _, r in effects.iterrows()]
    w = {k: max(len(c[k]) for c in [*cells, head]) for k in head}
    import textwrap

    against = f" against {baseline!r}" if baseline else ""
    lines = [f"Effects{against}: mean of paired differences by replication, with 95% CI."]
    lines += textwrap.wrap(SIGN_CONVENTION, 100)
    scenarios = effects["scenario"].tolist()
    for i, c in enumerate(cells):
        if i == 0 or scenarios[i] != scenarios[i - 1]:
            lines.append("")
            lines.append(scenarios[i])
            lines.append("  " + "  ".join(f"{head[k]:<{w[k]}}" for k in head).rstrip())
        lines.append(
            f"  {c['effect']:<{w['effect']}}  {c['estimate']:>{w['estimate']}}  "
            f"{c['ci']:<{w['ci']}}  {c['relative']:<{w['relative']}}  "
            f"{c['p_better']:>{w['p_better']}}  {c['flag']}".rstrip()
        )
    return "\n".join(lines)
