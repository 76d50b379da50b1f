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


#: daily series the warm-up rule checks: the stocks that start away from their
#: long-run level (beds, queues, the short-stay downstream services). Care homes
#: start at their expected occupancy, and their stays last years: their
#: fluctuations are slow noise, not initial bias, and no warm-up shortens them
#: (the three-year drift test checks they do not drift).
RULE_LEVELS: tuple[str, ...] = (
    "beds_occupied_mean",
    "delayed_mean",
    "boarding_mean",
    "reablement_occupied_mean",
    "intermediate_care_occupied_mean",
)
#: a year of whole weeks: a day and the same day 52 weeks later share the
#: weekday and (within a day) the date, so seasonal patterns cancel
SEASON_DAYS = 364


@dataclass
class WarmupRule:
    """The warm-up rule applied to one set of pilot replications."""

    warmup_days: int
    by_level: dict[str, int]
    replications: int
    horizon_days: int
    reference_years: int
    series: pd.DataFrame  # day, then per level the replication-mean seasonal difference

    def describe(self) -> str:
        levels = ", ".join(f"{k.removesuffix('_mean')} {v}" for k, v in self.by_level.items())
        return (
            f"{self.replications} replications: {levels} days; the largest, in whole weeks, "
            f"{self.warmup_days} days"
        )


@dataclass
class WarmupMeasurement:
    """The warm-up rule over several independent sets of pilot replications."""

    warmup_days: int  # the median of the sets' values, in whole weeks
    sets: list[WarmupRule]
    seeds: list[int]

    def describe(self) -> str:
        first = self.sets[0]
        lines = [
            f"MSER-5 on the difference between each day of the first {first.horizon_days} "
            f"and the mean of the same day 52, 104, ... weeks later ({first.reference_years} "
            f"later year(s)), in {len(self.sets)} independent set(s) of pilot replications:"
        ]
        pairs = zip(self.seeds, self.sets, strict=True)
        lines += [f"  seed {s}: {r.describe()}" for s, r in pairs]
        lines.append(f"warm-up = the median over the sets, in whole weeks = {self.warmup_days} d")
        return "\n".join(lines)


def seasonal_difference(wide: pd.DataFrame, horizon_days: int) -> tuple[np.ndarray, int]:
    """Replication-mean of x(t) - mean_k x(t + 364 k) for t < ``horizon_days``.

    ``wide`` is day x replication from day 0 of a run with no warm-up; every
    later whole season that fits (k = 1, 2, ...) is a reference. Returns the
    series and the number of reference seasons.
    """
    x = wide.to_numpy(dtype=float)
    k_max = (x.shape[0] - horizon_days) // SEASON_DAYS
    if k_max < 1:
        raise ValueError(
            f"a warm-up rule needs at least {SEASON_DAYS + horizon_days} days of pilot run"
        )
    ref = np.mean(
        [x[k * SEASON_DAYS : k * SEASON_DAYS + horizon_days] for k in range(1, k_max + 1)], axis=0
    )
    return (x[:horizon_days] - ref).mean(axis=1), k_max


def rule_from_daily(
    daily: pd.DataFrame, horizon_days: int = 364, levels: tuple[str, ...] = RULE_LEVELS
) -> WarmupRule:
    """The warm-up rule applied to the daily table of one set of pilot runs (no warm-up)."""
    import math

    by_level: dict[str, int] = {}
    series: dict[str, np.ndarray] = {"day": np.arange(horizon_days)}
    k = 0
    for level in levels:
        if level not in daily:
            continue
        wide = daily.pivot(index="day", columns="replication", values=level)
        diff, k = seasonal_difference(wide, horizon_days)
        series[level] = diff
        by_level[level] = mser(diff)
    worst = max(by_level.values(), default=0)
    n = int(daily["replication"].nunique())
    return WarmupRule(7 * math.ceil(worst / 7), by_level, n, horizon_days, k, pd.DataFrame(series))


def warmup_rule(
    cfg: Config,
    replications: int = 8,
    years: float = 3.0,
    horizon_days: int = 364,
    levels: tuple[str, ...] = RULE_LEVELS,
    n_jobs: int = 1,
    sets: int = 5,
) -> WarmupMeasurement:
    """The warm-up the model needs, by a measured rule.

    MSER-5 assumes the output settles to a stationary level, but the model's
    demand is seasonal, so applied to a raw series it also cuts off a quiet
    spring or a busy winter. The rule therefore applies MSER-5 to the
    *seasonal difference*: pilot replications run with no warm-up for
    ``years``; each day of the first ``horizon_days`` minus the mean of the same
    day 52, 104, ... weeks later (when the start has long been forgotten), then
    averaged over replications. The seasonal pattern cancels and what is left is
    the initial bias plus noise. A set's value is the largest truncation point
    over the ``levels``.

    Once the bias has gone, MSER's statistic is nearly flat, so where its
    minimum falls is decided by slow noise: one set of 8 replications of the
    default borough gave anything from 7 to 70 days with different seeds, and
    40 replications of one seed 119. The rule therefore runs ``sets``
    independent sets (seeds ``run.seed``, ``run.seed + 1``, ...) and takes the
    median of their values, rounded up to whole weeks (so the measured period
    starts on the weekday the run starts on).
    """
    import dataclasses
    import math

    from sim.experiment.runner import run

    rules, seeds = [], []
    for k in range(sets):
        seed = cfg.run.seed + k
        pilot_run = dataclasses.replace(cfg.run, warmup_days=0, years=years, seed=seed)
        pilot = dataclasses.replace(cfg, run=pilot_run)
        res = run(pilot, replications=replications, n_jobs=n_jobs)
        rules.append(rule_from_daily(res.daily, horizon_days, levels))
        seeds.append(seed)
    median = float(np.median([r.warmup_days for r in rules]))
    return WarmupMeasurement(7 * math.ceil(median / 7), rules, seeds)
