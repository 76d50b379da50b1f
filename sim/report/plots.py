"""Plots of a run or a comparison (matplotlib, headless).

Each function returns a ``matplotlib.figure.Figure``; :func:`write_figure`
writes it as PNG and SVG (atomically), :func:`save` as one file. Figures are
built without pyplot (no global state, any backend), and take the package's own
tables (``RunResult.daily``, stacked KPI tables, :func:`~sim.experiment.compare.headline`
effects), so a notebook can call them on any result. Legends sit outside the
plotting area so they hide no bar, and axes are labelled in words. Effects are
drawn as benefits (positive = avoided, saved), as in the tables.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy import stats

ATTRIBUTION_COLOURS = {"NHS": "#005eb8", "social care": "#ed8b00", "both": "#7c2855"}
HOLDER_COLOURS = {
    "acute trust": "#005eb8",
    "community health": "#00a499",
    "ambulance trust": "#78be20",
    "social care": "#ed8b00",
}
#: colours of scenarios, in the order they are given (distinct to the eye)
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
_INCLUDES_ZERO = "#b8c4cc"


def _t_band(wide: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95% t CI across columns (replications), row by row."""
    n = wide.shape[1]
    mean = wide.mean(axis=1).to_numpy()
    if n < 2:
        return mean, mean, mean
    half = stats.t.ppf(0.975, n - 1) * wide.std(axis=1, ddof=1).to_numpy() / np.sqrt(n)
    return mean, mean - half, mean + half


def _grid(
    n: int, ncols: int = 2, height: float = 2.4, width: float = 10.0, share: bool = True
) -> tuple[Figure, list[Axes]]:
    """A figure with ``n`` panels in rows of ``ncols`` (spare panels hidden).

    ``share``: one scale for all panels, so small multiples compare at a glance.
    """
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(width, 0.9 + height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=share, sharey=share, squeeze=False)
    flat = list(axes.ravel())
    for i, ax in enumerate(flat[n:], start=n):
        ax.set_visible(False)
        if i >= ncols:  # the panel above now ends its column: give it the x labels
            flat[i - ncols].xaxis.set_tick_params(which="both", labelbottom=True)
    return fig, flat[:n]


def _occupancy_panel(ax: Axes, daily: pd.DataFrame, beds: int) -> None:
    d = daily[~daily["warmup"]]
    wide = d.pivot(index="date", columns="replication", values="beds_occupied_mean")
    mean, lo, hi = _t_band(wide)
    lo, hi = np.maximum(lo, 0), np.minimum(hi, beds)  # a mean cannot leave [0, beds]
    dates = pd.to_datetime(wide.index)
    ax.fill_between(dates, lo, hi, alpha=0.3, color="#41b6e6", lw=0, label="95% CI of the mean")
    ax.plot(dates, mean, lw=1.1, color="#005eb8", label="mean over replications")
    ax.axhline(beds, color="k", lw=0.8, ls="--", label="acute beds")


def occupancy(daily: pd.DataFrame, beds: int, title: str = "") -> Figure:
    """Acute beds occupied over the measured period: daily mean with a 95% CI band."""
    fig = Figure(figsize=(9, 3.8), layout="constrained")
    ax = fig.subplots()
    _occupancy_panel(ax, daily, beds)
    ax.set_ylabel("acute beds occupied")
    ax.set_xlabel("date")
    ax.set_title(title or "Acute bed occupancy")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=3, fontsize=8)
    return fig


def occupancy_grid(dailies: Mapping[str, pd.DataFrame], beds: Mapping[str, int]) -> Figure:
    """Acute bed occupancy of every scenario, one small panel each, on one scale."""
    fig, axes = _grid(len(dailies))
    for ax, (name, daily) in zip(axes, dailies.items(), strict=True):
        _occupancy_panel(ax, daily, beds[name])
        ax.set_title(name, fontsize=10)
    for ax in axes:
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    fig.supylabel("acute beds occupied (daily mean)")
    fig.suptitle("Acute bed occupancy by scenario, with 95% CI band")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper center", ncols=3)
    return fig


#: the two views of delay in the daily table: column -> legend label
ATTRIBUTION_COLUMNS = {
    "delayed_nhs_mean": "NHS",
    "delayed_social_care_mean": "social care",
    "delayed_both_mean": "both",
}
PATHWAY_COLUMNS = {
    "nctr_p0_mean": "P0 home",
    "nctr_p1_mean": "P1 home with care",
    "nctr_p2_mean": "P2 community bed",
    "nctr_p3_mean": "P3 care home",
}
PATHWAY_COLOURS = {  # NHS identity palette, colour-blind safe in this order
    "P0 home": "#768692",
    "P1 home with care": "#005eb8",
    "P2 community bed": "#ffb81c",
    "P3 care home": "#8a1538",
}


def _weekly_delays(
    daily: pd.DataFrame, cols: Mapping[str, str] = ATTRIBUTION_COLUMNS
) -> pd.DataFrame:
    """Mean over replications of days per full week of the daily means ``cols``."""
    d = daily[~daily["warmup"]].copy()
    d["week"] = (d["day"] - d["day"].min()) // 7
    full_weeks = d.groupby("week")["day"].nunique().loc[lambda n: n == 7].index
    d = d[d["week"].isin(full_weeks)]  # a part-week at the end would look like a drop
    weekly = d.groupby(["replication", "week"])[list(cols)].sum().groupby("week").mean()
    return weekly.rename(columns=cols)


def _delays_panel(
    ax: Axes, weekly: pd.DataFrame, colours: Mapping[str, str] = ATTRIBUTION_COLOURS
) -> None:
    bottom = np.zeros(len(weekly))
    for name, colour in colours.items():
        ax.bar(weekly.index + 1, weekly[name], bottom=bottom, label=name, color=colour, width=0.85)
        bottom += weekly[name].to_numpy()


def delayed_by_week(daily: pd.DataFrame, title: str = "") -> Figure:
    """Delayed days per week stacked by attribution (as in Barnet's DTOC table)."""
    fig = Figure(figsize=(9, 3.8), layout="constrained")
    ax = fig.subplots()
    _delays_panel(ax, _weekly_delays(daily))
    ax.set_xlabel("week of the measured period")
    ax.set_ylabel("delayed days per week")
    ax.set_title(title or "Delayed transfers of care by attribution")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=3, fontsize=8)
    return fig


def delayed_grid(dailies: Mapping[str, pd.DataFrame]) -> Figure:
    """Delayed days per week by attribution for every scenario, on one scale."""
    fig, axes = _grid(len(dailies))
    for ax, (name, daily) in zip(axes, dailies.items(), strict=True):
        _delays_panel(ax, _weekly_delays(daily))
        ax.set_title(name, fontsize=10)
    for ax in axes[-2:]:
        ax.set_xlabel("week of the measured period")
    fig.supylabel("delayed days per week (mean over replications)")
    # (no suptitle: the legend sits at the top, and the report's caption names it)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncols=3, title="delay attributed to")
    return fig


def nctr_grid(dailies: Mapping[str, pd.DataFrame]) -> Figure:
    """Bed days past the discharge-ready date per week by pathway, every scenario."""
    fig, axes = _grid(len(dailies))
    for ax, (name, daily) in zip(axes, dailies.items(), strict=True):
        _delays_panel(ax, _weekly_delays(daily, PATHWAY_COLUMNS), PATHWAY_COLOURS)
        ax.set_title(name, fontsize=10)
    for ax in axes[-2:]:
        ax.set_xlabel("week of the measured period")
    fig.supylabel("bed days a week past the discharge-ready date")
    # (no suptitle: the legend sits at the top, and the report's caption names it)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncols=4, title="discharge pathway")
    return fig


#: effects drawn by :func:`effects`: metric -> (panel title, axis label, scale)
EFFECT_PANELS = {
    "emergency_admissions": ("Admissions avoided", "admissions: < added | avoided >", 1.0),
    "bed_days": ("Bed days saved", "bed days: < extra | saved >", 1.0),
    "dtoc_days": ("Delayed days saved", "delayed days: < extra | saved >", 1.0),
    "cost_total": ("Net saving, all budgets", "GBP million: < extra cost | saving >", 1e6),
}


def effects(effects_table: pd.DataFrame) -> Figure:
    """Headline effects per scenario as benefits, with 95% CI bars.

    Bars whose CI includes zero are grey. Takes the table of
    :func:`sim.experiment.compare.headline`.
    """
    metrics = set(effects_table["metric"]) if "metric" in effects_table else set()
    panels = [m for m in EFFECT_PANELS if m in metrics]
    fig, axes = _grid(max(1, len(panels)), height=0.8 + 0.32 * _n(effects_table), share=False)
    for ax, metric in zip(axes, panels, strict=False):
        title, xlabel, scale = EFFECT_PANELS[metric]
        df = effects_table[effects_table["metric"] == metric]
        y = np.arange(len(df))[::-1]
        est, lo, hi = (
            df[c].to_numpy(dtype=float) / scale for c in ("estimate", "ci_low", "ci_high")
        )
        clear = ~((lo <= 0) & (hi >= 0))
        err = np.nan_to_num(np.vstack([est - lo, hi - est]))
        ax.barh(y, est, xerr=err, capsize=3, color=np.where(clear, "#41b6e6", _INCLUDES_ZERO))
        ax.axvline(0, color="k", lw=0.8)
        ax.set_yticks(y, df["scenario"])
        ax.set_title(title + " (95% CI)", fontsize=10)
        ax.set_xlabel(xlabel)
    fig.suptitle("Effects against the baseline (grey: the CI includes no effect)")
    return fig


def _n(effects_table: pd.DataFrame) -> int:
    return max(1, effects_table["scenario"].nunique()) if "scenario" in effects_table else 1


HOLDERS = {
    "cost_acute_trust": "acute trust",
    "cost_community_health": "community health",
    "cost_ambulance_trust": "ambulance trust",
    "cost_social_care": "social care",
}


def costs_by_holder(kpis: pd.DataFrame) -> Figure:
    """Mean cost of each budget holder per scenario with 95% CI bars, in GBP million.

    One panel per holder, each on its own scale (the acute trust's budget is
    tens of times community health's).
    """
    from sim.experiment.stats import interval

    cols = [c for c in HOLDERS if c in kpis.columns]
    scenarios = list(dict.fromkeys(kpis["scenario"]))
    per_row = 2 if len(cols) == 4 else 3  # four holders: two rows of two
    fig, axes = _grid(
        max(1, len(cols)), ncols=per_row, height=0.9 + 0.3 * len(scenarios), share=False
    )
    y = np.arange(len(scenarios))[::-1]
    for i, (ax, col) in enumerate(zip(axes, cols, strict=False)):
        vals = [interval(col, kpis.loc[kpis["scenario"] == s, col].to_numpy()) for s in scenarios]
        mean = np.array([v[0] for v in vals]) / 1e6
        lo, hi = (np.array([v[k] for v in vals]) / 1e6 for k in (2, 3))
        err = np.nan_to_num(np.vstack([mean - lo, hi - mean]))
        ax.barh(y, mean, xerr=err, capsize=3, color=HOLDER_COLOURS[HOLDERS[col]])
        ax.set_yticks(y, scenarios if i % per_row == 0 else [""] * len(scenarios))
        ax.set_title(HOLDERS[col], fontsize=10)
        ax.set_xlabel("GBP million")
    fig.suptitle("Cost by budget holder over the measured period (bars: 95% CI)")
    return fig


def cost_savings(effects_by_column: pd.DataFrame) -> Figure:
    """Saving against the baseline by budget, per scenario, with 95% CI bars.

    Args:
        effects_by_column: scenario, budget (label), estimate, ci_low, ci_high,
            as savings in GBP (positive = saved).
    """
    budgets = list(dict.fromkeys(effects_by_column["budget"]))
    fig, axes = _grid(
        len(budgets), ncols=min(3, len(budgets)), height=0.6 + 0.3 * _n(effects_by_column)
    )
    for ax, budget in zip(axes, budgets, strict=True):
        df = effects_by_column[effects_by_column["budget"] == budget]
        y = np.arange(len(df))[::-1]
        est, lo, hi = (df[c].to_numpy(dtype=float) / 1e6 for c in ("estimate", "ci_low", "ci_high"))
        clear = ~((lo <= 0) & (hi >= 0))
        err = np.nan_to_num(np.vstack([est - lo, hi - est]))
        ax.barh(y, est, xerr=err, capsize=3, color=np.where(clear, "#00a499", _INCLUDES_ZERO))
        ax.axvline(0, color="k", lw=0.8)
        ax.set_yticks(y, df["scenario"])
        ax.set_title(budget, fontsize=10)
    fig.supxlabel("GBP million: < extra cost | saving >  (bars: 95% CI; grey: includes none)")
    fig.suptitle("Saving against the baseline by budget")
    return fig


def ce_plane(clouds: Mapping[str, pd.DataFrame], outcomes: Mapping[str, str]) -> Figure:
    """Cost-effectiveness plane: paired bootstrap means of each scenario.

    Args:
        clouds: scenario -> bootstrap means of paired differences (scenario minus
            baseline), with ``cost_total`` and each outcome metric as columns.
        outcomes: outcome metric -> axis label of its gain ("admissions avoided").
    """
    fig = Figure(figsize=(10, 4.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(outcomes), squeeze=False)).ravel()
    for ax, (metric, label) in zip(axes, outcomes.items(), strict=True):
        for i, (name, cloud) in enumerate(clouds.items()):
            colour = PALETTE[i % len(PALETTE)]
            gain, cost = -cloud[metric].to_numpy(), cloud["cost_total"].to_numpy() / 1e6
            ax.scatter(gain, cost, s=4, alpha=0.25, color=colour, lw=0, rasterized=True)
            ax.scatter(gain.mean(), cost.mean(), s=40, color=colour, edgecolor="k", label=name)
        ax.axhline(0, color="k", lw=0.8)
        ax.axvline(0, color="k", lw=0.8)
        ax.set_xlabel(f"{label} (left of 0: worse)")
        ax.set_ylabel("extra cost, GBP million (below 0: saving)")
        for x, y, text, ha, va in (
            (0.98, 0.02, "dominant", "right", "bottom"),
            (0.02, 0.98, "dominated", "left", "top"),
            (0.98, 0.98, "costs more,\nimproves", "right", "top"),
            (0.02, 0.02, "saves money,\nworsens", "left", "bottom"),
        ):
            ax.text(x, y, text, transform=ax.transAxes, ha=ha, va=va, fontsize=8, color="#555")
    fig.suptitle("Cost-effectiveness plane (dots: bootstrap resamples; circles: estimates)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", title="scenario", fontsize=8)
    return fig


def capacity_cost(table: pd.DataFrame, parameter: str, best: float) -> Figure:
    """Total cost against a capacity, with its 95% CI and the cheapest value."""
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    ax.fill_between(
        table["value"], table["ci_low"] / 1e6, table["ci_high"] / 1e6, alpha=0.3, label="95% CI"
    )
    ax.plot(table["value"], table["mean"] / 1e6, marker="o", label="total cost")
    ax.axvline(best, color="k", ls="--", lw=0.8, label=f"cheapest: {best:g}")
    ax.set_xlabel(parameter)
    ax.set_ylabel("total cost, GBP million")
    ax.set_title("Capacity-cost curve")
    fig.legend(loc="outside lower center", ncols=3, fontsize=8)
    return fig


def save(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` to ``path`` atomically, in the format its suffix names (PNG by default)."""
    from sim.outputs.writers import atomic_write

    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"

    def write(p: Path) -> None:
        import matplotlib

        # a fixed salt and no date keep SVG files identical from run to run
        with matplotlib.rc_context({"svg.hashsalt": "neighbourhood-sim"}):
            meta = {"Date": None} if fmt in ("svg", "pdf") else {}
            fig.savefig(p, format=fmt, dpi=110, metadata=meta)

    atomic_write(path, write)
    return path


def write_figure(fig: Figure, folder: str | Path, name: str) -> list[Path]:
    """Write ``fig`` as ``folder/name.png`` and ``folder/name.svg`` (each atomically)."""
    folder = Path(folder)
    return [save(fig, folder / f"{name}.{fmt}") for fmt in ("png", "svg")]


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes (for embedding in the HTML report)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()
