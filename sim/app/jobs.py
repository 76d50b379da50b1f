"""Runs started from the app: ``nsim`` in a process of its own, watched and cancellable.

A comparison of a year with ten replications takes tens of seconds and a
probabilistic analysis minutes; the page must stay responsive meanwhile and a
planner must be able to stop it. So a run is the ``nsim`` command itself, in a
child process (its own process group, so cancelling stops its workers too),
with:

* ``NSIM_SCENARIO_PATH`` set to the session's and the library's scenario folders;
* ``NSIM_PROGRESS_FILE`` set to a file the runner appends a line to per finished
  replication (:mod:`sim.experiment.runner`), which the page reads;
* its outputs in ``<run>/out``, the same files ``nsim`` writes anywhere.

Because the app runs the very command a planner would type, the command it
shows (and puts in the configuration download) gives identical tables.

A run folder is named by a key of what decides its results: the hashes of the
compared configurations (as ``nsim`` computes them), the request and the code
version. Asking again for a finished run reopens it at no cost; a run of other
code or settings never reuses it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sim.app.workspace import Workspace
from sim.config.errors import ConfigError, ConfigProblem
from sim.config.loading import load_config, scenario_path

#: limits on what a form may ask for (a run the machine can finish in reasonable time)
MAX_REPLICATIONS = 100
MAX_YEARS = 5
MAX_DRAWS = 500
MAX_COMPARED = 8


@dataclass(frozen=True)
class Request:
    """What a planner asks the app to run."""

    baseline: str
    compare: tuple[str, ...] = ()
    replications: int = 10
    years: int = 1
    seed: int = 20181
    psa: bool = False
    draws: int = 50
    tornado: bool = False

    def problems(self) -> list[ConfigProblem]:
        """Checks of the form's values (the configurations are checked by loading them)."""
        out = []
        if not 2 <= self.replications <= MAX_REPLICATIONS:
            out.append(
                ConfigProblem(
                    "replications",
                    self.replications,
                    f"a whole number from 2 to {MAX_REPLICATIONS} (one replication gives no "
                    "confidence interval)",
                )
            )
        if not 1 <= self.years <= MAX_YEARS:
            out.append(ConfigProblem("years", self.years, f"1 to {MAX_YEARS} years"))
        if not 0 <= self.seed < 2**31:
            out.append(ConfigProblem("seed", self.seed, "a whole number from 0 to 2147483647"))
        if self.psa and not 2 <= self.draws <= MAX_DRAWS:
            out.append(ConfigProblem("parameter sets", self.draws, f"2 to {MAX_DRAWS}"))
        if len(self.compare) > MAX_COMPARED:
            out.append(
                ConfigProblem("compare", list(self.compare), f"at most {MAX_COMPARED} scenarios")
            )
        if self.baseline in self.compare:
            out.append(ConfigProblem("compare", self.baseline, "scenarios other than the baseline"))
        return out

    def overrides(self) -> list[str]:
        """The ``nsim`` overrides for this request (names already checked by loading)."""
        out = [
            f"compare=[{','.join(self.compare)}]",
            f"run.replications={self.replications}",
            f"run.years={self.years}",
            f"run.seed={self.seed}",
        ]
        if self.psa:
            out += ["uncertainty.method=psa", f"uncertainty.draws={self.draws}"]
        if self.tornado:
            out.append("uncertainty.tornado=true")
        return out

    def command(self, scenario_folder: str = "scenarios") -> str:
        """The shell command that runs this request by hand (from a folder that holds
        the run's scenario files in ``scenario_folder``)."""
        args = " ".join(f"'{o}'" if "[" in o else o for o in self.overrides())
        return f"NSIM_SCENARIO_PATH={scenario_folder} nsim scenario={self.baseline} {args}"


def _compared(req: Request) -> list[str]:
    """The overrides ``nsim`` gives the compared scenarios (its own rule)."""
    from sim.preflight import compared_overrides

    return [*compared_overrides(req.overrides()), "compare=[]"]


def check(req: Request, ws: Workspace) -> tuple[str | None, list[ConfigProblem]]:
    """The run's key, or the problems with the request and its configurations."""
    from sim.experiment.metadata import code_key, config_hash

    problems = req.problems()
    if problems:
        return None, problems
    try:
        with scenario_path(ws.scenario_dirs()):
            base = load_config(req.baseline, req.overrides())
            others = [load_config(n, _compared(req)) for n in req.compare]
    except ConfigError as exc:
        return None, list(exc.problems)
    text = json.dumps([config_hash(base, *others), asdict(req), code_key()], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20], []


@dataclass
class Status:
    """Where a run is: ``running``, ``finished``, ``failed``, ``cancelled`` or ``lost``."""

    state: str
    done: int = 0
    total: int = 0
    stage: str = ""
    message: str = ""
    seconds: float = 0.0
    stages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def fraction(self) -> float:
        return 0.0 if self.total <= 0 else min(1.0, self.done / self.total)


#: processes started by this server, by run folder (a restarted server has none)
_PROCS: dict[Path, subprocess.Popen[bytes]] = {}


class Run:
    """One run folder: its request, its process and its outputs."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def key(self) -> str:
        return self.folder.name

    @property
    def out(self) -> Path:
        return self.folder / "out"

    @property
    def request(self) -> Request:
        data = json.loads((self.folder / "request.json").read_text(encoding="utf-8"))
        data["compare"] = tuple(data["compare"])
        return Request(**data)

    @property
    def meta(self) -> dict[str, Any]:
        try:
            data = json.loads((self.folder / "job.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_meta(self, **changes: Any) -> None:
        meta = {**self.meta, **changes}
        tmp = self.folder / ".job.json.tmp"
        tmp.write_text(json.dumps(meta, indent=2), encoding="utf-8")
        os.replace(tmp, self.folder / "job.json")

    def finished(self) -> bool:
        """True when ``nsim`` wrote its last file (``run.json`` marks a complete run)."""
        return (self.out / "run.json").is_file() and (self.out / "cli.log").is_file()

    def status(self) -> Status:
        """Where the run is now (reading the progress file; never blocks)."""
        meta = self.meta
        started = float(meta.get("started", time.time()))
        stages = _progress(self.folder / "progress.jsonl")
        done = sum(s["done"] for s in stages)
        total = sum(s["total"] for s in stages)
        stage = stages[-1]["desc"] if stages else "starting"
        proc = _PROCS.get(self.folder)
        if meta.get("state") == "cancelled":
            return Status("cancelled", done, total, stage, "cancelled", 0.0, stages)
        if proc is not None and proc.poll() is None:
            return Status("running", done, total, stage, "", time.time() - started, stages)
        if self.finished():
            if "seconds" not in meta and "started" in meta and self.folder.parent.is_dir():
                self._write_meta(state="finished", seconds=time.time() - started)
            seconds = float(self.meta.get("seconds", 0.0))
            return Status("finished", total, total, stage, "", seconds, stages)
        if proc is not None:  # ended without finishing: say why, from what nsim printed
            return Status("failed", done, total, stage, self.error_text(), 0.0, stages)
        return Status("lost", done, total, stage, "the run stopped when the app restarted")

    def error_text(self) -> str:
        """What ``nsim`` said when it failed: its error lines, without any traceback."""
        try:
            text = (self.folder / "nsim.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "the run failed"
        lines = [ln for ln in text.splitlines() if ln.startswith("nsim:") or "Error" in ln]
        return "\n".join(lines[-5:]) or "the run failed; see nsim.log in the run's download"

    def cancel(self) -> None:
        """Stop the run and its worker processes."""
        proc = _PROCS.get(self.folder)
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self._write_meta(state="cancelled")

    def wait(self, timeout: float | None = None) -> Status:
        """Block until the process ends (for scripts and tests)."""
        proc = _PROCS.get(self.folder)
        if proc is not None:
            proc.wait(timeout=timeout)
        return self.status()


def _progress(path: Path) -> list[dict[str, Any]]:
    """The runner's progress lines, one entry per stage (the last line of each)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    stages: list[dict[str, Any]] = []
    for line in text.splitlines():
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line being written
        if not isinstance(item, dict):
            continue
        if item.get("done") == 0 or not stages:
            stages.append(item)
        else:
            stages[-1] = item
    return stages


def start(req: Request, ws: Workspace) -> tuple[Run | None, list[ConfigProblem]]:
    """Start ``req`` (or reopen the finished run with the same key) in this session."""
    key, problems = check(req, ws)
    if key is None:
        return None, problems
    shared = ws.library_runs / key
    if Run(shared).finished():
        return Run(shared), []
    run = Run(ws.runs / key)
    if run.finished() or run.status().state == "running":
        return run, []
    run.folder.mkdir(parents=True, exist_ok=True)
    (run.folder / "request.json").write_text(json.dumps(asdict(req)), encoding="utf-8")
    (run.folder / "progress.jsonl").write_text("", encoding="utf-8")
    env = {
        **os.environ,
        "NSIM_SCENARIO_PATH": os.pathsep.join(str(d) for d in ws.scenario_dirs()),
        "NSIM_PROGRESS_FILE": str(run.folder / "progress.jsonl"),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("NSIM_APP_DATA", None)
    argv = [
        sys.executable,
        "-m",
        "sim.cli",
        f"scenario={req.baseline}",
        *req.overrides(),
        f"hydra.run.dir={run.out}",
        "run.overwrite=true",
    ]
    _copy_scenarios(req, ws, run.folder / "scenarios")
    log = (run.folder / "nsim.log").open("wb")
    proc = subprocess.Popen(
        argv,
        cwd=run.folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: cancel stops the workers too
    )
    log.close()
    _PROCS[run.folder] = proc
    run._write_meta(state="running", started=time.time(), argv=argv[3:], command=req.command())
    return run, []


def _copy_scenarios(req: Request, ws: Workspace, dest: Path) -> None:
    """Copy the session's and library's scenario files this request uses into ``dest``."""
    import shutil

    from sim.app.drafts import dependencies

    dest.mkdir(parents=True, exist_ok=True)
    for name in (req.baseline, *req.compare):
        for path in dependencies(name, ws.scenario_dirs()):
            shutil.copy2(path, dest / path.name)


def runs(ws: Workspace) -> list[Run]:
    """This session's runs and the shared library's, newest first."""
    out = [
        Run(p.parent) for base in (ws.runs, ws.library_runs) for p in base.glob("*/request.json")
    ]
    return sorted(out, key=lambda r: float(r.meta.get("started", 0.0)), reverse=True)
