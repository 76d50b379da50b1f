"""Run a configuration: one replication, or many with a summary.

The pipeline reads as single run -> replications -> summary table:

* :func:`run_replication` builds a :class:`~sim.model.CareSystemModel` for one
  replication, runs it and returns its KPIs and tables;
* :func:`run` runs ``run.replications`` of them (serially, or in worker
  processes: each replication has its own random streams, so the results are the
  same either way) and stacks the tables;
* :meth:`RunResult.summary` gives mean and confidence interval per KPI.

Finished replications can be kept in a cache folder (``cache_dir``) as plain
data (see :mod:`sim.experiment.cache`) and are reused by a rerun only when both
the configuration and the code version match.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, TypeVar

import pandas as pd

from sim.config.schema import Config
from sim.model import CareSystemModel
from sim.outputs.kpis import compute_kpis
from sim.outputs.tables import daily_frame, events_frame, neighbourhood_frame

J = TypeVar("J")
R = TypeVar("R")


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
    wall_seconds: float = 0.0  # kept out of the KPI table so outputs are reproducible
    #: one row per measured year, for runs of more than a year (sim.experiment.years)
    years: pd.DataFrame | None = None


def run_replication(cfg: Config, replication: int = 0) -> ReplicationResult:
    """Run one replication of ``cfg``."""
    from sim.experiment.years import year_frame

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
        wall_seconds=info.wall_seconds,
        years=year_frame(model),
    )


def _run_cached(args: tuple[Config, int, Path | None]) -> ReplicationResult:
    """Run one replication, or load it if this code already finished it in the cache."""
    from sim.experiment import cache

    cfg, r, cache_dir = args
    if cache_dir is None:
        return run_replication(cfg, r)
    path = cache.entry_path(Path(cache_dir), cfg, r)
    if path.exists() and (res := cache.load(path)) is not None:
        return res
    return _run_and_store((cfg, r, path))


def _run_and_store(args: tuple[Config, int, Path | None]) -> ReplicationResult:
    """Run one replication and, given a path, keep it there as plain data."""
    cfg, r, path = args
    res = run_replication(cfg, r)
    if path is not None:
        from sim.experiment import cache

        cache.save(path, res)
    return res


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
    def years(self) -> pd.DataFrame | None:
        """One row per replication and measured year (runs of more than a year;
        None otherwise): the year's population, headline KPIs and rates."""
        frames = [r.years for r in self.replications if r.years is not None]
        return pd.concat(frames, ignore_index=True) if frames else None

    @property
    def events(self) -> pd.DataFrame | None:
        frames = [r.events for r in self.replications if r.events is not None]
        return pd.concat(frames, ignore_index=True) if frames else None

    def summary(self, confidence: float = 0.95) -> pd.DataFrame:
        """Mean, sd and confidence interval of every KPI across replications."""
        # imported here: SciPy is slow to import and a worker process never needs it
        from sim.experiment.stats import summarise

        return summarise(self.kpis, confidence)

    def save(
        self, outdir: str | Path, overwrite: bool = False, extra_meta: dict[str, Any] | None = None
    ) -> list[Path]:
        """Write every table, the resolved config and the seeds to ``outdir``."""
        from sim.experiment.save import write_run

        return write_run(self, outdir, overwrite=overwrite, extra_meta=extra_meta)

    def warnings(self) -> list[str]:
        """Plain-language warnings a user must see: overload, gridlock, no demand,
        imprecise headline KPIs."""
        from sim.experiment.checks import gridlocked, overloads, precision_notes

        kpis = self.kpis
        days = self.config.run.measured_days
        notes = [o.note() for o in overloads(kpis, days)]
        why = gridlocked(kpis, days)
        if why and not notes:
            notes.append(f"gridlock: {why}; the hospital cannot admit its emergencies")
        if float(kpis["crises"].sum()) == 0 and self.config.demand.mode == "crises":
            notes.append("no demand: no crises arose (check population and crisis rates)")
        prec = self.config.run.until_precision
        notes += precision_notes(kpis, prec.metrics, prec.target)
        return notes

    def end_state(self) -> str:
        """Patients still inside when the run ended, on average, by place ("" if none).

        Not a warning: a run that stops at a date always finds patients in beds
        and services; they are counted (``end_*`` KPIs), never dropped.
        """
        n = len(self.replications)
        totals: dict[str, float] = {}
        for r in self.replications:
            for k, v in r.in_system.items():
                totals[k] = totals.get(k, 0) + v / n
        if sum(totals.values()) <= 0:
            return ""
        where = ", ".join(
            f"{v:.0f} {k.removeprefix('in_').replace('_', ' ')}" for k, v in totals.items() if v
        )
        return (
            f"on average {sum(totals.values()):.0f} patients were still in the system when "
            f"the run ended ({where}); they are counted in the end_* KPIs, not dropped"
        )


class _Bar(Protocol):
    """What the run needs of a progress bar: tqdm's, or none."""

    def __enter__(self) -> _Bar: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> object: ...

    def update(self, n: int = 1) -> object: ...


class _NoBar:
    """Stands in for a progress bar that is not shown (tqdm is not even imported:
    in a notebook without ipywidgets, importing tqdm.auto warns)."""

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int = 1) -> None:
        return None


class _ProgressFile:
    """Progress for a program watching from outside (the web app runs ``nsim`` in a
    process of its own): one JSON line per finished job appended to the file that
    ``NSIM_PROGRESS_FILE`` names, next to the bar (if any) it wraps."""

    def __init__(self, path: str, total: int, desc: str, bar: _Bar) -> None:
        self.path, self.total, self.desc, self.bar, self.done = path, total, desc, bar, 0

    def _write(self) -> None:
        import json

        line = json.dumps({"desc": self.desc, "done": self.done, "total": self.total})
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(line + "\n")

    def __enter__(self) -> _ProgressFile:
        self.bar.__enter__()
        self._write()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.bar.__exit__(*exc)

    def update(self, n: int = 1) -> None:
        self.bar.update(n)
        self.done += n
        self._write()


def _progress(total: int, progress: bool | None, desc: str) -> _Bar:
    """A tqdm bar on stderr; quiet unless asked for or attached to a terminal."""
    show = sys.stderr.isatty() if progress is None else progress
    bar: _Bar = _NoBar()
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=desc, unit="rep", file=sys.stderr)
    watched = os.environ.get("NSIM_PROGRESS_FILE")
    return _ProgressFile(watched, total, desc, bar) if watched else bar


def run_many(
    cfgs: list[Config],
    replications: int | None = None,
    n_jobs: int = 1,
    progress: bool | None = None,
    backend: str = "loky",
    cache_dir: str | Path | None = None,
) -> dict[str, RunResult]:
    """Run several configurations (scenarios) with their replications in one pool.

    Every (scenario, replication) is an independent job with its own random
    streams, so results are identical whatever ``n_jobs`` is and in whatever
    order jobs finish.

    Args:
        cfgs: Validated configurations with distinct names.
        replications: Replications per scenario (default: each ``run.replications``).
        n_jobs: Worker processes (1 = in this process, -1 = one per core).
        progress: Show a progress bar (default: only on a terminal).
        backend: "loky" (local worker processes, via joblib) or "dask" (the
            current ``distributed.Client``, e.g. a LocalCluster in a notebook or a
            cluster's scheduler).
        cache_dir: Keep each finished replication here (as plain data, written
            atomically) and reuse it on a rerun, so an interrupted batch redoes
            only what did not finish. Entries are keyed by the configuration's
            hash and the code version; reuse is reported on stderr.
    """
    _check_projections(cfgs)
    names = [c.name for c in cfgs]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"scenario names must be distinct; listed more than once: {twice}")
    counts = [c.run.replications if replications is None else replications for c in cfgs]
    if min(counts, default=1) < 1:
        raise ValueError("replications must be >= 1")
    # replication by replication across the scenarios (baseline 0, scenario 0,
    # baseline 1, ...): each job has its own streams, so the order changes no
    # result, but paired differences can be read from the first pairs finished
    jobs: list[tuple[Config, int]] = [
        (cfg, r)
        for r in range(max(counts, default=0))
        for cfg, n in zip(cfgs, counts, strict=True)
        if r < n
    ]
    found: dict[tuple[str, int], ReplicationResult] = {}
    todo: list[tuple[Config, int, Path | None]] = [(c, r, None) for c, r in jobs]
    if cache_dir is not None:
        found, todo = _from_cache(Path(cache_dir), jobs)
    by_name: dict[str, list[ReplicationResult]] = {c.name: [] for c in cfgs}
    for res in found.values():
        by_name[res.scenario].append(res)
    desc = names[0] if len(names) == 1 else f"{len(names)} scenarios"
    for res in map_jobs(_run_and_store, todo, n_jobs, backend, progress, desc):
        by_name[res.scenario].append(res)
    return {
        c.name: RunResult(c, sorted(by_name[c.name], key=lambda r: r.replication)) for c in cfgs
    }


def _check_projections(cfgs: Sequence[Config]) -> None:
    """Stop before any replication starts if a projection table cannot be used
    (in a worker process the same error would come back once per replication)."""
    from sim.config.errors import ConfigError
    from sim.projection import problems

    found = [p for cfg in cfgs for p in problems(cfg)]
    if found:
        raise ConfigError(list({str(p): p for p in found}.values()))  # once per table


def map_jobs(
    fn: Callable[[J], R],
    jobs: Sequence[J],
    n_jobs: int = 1,
    backend: str = "loky",
    progress: bool | None = None,
    desc: str = "",
) -> Iterator[R]:
    """``fn`` over ``jobs`` in this process or a pool, yielding results as they finish.

    The one place experiments go parallel: ``backend`` "loky" (joblib's local
    worker processes) or "dask" (the current ``distributed.Client``: a
    LocalCluster, or a cluster's scheduler). Results come in no fixed order;
    each carries its own keys.
    """
    workers = (os.cpu_count() or 1) if n_jobs == -1 else max(1, n_jobs)
    results: Iterable[R]
    with _progress(len(jobs), progress, desc) as bar:
        if not jobs:
            results = iter(())
        elif backend == "dask":
            from distributed import as_completed, get_client

            futures = get_client().map(fn, list(jobs), pure=False)
            results = (f.result() for f in as_completed(futures))
        elif workers == 1 or len(jobs) == 1:
            results = (fn(job) for job in jobs)
        else:
            import warnings

            from joblib import Parallel, delayed

            # loky replaces a worker whose memory grew between jobs and says so; the
            # job is rerun from its own random streams, so nothing is lost or changed
            warnings.filterwarnings("ignore", "A worker stopped while some jobs", UserWarning)
            pool = Parallel(n_jobs=min(workers, len(jobs)), backend=backend, return_as="generator")
            results = pool(delayed(fn)(job) for job in jobs)
        for res in results:
            bar.update(1)
            yield res


def run_kpis(job: tuple[Config, int]) -> tuple[str, int, dict[str, float]]:
    """One replication's KPIs only (scenario name, replication, KPIs): what the
    outer loops of uncertainty and sensitivity analyses keep of each run."""
    cfg, replication = job
    model = CareSystemModel(cfg, replication)
    info = model.run()
    return cfg.name, replication, compute_kpis(model, info)


def _from_cache(
    cache_dir: Path, jobs: list[tuple[Config, int]]
) -> tuple[dict[tuple[str, int], ReplicationResult], list[tuple[Config, int, Path | None]]]:
    """Replications already in the cache, and the jobs still to run (with their paths)."""
    from sim.experiment import cache

    hit = cache.lookup(cache_dir, jobs)
    if hit.found:
        print(
            f"nsim: reusing {len(hit.found)} finished replication(s) from {cache_dir} "
            "(same configuration and code version)",
            file=sys.stderr,
        )
    if hit.other_code:
        print(
            f"nsim: not reusing {hit.other_code} cached replication(s) of the same "
            f"configuration in {cache_dir}: they were made by another code version",
            file=sys.stderr,
        )
    if hit.pickles:
        print(
            f"nsim: ignoring {hit.pickles} replication(s) cached as pickle files by an "
            f"older version in {cache_dir}; they are never loaded and will be redone",
            file=sys.stderr,
        )
    todo: list[tuple[Config, int, Path | None]] = [
        (cfg, r, cache.entry_path(cache_dir, cfg, r))
        for cfg, r in jobs
        if (cfg.name, r) not in hit.found
    ]
    return hit.found, todo


def run(
    cfg: Config,
    replications: int | None = None,
    n_jobs: int | None = 1,
    progress: bool | None = None,
) -> RunResult:
    """Run ``replications`` (default ``cfg.run.replications``) replications of ``cfg``.

    Args:
        cfg: Validated configuration.
        replications: Number of replications, numbered from 0.
        n_jobs: Worker processes (1 = in this process; -1 = one per core;
            None = ``cfg.run.n_jobs``).
        progress: Show a progress bar (default: only on a terminal).
    """
    jobs = cfg.run.n_jobs if n_jobs is None else n_jobs
    return run_many([cfg], replications, jobs, progress)[cfg.name]
