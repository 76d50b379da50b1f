"""Summary statistics across replications: means with confidence intervals.

Replications are independent (disjoint random streams), so the mean of a KPI
across *n* replications has the t interval
``mean +/- t(1 - alpha/2, n - 1) * sd / sqrt(n)``.

A KPI that cannot be negative (a count, time, share, amount of money; see
:func:`sim.outputs.schema.non_negative`) gets its interval on the log scale by the
delta method instead, ``mean * exp(+/- t * se / mean)``: it never goes below zero,
is close to the t interval when the mean is precise, and is wider above the mean
than below when it is not. Paired differences may be negative and keep the t
interval; :func:`prob_positive` gives the matching probability that their mean is
above zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from sim.outputs import schema

#: ``ci_method`` values of :func:`summarise`
T_METHOD = "t"
LOG_METHOD = "log"


def _clean(values: np.ndarray) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return x[~np.isnan(x)]


def mean_ci(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float, float]:
    """Mean, standard deviation and t confidence interval of independent values."""
    x = _clean(values)
    n = x.size
    if n == 0:
        return (np.nan, np.nan, np.nan, np.nan)
    mean = float(x.mean())
    if n == 1:
        return (mean, np.nan, np.nan, np.nan)
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sd / np.sqrt(n)
    return (mean, sd, mean - half, mean + half)


def log_mean_ci(
    values: np.ndarray, confidence: float = 0.95, upper: float = np.inf
) -> tuple[float, float, float, float]:
    """Mean, sd and a log-scale (delta method) interval of values that cannot be negative.

    The interval is ``mean * exp(+/- t(n-1) * se / mean)``: ``se / mean`` is the
    standard error of the log of the mean by the delta method. All zeros give
    ``[0, 0]``; ``upper`` caps the upper end (1 for a share).

    Raises:
        ValueError: if a value is negative (use :func:`mean_ci`).
    """
    x = _clean(values)
    if (x < 0).any():
        raise ValueError("log_mean_ci needs values >= 0")
    mean, sd, lo, hi = mean_ci(x, confidence)
    if x.size < 2:
        return (mean, sd, lo, hi)
    if mean == 0.0:
        return (mean, sd, 0.0, 0.0)
    t = float(stats.t.ppf(0.5 + confidence / 2, x.size - 1))
    rel = t * sd / np.sqrt(x.size) / mean
    factor = float(np.exp(rel))
    top = mean * factor
    if rel > 1.0:
        # so imprecise that exp(rel) runs away (two values 0.02 and 5.5 would reach
        # 400): the upper end goes no higher than the t interval's
        top = min(top, hi)
    return (mean, sd, mean / factor, min(top, upper))


def interval(
    metric: str, values: np.ndarray, confidence: float = 0.95
) -> tuple[float, float, float, float, str]:
    """Mean, sd, CI and the CI method of one KPI, chosen from its unit in the schema."""
    x = _clean(values)
    if schema.non_negative(metric) and not (x < 0).any():
        upper = 1.0 if schema.unit(metric) == "share" else np.inf
        return (*log_mean_ci(x, confidence, upper), LOG_METHOD)
    return (*mean_ci(x, confidence), T_METHOD)


def prob_positive(diffs: np.ndarray) -> float:
    """Probability that the mean of paired differences is above zero, from the t distribution.

    ``T(n-1)(mean / se)``, the same distribution as the t interval, so a 95% CI
    excludes zero exactly when this is above 0.975 or below 0.025. Differences
    that are all the same give 1 if above zero and 0 otherwise; fewer than two
    give NaN (no spread, no probability).
    """
    x = _clean(diffs)
    if x.size < 2:
        return np.nan
    mean, sd = float(x.mean()), float(x.std(ddof=1))
    if sd == 0.0:
        return 1.0 if mean > 0 else 0.0
    return float(stats.t.cdf(mean / (sd / np.sqrt(x.size)), x.size - 1))


def summarise(
    kpis: pd.DataFrame, confidence: float = 0.95, by: tuple[str, ...] = ("scenario",)
) -> pd.DataFrame:
    """Long table of mean, sd and CI per metric (and per group in ``by``).

    The CI is on the log scale for KPIs that cannot be negative and the t
    interval otherwise; ``ci_method`` says which (see the module docstring).

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
            mean, sd, lo, hi, method = interval(m, df[m].to_numpy(dtype=float), confidence)
            n = int(df[m].notna().sum())
            rows.append((*group, m, n, mean, sd, lo, hi, method if n > 1 else ""))
    cols = [*by, "metric", "n", "mean", "sd", "ci_low", "ci_high", "ci_method"]
    return pd.DataFrame(rows, columns=cols)
