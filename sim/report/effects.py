"""Effects in words: the one sign convention of the console and the report.

An effect from :func:`sim.experiment.compare.headline` is stated as a benefit
(admissions avoided, bed days saved, net saving, rise in 4-hour performance). An
effect that goes the other way is written with the opposite word ("9 added",
"GBP 1.27m extra"), never as a negative "avoided".
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from sim.experiment.compare import effect_spec
from sim.report import format as fmt

SIGN_CONVENTION = (
    "Every effect is stated as a benefit of the scenario over the baseline: admissions "
    "avoided, bed days saved, money saved, performance better. An effect that goes the other "
    'way says so ("added", "extra", "worse"). P(better) is the probability that the effect is '
    "a benefit, from the t distribution of the paired differences."
)


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


def effect_cells(r: pd.Series | dict[str, Any], interval: str = "CI") -> dict[str, str]:
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
        "flag": f"{interval} includes no effect" if includes_no_effect(lo, hi) else "",
    }


def effects_table(
    effects: pd.DataFrame,
    baseline: str | None = None,
    note: list[str] | None = None,
    interval: str = "CI",
) -> str:
    """Plain-text table of effects as benefits: estimate, 95% CI, relative change, P(better).

    ``note`` replaces the heading lines (how the estimates and intervals were made);
    ``interval`` names the intervals ("CI", or "range" for a PSA's).
    """
    if effects.empty:
        return "(no scenarios to compare)"
    head = {
        "effect": "effect",
        "estimate": "estimate",
        "ci": f"95% {interval}",
        "relative": "relative",
        "p_better": "P(better)",
        "flag": "",
    }
    cells = [effect_cells(r, interval) for _, r in effects.iterrows()]
    w = {k: max(len(c[k]) for c in [*cells, head]) for k in head}
    import textwrap

    against = f" against {baseline!r}" if baseline else ""
    if note is None:
        lines = [f"Effects{against}: mean of paired differences by replication, with 95% CI."]
        lines += textwrap.wrap(SIGN_CONVENTION, 100)
    else:
        lines = list(note)
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
