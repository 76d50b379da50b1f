"""Summary statistics across replications: means with t-based confidence intervals.

Replications are independent (disjoint random streams), so the mean of a KPI
across *n* replications has a confidence interval of
``mean +/- t(1 - alpha/2, n - 1) * sd / sqrt(n)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def mean_ci(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float, float]:
    """Mean, standard deviation and confidence interval of independent values."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n == 0:
        return (np.nan, np.nan, np.nan, np.nan)
    mean = float(x.mean())
    if n == 1:
        return (mean, np.nan, np.nan, np.nan)
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sd / np.sqrt(n)
    return (mean, sd, mean - half, mean + half)


def summarise(
    kpis: pd.DataFrame, confidence: float = 0.95, by: tuple[str, ...] = ("scenario",)
) -> pd.DataFrame:
    """Long table of mean, sd and CI per metric (and per group in ``by``).

    Args:
        kpis: One row per replication; key columns plus one column per metric.
        confidence: Confidence level of the interval.
        by: Key columns to group by.
    """
    key_cols = {"scenario", "replication", "seed"}
    metrics = [c for c in kpis.columns if c not in key_cols and kpis[c].dtype.kind in "fiub"]
    rows = []
    for group, df in kpis.groupby(list(by), sort=False):
        group = group if isinstance(group, tuple) else (group,)
        for m in metrics:
            mean, sd, lo, hi = mean_ci(df[m].to_numpy(dtype=float), confidence)
            rows.append((*group, m, int(df[m].notna().sum()), mean, sd, lo, hi))
    cols = [*by, "metric", "n", "mean", "sd", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=cols)
