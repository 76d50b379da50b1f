"""Plots of a run or a comparison (matplotlib, headless).

Each function returns a ``matplotlib.figure.Figure``; :func:`save` writes it as
PNG. Figures are built without pyplot (no global state, any backend), and take
the package's own tables (``RunResult.daily``, comparison and
cost tables), so a notebook can call them on any result.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

ATTRIBUTION_COLOURS = {"NHS": "#005eb8", "social care": "#ed8b00", "both": "#7c2855"}


def _t_band(wide: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95% t CI across columns (replications), row by row."""
    n = wide.shape[1]
    mean = wide.mean(axis=1).to_numpy()
    if n < 2:
        return mean, mean, mean
    half = stats.t.ppf(0.975, n - 1) * wide.std(axis=1, ddof=1).to_numpy() / np.sqrt(n)
    return mean, mean - half, mean + half


def occupancy(daily: pd.DataFrame, beds: int, title: str = "") -> Figure:
    """Acute beds occupied over the year: daily mean with a 95% CI band."""
    d = daily[~daily["warmup"]]
    wide = d.pivot(index="date", columns="replication", values="beds_occupied_mean")
    mean, lo, hi = _t_band(wide)
    lo, hi = np.maximum(lo, 0), np.minimum(hi, beds)  # a mean cannot leave [0, beds]
    dates = pd.to_datetime(wide.index)
    fig = Figure(figsize=(9, 3.6))
    ax = fig.subplots()
    ax.fill_between(dates, lo, hi, alpha=0.3, label="95% CI")
    ax.plot(dates, mean, lw=1.2, label="mean over replications")
    ax.axhline(beds, color="k", lw=0.8, ls="--", label=f"{beds} beds")
    ax.set_ylabel("acute beds occupied")
    ax.set_title(title or "Acute bed occupancy")
    ax.legend(loc="lower right", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def delayed_by_week(daily: pd.DataFrame, title: str = "") -> Figure:
    """Delayed days per week stacked by attribution (as in Barnet's DTOC table)."""
    d = daily[~daily["warmup"]].copy()
    d["week"] = (d["day"] - d["day"].min()) // 7
    cols = {
        "delayed_nhs_mean": "NHS",
        "delayed_social_care_mean": "social care",
        "delayed_both_mean": "both",
    }
    full_weeks = d.groupby("week")["day"].nunique().loc[lambda n: n == 7].index
    d = d[d["week"].isin(full_weeks)]  # a part-week at the end would look like a drop
    weekly = d.groupby(["replication", "week"])[list(cols)].sum().groupby("week").mean()
    weekly = weekly.rename(columns=cols)
    fig = Figure(figsize=(9, 3.6))
    ax = fig.subplots()
    bottom = np.zeros(len(weekly))
    for name in cols.values():
        ax.bar(
            weekly.index,
            weekly[name],
            bottom=bottom,
            label=name,
            color=ATTRIBUTION_COLOURS[name],
            width=0.85,
        )
        bottom += weekly[name].to_numpy()
    ax.set_xlabel("week of the measured period")
    ax.set_ylabel("delayed days per week")
    ax.set_title(title or "Delayed transfers of care by attribution")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def effects(effects_table: pd.DataFrame) -> Figure:
    """Admissions avoided and delayed days reduced per scenario, with 95% CI bars."""
    panels = [
        ("admissions avoided", "Admissions avoided"),
        ("delayed days reduced", "Delayed days reduced"),
    ]
    fig = Figure(figsize=(10, 3.8))
    axes = fig.subplots(1, 2)
    for ax, (effect, label) in zip(axes, panels, strict=True):
        df = effects_table[effects_table["effect"] == effect]
        y = np.arange(len(df))
        err = np.vstack([df["estimate"] - df["ci_low"], df["ci_high"] - df["estimate"]])
        ax.barh(y, df["estimate"], xerr=err, capsize=3, color="#41b6e6")
        ax.axvline(0, color="k", lw=0.8)
        ax.set_yticks(y, df["scenario"])
        ax.set_title(label + " (95% CI)")
    fig.tight_layout()
    return fig


def costs_by_holder(kpis: pd.DataFrame) -> Figure:
    """Mean cost by budget holder per scenario (stacked), in GBP million."""
    cols = {
        "cost_acute_trust": "acute trust",
        "cost_community_health": "community health",
        "cost_social_care": "social care",
    }
    means = kpis.groupby("scenario", sort=False)[list(cols)].mean().rename(columns=cols) / 1e6
    fig = Figure(figsize=(9, 3.8))
    ax = fig.subplots()
    bottom = np.zeros(len(means))
    for col, colour in zip(cols.values(), ("#005eb8", "#00a499", "#ed8b00"), strict=True):
        ax.bar(means.index, means[col], bottom=bottom, label=col, color=colour)
        bottom += means[col].to_numpy()
    ax.set_ylabel("GBP million over the period")
    ax.set_title("Cost by budget holder")
    ax.tick_params(axis="x", rotation=30)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def capacity_cost(table: pd.DataFrame, parameter: str, best: float) -> Figure:
    """Total cost against a capacity, with its 95% CI and the cheapest value."""
    fig = Figure(figsize=(7, 3.8))
    ax = fig.subplots()
    ax.fill_between(
        table["value"], table["ci_low"] / 1e6, table["ci_high"] / 1e6, alpha=0.3, label="95% CI"
    )
    ax.plot(table["value"], table["mean"] / 1e6, marker="o", label="total cost")
    ax.axvline(best, color="k", ls="--", lw=0.8, label=f"cheapest: {best:g}")
    ax.set_xlabel(parameter)
    ax.set_ylabel("total cost, GBP million")
    ax.set_title("Capacity-cost curve")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def save(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as PNG (atomically) and close it."""
    from sim.outputs.writers import atomic_write

    path = Path(path)
    atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=110))
    return path


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes (for embedding in the HTML report)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()
