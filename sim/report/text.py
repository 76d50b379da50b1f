"""The report's sentences: executive summary, cost-effectiveness cells, STRESS-DES text.

Everything here turns analysis tables (:func:`sim.experiment.compare.headline`,
:func:`sim.experiment.economics.cost_effectiveness`) into plain words with the
same formatters as the console, so the figures match to the digit.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from sim.experiment import compare as cmp
from sim.experiment.economics import OUTCOMES
from sim.report import effects as in_words
from sim.report import format as fmt

#: how a quadrant reads in a sentence
QUADRANT_WORDS = {
    "dominant": "dominant (saves money and improves)",
    "dominated": "dominated (costs more and worsens)",
    "costs_more_improves": "a trade-off (costs more and improves)",
    "saves_worsens": "a trade-off (saves money and worsens)",
    "no_difference": "no different from the baseline",
}


def _ci(metric: str, lo: float, hi: float, interval: str = "CI") -> str:
    """A CI (or a PSA's range) for a sentence whose verb already carries the direction."""
    return f"95% {interval} {in_words.ci_text(metric, lo, hi, word=False)}"


def _no_effect(noun: str, metric: str, lo: float, hi: float, interval: str) -> str:
    """An effect whose interval includes none, in words.

    A confidence interval that includes no effect means the runs cannot tell the
    effect from chance; a PSA's range (a year's outcome over parameter sets and
    chance) that includes none means only that some years and sets go either way.
    """
    text = in_words.ci_text(metric, lo, hi)
    if interval == "CI":
        return f"has no distinguishable effect on {noun} (the 95% CI, {text}, includes no effect)"
    return f"may go either way on {noun} (the 95% {interval}, {text}, includes no effect)"


def period(days: int) -> str:
    """A measured period in words: "a year", or "over 730 days"."""
    return "a year" if days in (365, 366) else f"over {days:,} days"


def outcome_clause(r: pd.Series, period: str = "", interval: str = "CI") -> str:
    """One outcome in words: "avoids 444 admissions a year (95% CI 409 to 478)"."""
    m = r["metric"]
    o = OUTCOMES.get(m)
    verb, noun = (o.verb, o.noun) if o else ("improves", cmp.HEADLINE[m].noun)
    est, lo, hi = r["estimate"], r["ci_low"], r["ci_high"]
    when = f" {period}" if period else ""
    if in_words.no_interval(lo, hi):
        if est == 0:
            return f"does not change {noun} (one replication: no interval)"
        doing = verb if est > 0 else "adds"
        return f"{doing} {fmt.count(abs(est))} {noun}{when} (one replication: no interval)"
    if in_words.includes_no_effect(lo, hi):
        return _no_effect(noun, m, lo, hi, interval)
    if lo == hi == 0:
        return f"does not change {noun}"
    doing = verb if est > 0 else "adds"
    return f"{doing} {fmt.count(abs(est))} {noun}{when} ({_ci(m, lo, hi, interval)})"


def cost_clause(r: pd.Series, interval: str = "CI") -> str:
    """Net cost in words: "saves GBP 2.46m (95% CI 1.41m to 3.51m)"."""
    m = r["metric"]
    est, lo, hi = r["estimate"], r["ci_low"], r["ci_high"]
    money = fmt.gbp(abs(est))
    if in_words.no_interval(lo, hi):
        what = f"saves {money}" if est > 0 else f"costs {money} more"
        return f"{what} (one replication: no interval)"
    if in_words.includes_no_effect(lo, hi):
        return _no_effect("total cost", m, lo, hi, interval)
    if est == 0:
        return "costs the same"
    what = f"saves {money}" if est > 0 else f"costs {money} more"
    return f"{what} ({_ci(m, lo, hi, interval)})"


def quadrant_clause(ce: pd.DataFrame) -> str:
    """Where the scenario sits on the cost-effectiveness plane, per outcome."""
    parts = []
    for _, r in ce.iterrows():
        noun = OUTCOMES[r["outcome"]].noun if r["outcome"] in OUTCOMES else r["outcome"]
        share = r.get(f"share_{r['quadrant']}")
        often = "" if fmt.missing(share) else fmt.probability(share)
        parts.append((noun, r["quadrant"], often, bool(r["uncertain"])))
    if not parts:
        return ""
    quads = {p[1] for p in parts}
    if len(quads) == 1 and not any(p[3] for p in parts):
        nouns = " and ".join(p[0] for p in parts)
        shares = list(dict.fromkeys(p[2] for p in parts if p[2]))
        often = f" in {' and '.join(shares)} of resamples" if shares else ""
        return f"on {nouns} it is {QUADRANT_WORDS[parts[0][1]]}{often}"
    out = []
    for noun, q, often, unsure in parts:
        text = f"on {noun} it is {QUADRANT_WORDS[q]}" + (
            f" in {often} of resamples" if often else ""
        )
        out.append(text + (", uncertain as a CI includes zero" if unsure else ""))
    return "; ".join(out)


def scenario_summary(
    scenario: str, effects: pd.DataFrame, ce: pd.DataFrame, period: str = "", interval: str = "CI"
) -> str:
    """One or two sentences on a scenario's headline effects, with CIs and flags.

    Args:
        scenario: The scenario's name.
        effects: Its rows of :func:`sim.experiment.compare.headline`.
        ce: Its rows of :func:`sim.experiment.economics.cost_effectiveness`.
        period: How the totals' period reads ("a year"), or "".
        interval: "CI" (confidence intervals of replications) or "range" (a
            PSA's 95% range over parameter sets and chance).
    """
    by = effects.set_index("metric", drop=False)
    clauses = [outcome_clause(fmt.row(by, m), period, interval) for m in OUTCOMES if m in by.index]
    first = " and ".join(clauses) if clauses else "has no admissions or bed-day results"
    if "cost_total" in by.index:
        first += f", and {cost_clause(fmt.row(by, 'cost_total'), interval)}"
    where = quadrant_clause(ce)
    sentence = f"{scenario} {first}" + (f": {where}." if where else ".")
    more = []
    labels = {
        "nctr_days": "Bed days past the discharge-ready date",
        "dtoc_days": "Delayed transfer of care days",
        "ae_4h_performance": "4-hour performance",
    }
    for m, label in labels.items():
        if m not in by.index:
            continue
        r = fmt.row(by, m)
        c = in_words.effect_cells(r)
        flag = f"; the {interval} includes no effect" if c["flag"] else ""
        no = in_words.no_interval(r["ci_low"], r["ci_high"])
        ci = "" if no else f" (95% {interval} {c['ci']}{flag})"
        more.append(f"{label}: {c['estimate']}{ci}")
    return sentence + (" " + "; ".join(more) + "." if more else "")


#: KPIs of the summary sentence of a scenario run alone
SUMMARY_KPIS = {
    "emergency_admissions": "emergency admissions",
    "bed_days": "acute bed days",
    "nctr_days": "bed days past the discharge-ready date",
    "dtoc_days": "delayed transfer of care days",
    "ae_4h_performance": "A&E 4-hour performance",
    "mean_bed_occupancy": "mean bed occupancy",
    "cost_total": "total cost",
}


def kpi_summary(scenario: str, summary: pd.DataFrame, period: str = "") -> str:
    """One sentence of a scenario's headline KPIs with their 95% CIs (no comparison)."""
    by = summary.set_index("metric")
    parts = []
    for m, label in SUMMARY_KPIS.items():
        if m not in by.index:
            continue
        mean, ci = fmt.kpi_cells(m, fmt.row(by, m))
        parts.append(f"{label} {mean}" + (f" (95% CI {ci})" if ci else ""))
    when = {"": "", "a year": " in a year"}.get(period, f" {period}")
    return f"{scenario}{when}: " + "; ".join(parts) + "."


def cost_effect_cell(r: pd.Series) -> dict[str, str]:
    """Texts of one cost-effectiveness row: quadrant, gain, ratio (or why none)."""
    o = OUTCOMES.get(r["outcome"])
    noun = o.noun if o else r["outcome"]
    share = r.get(f"share_{r['quadrant']}")
    often = "" if fmt.missing(share) else f" in {fmt.probability(share)} of resamples"
    effect = cmp.HEADLINE.get(r["outcome"])
    gain = (
        f"{fmt.count(abs(r['gain']))} {noun} {effect.good if r['gain'] >= 0 else effect.bad}"
        if effect
        else fmt.count(r["gain"])
    )
    if r["reason"]:
        ratio = r["reason"]
    else:
        lo, hi = r["ratio_ci_low"], r["ratio_ci_high"]
        upper = "no upper bound" if hi == float("inf") else fmt.gbp(hi, symbol=False)
        if lo >= 0:
            span = f"{fmt.gbp(lo, symbol=False, ref=hi)} to {upper}"
        else:  # some resamples save money: their negative ratios do not rank
            span = f"from a saving to {upper}"
        ratio = f"{fmt.gbp(r['ratio'])} per {o.per if o else 'unit'} (95% CI {span})"
    return {
        "quadrant": QUADRANT_WORDS[r["quadrant"]] + often,
        "uncertain": "uncertain: a CI includes zero" if r["uncertain"] else "",
        "gain": gain,
        "p_gain": fmt.probability(r["p_gain"]),
        "ratio": ratio,
    }


def _plain(value: Any) -> str:
    """A metadata value as text: lists counted, mappings as "key value" pairs."""
    if isinstance(value, dict):
        return "; ".join(f"{k.replace('_', ' ')}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return f"{len(value)} items"
    return str(value)


def stress_rows(meta: dict[str, Any]) -> list[tuple[str, str]]:
    """STRESS-DES items 4-5 (from :func:`sim.experiment.metadata.stress_des`) as readable rows.

    Known items are written as sentences; anything else is shown as plain text,
    with lists summarised by their length, never printed as Python data.
    """
    rows: list[tuple[str, str]] = []
    exp = dict(meta.get("4_experimentation", {}))
    imp = dict(meta.get("5_implementation", {}))
    init = dict(exp.pop("4.1_initialisation", {}))
    if init:
        rows.append(
            (
                "4.1 Initialisation",
                f"{init.pop('warmup_days', '?')} warm-up days, discarded (method: "
                f"{init.pop('warmup_method', 'fixed')}); starting from "
                f"{init.pop('initial_conditions', 'empty')}."
                + (f" {_plain(init)}." if init else ""),
            )
        )
    length = dict(exp.pop("4.2_run_length", {}))
    if length:
        rows.append(
            (
                "4.2 Run length",
                f"{length.pop('measured_days', '?')} measured days from "
                f"{length.pop('start_date', '?')} (after the warm-up)."
                + (f" {_plain(length)}." if length else ""),
            )
        )
    est = dict(exp.pop("4.3_estimation", {}))
    if est:
        rows.append(
            (
                "4.3 Estimation",
                f"{est.pop('replications', '?')} replications (method: "
                f"{est.pop('replications_method', 'fixed')}). "
                f"{str(est.pop('confidence_intervals', '')).rstrip('.')}."
                + (f" {_plain(est)}." if est else ""),
            )
        )
    rows += [(k.replace("_", " "), _plain(v)) for k, v in exp.items()]
    soft = imp.pop("5.1_software", {})
    if soft:
        versions = ", ".join(f"{k} {v}" for k, v in soft.items())
        code = imp.pop("code_version", "")
        rows.append(("5.1 Software", versions + (f"; code version {code}" if code else "")))
    rng = dict(imp.pop("5.2_random_sampling", {}))
    if rng:
        streams = rng.pop("streams", [])
        rows.append(
            (
                "5.2 Random sampling",
                f"{rng.pop('generator', '?')} generator, seed {rng.pop('seed', '?')}; "
                f"{rng.pop('scheme', '')}. {len(streams)} named streams, one per stochastic "
                "element of the model (listed in seeds.csv)." + (f" {_plain(rng)}." if rng else ""),
            )
        )
    execution = imp.pop("5.3_model_execution", "")
    if execution:
        rows.append(("5.3 Model execution", str(execution)))
    hw = dict(imp.pop("5.4_system_specification", {}))
    if hw:
        mem = hw.pop("memory_gb", "?")
        rows.append(
            (
                "5.4 System",
                f"{hw.pop('platform', '?')}; {hw.pop('cpu', '?')}; {hw.pop('cores', '?')} cores; "
                f"{mem} GB memory" + (f"; {_plain(hw)}" if hw else ""),
            )
        )
    secs = imp.pop("run_time_seconds", None)
    if secs is not None:
        rows.append(("Run time", f"{secs:,.0f} s of simulation (summed over replications)"))
    rows += [(k.replace("_", " "), _plain(v)) for k, v in imp.items()]
    return rows
