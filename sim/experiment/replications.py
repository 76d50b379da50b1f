"""How many replications? Precision targets for several KPIs at once.

Two methods, both in terms of the *relative* half-width of the confidence
interval of a KPI's mean, ``d_n = t(1 - alpha/2, n - 1) * s_n / sqrt(n) / |mean_n|``:

* **Confidence-interval method** (Robinson 2014): run a generous number of
  replications, compute ``d_n`` for n = 2, 3, ... and report the smallest n from
  which every later ``d_n`` stays within the target.
* **Sequential algorithm** of Hoad, Robinson & Davies (2010): add replications one
  at a time; when ``d_n`` first meets the target at ``n_sol``, keep running a
  look-ahead of ``k_limit`` further replications (scaled up for ``n_sol > 100``)
  and accept ``n_sol`` only if the target still holds throughout; otherwise carry
  on. With several KPIs, all must meet the target.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.config.schema import Config


def relative_half_width(values: np.ndarray, confidence: float = 0.95) -> float:
    """Relative half-width of the t confidence interval of the mean (inf if undefined)."""
    x = np.asarray(values, dtype=float)
    n = x.size
    if n < 2:
        return math.inf
    mean = x.mean()
    if mean == 0:
        return math.inf if x.std(ddof=1) > 0 else 0.0
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / math.sqrt(n)
    return float(abs(half / mean))


def precision_table(
    kpis: pd.DataFrame, metrics: Sequence[str], confidence: float = 0.95
) -> pd.DataFrame:
    """Cumulative mean and relative half-width after n = 1..N replications, per metric."""
    rows = []
    for m in metrics:
        x = kpis[m].to_numpy(dtype=float)
        for n in range(1, len(x) + 1):
            rows.append(
                {
                    "metric": m,
                    "n": n,
                    "mean": float(x[:n].mean()),
                    "relative_half_width": relative_half_width(x[:n], confidence),
                }
            )
    return pd.DataFrame(rows)


def ci_method(
    kpis: pd.DataFrame, metrics: Sequence[str], target: float = 0.05, confidence: float = 0.95
) -> pd.DataFrame:
    """Replications needed per metric by the confidence-interval method.

    Returns one row per metric with ``n_needed`` (NaN if the runs given never reach
    the target for good) and the relative half-width at the largest n.
    """
    table = precision_table(kpis, metrics, confidence)
    out = []
    for m, df in table.groupby("metric", sort=False):
        ok = (df["relative_half_width"] <= target).to_numpy()
        n_needed = math.nan
        for i in range(len(ok)):
            if ok[i:].all():
                n_needed = int(df["n"].iloc[i])
                break
        out.append(
            {
                "metric": m,
                "n_needed": n_needed,
                "target": target,
                "final_relative_half_width": float(df["relative_half_width"].iloc[-1]),
            }
        )
    return pd.DataFrame(out)


def look_ahead(n_sol: int, k_limit: int = 5) -> int:
    """Look-ahead of the sequential algorithm: k_limit, scaled up beyond 100 replications."""
    return k_limit if n_sol <= 100 else math.floor(k_limit * n_sol / 100)


@dataclass
class SequentialResult:
    """Outcome of the sequential algorithm."""

    n_solution: int | None
    replications_run: int
    kpis: pd.DataFrame = field(repr=False)
    history: pd.DataFrame = field(repr=False)

    @property
    def met(self) -> bool:
        return self.n_solution is not None


def sequential(
    run_one: Callable[[int], dict[str, float]],
    metrics: Sequence[str],
    target: float = 0.05,
    confidence: float = 0.95,
    k_limit: int = 5,
    initial: int = 3,
    max_replications: int = 200,
) -> SequentialResult:
    """Hoad-Robinson-Davies sequential algorithm for several metrics.

    Args:
        run_one: Runs replication ``r`` and returns its KPIs.
        metrics: KPIs that must all meet the target.
        target: Relative half-width wanted (e.g. 0.05 for +/-5%).
        k_limit: Look-ahead length.
        initial: Replications run before the first check.
        max_replications: Stop here even if the target is not met.
    """
    rows: list[dict[str, float]] = []
    history = []
    n_sol: int | None = None
    n = 0
    while n < max_replications:
        rows.append(run_one(n))
        n += 1
        if n < initial:
            continue
        df = pd.DataFrame(rows)
        d = {m: relative_half_width(df[m].to_numpy(), confidence) for m in metrics}
        ok = all(v <= target for v in d.values())
        history.append({"n": n, **{f"d_{m}": v for m, v in d.items()}, "met": ok})
        if not ok:
            n_sol = None
            continue
        if n_sol is None:
            n_sol = n
        if n >= n_sol + look_ahead(n_sol, k_limit):
            break
    else:
        n_sol = None if n_sol is None or n < n_sol + look_ahead(n_sol, k_limit) else n_sol
    return SequentialResult(n_sol, n, pd.DataFrame(rows), pd.DataFrame(history))


def sequential_for_config(
    cfg: Config,
    metrics: Sequence[str],
    target: float = 0.05,
    cache_dir: Path | None = None,
    **kwargs: Any,
) -> SequentialResult:
    """Run the sequential algorithm on a configuration's replications (kept in
    ``cache_dir``, if given, for a later run of the chosen number to reuse)."""
    from sim.experiment.runner import _run_cached

    return sequential(lambda r: _run_cached((cfg, r, cache_dir)).kpis, metrics, target, **kwargs)
