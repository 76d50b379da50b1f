"""Collect a sweep folder into one tidy table and a comparison table.

``nsim-collect SWEEP_DIR [--baseline LABEL] [--report]`` lists every planned job
with its state on stderr and in ``sweep_jobs.csv``, then writes the tidy table
(``sweep``) and the paired comparison with the baseline job
(``sweep_comparison``) into the sweep folder, and with ``--report`` the HTML
report ``sweep_report.html``. The tables come from :mod:`sim.experiment.collect`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

# light: pandas and the sweep machinery are imported when a sweep is collected,
# not for --help or a wrong argument
from sim.experiment.collect import baseline_label, collect, job_table, sweep_comparison

if TYPE_CHECKING:
    from sim.experiment.sweep import JobState


def report_states(sweep_dir: Path) -> list[JobState]:
    """Print every planned job's state to stderr (the jobs that did not finish in full)."""
    from sim.experiment.sweep import states, summary_line, table

    all_states = states(sweep_dir)
    print(f"nsim-collect: {sweep_dir}: {summary_line(all_states)}", file=sys.stderr)
    bad = [s for s in all_states if s.state != "finished"]
    if bad:
        print("jobs left out of the tables:\n" + table(bad), file=sys.stderr)
    return all_states


def write(
    sweep_dir: str | Path, baseline: str | None = None, report: bool = False
) -> dict[str, Path]:
    """Collect ``sweep_dir`` and write the job list, tidy and comparison tables into it."""
    from sim.outputs.writers import atomic_write, write_table

    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise FileNotFoundError(f"no such sweep folder: {sweep_dir}")
    all_states = report_states(sweep_dir)
    jobs = job_table(all_states)
    atomic_write(sweep_dir / "sweep_jobs.csv", lambda p: jobs.to_csv(p, index=False))
    tidy = collect(sweep_dir)
    out: dict[str, Path] = {"sweep_jobs.csv": sweep_dir / "sweep_jobs.csv"}
    # the tidy table first: it needs no pairing, so a sweep that cannot be
    # compared (jobs run with different seeds) still gets it
    for path in write_table(tidy, sweep_dir, "sweep"):
        out[path.name] = path
    try:
        comp = sweep_comparison(tidy, baseline)
    except ValueError as exc:
        print(f"nsim-collect: no paired comparison: {exc}", file=sys.stderr)
        return out
    if report:
        from sim.report.html import write_sweep

        path = sweep_dir / "sweep_report.html"
        for written in write_sweep(path, tidy, comp, baseline_label(tidy, baseline)):
            out[written.relative_to(sweep_dir).as_posix()] = written
    for path in write_table(comp, sweep_dir, "sweep_comparison"):
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
