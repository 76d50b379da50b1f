"""Collect a sweep folder into one tidy table and a comparison table.

A Hydra multirun (``nsim -m scenario=treat,pace beds.acute=380,420``) writes one
job folder per combination. :func:`collect` walks the folder, reads each job's
``kpis.csv``, ``run.json`` and ``.hydra/overrides.yaml`` and returns one long
table with a row per (job, replication, metric):

    scenario, overrides, replication, seed, metric, value, code_version

Jobs that did not finish (no ``run.json``) are listed and skipped. The
comparison pairs every job with a baseline job (by default the ``baseline``
scenario with the fewest overrides) by replication.

Command line: ``nsim-collect SWEEP_DIR [--baseline LABEL]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
import yaml

from sim.experiment.compare import compare
from sim.outputs.writers import write_table


def _job_overrides(job: Path) -> str:
    path = job / ".hydra" / "overrides.yaml"
    if not path.exists():
        return ""
    items = yaml.safe_load(path.read_text()) or []
    return " ".join(sorted(o for o in items if not o.startswith("hydra")))


def find_jobs(sweep_dir: Path) -> tuple[list[Path], list[Path]]:
    """Finished and unfinished job folders under ``sweep_dir``."""
    done, unfinished = [], []
    for hydra_dir in sorted(sweep_dir.rglob(".hydra")):
        job = hydra_dir.parent
        (
            done if (job / "run.json").exists() and (job / "kpis.csv").exists() else unfinished
        ).append(job)
    return done, unfinished


def collect(sweep_dir: str | Path) -> pd.DataFrame:
    """The sweep's results as one long table (see the module docstring)."""
    sweep_dir = Path(sweep_dir)
    done, unfinished = find_jobs(sweep_dir)
    if unfinished:
        print(
            f"nsim-collect: skipping {len(unfinished)} unfinished job(s): "
            + ", ".join(j.name for j in unfinished),
            file=sys.stderr,
        )
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
    baseline = baseline_label(tidy, baseline)
    tidy = tidy.assign(label=label(tidy))
    wide = tidy.pivot_table(
        index=["label", "replication", "seed"], columns="metric", values="value"
    ).reset_index()
    wide = wide.rename(columns={"label": "scenario"})
    return compare(wide, baseline=baseline)


def write(
    sweep_dir: str | Path, baseline: str | None = None, report: bool = False
) -> dict[str, Path]:
    """Collect ``sweep_dir`` and write the tidy and comparison tables into it."""
    sweep_dir = Path(sweep_dir)
    tidy = collect(sweep_dir)
    comp = sweep_comparison(tidy, baseline)
    out: dict[str, Path] = {}
    if report:
        from sim.report.html import write_sweep

        path = sweep_dir / "sweep_report.html"
        for written in write_sweep(path, tidy, comp, baseline_label(tidy, baseline)):
            out[written.relative_to(sweep_dir).as_posix()] = written
    for name, df in (("sweep", tidy), ("sweep_comparison", comp)):
        for path in write_table(df, sweep_dir, name):
            out[path.name] = path
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="nsim-collect", description=__doc__.splitlines()[0])
    ap.add_argument("sweep_dir", type=Path)
    ap.add_argument("--baseline", help="label of the reference job (default: baseline)")
    ap.add_argument("--report", action="store_true", help="also write sweep_report.html")
    args = ap.parse_args(argv)
    try:
        paths = write(args.sweep_dir, args.baseline, report=args.report)
    except (FileNotFoundError, ValueError) as exc:
        print(f"nsim-collect: {exc}", file=sys.stderr)
        sys.exit(2)
    for p in paths.values():
        print(p)


if __name__ == "__main__":
    main()
