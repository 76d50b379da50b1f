"""The plain Python API, for notebooks and scripts (no command line needed).

Example::

    import sim

    cfg = sim.load_config("baseline", ["beds.acute=450", "run.replications=3"])
    result = sim.run(cfg)
    result.summary()            # mean and 95% CI per KPI (pandas DataFrame)
    result.kpis                 # one row per replication
    result.daily                # daily census time series
    result.save("my-run")       # CSV (+ Parquet), config and seeds
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sim.config import Config, load_config
from sim.experiment.runner import RunResult
from sim.experiment.runner import run as _run
from sim.experiment.save import write_run


def run(
    cfg: Config | str = "baseline",
    overrides: Iterable[str] = (),
    replications: int | None = None,
    n_jobs: int | None = None,
    progress: bool = False,
) -> RunResult:
    """Run a configuration (or a scenario name with overrides) and return its results.

    Args:
        cfg: A validated configuration, or the name of a scenario.
        overrides: Hydra-style overrides of a scenario name, e.g. ``["beds.acute=450"]``.
        replications: Number of replications (default: ``run.replications``).
        n_jobs: Worker processes (default: ``run.n_jobs``; 1 = in this process,
            -1 = one per core). Results are the same whatever it is.
        progress: Show a progress bar.
    """
    if isinstance(cfg, str):
        cfg = load_config(cfg, overrides)
    elif overrides:
        raise ValueError("overrides apply to a scenario name; pass load_config(name, overrides)")
    jobs = cfg.run.n_jobs if n_jobs is None else n_jobs
    return _run(cfg, replications=replications, n_jobs=jobs, progress=progress)


def save(result: RunResult, outdir: str | Path, overwrite: bool = False) -> list[Path]:
    """Write a result's tables, config and seeds to ``outdir`` (same as ``result.save``)."""
    return write_run(result, outdir, overwrite=overwrite)
