"""What a calibration found, for people: the fit chart and table, and what failed.

The chart has one panel per target: the simulated mean at every point run, in
the order run (waves one after another), grey where the point is implausible
and coloured where it is plausible, the best point marked, and the observed
figure with its band of +-3 observation sd. A target whose points all sit
outside the band is one the fitted parameters cannot reach.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from sim.experiment.calibration import CalibrationResult
from sim.report.plots import PALETTE, _grid

IMPLAUSIBLE = "#b8c4cc"
PLAUSIBLE = PALETTE[0]
BEST = PALETTE[3]


def fit_figure(result: CalibrationResult) -> Figure:
    """One panel per target: simulated means by point, the observed figure and band."""
    targets = result.targets.targets
    fig, axes = _grid(len(targets), ncols=2, height=2.6, share=False)
    pts = result.points
    x = np.arange(len(pts))
    ok = pts["plausible"].to_numpy(dtype=bool)
    best = int(np.argmin(pts["max_implausibility"].to_numpy(dtype=float)))
    starts = [int(i) for i in np.flatnonzero(np.diff(pts["wave"].to_numpy()) != 0) + 1]
    for ax, t in zip(axes, targets, strict=True):
        y = pts[f"{t.kpi}:mean"].to_numpy(dtype=float)
        band = 3 * t.sd
        ax.axhspan(
            t.observed - band,
            t.observed + band,
            color=PLAUSIBLE,
            alpha=0.12,
            lw=0,
            label="observed +-3 sd",
        )
        ax.axhline(t.observed, color="black", lw=1, label="observed")
        ax.scatter(x[~ok], y[~ok], s=14, color=IMPLAUSIBLE, label="implausible point")
        ax.scatter(x[ok], y[ok], s=16, color=PLAUSIBLE, label="plausible point")
        ax.scatter([x[best]], [y[best]], s=60, marker="*", color=BEST, zorder=3, label="best point")
        for s in starts:
            ax.axvline(s - 0.5, color="grey", lw=0.6, ls=":")
        period = f" per {result.targets.period_days:g} days" if t.total else ""
        ax.set_title(f"{t.kpi}{period}", fontsize=9)
        ax.set_xlabel("point (waves in order)", fontsize=8)
        ax.tick_params(labelsize=8)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(5, len(labels)), fontsize=8)
    n, m = int(ok.sum()), len(pts)
    fig.suptitle(
        f"History matching: {n} plausible of {m} points (cutoff {result.cutoff:g})", fontsize=10
    )
    return fig


def _num(x: float) -> str:
    if not math.isfinite(x):
        return "-"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def fit_text(result: CalibrationResult) -> str:
    """The fit table in words: per target, observed +- sd, the best point's value and
    implausibility, the range over plausible points, and whether it is met."""
    fit = result.fit()
    head = ("target", "observed +- sd", "best point", "I", "plausible 95% range", "within")
    rows = [head]
    for _, r in fit.iterrows():
        rng = (
            f"{_num(r['plausible_low'])} to {_num(r['plausible_high'])}"
            if math.isfinite(r["plausible_low"])
            else "none plausible"
        )
        rows.append(
            (
                str(r["target"]),
                f"{_num(r['observed'])} +- {_num(r['observed_sd'])}",
                _num(r["best"]),
                f"{r['best_implausibility']:.2f}",
                rng,
                str(r["within"]),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    ok = result.plausible
    lines.append("")
    lines.append(
        f"{len(ok)} plausible of {len(result.points)} points (max implausibility < "
        f"{result.cutoff:g}; {result.replications} replications a point)."
    )
    scaled = sorted({float(v) for v in result.scale.values() if v != 1.0})
    if scaled:
        lines.append(
            f"Totals rescaled from {result.config.run.measured_days} measured days to "
            f"{result.targets.period_days:g} days (x {scaled[0]:.4g})."
        )
    if not ok.empty:
        lines.append("Best point, and each parameter's plausible range:")
        ranges = result.ranges()
        for k, v in result.best_values().items():
            lo, hi = ranges[k]
            lines.append(f"  {k} = {v:.4g} (plausible {lo:.4g} to {hi:.4g})")
    lines += [f"Note: {n}" for n in result.notes]
    return "\n".join(lines)


def unreachable_text(result: CalibrationResult) -> str:
    """Which targets could not be reached and why ("" if every one was)."""
    if not result.unreachable:
        return ""
    lines = ["Targets not reached (no parameter set is plausible):"]
    lines += [f"  {u.target}: {u.reason}" for u in result.unreachable]
    return "\n".join(lines)
