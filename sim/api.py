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
from sim.outputs.writers import write_run


def run(
    cfg: Config | str = "baseline",
    overrides: Iterable[str] = (),
    replications: int | None = None,
    n_jobs: int = 1,
    progress: bool = False,
) -> RunResult:
    """Run a configuration (or a scenario name with overrides) and return its results."""
    if isinstance(cfg, str):
        cfg = load_config(cfg, overrides)
    elif overrides:
        raise ValueError("overrides apply to a scenario name; pass load_config(name, overrides)")
    return _run(cfg, replications=replications, n_jobs=n_jobs, progress=progress)


def save(result: RunResult, outdir: str | Path, overwrite: bool = False) -> list[Path]:
    """Write a result's tables, config and seeds to ``outdir`` (same as ``result.save``)."""
    return write_run(result, outdir, overwrite=overwrite)
