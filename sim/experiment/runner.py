"""Run a configuration: one replication, or many with a summary.

The pipeline reads as single run -> replications -> summary table:

* :func:`run_replication` builds a :class:`~sim.model.CareSystemModel` for one
  replication, runs it and returns its KPIs and tables;
* :func:`run` runs ``run.replications`` of them (serially, or in worker
  processes: each replication has its own random streams, so the results are the
  same either way) and stacks the tables;
* :meth:`RunResult.summary` gives mean and confidence interval per KPI.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.config.schema import Config
from sim.experiment.stats import summarise
from sim.model import CareSystemModel
from sim.outputs.kpis import compute_kpis
from sim.outputs.tables import daily_frame, events_frame, neighbourhood_frame


@dataclass
class ReplicationResult:
    """Everything one replication produced."""

    scenario: str
    replication: int
    seed: int
    kpis: dict[str, float]
    daily: pd.DataFrame
    neighbourhoods: pd.DataFrame
    events: pd.DataFrame | None
    streams: list[str]
    in_system: dict[str, int]


def run_replication(cfg: Config, replication: int = 0) -> ReplicationResult:
    """Run one replication of ``cfg``."""
    model = CareSystemModel(cfg, replication)
    info = model.run()
    return ReplicationResult(
        scenario=cfg.name,
        replication=replication,
        seed=cfg.run.seed,
        kpis=compute_kpis(model, info),
        daily=daily_frame(model),
        neighbourhoods=neighbourhood_frame(model),
        events=events_frame(model),
        streams=model.streams.names(),
        in_system=model.in_system(),
    )


def _run_one(args: tuple[Config, int]) -> ReplicationResult:
    return run_replication(*args)


@dataclass
class RunResult:
    """Stacked results of the replications of one configuration."""

    config: Config
    replications: list[ReplicationResult] = field(repr=False)

    @property
    def kpis(self) -> pd.DataFrame:
        """One row per replication: scenario, replication, seed, then every KPI."""
        rows = [
            {"scenario": r.scenario, "replication": r.replication, "seed": r.seed, **r.kpis}
            for r in self.replications
        ]
        return pd.DataFrame(rows)

    @property
    def daily(self) -> pd.DataFrame:
        return pd.concat([r.daily for r in self.replications], ignore_index=True)

    @property
    def neighbourhoods(self) -> pd.DataFrame:
        return pd.concat([r.neighbourhoods for r in self.replications], ignore_index=True)

    @property
    def events(self) -> pd.DataFrame | None:
        frames = [r.events for r in self.replications if r.events is not None]
        return pd.concat(frames, ignore_index=True) if frames else None

    def summary(self, confidence: float = 0.95) -> pd.DataFrame:
        """Mean, sd and confidence interval of every KPI across replications."""
        return summarise(self.kpis, confidence)

    def save(self, outdir: str | Path, overwrite: bool = False) -> list[Path]:
        """Write every table, the resolved config and the seeds to ``outdir``."""
        from sim.outputs.writers import write_run

        return write_run(self, outdir, overwrite=overwrite)

    def warnings(self) -> list[str]:
        """Plain-language notes a user should see (e.g. patients left inside)."""
        notes = []
        n = len(self.replications)
        totals: dict[str, float] = {}
        for r in self.replications:
            for k, v in r.in_system.items():
                totals[k] = totals.get(k, 0) + v / n
        if sum(totals.values()) > 0:
            where = ", ".join(
                f"{v:.0f} {k.removeprefix('in_').replace('_', ' ')}" for k, v in totals.items() if v
            )
            notes.append(
                f"on average {sum(totals.values()):.0f} patients were still in the system when "
                f"the run ended ({where}); they are counted in the end_* KPIs, not dropped"
            )
        return notes


def run(
    cfg: Config, replications: int | None = None, n_jobs: int = 1, progress: bool = False
) -> RunResult:
    """Run ``replications`` (default ``cfg.run.replications``) replications of ``cfg``.

    Args:
        cfg: Validated configuration.
        replications: Number of replications, numbered from 0.
        n_jobs: Worker processes (1 = in this process; -1 = one per core).
        progress: Print one line per finished replication to stderr.
    """
    n = cfg.run.replications if replications is None else replications
    if n < 1:
        raise ValueError("replications must be >= 1")
    jobs = [(cfg, r) for r in range(n)]
    workers = (os.cpu_count() or 1) if n_jobs == -1 else max(1, n_jobs)
    results: list[ReplicationResult] = []
    if workers == 1 or n == 1:
        for job in jobs:
            results.append(_run_one(job))
            if progress:
                _report(results[-1], n)
    else:
        with ProcessPoolExecutor(max_workers=min(workers, n)) as pool:
            for res in pool.map(_run_one, jobs):
                results.append(res)
                if progress:
                    _report(res, n)
    return RunResult(cfg, results)


def _report(res: ReplicationResult, n: int) -> None:
    secs = res.kpis.get("wall_seconds", float("nan"))
    print(
        f"  replication {res.replication + 1}/{n} of {res.scenario!r} done in {secs:.1f} s",
        file=sys.stderr,
        flush=True,
    )
