"""Collect a sweep folder into one tidy table and a comparison table.

A Hydra multirun (``nsim -m scenario=treat,pace beds.acute=380,420``) writes one
job folder per combination. :func:`collect` walks the folder, reads each job's
``kpis.csv``, ``run.json`` and ``.hydra/overrides.yaml`` and returns one long
table with a row per (job, replication, metric):

    scenario, overrides, replication, seed, metric, value, code_version

Every job the sweep planned (``sweep.json``, see :mod:`sim.experiment.sweep`)
has a state - finished, failed (with its error), unfinished or never launched -
listed by :func:`job_table`; only finished jobs enter the tables. The comparison
pairs every job with a baseline job (by default the ``baseline`` scenario with
the fewest overrides) by replication.

The command ``nsim-collect`` (:mod:`sim.commands.collect`) writes these tables
into the sweep folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from sim.experiment.sweep import JobState


def _job_overrides(job: Path) -> str:
    import yaml

    path = job / ".hydra" / "overrides.yaml"
    if not path.exists():
        return ""
    items = yaml.safe_load(path.read_text()) or []
    return " ".join(sorted(o for o in items if not o.startswith("hydra")))


def find_jobs(sweep_dir: Path) -> tuple[list[Path], list[Path]]:
    """Finished job folders under ``sweep_dir``, and those of every other planned job."""
    from sim.experiment.sweep import states

    done: list[Path] = []
    other: list[Path] = []
    for js in states(sweep_dir):
        folder = sweep_dir / js.job.folder
        finished = js.state == "finished" and (folder / "kpis.csv").exists()
        (done if finished else other).append(folder)
    return done, other


def job_table(all_states: list[JobState]) -> pd.DataFrame:
    """One row per planned job: number, state, folder, overrides and error."""
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "job": js.job.num,
                "state": js.state,
                "folder": js.job.folder,
                "overrides": " ".join(js.job.overrides),
                "error": js.error,
            }
            for js in all_states
        ],
        columns=["job", "state", "folder", "overrides", "error"],
    )


def collect(sweep_dir: str | Path) -> pd.DataFrame:
    """The sweep's finished jobs as one long table (see the module docstring)."""
    import pandas as pd

    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise FileNotFoundError(f"no such sweep folder: {sweep_dir}")
    done, _ = find_jobs(sweep_dir)
    frames = []
    for job in done:
        kpis = pd.read_csv(job / "kpis.csv")
        meta = json.loads((job / "run.json").read_text())
        long = kpis.melt(
            id_vars=["scenario", "replication", "seed"], var_name="metric", value_name="value"
        )
        long.insert(1, "overrides", _job_overrides(job))
        long["code_version"] = meta.get("code_version", "")
        long["job"] = job.relative_to(sweep_dir).as_posix()
        frames.append(long)
    if not frames:
        raise FileNotFoundError(f"no finished nsim jobs under {sweep_dir}")
    return pd.concat(frames, ignore_index=True)


def label(df: pd.DataFrame) -> pd.Series:
    """One short label per job: the overrides in which it differs from the other jobs."""
    sets = {o: set(o.split()) for o in df["overrides"].unique()}
    common = set.intersection(*sets.values()) if sets else set()
    short = {o: " ".join(sorted(s - common)) for o, s in sets.items()}
    lab = df["overrides"].map(short)
    return lab.where(lab != "", df["scenario"])


def baseline_label(tidy: pd.DataFrame, baseline: str | None = None) -> str:
    """The reference job: as given, else the baseline scenario with the fewest overrides."""
    if baseline is not None:
        return baseline
    labels = label(tidy)[tidy["scenario"] == "baseline"]
    if labels.empty:
        raise ValueError("no baseline job in the sweep: pass --baseline LABEL")
    return min(labels.unique(), key=len)


def sweep_comparison(tidy: pd.DataFrame, baseline: str | None = None) -> pd.DataFrame:
    """Paired comparison of every job with the baseline job, by replication."""
    from sim.experiment.compare import compare

    baseline = baseline_label(tidy, baseline)
    tidy = tidy.assign(label=label(tidy))
    wide = tidy.pivot_table(
        index=["label", "replication", "seed"], columns="metric", values="value"
    ).reset_index()
    wide = wide.rename(columns={"label": "scenario"})
    return compare(wide, baseline=baseline)
