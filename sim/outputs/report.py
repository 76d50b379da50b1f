"""A readable KPI table for the terminal: headline metrics with 95% CIs."""

from __future__ import annotations

import math

import pandas as pd

#: metric -> label, in the order shown
HEADLINE = {
    "ae_attendances": "A&E attendances",
    "ae_4h_performance": "A&E 4-hour performance",
    "community_managed": "Crises managed in the community",
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
    "emergency_admissions_per_1000_pop": "Admissions per 1,000 registered",
    "emergency_admissions_65plus_per_1000_65plus": "Admissions 65+ per 1,000 aged 65+",
}

_SHARES = {"ae_4h_performance", "mean_bed_occupancy", "peak_bed_occupancy"}


def _fmt(metric: str, x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if metric in _SHARES:
        return f"{100 * x:.1f}%"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:,.2f}"


def kpi_table(summary: pd.DataFrame, metrics: dict[str, str] | None = None) -> str:
    """Format a summary (from :func:`sim.experiment.summarise`) as aligned text."""
    metrics = metrics or HEADLINE
    rows = []
    by = summary.set_index("metric")
    for m, label in metrics.items():
        if m not in by.index:
            continue
        r = by.loc[m]
        ci = "" if pd.isna(r["ci_low"]) else f"{_fmt(m, r['ci_low'])} to {_fmt(m, r['ci_high'])}"
        rows.append((label, _fmt(m, r["mean"]), ci))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in [*rows, ("", "mean", "")])
    lines = [f"{'':{w0}}  {'mean':>{w1}}  95% CI", f"{'-' * w0}  {'-' * w1}  {'-' * 24}"]
    lines += [f"{a:{w0}}  {b:>{w1}}  {c}" for a, b, c in rows]
    return "\n".join(lines)
