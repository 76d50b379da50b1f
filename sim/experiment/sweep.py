"""A sweep's plan and the state of each of its jobs.

Before a sweep launches anything, ``nsim -m`` checks every job and writes the
plan to ``sweep.json`` in the sweep folder: each job's number, overrides and
folder. A job that fails at run time writes ``failed.json`` (the error, and the
traceback for a bug report) into its folder and the others carry on; a finished
job has its ``run.json``. So every planned job is in one of four states:

* ``finished`` - ``run.json`` is in its folder;
* ``failed`` - ``failed.json`` is in its folder;
* ``unfinished`` - its folder exists with neither (still running, or killed);
* ``never launched`` - no folder.
"""

from __future__ import annotations

import datetime as _dt
import json
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MANIFEST = "sweep.json"
FAILED = "failed.json"
STATES = ("finished", "failed", "unfinished", "never launched")


@dataclass(frozen=True)
class Job:
    """One planned job of a sweep."""

    num: int
    overrides: list[str]
    folder: str  # relative to the sweep folder


@dataclass(frozen=True)
class JobState:
    job: Job
    state: str
    error: str = ""


def write_manifest(
    sweep_dir: Path, jobs: list[Job], command: list[str], warnings: list[str]
) -> Path:
    """Write ``sweep.json``: the planned jobs, the command and its warnings."""
    from sim.experiment.metadata import code_version
    from sim.outputs.writers import atomic_write

    data = {
        "command": command,
        "planned": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "code_version": code_version(),
        "warnings": warnings,
        "jobs": [asdict(j) for j in jobs],
    }
    path = sweep_dir / MANIFEST
    atomic_write(path, lambda p: p.write_text(json.dumps(data, indent=2)))
    return path


def read_manifest(sweep_dir: Path) -> list[Job] | None:
    """The planned jobs, or None for a sweep folder without a manifest."""
    path = sweep_dir / MANIFEST
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    return [Job(j["num"], list(j["overrides"]), j["folder"]) for j in data["jobs"]]


def state_of(sweep_dir: Path, job: Job) -> JobState:
    folder = sweep_dir / job.folder
    if (folder / "run.json").is_file():
        return JobState(job, "finished")
    if (folder / FAILED).is_file():
        try:
            error = json.loads((folder / FAILED).read_text()).get("error", "")
        except (OSError, ValueError):
            error = "(failed.json unreadable)"
        return JobState(job, "failed", error)
    if folder.is_dir():
        return JobState(job, "unfinished")
    return JobState(job, "never launched")


def states(sweep_dir: Path) -> list[JobState]:
    """The state of every job: from the manifest, or (older sweeps) from the folders."""
    jobs = read_manifest(sweep_dir)
    if jobs is None:
        jobs = [_job_from_folder(sweep_dir, h.parent) for h in sorted(sweep_dir.rglob(".hydra"))]
    return [state_of(sweep_dir, j) for j in jobs]


def _job_from_folder(sweep_dir: Path, folder: Path) -> Job:
    import yaml

    path = folder / ".hydra" / "overrides.yaml"
    items = (yaml.safe_load(path.read_text()) or []) if path.is_file() else []
    num_text = folder.name.split("_", 1)[0]
    num = int(num_text) if num_text.isdigit() else -1
    return Job(num, [str(o) for o in items], folder.relative_to(sweep_dir).as_posix())


def record_failure(job_dir: Path, exc: BaseException, overrides: list[str]) -> Path:
    """Write ``failed.json`` into a job's folder (atomically)."""
    from sim.outputs.writers import atomic_write

    data: dict[str, Any] = {
        "error": f"{type(exc).__name__}: {exc}" if not _is_config_error(exc) else str(exc),
        "overrides": overrides,
        "when": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "traceback": "".join(traceback.format_exception(exc)),
    }
    path = job_dir / FAILED
    atomic_write(path, lambda p: p.write_text(json.dumps(data, indent=2)))
    return path


def _is_config_error(exc: BaseException) -> bool:
    from sim.config.errors import ConfigError

    return isinstance(exc, ConfigError)


def clear_failure(job_dir: Path) -> None:
    """Forget an earlier failure of a job that is being run again."""
    (job_dir / FAILED).unlink(missing_ok=True)


def summary_line(all_states: list[JobState]) -> str:
    counts = {s: sum(1 for j in all_states if j.state == s) for s in STATES}
    parts = [f"{n} {s}" for s, n in counts.items() if n]
    return f"{len(all_states)} job(s): " + ", ".join(parts)


def table(all_states: list[JobState]) -> str:
    """One line per job: number, state, folder, overrides and any error."""
    lines = []
    for js in all_states:
        line = f"  {js.job.num:>3}  {js.state:<14}  {js.job.folder}  {' '.join(js.job.overrides)}"
        if js.error:
            first = js.error.strip().splitlines()
            line += "\n         " + "\n         ".join(first[:6])
        lines.append(line)
    return "\n".join(lines)
