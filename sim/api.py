"""The plain Python API, for notebooks and scripts (no command line needed).

Example::

    import sim

    cfg = sim.load_config("baseline", ["beds.acute=450", "run.replications=3"])
    result = sim.run(cfg)
    result.summary()            # mean and 95% CI per KPI (pandas DataFrame)
    result.kpis                 # one row per replication
    result.daily                # daily census time series
    result.years                # one row per replication and measured year (runs > 1 year)
    result.save("my-run")       # CSV (+ Parquet), config and seeds

    # parameter uncertainty: baseline and TREAT over the same 200 parameter sets
    psa = sim.psa(["baseline", "treat"], ["run.years=1"], draws=200)
    psa.headline()              # effects with intervals that carry both uncertainties
    psa.decision()              # probability of avoiding admissions, saving money, ...
    tornado = sim.one_way("treat", ["emergency_admissions"], baseline="baseline")
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sim.config import Config, load_config
from sim.experiment.calibration import CalibrationResult
from sim.experiment.psa import PsaResult
from sim.experiment.runner import RunResult
from sim.experiment.runner import run as _run
from sim.experiment.save import write_run
from sim.experiment.sensitivity import OneWayResult


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


def _configs(names: Iterable[str | Config], overrides: Iterable[str]) -> list[Config]:
    overrides = list(overrides)
    return [load_config(n, overrides) if isinstance(n, str) else n for n in names]


def psa(
    scenarios: Iterable[str | Config] = ("baseline",),
    overrides: Iterable[str] = (),
    baseline: str | None = None,
    draws: int | None = None,
    replications_per_draw: int | None = None,
    n_jobs: int = 1,
    progress: bool = False,
) -> PsaResult:
    """Probabilistic sensitivity analysis of ``scenarios`` over shared parameter sets.

    The first scenario is the baseline unless ``baseline`` names another. Draws
    and replications default to the ``uncertainty`` block.
    """
    from sim.experiment.psa import run_psa

    cfgs = _configs(scenarios, overrides)
    base = baseline if baseline is not None else (cfgs[0].name if len(cfgs) > 1 else None)
    return run_psa(cfgs, base, draws, replications_per_draw, n_jobs=n_jobs, progress=progress)


def one_way(
    scenario: str | Config,
    metrics: Iterable[str] = ("emergency_admissions",),
    overrides: Iterable[str] = (),
    baseline: str | Config | None = None,
    params: list[str] | None = None,
    replications: int = 2,
    n_jobs: int = 1,
) -> OneWayResult:
    """One-way sensitivity (the tornado) of ``metrics``, or of their paired effects
    against ``baseline``, to each uncertain parameter."""
    from sim.experiment.sensitivity import one_way as _one_way

    cfg = _configs([scenario], overrides)[0]
    base = _configs([baseline], overrides)[0] if baseline is not None else None
    return _one_way(cfg, list(metrics), base, params, replications, n_jobs=n_jobs)


def calibrate(
    targets: str | Path,
    params: list[str],
    scenario: str | Config = "baseline",
    overrides: Iterable[str] = (),
    points: int = 40,
    replications: int = 2,
    waves: int = 2,
    n_jobs: int = 1,
) -> CalibrationResult:
    """History-match ``params`` to the figures in the ``targets`` file (as
    ``nsim-calibrate``): ``result.fit()``, ``result.plausible``,
    ``sim.experiment.calibration.write_scenario(result, path)``."""
    from sim.experiment.calibration import history_match, load_targets

    cfg = _configs([scenario], overrides)[0]
    return history_match(
        cfg, load_targets(targets), params, points, replications, waves, n_jobs=n_jobs
    )
