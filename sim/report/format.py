"""Numbers as people read them, and the terminal's KPI table.

One set of formatters serves the console and the HTML report, so both show the
same figures: counts whole with thousands separators, shares in % with one
decimal, changes of shares in percentage points (pp), money in GBP thousands or
millions, probabilities in whole %. Nothing is ever shown as "-0": a value
that rounds to zero but is not zero reads "<1" (or "<0.1").
"""

from __future__ import annotations

import math

import pandas as pd

from sim.outputs import schema

#: metric -> label, in the order shown
HEADLINE = {
    "ae_attendances": "A&E attendances",
    "ae_4h_performance": "A&E 4-hour performance",
    "ae_12h_share": "A&E: share over 12 hours from arrival",
    "community_managed": "Crises managed in the community",
    "same_day_managed": "  by same-day access in general practice",
    "emergency_admissions": "Emergency admissions",
    "readmissions_30d": "Readmissions within 30 days",
    "bed_days": "Acute bed days",
    "mean_los_days": "Mean length of stay (days)",
    "mean_bed_occupancy": "Mean bed occupancy",
    "peak_bed_occupancy": "Peak bed occupancy",
    "boarding_hours": "Hours boarding in A&E",
    "dtoc_days": "Delayed transfer of care days",
    "dtoc_days_nhs": "  attributed to NHS",
    "dtoc_days_social_care": "  attributed to social care",
    "dtoc_days_both": "  attributed to both",
    "delayed_patients": "Patients delayed",
    "nctr_days": "Bed days past the discharge-ready date",
    "nctr_mean_patients": "Patients past their discharge-ready date (mean)",
    "drd_mean_delay_days": "Mean days from discharge-ready date to discharge",
    "emergency_admissions_per_1000_pop": "Admissions per 1,000 registered",
    "emergency_admissions_65plus_per_1000_65plus": "Admissions 65+ per 1,000 aged 65+",
    "cost_total": "Total cost, all budgets",
}

#: how a value is written: count, share, gbp, rate or quantity (see :func:`kind`)
KINDS = ("count", "share", "gbp", "rate", "quantity")


def missing(x: object) -> bool:
    """True for None and NaN."""
    return x is None or (isinstance(x, float) and math.isnan(x))


def row(table: pd.DataFrame, key: str | tuple[str, str]) -> pd.Series:
    """The row of ``table`` labelled ``key``, whose index must hold it once."""
    out = table.loc[key]
    if not isinstance(out, pd.Series):  # several rows: the table is not what the caller thinks
        raise KeyError(f"{key!r} labels more than one row")
    return out


def kind(metric: str) -> str:
    """How ``metric`` is written, from its unit in the output schema."""
    u = schema.unit(metric) or ""
    if u == "count":
        return "count"
    if u == "share":
        return "share"
    if u.startswith("GBP"):
        return "gbp"
    if u.startswith("per 1,000"):
        return "rate"
    return "quantity"


def rounded(x: float, decimals: int) -> str:
    """``x`` to ``decimals`` places with separators; "<1"/"<0.1" instead of a rounded zero."""
    text = f"{abs(x):,.{decimals}f}"
    if float(text.replace(",", "")) == 0.0 and x != 0.0:
        return "<" + ("1" if decimals == 0 else "0." + "0" * (decimals - 1) + "1")
    return ("-" if x < 0 and float(text.replace(",", "")) != 0.0 else "") + text


def count(x: float) -> str:
    """A count: whole, with thousands separators ("27,990", "<1", never "-0")."""
    return rounded(x, 0)


def quantity(x: float, ref: float | None = None) -> str:
    """Days, hours, beds, places: whole from 100, else one or two decimals.

    ``ref``: the value whose size sets the decimals (a CI's ends take the mean's).
    """
    size = abs(x if ref is None or missing(ref) else ref)
    return rounded(x, 0 if size >= 100 else 1 if size >= 10 else 2)


def share(x: float) -> str:
    """A share (0-1) as a percentage with one decimal ("84.2%")."""
    return rounded(100 * x, 1) + "%"


def pp(x: float) -> str:
    """A change of a share (0-1 scale) as unsigned percentage points ("2.7 pp")."""
    return rounded(abs(100 * x), 1) + " pp"


def gbp(x: float, symbol: bool = True, ref: float | None = None) -> str:
    """Money: whole pounds below 10,000, then thousands ("866k"), then millions ("2.65m").

    ``ref``: another amount shown beside this one (the other end of a range); the
    larger of the two sets the unit, so a range reads "GBP 5k to 143k", not
    "GBP 4,908 to 143k".
    """
    a = abs(x)
    size = a if ref is None or missing(ref) else max(a, abs(ref))
    if round(size) < 10_000:
        text = rounded(a, 0)
    elif round(size / 1e3) < 1_000:
        text = f"{a / 1e3:,.0f}k"
    else:
        m, big = a / 1e6, size / 1e6
        text = f"{m:,.{2 if big < 10 else 1 if big < 100 else 0}f}m"
    sign = "-" if x < 0 and text not in ("0", "<1") else ""
    return f"{sign}GBP {text}" if symbol else sign + text


def probability(p: float | None) -> str:
    """A probability in whole %: "<1%" and ">99%" unless it is exactly 0 or 1."""
    if p is None or missing(p):
        return "-"
    if p in (0.0, 1.0):
        return f"{100 * p:.0f}%"
    return "<1%" if p < 0.01 else ">99%" if p > 0.99 else f"{100 * p:.0f}%"


def value(metric: str, x: float, ref: float | None = None) -> str:
    """One value of ``metric`` in its unit (see :data:`KINDS`); ``ref`` as in :func:`quantity`."""
    if missing(x):
        return "-"
    k = kind(metric)
    if k == "count":
        return count(x)
    if k == "share":
        return share(x)
    if k == "gbp":
        return gbp(x)
    if k == "rate":
        return rounded(x, 1)
    return quantity(x, ref)


def value_range(metric: str, lo: float, hi: float, mean: float | None = None) -> str:
    """A confidence interval of ``metric`` ("104,504 to 105,873"); "" without one.

    ``mean``: the estimate, whose size sets the decimals of both ends.
    """
    if missing(lo) or missing(hi):
        return ""
    if kind(metric) == "gbp":
        return f"{gbp(lo, ref=hi)} to {gbp(hi, symbol=False, ref=lo)}"
    return f"{value(metric, lo, mean)} to {value(metric, hi, mean)}"


def kpi_cells(metric: str, row: pd.Series) -> tuple[str, str]:
    """(mean, CI) texts of one row of a summary: the console's and the report's."""
    return value(metric, row["mean"]), value_range(
        metric, row["ci_low"], row["ci_high"], row["mean"]
    )


CI_NOTE = (
    "95% confidence intervals across replications; for quantities that cannot be negative "
    "the interval is computed on the log scale (delta method), so it never goes below zero."
)


def kpi_table(summary: pd.DataFrame, metrics: dict[str, str] | None = None) -> str:
    """Format a summary (from :func:`sim.experiment.summarise`) as aligned text."""
    metrics = metrics or HEADLINE
    rows = []
    by = summary.set_index("metric")
    for m, label in metrics.items():
        if m not in by.index:
            continue
        rows.append((label, *kpi_cells(m, row(by, m))))
    if not rows:
        return "(no KPIs)"
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in [*rows, ("", "mean", "")])
    lines = [f"{'':{w0}}  {'mean':>{w1}}  95% CI", f"{'-' * w0}  {'-' * w1}  {'-' * 24}"]
    lines += [f"{a:{w0}}  {b:>{w1}}  {c}".rstrip() for a, b, c in rows]
    if "ci_method" in by.columns and (by["ci_method"] == "log").any():
        import textwrap

        lines += ["", *textwrap.wrap(CI_NOTE, 100)]
    return "\n".join(lines)
