"""Warm-up: how long the model takes to forget its empty start.

The model starts with empty beds (downstream services may start partly full). KPIs
are measured after ``run.warmup_days``. The MSER-5 rule (White 1997; Hoad,
Robinson & Davies 2010) picks the truncation point of an output series that
minimises the squared standard error of the mean of what remains: the series is
cut into batches of 5 observations and ``d`` is chosen to minimise
``var(batches[d:]) / (k - d)`` over the first half of the batches, ``k`` being
the number of batches. :func:`estimate_warmup` applies it to the daily mean of a
level (bed occupancy by default), averaged over pilot replications.

Planners who know today's state can instead start from it (``initial_state``)
and use a short or no warm-up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.config.schema import Config


def mser(series: np.ndarray, batch: int = 5) -> int:
    """MSER-``batch`` truncation point, in observations (a multiple of ``batch``)."""
    x = np.asarray(series, dtype=float)
    k = x.size // batch
    if k < 4:
        return 0
    means = x[: k * batch].reshape(k, batch).mean(axis=1)
    best_d, best = 0, np.inf
    for d in range(k // 2):
        rest = means[d:]
        stat = rest.var() / (rest.size)  # = sum of squares / (k - d)^2
        if stat < best:
            best_d, best = d, stat
    return best_d * batch


@dataclass
class WarmupEstimate:
    """Result of :func:`estimate_warmup`."""

    warmup_days: int
    level: str
    series: pd.DataFrame  # day, mean over replications, per-replication columns


def estimate_warmup(
    cfg: Config,
    level: str = "beds_occupied_mean",
    replications: int = 5,
    years: float = 1.0,
    n_jobs: int = 1,
) -> WarmupEstimate:
    """Pilot runs with no warm-up; MSER-5 on the replication-averaged daily series."""
    import dataclasses

    from sim.experiment.runner import run

    pilot_run = dataclasses.replace(cfg.run, warmup_days=0, years=years)
    pilot = dataclasses.replace(cfg, run=pilot_run)
    res = run(pilot, replications=replications, n_jobs=n_jobs)
    wide = res.daily.pivot(index="day", columns="replication", values=level)
    mean = wide.mean(axis=1).to_numpy()
    d = mser(mean)
    series = wide.add_prefix("rep_").assign(mean=mean).reset_index()
    return WarmupEstimate(int(d), level, series)
