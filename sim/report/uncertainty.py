"""Parameter uncertainty in words, tables and charts (console and report).

What a PSA adds to an answer: effects whose intervals carry what the evidence
does not know, the probability that each scenario helps or saves money, the
cost-effectiveness plane and the acceptability curve. Sensitivity analyses add
the tornado chart (one parameter at a time) and the bars of global indices.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.experiment.compare import effect_spec
from sim.report import format as fmt
from sim.report.effects import effects_table
from sim.report.plots import PALETTE

if TYPE_CHECKING:
    from sim.experiment.psa import PsaResult
    from sim.experiment.sensitivity import OneWayResult

PSA_NOTE = (
    "Intervals hold both what the evidence does not know (parameter sets drawn from the "
    "distributions in uncertainty.parameters) and chance (replications): they run from the "
    "2.5% to the 97.5% point of the paired differences over all runs: the range of a year's "
    "effect, not a confidence interval of a mean. P(better) is the share of parameter sets "
    "whose mean effect over their replications is a benefit (with few replications a set, "
    "chance pulls it a little towards 50%)."
)

#: what a probability of saving money is stated for, in this order
MONEY = {
    "cost_total": "all budgets",
    "cost_nhs": "the NHS",
    "cost_social_care": "social care",
    "cost_acute_trust": "the acute trust",
    "cost_community_health": "community health",
    "cost_ambulance_trust": "the ambulance trust",
    "cost_pooled": "the pooled budget",
    "cost_aligned": "the aligned budgets",
}


def psa_note(psa: PsaResult) -> list[str]:
    n = psa.parameters.shape[0]
    head = (
        f"Effects with parameter uncertainty against {psa.baseline!r}: {n} parameter sets x "
        f"{psa.replications_per_draw} replications, {len(psa.space.parameters)} uncertain "
        "parameters."
    )
    return [head, *textwrap.wrap(PSA_NOTE, 100)]


def money_texts(psa: PsaResult) -> dict[str, str]:
    """Per scenario: "probability of saving money for all budgets 83%, ...", naming
    the budgets it never changes apart."""
    out = {}
    for scen, g in psa.decision().groupby("scenario", sort=False):
        p = {str(r["metric"]): float(r["p_improves"]) for r in g.to_dict("records")}
        flat = {str(r["metric"]) for r in g.to_dict("records") if r["no_change"]}
        parts = [
            f"{who} {fmt.probability(p[m])}" for m, who in MONEY.items() if m in p and m not in flat
        ]
        same = [who for m, who in MONEY.items() if m in flat]
        if parts:
            text = "probability of saving money for " + ", ".join(parts)
            if same:
                text += f" (no change for {', '.join(same)})"
            out[str(scen)] = text
    return out


def money_sentences(psa: PsaResult) -> list[str]:
    """Per scenario: "treat: probability of saving money for all budgets 83%, ..."."""
    return [f"{scen}: {text}" for scen, text in money_texts(psa).items()]


def psa_text(psa: PsaResult) -> str:
    """The console's summary of a PSA."""
    if psa.baseline is None or len(psa.configs) < 2:
        summ = psa.summary()
        keep = summ[
            summ["metric"].isin(["emergency_admissions", "bed_days", "dtoc_days", "cost_total"])
        ]
        lines = [f"Parameter uncertainty ({psa.parameters.shape[0]} parameter sets):"]
        for _, r in keep.iterrows():
            split = (
                "the variance split needs 2 or more replications a set"
                if fmt.missing(r["share_parameters"])
                else f"{fmt.share(r['share_parameters'])} of variance from parameters"
            )
            lines.append(
                f"  {r['metric']}: {fmt.value(r['metric'], r['mean'])} "
                f"({fmt.value_range(r['metric'], r['low'], r['high'])}), {split}"
            )
        return "\n".join(lines)
    head = psa.headline()
    text = effects_table(head, psa.baseline, note=psa_note(psa), interval="range")
    for w in psa.warnings():
        text += f"\nnote: {w}"
    shares = [
        f"  {r['scenario']}, {r['effect']}: {fmt.share(r['share_parameters'])}"
        for _, r in head.iterrows()
        if r["metric"] in ("emergency_admissions", "bed_days", "cost_total")
        and not fmt.missing(r["share_parameters"])
    ]
    if shares:
        text += "\n\nShare of the variance of the effect due to parameters (the rest is chance):\n"
        text += "\n".join(shares)
    elif psa.replications_per_draw < 2:
        text += (
            "\n\nThe variance split between parameters and chance needs 2 or more "
            "replications a set (uncertainty.replications_per_draw)."
        )
    money = money_sentences(psa)
    if money:
        text += "\n\n" + "\n".join(money)
    return text


# ------------------------------------------------------------------------- charts
def _legend(fig: Figure, ax: Any) -> None:
    """One legend of scenarios for the figure, to the right of its panels."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside right center", title="scenario", fontsize=8)


def plane(psa: PsaResult) -> Figure:
    """Cost-effectiveness plane: one dot per parameter set and scenario."""
    p = psa.plane()
    outcomes = [c for c in ("admissions_avoided", "bed_days_saved") if c in p]
    fig = Figure(figsize=(10, 4.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, max(1, len(outcomes)), squeeze=False)).ravel()
    for ax, outcome in zip(axes, outcomes, strict=False):
        for i, (scen, df) in enumerate(p.groupby("scenario", sort=False)):
            colour = PALETTE[i % len(PALETTE)]
            x, y = df[outcome].to_numpy(), df["cost_change"].to_numpy() / 1e6
            ax.scatter(x, y, s=8, alpha=0.4, color=colour, lw=0, rasterized=True)
            ax.scatter(x.mean(), y.mean(), s=50, color=colour, edgecolor="k", label=str(scen))
        ax.axhline(0, color="k", lw=0.8)
        ax.axvline(0, color="k", lw=0.8)
        ax.set_xlabel(outcome.replace("_", " ") + " (left of 0: worse)")
        ax.set_ylabel("extra cost, GBP million (below 0: saving)")
    fig.suptitle("Cost-effectiveness plane (dots: parameter sets; circles: means)")
    _legend(fig, axes[0])
    return fig


def ceac(psa: PsaResult) -> Figure:
    """Acceptability curves: probability of being cost-effective by willingness to pay."""
    c = psa.ceac()
    outcomes = list(dict.fromkeys(c["outcome"]))
    fig = Figure(figsize=(10, 4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, max(1, len(outcomes)), squeeze=False)).ravel()
    unit = {"emergency_admissions": "admission avoided", "bed_days": "bed day saved"}
    for ax, outcome in zip(axes, outcomes, strict=False):
        for i, (scen, df) in enumerate(c[c["outcome"] == outcome].groupby("scenario", sort=False)):
            ax.plot(
                df["wtp"],
                100 * df["p_cost_effective"],
                color=PALETTE[i % len(PALETTE)],
                label=str(scen),
            )
        ax.set_ylim(-2, 102)
        ax.set_xlabel(f"willingness to pay, GBP per {unit.get(outcome, outcome)}")
        ax.set_ylabel("probability cost-effective, %")
    fig.suptitle("Cost-effectiveness acceptability curves (over parameter sets)")
    _legend(fig, axes[0])
    return fig


def tornado(one_way: OneWayResult, metric: str, top: int = 12) -> Figure:
    """Tornado chart: the outcome at each parameter's low and high end, the others
    at their point values; widest bar on top."""
    t = one_way.table()
    t = t[t["metric"] == metric].copy()
    sign = effect_spec(metric).sign if one_way.baseline is not None else 1
    label = effect_spec(metric).label if one_way.baseline is not None else metric.replace("_", " ")
    t["lo_v"], t["hi_v"] = sign * t["at_low"], sign * t["at_high"]
    centre = sign * float(t["at_point"].iloc[0]) if len(t) else 0.0
    t["swing"] = (t["hi_v"] - t["lo_v"]).abs()
    # parameters that move nothing (an intervention that is off) are left out, and counted
    still = int(((t["hi_v"] == centre) & (t["lo_v"] == centre)).sum())
    t = t[(t["hi_v"] != centre) | (t["lo_v"] != centre)]
    t = t.sort_values("swing", ascending=True).tail(top)
    fig = Figure(figsize=(9, 0.45 * len(t) + 1.6), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(t))
    for k, (_, r) in enumerate(t.iterrows()):
        for v, colour, name in (
            (r["lo_v"], PALETTE[0], "low end"),
            (r["hi_v"], PALETTE[1], "high end"),
        ):
            ax.barh(k, v - centre, left=centre, color=colour, label=name if k == 0 else None)
    ax.axvline(centre, color="k", lw=0.8)
    ax.set_yticks(y, [str(p) for p in t["parameter"]], fontsize=8)
    ax.set_xlabel(
        label + (f" ({still} parameters that do not change it not shown)" if still else "")
    )
    ax.set_title(f"One-way sensitivity: {label} (line: all parameters at their point values)")
    if len(t):
        ax.legend(fontsize=8, loc="lower right")
    return fig


def indices(table: pd.DataFrame, title: str) -> Figure:
    """Bars of global sensitivity indices with their confidence intervals.

    ``table`` has columns parameter, index (name of the index), value, conf.
    """
    kinds = list(dict.fromkeys(table["index"]))
    params = list(dict.fromkeys(table["parameter"]))
    fig = Figure(figsize=(9, 0.4 * len(params) + 1.8), layout="constrained")
    ax = fig.subplots()
    h = 0.8 / max(1, len(kinds))
    for j, k in enumerate(kinds):
        d = table[table["index"] == k].set_index("parameter").reindex(params)
        ax.barh(
            np.arange(len(params)) + j * h,
            d["value"],
            height=h,
            xerr=d["conf"],
            color=PALETTE[j % len(PALETTE)],
            label=k,
            capsize=2,
        )
    ax.set_yticks(np.arange(len(params)) + h * (len(kinds) - 1) / 2, params, fontsize=8)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


def psa_section_rows(psa: PsaResult) -> pd.DataFrame:
    """Probabilities of the decision table for the report: scenario x what."""
    dec = psa.decision()
    rows = []
    for _, r in dec.iterrows():
        m = str(r["metric"])
        what = f"saves money, {MONEY[m]}" if m in MONEY else effect_spec(m).label
        p = np.nan if r["no_change"] else r["p_improves"]
        rows.append({"scenario": r["scenario"], "what": what, "probability": p})
    return pd.DataFrame(rows)


def shares_mapping(psa: PsaResult) -> Mapping[str, float]:
    head = psa.headline()
    return {f"{r['scenario']}: {r['effect']}": r["share_parameters"] for _, r in head.iterrows()}
