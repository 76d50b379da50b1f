"""A self-contained HTML report of a run or a scenario comparison.

One file, plots embedded as PNG data, no scripts or external assets, so it can
be e-mailed to a board. Sections: the scenarios and what each changes from the
baseline configuration; headline KPIs with 95% CIs; effects as paired
differences; plots; costs by budget holder and cost-effectiveness; and a
STRESS-DES summary of how the experiment was run.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
from typing import Any

import pandas as pd

from sim.config.build import to_dict
from sim.experiment.compare import compare, headline
from sim.experiment.runner import RunResult
from sim.outputs.report import HEADLINE as KPI_LABELS
from sim.report import plots

CSS = """
body{font-family:system-ui,Segoe UI,Arial,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{color:#005eb8} h2{border-bottom:2px solid #005eb8;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th:first-child,td:first-child{text-align:left} th{background:#e8edee}
img{max-width:100%;display:block;margin:1em 0} .note{color:#555;font-size:.9em}
code{background:#f3f3f3;padding:0 .2em}
"""


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict):
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else k))
        return out
    return {prefix: d}


def config_changes(cfg, base_cfg) -> list[tuple[str, Any, Any]]:
    """(field, baseline value, scenario value) for every field that differs."""
    a, b = _flatten(to_dict(base_cfg)), _flatten(to_dict(cfg))
    skip = ("name", "description", "compare", "report")
    return [
        (k, a.get(k), b.get(k))
        for k in sorted(set(a) | set(b))
        if a.get(k) != b.get(k) and not k.startswith(skip)
    ]


def _img(fig) -> str:
    data = base64.b64encode(plots.png_bytes(fig)).decode()
    return f'<img alt="plot" src="data:image/png;base64,{data}">'


def _table(df: pd.DataFrame, fmt: dict[str, str] | None = None) -> str:
    fmt = fmt or {}
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for _, r in df.iterrows():
        cells = []
        for c in df.columns:
            v = r[c]
            if isinstance(v, float):
                text = "-" if pd.isna(v) else format(v, fmt.get(c, ",.1f"))
            else:
                text = html.escape(str(v))
            cells.append(f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _kpi_table(results: dict[str, RunResult]) -> str:
    rows = []
    for name, res in results.items():
        s = res.summary().set_index("metric")
        row = {"scenario": name}
        for m, label in KPI_LABELS.items():
            if m in s.index:
                r = s.loc[m]
                share = m in ("ae_4h_performance", "mean_bed_occupancy", "peak_bed_occupancy")
                if share:

                    def f(x: float) -> str:
                        return f"{100 * x:.1f}%"
                else:

                    def f(x: float) -> str:
                        return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"

                ci = "" if pd.isna(r["ci_low"]) else f" ({f(r['ci_low'])}-{f(r['ci_high'])})"
                row[label.strip()] = f(r["mean"]) + ci
        rows.append(row)
    return _table(
        pd.DataFrame(rows)
        .set_index("scenario")
        .T.reset_index()
        .rename(columns={"index": "KPI (mean, 95% CI)"})
    )


def _stress(meta: dict[str, Any]) -> str:
    items = []
    for section, content in meta.items():
        items.append(f"<h3>{html.escape(section.replace('_', ' '))}</h3><ul>")
        for k, v in content.items():
            text = ", ".join(f"{a}: {b}" for a, b in v.items()) if isinstance(v, dict) else v
            if isinstance(v, list):
                text = ", ".join(map(str, v))
            items.append(f"<li><b>{html.escape(k)}</b>: {html.escape(str(text))}</li>")
        items.append("</ul>")
    return "".join(items)


def build(
    results: dict[str, RunResult],
    baseline: str | None = None,
    title: str = "neighbourhood-sim report",
    capacity_curve=None,
) -> str:
    """The report as an HTML string."""
    from sim.costs import cost_effectiveness
    from sim.experiment.metadata import stress_des

    names = list(results)
    baseline = baseline or names[0]
    base = results[baseline]
    kpis = pd.concat([r.kpis for r in results.values()], ignore_index=True)
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='note'>Generated {_dt.date.today().isoformat()}; "
        f"{len(base.replications)} replications of {base.config.run.measured_days} days "
        f"after {base.config.run.warmup_days} warm-up days, seed {base.config.run.seed}. "
        "Figures are means with 95% confidence intervals across replications.</p>",
    ]
    parts.append("<h2>Scenarios</h2><ul>")
    for name, res in results.items():
        changes = config_changes(res.config, base.config) if name != baseline else []
        what = "; ".join(
            f"<code>{html.escape(k)}</code>: {html.escape(str(a))} &rarr; {html.escape(str(b))}"
            for k, a, b in changes[:12]
        )
        more = f" (and {len(changes) - 12} more)" if len(changes) > 12 else ""
        parts.append(
            f"<li><b>{html.escape(name)}</b> - {html.escape(res.config.description)}"
            + (f"<br><span class='note'>changes: {what}{more}</span>" if what else "")
            + "</li>"
        )
    parts.append("</ul><h2>Key performance indicators</h2>" + _kpi_table(results))
    if len(results) > 1:
        eff = headline(compare(kpis, baseline), baseline)
        parts.append(
            f"<h2>Effects against {html.escape(baseline)}</h2>"
            "<p class='note'>Paired differences by replication (common random "
            "numbers): positive = saved or avoided.</p>"
        )
        parts.append(
            _table(
                eff[["scenario", "effect", "estimate", "ci_low", "ci_high", "relative_change"]],
                {"relative_change": "+.1%"},
            )
        )
        parts.append(_img(plots.effects(eff)))
    parts.append("<h2>Beds and delays</h2>")
    parts.append(
        _img(
            plots.occupancy(base.daily, base.config.beds.acute, f"Acute bed occupancy - {baseline}")
        )
    )
    parts.append(_img(plots.delayed_by_week(base.daily, f"Delayed days by week - {baseline}")))
    parts.append(f"<h2>Costs (GBP, {html.escape(base.config.costs.price_year)} prices)</h2>")
    cost_cols = [
        "cost_acute_trust",
        "cost_community_health",
        "cost_social_care",
        "cost_nhs",
        "cost_pooled",
        "cost_aligned",
        "cost_total",
    ]
    costs = kpis.groupby("scenario", sort=False)[cost_cols].mean().reset_index()
    parts.append(_table(costs, dict.fromkeys(cost_cols, ",.0f")))
    parts.append(_img(plots.costs_by_holder(kpis)))
    if len(results) > 1:
        ce = cost_effectiveness(kpis, baseline)
        parts.append(
            "<h3>Cost-effectiveness and cost shift</h3>"
            + _table(ce, {"estimate": ",.0f", "ci_low": ",.0f", "ci_high": ",.0f"})
        )
    if capacity_curve is not None:
        parts.append("<h2>Capacity-cost search</h2>")
        parts.append(
            _img(
                plots.capacity_cost(
                    capacity_curve.table, capacity_curve.parameter, capacity_curve.best_value
                )
            )
        )
        parts.append(_table(capacity_curve.table))
    streams = sorted({s for r in base.replications for s in r.streams})
    wall = sum(r.wall_seconds for r in base.replications)
    parts.append("<h2>How the experiment was run (STRESS-DES 4-5)</h2>")
    parts.append(_stress(stress_des(base.config, len(base.replications), wall, streams)))
    notes = base.warnings()
    if notes:
        parts.append(
            "<h2>Notes</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>"
        )
    body = "\n".join(parts)
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head>"
        f"<body>{body}</body></html>"
    )


def build_sweep(
    tidy: pd.DataFrame,
    comparison: pd.DataFrame,
    baseline: str,
    title: str = "neighbourhood-sim sweep",
) -> str:
    """A report of a collected sweep: jobs, effects against the baseline job, costs."""
    from sim.experiment.collect import label

    tidy = tidy.assign(label=label(tidy))
    wide = (
        tidy.pivot_table(index=["label", "replication"], columns="metric", values="value")
        .reset_index()
        .rename(columns={"label": "scenario"})
    )
    eff = headline(comparison, baseline)
    jobs = (
        tidy.groupby("label")
        .agg(scenario=("scenario", "first"), replications=("replication", "nunique"))
        .reset_index()
    )
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='note'>{len(jobs)} jobs; baseline job: {html.escape(baseline)}. "
        "Effects are paired differences by replication with 95% CIs.</p>",
        "<h2>Jobs</h2>" + _table(jobs),
        "<h2>Effects against the baseline job</h2>"
        + _table(
            eff[["scenario", "effect", "estimate", "ci_low", "ci_high", "relative_change"]],
            {"relative_change": "+.1%"},
        ),
        _img(plots.effects(eff)),
        "<h2>Costs</h2>",
        _img(plots.costs_by_holder(wide)),
    ]
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head>"
        f"<body>{''.join(parts)}</body></html>"
    )


def write(path, results: dict[str, RunResult], baseline: str | None = None, **kwargs) -> None:
    """Build the report and write it atomically to ``path``."""
    from pathlib import Path

    from sim.outputs.writers import atomic_write

    text = build(results, baseline, **kwargs)
    atomic_write(Path(path), lambda p: p.write_text(text, encoding="utf-8"))
