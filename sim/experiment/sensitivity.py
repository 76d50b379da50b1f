"""Which uncertain parameters matter: one-way, Morris and Sobol sensitivity.

All three ask the same question of the same parameters (those with a
distribution in ``uncertainty.parameters``) about one outcome: a KPI of a
scenario, or, given a baseline, the scenario's paired effect on it.

* **One-way**: each parameter at the low and at the high end of its range (the
  ends of a uniform or triangular law, else its 2.5% and 97.5% points), the
  others at their point values: the tornado chart.
* **Morris** elementary effects screen many parameters cheaply: ``mu_star``
  ranks their influence, ``sigma`` shows non-linearity or interaction.
* **Sobol** indices split the outcome's variance: ``S1`` the share due to a
  parameter alone, ``ST`` including its interactions.

Designs and estimators are SALib's (sampling in the unit cube; each coordinate
then goes through the parameter's inverse distribution function, so the
indices are over the parameters' distributions, not over flat ranges). Every
design point runs the same replications (common random numbers), which
removes much of the chance difference between points, though not all: a
changed parameter can shift which random numbers later events draw. The
paired effect on a baseline uses the same replications again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.config.schema import Config
from sim.experiment.parameters import ParameterSpace, run_points

#: the effects a tornado chart is drawn for by default
TORNADO_METRICS = ("emergency_admissions", "bed_days", "dtoc_days", "cost_total")


@dataclass
class PointRuns:
    """The outcome at design points (each the mean over the same replications)."""

    values: np.ndarray  # points x parameters
    outcome: dict[str, np.ndarray]  # metric -> per point


def evaluate(
    scenario: Config,
    space: ParameterSpace,
    values: np.ndarray,
    metrics: Sequence[str],
    baseline: Config | None = None,
    replications: int = 2,
    n_jobs: int = 1,
    backend: str = "loky",
    progress: bool | None = None,
) -> PointRuns:
    """Mean of each metric at every parameter set in ``values`` (rows), or of its
    paired difference from ``baseline`` run with the same parameter set."""
    cfgs = [c for c in (scenario, baseline) if c is not None]
    runs = run_points(
        cfgs, space, values, replications, "design point {i}", n_jobs, backend, progress
    )
    out: dict[str, np.ndarray] = {}
    for m in metrics:
        col = np.empty(len(values))
        for i, at in enumerate(runs):
            x = [k[m] for k in at[scenario.name]]
            if baseline is not None:
                x = [a - k[m] for a, k in zip(x, at[baseline.name], strict=True)]
            col[i] = float(np.mean(x))
        out[m] = col
    return PointRuns(np.asarray(values, dtype=float), out)


# ------------------------------------------------------------------ one-way
@dataclass
class OneWayResult:
    """The outcome with each parameter at its low and high end."""

    space: ParameterSpace
    metrics: list[str]
    at_point: dict[str, float]
    runs: PointRuns
    baseline: str | None

    def table(self) -> pd.DataFrame:
        """parameter (a parameter, or a group moved together), metric, low, high
        (its values; a group's first member's), at_point, at_low, at_high (the
        outcome), swing (|at_high - at_low|), ranked by swing."""
        rows = []
        for k, g in enumerate(self.space.groups):
            members = [p for p in self.space.parameters if p.group == g]
            name = members[0].key if len(members) == 1 else f"{g} ({len(members)} parameters)"
            for m in self.metrics:
                lo, hi = self.runs.outcome[m][2 * k], self.runs.outcome[m][2 * k + 1]
                rows.append(
                    {
                        "parameter": name,
                        "metric": m,
                        "low": members[0].low,
                        "high": members[0].high,
                        "point": members[0].point,
                        "at_point": self.at_point[m],
                        "at_low": lo,
                        "at_high": hi,
                        "swing": abs(hi - lo),
                    }
                )
        t = pd.DataFrame(rows)
        return t.sort_values(
            ["metric", "swing"], ascending=[True, False], kind="stable"
        ).reset_index(drop=True)


def one_way(
    scenario: Config,
    metrics: Sequence[str],
    baseline: Config | None = None,
    params: list[str] | None = None,
    replications: int = 2,
    n_jobs: int = 1,
    backend: str = "loky",
    progress: bool | None = None,
) -> OneWayResult:
    """One-way sensitivity of ``metrics`` (effects, given a baseline) to each
    parameter; the members of a group move to their ends together."""
    space = ParameterSpace.of(scenario, params)
    point = np.array([p.point for p in space.parameters])
    rows = [point]
    for g in space.groups:
        for end in ("low", "high"):
            row = point.copy()
            for k, p in enumerate(space.parameters):
                if p.group == g:
                    row[k] = getattr(p, end)
            rows.append(row)
    runs = evaluate(
        scenario, space, np.array(rows), metrics, baseline, replications, n_jobs, backend, progress
    )
    at_point = {m: float(v[0]) for m, v in runs.outcome.items()}
    rest = PointRuns(runs.values[1:], {m: v[1:] for m, v in runs.outcome.items()})
    return OneWayResult(space, list(metrics), at_point, rest, baseline.name if baseline else None)


# ------------------------------------------------------------------ global
def _problem(space: ParameterSpace) -> dict[str, Any]:
    """SALib's problem: one unit coordinate per parameter group."""
    return {
        "num_vars": space.dimension,
        "names": list(space.groups),
        "bounds": [[0.0, 1.0]] * space.dimension,
    }


@dataclass
class GlobalResult:
    """Global sensitivity indices of one outcome."""

    method: str  # "morris" or "sobol"
    metric: str
    indices: pd.DataFrame  # parameter, index, value, conf
    runs: PointRuns
    baseline: str | None


def _index_table(space: ParameterSpace, res: Any, names: dict[str, str | None]) -> pd.DataFrame:
    """SALib's results as rows: parameter (group), index, value, conf (its CI's
    half-width; NaN where SALib gives none). ``names``: index -> its conf key."""
    rows = []
    for i, g in enumerate(space.groups):
        for name, conf in names.items():
            c = float(res[conf][i]) if conf else np.nan
            rows.append({"parameter": g, "index": name, "value": float(res[name][i]), "conf": c})
    return pd.DataFrame(rows)


def morris(
    scenario: Config,
    metric: str,
    baseline: Config | None = None,
    params: list[str] | None = None,
    trajectories: int = 10,
    levels: int = 4,
    replications: int = 2,
    seed: int | None = None,
    n_jobs: int = 1,
    backend: str = "loky",
    progress: bool | None = None,
) -> GlobalResult:
    """Morris screening: ``trajectories * (groups + 1)`` design points."""
    from SALib.analyze import morris as analyze
    from SALib.sample import morris as sample

    space = ParameterSpace.of(scenario, params)
    problem = _problem(space)
    s = (scenario.run.seed if seed is None else seed) % 2**32
    unit = sample.sample(problem, trajectories, num_levels=levels, seed=s)
    # Morris's grid runs from 0 to 1 inclusive: each level stands for the middle of
    # its slice of probability instead, so no point sits on a law's infinite tail
    # (the scaling is linear, so SALib analyses the grid as it made it)
    values = space.values((unit * (levels - 1) + 0.5) / levels)
    jobs = (n_jobs, backend, progress)
    runs = evaluate(scenario, space, values, [metric], baseline, replications, *jobs)
    y = runs.outcome[metric]
    res = analyze.analyze(
        problem, unit, y, num_levels=levels, num_resamples=1000, conf_level=0.95, seed=s
    )
    table = _index_table(space, res, {"mu_star": "mu_star_conf", "sigma": None})
    return GlobalResult("morris", metric, table, runs, baseline.name if baseline else None)


def sobol(
    scenario: Config,
    metric: str,
    baseline: Config | None = None,
    params: list[str] | None = None,
    base_samples: int = 64,
    replications: int = 1,
    seed: int | None = None,
    n_jobs: int = 1,
    backend: str = "loky",
    progress: bool | None = None,
) -> GlobalResult:
    """Sobol first-order and total indices with bootstrap 95% CIs:
    ``base_samples * (groups + 2)`` design points (Saltelli's scheme)."""
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    space = ParameterSpace.of(scenario, params)
    problem = _problem(space)
    s = (scenario.run.seed if seed is None else seed) % 2**32
    unit = sample.sample(problem, base_samples, calc_second_order=False, seed=s)
    values = space.values(unit)
    jobs = (n_jobs, backend, progress)
    runs = evaluate(scenario, space, values, [metric], baseline, replications, *jobs)
    y = runs.outcome[metric]
    res = analyze.analyze(
        problem, y, calc_second_order=False, num_resamples=1000, conf_level=0.95, seed=s
    )
    table = _index_table(space, res, {"S1": "S1_conf", "ST": "ST_conf"})
    return GlobalResult("sobol", metric, table, runs, baseline.name if baseline else None)
