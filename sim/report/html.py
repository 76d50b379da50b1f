"""A self-contained HTML report of a run or a scenario comparison.

One file, plots embedded as PNG data, no scripts or external assets, so it can
be e-mailed to a board; :func:`write` also writes every chart as its own PNG and
SVG file in ``figures/`` beside the report, for board papers. Sections: an
executive summary, notes, the scenarios and what each changes, KPIs with 95%
CIs, effects as benefits with CIs and probabilities, value for money
(cost-effectiveness quadrants), costs by budget holder with CIs, beds and
delays for every scenario, a KPI glossary and a STRESS-DES summary.

Every number is formatted by the same functions as the console
(:mod:`sim.report.format`, :func:`sim.report.effects.effect_cells`), so the
two agree to the digit. Tables are kept narrow enough for a 1280-px-wide page:
wide ones are split into groups of scenarios.
"""

from __future__ import annotations

import base64
import datetime as _dt
import functools
import html
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.config.build import to_dict
from sim.experiment import compare as cmp
from sim.experiment.economics import OUTCOMES, bootstrap_means, cost_effectiveness
from sim.experiment.runner import RunResult
from sim.experiment.stats import interval
from sim.outputs import schema
from sim.outputs.costs import BUDGETS
from sim.report import effects as in_words
from sim.report import format as fmt
from sim.report import plots, text
from sim.report import uncertainty as ru
from sim.report.format import HEADLINE as KPI_LABELS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sim.config.schema import Config, CostsConfig
    from sim.experiment.capacity import CapacityCostCurve
    from sim.experiment.psa import PsaResult
    from sim.experiment.sensitivity import OneWayResult

CSS = """
body{font-family:system-ui,Segoe UI,Arial,sans-serif;margin:1.5em auto;max-width:1180px;
 padding:0 1em;color:#222;line-height:1.4}
h1{color:#005eb8;margin-bottom:.2em} h2{border-bottom:2px solid #005eb8;padding-bottom:.2em;
 margin-top:1.8em} h3{margin-bottom:.3em}
table{border-collapse:collapse;margin:.8em 0;font-size:.86em;max-width:100%}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:right;vertical-align:top;
 overflow-wrap:break-word}
th{background:#e8edee;font-weight:600} th:first-child,td:first-child{text-align:left}
td.text,th.text{text-align:left} td.indent{padding-left:1.6em}
.ci{color:#555;font-size:.9em} .sub{color:#555;font-size:.85em}
td.unclear .est{color:#666;font-style:italic} .flag{color:#8a1538;font-size:.85em}
img{max-width:100%;display:block;margin:.5em 0} figure{margin:1em 0}
figcaption{color:#555;font-size:.85em}
.note{color:#555;font-size:.9em} .box{background:#fff8e5;border-left:4px solid #ffb81c;
 padding:.5em 1em;margin:1em 0} .summary li{margin:.5em 0}
code{background:#f3f3f3;padding:0 .2em} li code{overflow-wrap:anywhere}
details{margin:.6em 0} summary{cursor:pointer;color:#005eb8}
"""

#: scenario columns per table (the baseline first in each group), to fit 1280 px
COLUMNS_PER_TABLE = 6

#: the effects tables: title -> metrics (columns)
EFFECT_GROUPS = {
    "Activity": ["emergency_admissions", "ae_attendances", "bed_days", "dtoc_days"],
    "Urgent and community care": ["community_managed", "ae_ambulance_arrivals", "ae_12h_share"],
    "Delays as measured now (discharge-ready dates)": [
        "nctr_days",
        "drd_mean_delay_days",
        "drd_delayed_share",
    ],
    "Delayed transfers of care by attribution (to 2020)": [
        "dtoc_days_nhs",
        "dtoc_days_social_care",
        "dtoc_days_both",
    ],
    "Money and performance": [
        "cost_total",
        "cost_nhs",
        "cost_social_care",
        "ae_4h_performance",
        "ae_12h_share",
        "mean_bed_occupancy",
    ],
}

COST_LABELS = {
    "cost_acute_trust": "Acute trust",
    "cost_community_health": "Community health",
    "cost_ambulance_trust": "Ambulance trust",
    "cost_social_care": "Social care",
    "cost_nhs": "NHS (acute + community)",
    "cost_pooled": "Section 75 pooled budget",
    "cost_aligned": "Aligned budgets",
    "cost_total": "Total, all budgets",
}


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict):
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else k))
        return out
    return {prefix: d}


def config_changes(cfg: Config, base_cfg: Config) -> list[tuple[str, Any, Any]]:
    """(field, baseline value, scenario value) for every field that differs."""
    a, b = _flatten(to_dict(base_cfg)), _flatten(to_dict(cfg))
    skip = ("name", "description", "compare", "report")
    return [
        (k, a.get(k), b.get(k))
        for k in sorted(set(a) | set(b))
        if a.get(k) != b.get(k) and not k.startswith(skip)
    ]


# --- small HTML pieces -------------------------------------------------------------------


def _esc(x: Any) -> str:
    return html.escape(str(x))


def _name(name: str) -> str:
    """A scenario name that may wrap after underscores."""
    return _esc(name).replace("_", "_<wbr>")


def _cell(main: str, *lines: str, cls: str = "") -> str:
    """A table cell: a main figure and smaller lines under it (all already HTML)."""
    body = f"<div class='est'>{main}</div>" + "".join(
        f"<div class='ci'>{line}</div>" for line in lines if line
    )
    return f"<td class='{cls}'>{body}</td>" if cls else f"<td>{body}</td>"


def _table(head: list[str], rows: Iterable[list[str]], text_cols: Iterable[int] = ()) -> str:
    """A table from header texts (escaped here) and rows of ready-made ``<td>`` cells.

    ``text_cols``: columns of text, whose headers align left like their cells.
    """
    left = set(text_cols)
    th = "".join(
        f"<th class='text'>{_esc(h)}</th>" if i in left else f"<th>{_esc(h)}</th>"
        for i, h in enumerate(head)
    )
    body = "".join("<tr>" + "".join(r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _groups(names: list[str], baseline: str | None) -> list[list[str]]:
    """Scenario columns split into tables of at most :data:`COLUMNS_PER_TABLE`."""
    import math

    first = [baseline] if baseline in names else []
    others = [n for n in names if n not in first]
    if not others:
        return [first]
    tables = math.ceil(len(others) / (COLUMNS_PER_TABLE - len(first)))
    size = math.ceil(len(others) / tables)  # balanced: 7 others make 4 + 3, not 5 + 2
    return [[*first, *others[i : i + size]] for i in range(0, len(others), size)]


class _Doc:
    """The report's parts and figures, assembled in order."""

    def __init__(self, files: bool) -> None:
        self.parts: list[str] = []
        self.figures: dict[str, tuple[Figure, bytes]] = {}
        self.files = files

    def add(self, *parts: str) -> None:
        self.parts.extend(parts)

    def figure(self, name: str, fig: Figure, caption: str) -> None:
        png = plots.png_bytes(fig)
        data = base64.b64encode(png).decode()
        self.figures[name] = (fig, png)
        where = (
            f" <span class='note'>(also <code>figures/{name}.png</code> and "
            f"<code>.svg</code>)</span>"
            if self.files
            else ""
        )
        self.add(
            f"<figure><img alt='{_esc(caption)}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{_esc(caption)}{where}</figcaption></figure>"
        )

    def html(self, title: str) -> str:
        body = "\n".join(self.parts)
        return (
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{_esc(title)}</title><style>{CSS}</style></head>"
            f"<body>{body}</body></html>"
        )

    def write(self, path: Path, title: str) -> list[Path]:
        """Write every figure (PNG and SVG) into ``figures/`` beside ``path``, then the page."""
        from sim.outputs.writers import atomic_write

        written = []
        folder = path.parent / "figures"
        for name, (fig, png) in self.figures.items():
            # the PNG embedded in the page, byte for byte; the SVG drawn once more
            atomic_write(folder / f"{name}.png", functools.partial(Path.write_bytes, data=png))
            written += [folder / f"{name}.png", plots.save(fig, folder / f"{name}.svg")]
        page = self.html(title)
        atomic_write(path, lambda p: p.write_text(page, encoding="utf-8"))
        return [*written, path]


# --- sections ------------------------------------------------------------------------------


def _kpi_tables(summaries: dict[str, pd.DataFrame], baseline: str | None) -> str:
    """KPIs (rows) by scenario (columns), mean over its 95% CI, in groups of scenarios."""
    indexed = {n: s.set_index("metric") for n, s in summaries.items()}
    out = []
    for group in _groups(list(summaries), baseline):
        rows = []
        for m, label in KPI_LABELS.items():
            if not any(m in indexed[n].index for n in group):
                continue
            indent = " class='indent'" if label.startswith(" ") else ""
            cells = [f"<td{indent}>{_esc(label.strip())}</td>"]
            for n in group:
                if m not in indexed[n].index:
                    cells.append("<td>-</td>")
                    continue
                mean, ci = fmt.kpi_cells(m, fmt.row(indexed[n], m))
                cells.append(_cell(_esc(mean), _esc(ci)))
            rows.append(cells)
        head = ["KPI (mean; 95% CI below)", *group]
        out.append(_table(head, rows))
    return "".join(out)


def _effect_cell(r: pd.Series, interval: str = "CI") -> str:
    c = in_words.effect_cells(r, interval)
    p_better = f"P(better) {_esc(c['p_better'])}" if c["p_better"] else ""
    sub = " &middot; ".join(x for x in (_esc(c["relative"]), p_better) if x)
    flag = f"<span class='flag'>{_esc(c['flag'])}</span>" if c["flag"] else ""
    return _cell(_esc(c["estimate"]), _esc(c["ci"]), sub, flag, cls="unclear" if c["flag"] else "")


def _effects_tables(effects: pd.DataFrame, interval: str = "CI") -> str:
    """Effects (columns) by scenario (rows), one table per group of :data:`EFFECT_GROUPS`."""
    out = []
    by = effects.set_index(["scenario", "metric"], drop=False)
    scenarios = list(dict.fromkeys(effects["scenario"]))
    for title, metrics in EFFECT_GROUPS.items():
        metrics = [m for m in metrics if m in set(effects["metric"])]
        if not metrics:
            continue
        rows = []
        for s in scenarios:
            cells = [f"<td>{_name(s)}</td>"]
            for m in metrics:
                cells.append(
                    _effect_cell(by.loc[(s, m)], interval) if (s, m) in by.index else "<td>-</td>"
                )
            rows.append(cells)
        head = ["scenario", *[cmp.effect_spec(m).label for m in metrics]]
        out.append(f"<h3>{_esc(title)}</h3>" + _table(head, rows))
    return "".join(out)


def _ce_table(ce: pd.DataFrame, effects: pd.DataFrame) -> str:
    """Per scenario: net cost change, P(saves money), and per outcome quadrant and ratio."""
    cost = effects[effects["metric"] == "cost_total"].set_index("scenario")
    rows = []
    for scen, df in ce.groupby("scenario", sort=False):
        cells = [f"<td>{_name(str(scen))}</td>"]
        if scen in cost.index:
            r = fmt.row(cost, str(scen))
            c = in_words.effect_cells(r)
            flag = f"<span class='flag'>{_esc(c['flag'])}</span>" if c["flag"] else ""
            p = fmt.probability(df["p_saves_money"].iloc[0])
            cells.append(
                _cell(_esc(c["estimate"]), _esc(c["ci"]), f"P(saves money) {_esc(p)}", flag)
            )
        else:
            cells.append("<td>-</td>")
        for _, r in df.iterrows():
            t = text.cost_effect_cell(r)
            flag = f"<span class='flag'>{_esc(t['uncertain'])}</span>" if t["uncertain"] else ""
            cells.append(
                "<td class='text'>"
                f"<div class='est'>{_esc(t['quadrant'])}</div>"
                f"<div class='ci'>{_esc(t['gain'])}; P(improves) {_esc(t['p_gain'])}</div>"
                f"<div class='ci'>{_esc(t['ratio'])}</div>{flag}</td>"
            )
        rows.append(cells)
    outcomes = [OUTCOMES[o].noun if o in OUTCOMES else o for o in dict.fromkeys(ce["outcome"])]
    head = ["scenario", "net cost (95% CI)", *[f"on {o}" for o in outcomes]]
    return _table(head, rows, text_cols=range(2, 2 + len(outcomes)))


CE_CONVENTION = (
    "Each scenario is placed on the cost-effectiveness plane by its change in total cost "
    "and its gain in an outcome: <b>dominant</b> (saves money and improves), "
    "<b>dominated</b> (costs more and worsens), or one of the two trade-offs (costs more "
    "and improves; saves money and worsens). The placement is that of the point estimate; "
    "the share of 2,000 paired bootstrap resamples of the replications in the same quadrant "
    "says how sure it is, and it is marked uncertain when the CI of the cost change or of "
    "the gain includes zero. A net cost per unit gained is given only when the scenario "
    "costs more and its gain is positive with a 95% CI above zero; its CI is the bootstrap "
    "percentile interval. Otherwise the cell says why there is none. P(saves money) and "
    "P(improves) come from the t distribution of the paired differences, as the CIs do."
)


def _cost_tables(kpis: pd.DataFrame, comparison: pd.DataFrame | None, baseline: str | None) -> str:
    """Cost by budget (rows) and scenario (columns) with CIs, then savings with CIs."""
    names = list(dict.fromkeys(kpis["scenario"]))
    budgets = [c for c in COST_LABELS if c in kpis.columns]
    out = []
    for group in _groups(names, baseline):
        rows = []
        for c in budgets:
            cells = [f"<td>{_esc(COST_LABELS[c])}</td>"]
            for n in group:
                x = kpis.loc[kpis["scenario"] == n, c].to_numpy(dtype=float)
                mean, _, lo, hi, _ = interval(c, x)
                cells.append(_cell(_esc(fmt.gbp(mean)), _esc(fmt.value_range(c, lo, hi, mean))))
            rows.append(cells)
        out.append(_table(["budget (mean; 95% CI below)", *group], rows))
    if comparison is not None and baseline is not None:
        savings = cmp.headline(comparison, baseline, budgets)
        by = savings.set_index(["scenario", "metric"], drop=False)
        scen = list(dict.fromkeys(savings["scenario"]))
        holders = [
            c
            for c in budgets
            if c
            in (
                "cost_acute_trust",
                "cost_community_health",
                "cost_ambulance_trust",
                "cost_social_care",
                "cost_total",
            )
        ]
        pooled = [c for c in budgets if c not in holders]
        out.append(
            f"<h3>Saving against {_esc(baseline)}, by budget</h3><p class='note'>"
            "Paired differences by replication, stated as savings; a cost increase reads "
            "&quot;extra&quot;.</p>"
        )
        for cols in (holders, pooled):
            if not cols:
                continue
            rows = [
                [f"<td>{_name(s)}</td>"]
                + [
                    _effect_cell(by.loc[(s, c)]) if (s, c) in by.index else "<td>-</td>"
                    for c in cols
                ]
                for s in scen
            ]
            out.append(_table(["scenario", *[COST_LABELS[c] for c in cols]], rows))
    lines = [c for c in kpis.columns if c.startswith("cost_") and c not in COST_LABELS]
    if lines:
        parts = []
        for group in _groups(names, baseline):
            rows = []
            for c in lines:
                cells = [f"<td><code>{_esc(c)}</code></td>"]
                for n in group:
                    cells.append(_cell(_esc(fmt.gbp(kpis.loc[kpis["scenario"] == n, c].mean()))))
                rows.append(cells)
            parts.append(_table(["cost line (mean)", *group], rows))
        out.append(
            "<details><summary>Cost by line (means over replications)</summary>"
            + "".join(parts)
            + "</details>"
        )
    return "".join(out)


def _partners(kpis: pd.DataFrame) -> list[str]:
    """The section 75 partners of the results, in the order of their columns."""
    return [
        c.removeprefix("budget_").removesuffix("_cost")
        for c in kpis.columns
        if c.startswith("budget_") and c.endswith("_cost")
    ]


def _rule_text(costs: CostsConfig) -> str:
    """The risk-share rule in words, with the shares it gives."""
    b = costs.budgets
    if b.risk_share == "own_lines":
        return (
            "each partner bears the over- or underspend of the pooled lines it commissions, "
            "beyond its own contribution"
        )
    if b.risk_share == "fixed":
        shares = ", ".join(f"{p.name} {fmt.share(p.fixed_share)}" for p in b.partners)
        return f"shared in fixed shares ({shares})"
    total = sum(p.contribution_gbp_m for p in b.partners)
    shares = ", ".join(
        f"{p.name} {fmt.share(p.contribution_gbp_m / total) if total > 0 else '-'}"
        for p in b.partners
    )
    return f"shared in proportion to the partners' contributions ({shares})"


def _budget_section(
    kpis: pd.DataFrame,
    comparison: pd.DataFrame | None,
    baseline: str | None,
    costs: CostsConfig | None = None,
) -> str:
    """The section 75 budgets: what is pooled and aligned, the pool against its
    envelope, each partner's contribution, risk share, aligned lines and cost, and
    the cost shift between partners against the baseline."""
    partners = _partners(kpis)
    if "budget_pooled_envelope" not in kpis.columns or not partners:
        return ""
    names = list(dict.fromkeys(kpis["scenario"]))
    out = []
    if costs is not None:
        from sim.config.schema import COST_LINES

        lines = {b: [n for n in COST_LINES if getattr(costs, n).budget == b] for b in BUDGETS}
        listed = {
            b: ", ".join(f"<code>{_esc(n)}</code>" for n in v) or "none" for b, v in lines.items()
        }
        b = costs.budgets
        contributions = ", ".join(
            f"{_esc(p.name)} GBP {p.contribution_gbp_m:,.6g}m" for p in b.partners
        )
        out.append(
            "<p class='note'>Pooled lines: "
            f"{listed['pooled']}. Aligned lines (outside the pool): {listed['aligned']}. "
            f"The pool's envelope is the partners' contributions ({contributions} a year at "
            f"{_esc(b.price_year)} prices) x {b.modelled_share:g}, the share of the fund "
            f"for the services modelled, x the registered population / {b.source_population:,}"
            f", restated to {_esc(costs.price_year)} prices over the measured period. "
            f"An over- or underspend is {_esc(_rule_text(costs))}. A partner's cost is its "
            "contribution, its share of the over- or underspend and the aligned lines it "
            "commissions; the partners' costs add up to the total cost.</p>"
        )

    def cells(metric: str, group: list[str]) -> list[str]:
        row = []
        for n in group:
            x = kpis.loc[kpis["scenario"] == n, metric].to_numpy(dtype=float)
            mean, _, lo, hi, _ = interval(metric, x)
            # the same in every replication (a contribution): no interval to show
            ci = "" if lo == hi else fmt.value_range(metric, lo, hi, mean)
            row.append(_cell(_esc(fmt.gbp(mean)), _esc(ci)))
        return row

    pool = [
        ("Pooled spend", "cost_pooled"),
        ("Envelope", "budget_pooled_envelope"),
        ("Overspend (+) or underspend (-)", "budget_pooled_overspend"),
        ("Aligned spend (outside the pool)", "cost_aligned"),
    ]
    for group in _groups(names, baseline):
        rows = [[f"<td>{_esc(label)}</td>", *cells(m, group)] for label, m in pool if m in kpis]
        share = ["<td class='indent'>overspend as a share of the envelope</td>"]
        for n in group:
            df = kpis[kpis["scenario"] == n]
            env = float(df["budget_pooled_envelope"].mean())
            over = float(df["budget_pooled_overspend"].mean())
            share.append(f"<td>{_esc(fmt.share(over / env))}</td>" if env > 0 else "<td>-</td>")
        rows.insert(3, share)
        out.append(_table(["pooled budget (mean; 95% CI below)", *group], rows))
    items = [
        ("contribution", "contribution"),
        ("risk_share", "share of the over- or underspend"),
        ("aligned", "aligned lines it commissions"),
        ("cost", "cost to the partner"),
    ]
    for group in _groups(names, baseline):
        rows = []
        for p in partners:
            for key, label in items:
                m = f"budget_{p}_{key}"
                if m not in kpis:
                    continue
                first = key == "contribution"
                name = f"<b>{_esc(p)}</b>: " if first else ""
                cls = "" if first else " class='indent'"
                rows.append([f"<td{cls}>{name}{_esc(label)}</td>", *cells(m, group)])
        out.append(_table(["partner (mean; 95% CI below)", *group], rows))
    if comparison is not None and baseline is not None:
        metrics = [f"budget_{p}_cost" for p in partners]
        shift = cmp.headline(comparison, baseline, metrics)
        if not shift.empty:
            by = shift.set_index(["scenario", "metric"], drop=False)
            rows = [
                [f"<td>{_name(s)}</td>"]
                + [
                    _effect_cell(by.loc[(s, m)]) if (s, m) in by.index else "<td>-</td>"
                    for m in metrics
                ]
                for s in dict.fromkeys(shift["scenario"])
            ]
            out.append(
                f"<h3>Cost shift between partners against {_esc(baseline)}</h3><p class='note'>"
                "Paired differences of each partner's cost by replication, stated as savings; "
                "a cost increase reads &quot;extra&quot;. They add up to the net saving of all "
                "budgets: a saving to one partner with extra cost to another is a cost shift."
                "</p>" + _table(["scenario", *[cmp.effect_spec(m).label for m in metrics]], rows)
            )
    return "".join(out)


def _saving_rows(comparison: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Savings by budget per scenario, for :func:`sim.report.plots.cost_savings`."""
    cols = [
        c
        for c in ("cost_nhs", "cost_social_care", "cost_pooled", "cost_aligned", "cost_total")
        if c in set(comparison["metric"])
    ]
    s = cmp.headline(comparison, baseline, cols)
    return s.assign(budget=s["metric"].map(COST_LABELS))


def _reason_table(kpis: pd.DataFrame, comparison: pd.DataFrame | None, baseline: str | None) -> str:
    """Delayed days by NHS England reason (every ``dtoc_days_reason_*`` column)."""
    reasons = sorted(c for c in kpis.columns if c.startswith("dtoc_days_reason_"))
    if not reasons:
        return ""
    rows = [(c, c.removeprefix("dtoc_days_reason_").replace("_", " ")) for c in reasons]
    return "<h3>Delayed days by reason (codes A-I)</h3>" + _metric_table(
        kpis, comparison, baseline, rows, "delay reason (days; 95% CI)"
    )


#: the current measures of delay shown in the report: metric -> label
DRD_ROWS = {
    "nctr_mean_patients": "patients past their DRD, mean at a time",
    "nctr_mean_patients_p0": "  on P0 (home, no new support)",
    "nctr_mean_patients_p1": "  on P1 (home with care)",
    "nctr_mean_patients_p2": "  on P2 (community bed)",
    "nctr_mean_patients_p3": "  on P3 (care home)",
    "drd_discharges": "discharges after a DRD",
    "drd_mean_delay_days": "mean days from DRD to discharge (0-day delays included)",
    "drd_mean_delay_days_delayed": "mean days, delayed discharges only",
    "drd_delayed_share": "discharged 1 or more days after the DRD",
    "drd_mean_delay_days_p1": "mean days from DRD, P1",
    "drd_mean_delay_days_p2": "mean days from DRD, P2",
    "drd_mean_delay_days_p3": "mean days from DRD, P3",
    "drd_bed_days_lost": "bed days lost to delayed discharge",
}


def _delay_views(kpis: pd.DataFrame, comparison: pd.DataFrame | None, baseline: str | None) -> str:
    """The current national measures (discharge-ready dates): by pathway, by
    the publication's bands and by the SitRep's reason groups."""
    if "nctr_days" not in kpis.columns:
        return ""
    out = [
        "<h3>Delays as measured now: the discharge-ready date</h3>",
        "<p class='note'>A patient's discharge-ready date (DRD) is the day they no longer "
        "meet the criteria to reside; in the model, the ward round that declares them fit. "
        "NHS England counts patients past their DRD still in a bed (daily discharge SitRep) "
        "and, for each discharge, the whole days from the DRD to discharge (monthly "
        "'Timeliness of Acute Hospital Discharges'). These counts include pathway-0 patients "
        "waiting for the ward to discharge them, which delayed transfers of care never "
        "counted; no current collection attributes delays to the NHS or social care.</p>",
        _metric_table(
            kpis,
            comparison,
            baseline,
            [(m, label) for m, label in DRD_ROWS.items() if m in kpis.columns],
            "measure (95% CI)",
        ),
    ]
    bands = [c for c in kpis.columns if c.startswith("drd_discharges_delay_")]
    if bands:
        rows = [
            (c, c.removeprefix("drd_discharges_delay_").replace("_", "-").replace("-plus", "+"))
            for c in bands
        ]
        out += [
            "<h4>Discharges by whole days from the DRD (the publication's bands)</h4>",
            _metric_table(kpis, comparison, baseline, rows, "days from DRD (discharges; 95% CI)"),
        ]
    reasons = [c for c in kpis.columns if c.startswith("nctr_days_reason_")]
    reasons = [c for c in reasons if not c.endswith("_not_recorded")]
    if reasons:
        rows = [(c, c.removeprefix("nctr_days_reason_").replace("_", " ")) for c in reasons]
        out += [
            "<h4>Bed days past the DRD by the SitRep's reason groups</h4>",
            _metric_table(kpis, comparison, baseline, rows, "reason group (bed days; 95% CI)"),
        ]
    return "".join(out)


def _metric_table(
    kpis: pd.DataFrame,
    comparison: pd.DataFrame | None,
    baseline: str | None,
    rows_of: list[tuple[str, str]],
    head: str,
) -> str:
    """One row per metric (label), one column per scenario: mean, 95% CI and the
    change from the baseline."""
    if not rows_of:
        return ""
    metrics = [m for m, _ in rows_of]
    by = None
    if comparison is not None and baseline is not None:
        eff = cmp.headline(comparison, baseline, metrics)
        by = eff.set_index(["scenario", "metric"], drop=False) if not eff.empty else None
    names = list(dict.fromkeys(kpis["scenario"]))
    out = []
    for group in _groups(names, baseline):
        rows = []
        for c, label in rows_of:
            cells = [f"<td>{_esc(label)}</td>"]
            for n in group:
                x = kpis.loc[kpis["scenario"] == n, c].to_numpy(dtype=float)
                mean, _, lo, hi, _ = interval(c, x)
                change = ""
                if by is not None and (n, c) in by.index:
                    change = in_words.estimate_text(c, fmt.row(by, (n, c))["estimate"])
                    change = f"vs baseline: {change}"
                cells.append(
                    _cell(
                        _esc(fmt.value(c, mean)),
                        _esc(fmt.value_range(c, lo, hi, mean)),
                        _esc(change),
                    )
                )
            rows.append(cells)
        out.append(_table([head, *group], rows))
    return "".join(out)


#: glossary labels of KPI name patterns
PATTERN_LABELS = {
    "cost_*": "Costs (every cost_ column: lines, budget holders, budgets, total)",
    "dtoc_days_reason_*": "Delayed days by reason",
    "nctr_days_reason_*": "Bed days past the DRD by reason group",
    "drd_discharges_delay_*": "Discharges by whole days from the DRD",
    "nctr_mean_patients_p*": "Patients past their DRD, by pathway",
    "drd_mean_delay_days_p*": "Mean days from DRD to discharge, by pathway",
    "budget_*_contribution": "Partner's contribution to the pooled envelope",
    "budget_*_risk_share": "Partner's share of the pooled over- or underspend",
    "budget_*_aligned": "Aligned lines a partner commissions",
    "budget_*_cost": "Cost to a partner",
}


def _glossary(metrics: Iterable[str]) -> str:
    """Unit and meaning of every KPI shown; KPIs documented by one pattern share a row."""
    rows: list[tuple[str, ...]] = []
    patterns: dict[str, tuple[str, str]] = {}
    for m in dict.fromkeys(metrics):
        entry = schema.spec(m)
        if entry is None:
            continue
        if m not in schema.KPIS:
            pat = next(p for p in schema.KPIS if "*" in p and schema.spec(m) == schema.KPIS[p])
            patterns.setdefault(pat, entry)
            continue
        label = KPI_LABELS.get(m) or COST_LABELS.get(m) or cmp.effect_spec(m).noun
        rows.append((label.strip(), m, *entry))
    rows += [(PATTERN_LABELS.get(p, p), p, *e) for p, e in patterns.items()]
    cells = [
        [f"<td>{_esc(a)}</td>"]
        + [f"<td class='text'>{x}</td>" for x in (f"<code>{_name(b)}</code>", _esc(c), _esc(d))]
        for a, b, c, d in rows
    ]
    return _table(["KPI", "column", "unit", "meaning"], cells, text_cols=[1, 2, 3])


def _stress(meta: dict[str, Any]) -> str:
    rows = [
        [f"<td>{_esc(k)}</td>", f"<td class='text'>{_esc(v)}</td>"]
        for k, v in text.stress_rows(meta)
    ]
    return (
        "<p>The items of the STRESS-DES reporting guideline (Monks et al. 2019) on how the "
        "experiment was run (section 4) and implemented (section 5). The full record, "
        "including every random stream, is in <code>run.json</code> and "
        "<code>seeds.csv</code> beside this report.</p>"
        + _table(["item", "how"], rows, text_cols=[1])
    )


def _summary_section(
    effects: pd.DataFrame | None,
    ce: pd.DataFrame | None,
    period: str,
    n: int,
    alone: tuple[str, pd.DataFrame] | None = None,
) -> str:
    """Per compared scenario one or two sentences; for a scenario run alone, its headline KPIs.

    ``alone``: (name, summary table) of a run without comparisons.
    """
    one = (
        "<p class='box'>With one replication no confidence interval or probability can be "
        "given; run more replications before drawing conclusions.</p>"
        if n < 2
        else ""
    )
    if effects is None or effects.empty:
        if alone is None:
            return ""
        name, summary = alone
        sentence = text.kpi_summary(name, summary, period)
        return (
            f"<h2>Summary</h2>{one}<p><b>{_name(name)}</b>{_esc(sentence.removeprefix(name))}</p>"
        )
    items = []
    for scen in dict.fromkeys(effects["scenario"]):
        e = effects[effects["scenario"] == scen]
        c = ce[ce["scenario"] == scen] if ce is not None else pd.DataFrame()
        sentence = text.scenario_summary(scen, e, c, period)
        rest = sentence.removeprefix(scen)
        items.append(f"<li><b>{_name(scen)}</b>{_esc(rest)}</li>")
    return (
        "<h2>Summary</h2><p class='note'>Headline effects against the baseline with 95% "
        "confidence intervals; an effect whose interval includes no effect is said so.</p>"
        + one
        + f"<ul class='summary'>{''.join(items)}</ul>"
    )


def _notes(results: dict[str, RunResult], baseline: str) -> str:
    seen: dict[str, list[str]] = {}
    for name, res in results.items():
        for note in res.warnings():
            seen.setdefault(note, []).append(name)
    if not seen:
        return ""
    items = []
    for note, names in seen.items():
        who = "" if len(names) == len(results) else f"<b>{_esc(', '.join(names))}</b>: "
        items.append(f"<li>{who}{_esc(note)}</li>")
    return f"<div class='box'><b>Notes</b><ul>{''.join(items)}</ul></div>"


def _scenarios(results: dict[str, RunResult], baseline: str) -> str:
    base = results[baseline]
    items = []
    for name, res in results.items():
        changes = config_changes(res.config, base.config) if name != baseline else []
        what = "; ".join(
            f"<code>{_esc(k)}</code>: {_esc(a)} &rarr; {_esc(b)}" for k, a, b in changes[:12]
        )
        more = f" (and {len(changes) - 12} more)" if len(changes) > 12 else ""
        items.append(
            f"<li><b>{_name(name)}</b> - {_esc(res.config.description)}"
            + (f"<br><span class='note'>changes: {what}{more}</span>" if what else "")
            + "</li>"
        )
    return "<h2>Scenarios</h2><ul>" + "".join(items) + "</ul>"


def _comparison_sections(
    doc: _Doc, kpis: pd.DataFrame, baseline: str, n_boot: int = 2000, seed: int = 1
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Effects, value for money and savings: the sections a run and a sweep share."""
    comparison = cmp.compare(kpis, baseline)
    effects = cmp.headline(comparison, baseline)
    ce = cost_effectiveness(kpis, baseline, n_boot=n_boot, seed=seed)
    doc.add(
        f"<h2>Effects against {_esc(baseline)}</h2>",
        f"<p class='box'>{_esc(in_words.SIGN_CONVENTION)} Each cell gives the estimate (mean of "
        "the paired differences by replication, common random numbers), its 95% CI, the "
        "change relative to the baseline, and P(better).</p>",
        _effects_tables(effects),
    )
    doc.figure("effects", plots.effects(effects), "Headline effects with 95% CIs")
    doc.add(
        "<h2>Value for money</h2>",
        f"<p class='note'>{CE_CONVENTION}</p>",
        _ce_table(ce, effects),
    )
    from sim.experiment.economics import paired_differences

    diffs = paired_differences(kpis, baseline, ["cost_total", *OUTCOMES])
    clouds = {s: bootstrap_means(d, n_boot, seed, s) for s, d in diffs.items() if len(d) > 1}
    if clouds:
        labels = {m: OUTCOMES[m].noun + " " + cmp.HEADLINE[m].good for m in OUTCOMES}
        doc.figure(
            "cost_effectiveness_plane",
            plots.ce_plane(clouds, labels),
            "Cost-effectiveness plane: change in total cost against admissions avoided and bed "
            "days saved, with the paired bootstrap resamples",
        )
    return comparison, effects, ce


def _run_doc(
    results: dict[str, RunResult],
    baseline: str | None,
    title: str,
    capacity_curve: CapacityCostCurve | None = None,
    files: bool = False,
    psa: PsaResult | None = None,
    tornadoes: Mapping[str, OneWayResult] | None = None,
) -> _Doc:
    from sim.experiment.metadata import stress_des

    names = list(results)
    baseline = baseline or names[0]
    base = results[baseline]
    n = len(base.replications)
    run = base.config.run
    kpis = pd.concat([r.kpis for r in results.values()], ignore_index=True)
    doc = _Doc(files)
    doc.add(
        f"<h1>{_esc(title)}</h1>",
        f"<p class='note'>Generated {_dt.date.today().isoformat()}. {n} replications of "
        f"{run.measured_days:,} days after {run.warmup_days} warm-up days, seed {run.seed}; "
        f"costs at {_esc(base.config.costs.price_year)} prices. Figures are means over "
        "replications with 95% confidence intervals.</p>",
    )
    summary_at = len(doc.parts)
    doc.add(_notes(results, baseline), _scenarios(results, baseline))
    doc.add(
        "<h2>Key performance indicators</h2>",
        f"<p class='note'>{_esc(fmt.CI_NOTE)} Shares are in %, counts whole, money in GBP "
        "(k = thousand, m = million).</p>",
        _kpi_tables({k: r.summary() for k, r in results.items()}, baseline),
    )
    comparison = effects = ce = None
    if len(results) > 1:
        comparison, effects, ce = _comparison_sections(doc, kpis, baseline)
    if psa is not None:
        _psa_section(doc, psa)
    if tornadoes:
        _tornado_section(doc, tornadoes)
    doc.add(
        f"<h2>Costs (GBP, {_esc(base.config.costs.price_year)} prices)</h2>",
        "<p class='note'>Over the measured period, by budget holder and budget (section 75 "
        "pooled or aligned).</p>",
        _cost_tables(kpis, comparison, baseline),
    )
    doc.figure("costs_by_holder", plots.costs_by_holder(kpis), "Cost by budget holder, 95% CIs")
    if comparison is not None:
        doc.figure(
            "savings_by_budget",
            plots.cost_savings(_saving_rows(comparison, baseline)),
            "Saving against the baseline by budget, 95% CIs",
        )
    budgets = _budget_section(kpis, comparison, baseline, base.config.costs)
    if budgets:
        doc.add("<h2>Budgets: the section 75 pool and the aligned budgets</h2>", budgets)
    doc.add("<h2>Beds and delays</h2>")
    dailies = {k: r.daily for k, r in results.items()}
    doc.figure(
        "occupancy",
        plots.occupancy_grid(dailies, {k: r.config.beds.acute for k, r in results.items()}),
        "Acute bed occupancy by day, every scenario (band: 95% CI of the mean)",
    )
    views = _delay_views(kpis, comparison, baseline)
    if views:
        doc.add(views)
        doc.figure(
            "nctr_by_week",
            plots.nctr_grid(dailies),
            "Bed days past the discharge-ready date per week by pathway, every scenario",
        )
    doc.add(
        "<h3>Delays as the seed documents counted them: delayed transfers of care</h3>",
        "<p class='note'>To February 2020 NHS England counted a delayed transfer of care "
        "while a patient ready to leave waited for another service, under one of the "
        "reasons A to I, attributed to the NHS, social care or both (the view of the seed "
        "documents' tables). Same records as above: on pathways 1-3 the bed days past the "
        "DRD are the delayed days.</p>",
    )
    doc.figure(
        "delays_by_week",
        plots.delayed_grid(dailies),
        "Delayed days per week by attribution, every scenario",
    )
    doc.add(_reason_table(kpis, comparison, baseline))
    if capacity_curve is not None:
        doc.add("<h2>Capacity-cost search</h2>")
        doc.figure(
            "capacity_cost",
            plots.capacity_cost(
                capacity_curve.table, capacity_curve.parameter, capacity_curve.best_value
            ),
            "Total cost against capacity",
        )
        t = capacity_curve.table
        rows = [
            [f"<td>{v:g}</td>", _cell(fmt.gbp(m), fmt.value_range("cost_total", lo, hi))]
            for v, m, lo, hi in zip(t["value"], t["mean"], t["ci_low"], t["ci_high"], strict=True)
        ]
        doc.add(_table([capacity_curve.parameter, "total cost (95% CI)"], rows))
    reasons = [c for c in kpis.columns if c.startswith(("dtoc_days_reason_", "nctr_days_reason_"))]
    budget_cols = [c for c in kpis.columns if c.startswith("budget_")]
    drd = [c for c in (*DRD_ROWS, "nctr_days", "drd_delayed_share") if c in kpis.columns]
    drd += [c for c in kpis.columns if c.startswith("drd_discharges_delay_")]
    shown = [*KPI_LABELS, *cmp.HEADLINE, *COST_LABELS, *budget_cols, *drd, *reasons]
    doc.add("<h2>KPI glossary</h2>", _glossary(shown))
    streams = sorted({s for r in base.replications for s in r.streams})
    wall = sum(r.wall_seconds for r in base.replications)
    doc.add(
        "<h2>How the experiment was run (STRESS-DES 4-5)</h2>",
        _stress(stress_des(base.config, n, wall, streams)),
    )
    alone = (baseline, base.summary())
    doc.parts.insert(
        summary_at,
        _summary_section(effects, ce, text.period(run.measured_days), n, alone)
        + (_psa_summary(psa, text.period(run.measured_days)) if psa is not None else ""),
    )
    return doc


def _psa_summary(psa: PsaResult, period: str) -> str:
    """Summary sentences of the effects with parameter uncertainty, and the
    probabilities of saving money."""
    if psa.baseline is None or len(psa.configs) < 2:
        return ""
    head = psa.headline()
    items = []
    money = ru.money_texts(psa)
    for scen in dict.fromkeys(head["scenario"]):
        sentence = text.scenario_summary(
            scen, head[head["scenario"] == scen], pd.DataFrame(), period, interval="range"
        )
        extra = f" {money[scen][:1].upper()}{money[scen][1:]}." if scen in money else ""
        items.append(f"<li><b>{_name(scen)}</b>{_esc(sentence.removeprefix(scen) + extra)}</li>")
    n = psa.parameters.shape[0]
    return (
        f"<h3>With parameter uncertainty ({n} parameter sets)</h3><p class='note'>"
        f"{_esc(ru.PSA_NOTE)}</p><ul class='summary'>{''.join(items)}</ul>"
    )


def _tornado_section(doc: _Doc, tornadoes: Mapping[str, OneWayResult]) -> None:
    """One tornado chart per compared scenario and headline effect."""
    doc.add(
        "<h2>Which parameters matter (one-way sensitivity)</h2>",
        "<p class='note'>Each uncertain parameter (or group moved together) at the low and "
        "the high end of its range (the ends of a uniform or triangular range, else its 2.5% "
        "and 97.5% points), the others at their point values; the same replications at every "
        "point. The widest bars are the parameters the answer depends on most.</p>",
    )
    for scen, res in tornadoes.items():
        for m in res.metrics:
            label = cmp.effect_spec(m).label
            doc.figure(f"tornado_{scen}_{m}", ru.tornado(res, m), f"{scen}: {label}")


def _psa_section(doc: _Doc, psa: PsaResult) -> None:
    """The PSA's effects, probabilities, plane, acceptability curve and distributions."""
    n, r = psa.parameters.shape[0], psa.replications_per_draw
    doc.add(
        "<h2>Parameter uncertainty (probabilistic sensitivity analysis)</h2>",
        f"<p class='note'>{n} parameter sets drawn from the distributions below, {r} "
        f"replication(s) each, the same sets and random numbers in every scenario. "
        f"{_esc(ru.PSA_NOTE)}</p>",
    )
    warnings = psa.warnings()
    if warnings:
        doc.add("".join(f"<p class='box'>{_esc(w)}.</p>" for w in warnings))
    if psa.baseline is not None and len(psa.configs) > 1:
        head = psa.headline()
        doc.add(_effects_tables(head, interval="range"))
        probs = ru.psa_section_rows(psa)
        whats = list(dict.fromkeys(probs["what"]))
        rows = []
        for scen in dict.fromkeys(probs["scenario"]):
            p = probs[probs["scenario"] == scen].set_index("what")["probability"]
            rows.append(
                [f"<td>{_name(scen)}</td>"]
                + [
                    f"<td>{_esc(fmt.probability(p[w]))}</td>"
                    if w in p.index and not fmt.missing(p[w])
                    else "<td>no change</td>"
                    for w in whats
                ]
            )
        doc.add(
            "<h3>Probability that the scenario is better</h3>", _table(["scenario", *whats], rows)
        )
        shares = [
            [f"<td class='text'>{_esc(k)}</td>", f"<td>{_esc(fmt.share(v))}</td>"]
            for k, v in ru.shares_mapping(psa).items()
            if not fmt.missing(v)
        ]
        if shares:
            doc.add(
                "<h3>Where the uncertainty comes from</h3><p class='note'>Share of the variance "
                "of each effect due to the parameters (the rest is chance), from a one-way "
                "analysis of variance over parameter sets.</p>",
                _table(["effect", "due to parameters"], shares, text_cols=[0]),
            )
        doc.figure(
            "psa_plane", ru.plane(psa), "Cost-effectiveness plane, one dot per parameter set"
        )
        doc.figure("psa_ceac", ru.ceac(psa), "Cost-effectiveness acceptability curves")

    def num(x: object, spec: str) -> str:
        return "-" if fmt.missing(x) else format(float(x), spec)  # type: ignore[arg-type]

    dist_rows = [
        [
            f"<td class='text'><code>{_esc(d['parameter'])}</code></td>",
            "<td class='text'>"
            + _esc(d["distribution"] if d["drawn_from"] == "distribution" else "parameter sets")
            + "</td>",
            f"<td>{num(d['point'], '.4g')}</td>",
            f"<td>{num(d['low'], '.3g')} to {num(d['high'], '.3g')}</td>"
            if d["drawn_from"] == "distribution"
            else "<td>from the sets</td>",
            f"<td class='text'>{_esc(d['source'] if isinstance(d['source'], str) else '')}</td>",
        ]
        for d in psa.distributions().to_dict("records")
    ]
    doc.add(
        "<h3>Uncertain parameters</h3>",
        _table(
            ["parameter", "distribution", "point value", "range (2.5%-97.5%, or ends)", "source"],
            dist_rows,
            text_cols=[0, 1, 4],
        ),
    )


def build(
    results: dict[str, RunResult],
    baseline: str | None = None,
    title: str = "neighbourhood-sim report",
    capacity_curve: CapacityCostCurve | None = None,
    psa: PsaResult | None = None,
    tornadoes: Mapping[str, OneWayResult] | None = None,
) -> str:
    """The report as an HTML string (charts embedded)."""
    doc = _run_doc(results, baseline, title, capacity_curve, psa=psa, tornadoes=tornadoes)
    return doc.html(title)


def write(
    path: str | Path,
    results: dict[str, RunResult],
    baseline: str | None = None,
    title: str = "neighbourhood-sim report",
    capacity_curve: CapacityCostCurve | None = None,
    psa: PsaResult | None = None,
    tornadoes: Mapping[str, OneWayResult] | None = None,
) -> list[Path]:
    """Write the report to ``path`` and its charts (PNG and SVG) to ``figures/`` beside it.

    Every file is written atomically; the charts first, the report last.
    """
    doc = _run_doc(
        results, baseline, title, capacity_curve, files=True, psa=psa, tornadoes=tornadoes
    )
    return doc.write(Path(path), title)


# --- sweeps ------------------------------------------------------------------------------


def _sweep_doc(
    tidy: pd.DataFrame, comparison: pd.DataFrame, baseline: str, title: str, files: bool
) -> _Doc:
    from sim.experiment.collect import label

    tidy = tidy.assign(label=label(tidy))
    kpis = (
        tidy.pivot_table(index=["label", "replication", "seed"], columns="metric", values="value")
        .reset_index()
        .rename(columns={"label": "scenario"})
    )
    kpis.columns.name = None
    order = [baseline, *[s for s in dict.fromkeys(tidy["label"]) if s != baseline]]
    kpis = kpis.set_index("scenario").loc[order].reset_index()
    jobs = (
        tidy.groupby("label", sort=False)
        .agg(scenario=("scenario", "first"), replications=("replication", "nunique"))
        .reset_index()
    )
    doc = _Doc(files)
    doc.add(
        f"<h1>{_esc(title)}</h1>",
        f"<p class='note'>{len(jobs)} jobs; baseline job: {_esc(baseline)}. Effects are paired "
        "differences by replication with 95% CIs.</p>",
    )
    summary_at = len(doc.parts)
    rows = [
        [
            f"<td>{_name(r['label'])}</td>",
            f"<td class='text'>{_esc(r['scenario'])}</td>",
            f"<td>{r['replications']}</td>",
        ]
        for _, r in jobs.iterrows()
    ]
    doc.add("<h2>Jobs</h2>", _table(["job", "scenario", "replications"], rows))
    summaries = {str(s): _summary_of(df) for s, df in kpis.groupby("scenario", sort=False)}
    doc.add(
        "<h2>Key performance indicators</h2>",
        f"<p class='note'>{_esc(fmt.CI_NOTE)}</p>",
        _kpi_tables(summaries, baseline),
    )
    comp, effects, ce = _comparison_sections(doc, kpis, baseline)
    doc.add("<h2>Costs</h2>", _cost_tables(kpis, comp, baseline))
    doc.figure("costs_by_holder", plots.costs_by_holder(kpis), "Cost by budget holder, 95% CIs")
    doc.figure(
        "savings_by_budget",
        plots.cost_savings(_saving_rows(comp, baseline)),
        "Saving against the baseline job by budget, 95% CIs",
    )
    budgets = _budget_section(kpis, comp, baseline)
    if budgets:
        doc.add("<h2>Budgets: the section 75 pool and the aligned budgets</h2>", budgets)
    doc.add(_reason_table(kpis, comp, baseline))
    budget_cols = [c for c in kpis.columns if c.startswith("budget_")]
    doc.add(
        "<h2>KPI glossary</h2>",
        _glossary([*KPI_LABELS, *cmp.HEADLINE, *COST_LABELS, *budget_cols]),
    )
    n = int(kpis.groupby("scenario")["replication"].nunique().min())
    doc.parts.insert(summary_at, _summary_section(effects, ce, "", n))
    return doc


def _summary_of(df: pd.DataFrame) -> pd.DataFrame:
    from sim.experiment.stats import summarise

    return summarise(df)


def build_sweep(
    tidy: pd.DataFrame,
    comparison: pd.DataFrame,
    baseline: str,
    title: str = "neighbourhood-sim sweep",
) -> str:
    """A report of a collected sweep (charts embedded), by the same rules as a run's."""
    return _sweep_doc(tidy, comparison, baseline, title, files=False).html(title)


def write_sweep(
    path: str | Path,
    tidy: pd.DataFrame,
    comparison: pd.DataFrame,
    baseline: str,
    title: str = "neighbourhood-sim sweep",
) -> list[Path]:
    """Write the sweep report to ``path`` and its charts to ``figures/`` beside it."""
    return _sweep_doc(tidy, comparison, baseline, title, files=True).write(Path(path), title)
