"""Run metadata: what STRESS-DES asks a report of a simulation to state.

STRESS-DES (Monks et al. 2019) item 4 (experimentation) asks for the
initialisation (warm-up and initial conditions), run length, number of
replications and how it was chosen; item 5 (implementation) for the software
and versions, the random-number streams, the hardware and the run time. Every
run writes these to ``run.json``, next to a hash of its configuration that
resumed runs compare against, and the code version: the package version, the
git commit when run from a checkout, and a hash of the model's source, which
also keys the cache of finished replications (a change to the code is never
answered with results of the old code).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.config.build import to_dict
from sim.config.schema import Config

if TYPE_CHECKING:
    from sim.experiment.runner import RunResult

#: settings that do not change results (excluded from the configuration hash)
_NOT_RESULTS = {("run", "n_jobs"), ("run", "overwrite")}
#: settings that change how many replications run, not what one of them gives
_HOW_MANY = {("run", "replications"), ("run", "until_precision")}
#: top-level settings of presentation: a replication's results do not depend on them
_PRESENTATION = ("description", "compare", "report")


def config_hash(*cfgs: Config, per_replication: bool = False) -> str:
    """Stable hash of the result-relevant content of one or more configurations.

    ``per_replication``: hash only what one replication's results depend on (so
    a run with more replications can reuse the ones already made).
    """
    skip = _NOT_RESULTS | _HOW_MANY if per_replication else _NOT_RESULTS
    data = []
    for cfg in cfgs:
        d = to_dict(cfg)
        for block, key in skip:
            d.get(block, {}).pop(key, None)
        if cfg.population.projection.file:  # the table's content, not only its name
            from sim.projection import digest

            d["population"]["projection"]["file_sha256"] = digest(cfg.population.projection.file)
        if per_replication:  # what the run is called and compared with, not what it gives
            for key in _PRESENTATION:
                d.pop(key, None)
        data.append(d)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def package_version() -> str:
    """The installed package's version ("unknown" when run from an uninstalled tree)."""
    try:
        return metadata.version("neighbourhood-sim")
    except metadata.PackageNotFoundError:
        return "unknown"


@functools.cache
def source_hash() -> str:
    """Hash of every Python source file of the ``sim`` package (paths and contents).

    Hashing the whole package rather than only the modules a replication
    imports is simpler and errs on the safe side: a change anywhere under
    ``sim/`` makes cached replications stale.
    """
    return tree_hash(Path(__file__).resolve().parents[1])


def tree_hash(root: Path) -> str:
    """Hash of the ``.py`` files under ``root``: their relative paths and contents."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def code_key() -> str:
    """What cached replications are keyed on besides the configuration: package
    version, source hash, and the versions of Python and of the libraries that
    draw and schedule (NumPy does not promise the same draws across versions)."""
    import platform

    libs = []
    for pkg in ("numpy", "scipy", "simpy"):
        try:
            libs.append(f"{pkg}{metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            libs.append(f"{pkg}?")
    deps = hashlib.sha256("|".join([platform.python_version(), *libs]).encode()).hexdigest()[:8]
    return f"{package_version()}-{source_hash()}-{deps}"


@functools.cache
def code_version() -> str:
    """Package version, git commit (from a checkout) and the hash of the source."""
    repo = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "-C", str(repo), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    git = f"git {commit}, " if commit else ""
    return f"{package_version()} ({git}source {source_hash()})"


def software_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("neighbourhood-sim", "simpy", "numpy", "scipy", "pandas", "hydra-core", "joblib"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def hardware() -> dict[str, Any]:
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):  # /proc/cpuinfo is Linux-only
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        mem_gb = float("nan")
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
    }


def stress_des(
    cfg: Config,
    replications: int,
    wall_seconds: float,
    streams: list[str],
    replications_method: str = "fixed (run.replications)",
    warmup_method: str = "fixed (run.warmup_days; the default comes from the warm-up rule, "
    "nsim-warmup)",
) -> dict[str, Any]:
    """The STRESS-DES items 4 and 5 of a run, as plain data."""
    init = cfg.initial_state
    if init.acute_occupied == "steady_state":
        start = "acute beds at the core flow's expected occupancy (steady_state)"
    elif init.acute_occupied:
        start = f"{init.acute_occupied} patients in acute beds ({init.delayed} already delayed)"
    else:
        start = "empty acute beds"
    return {
        "4_experimentation": {
            "4.1_initialisation": {
                "warmup_days": cfg.run.warmup_days,
                "warmup_method": warmup_method,
                "initial_conditions": start + "; downstream services at their initial_occupancy "
                "(steady_state: expected occupancy)",
            },
            "4.2_run_length": {
                "measured_days": cfg.run.measured_days,
                "start_date": cfg.run.start_date,
            },
            "4.3_estimation": {
                "replications": replications,
                "replications_method": replications_method,
                "confidence_intervals": "95% CI across independent replications (t, or on "
                "the log scale for quantities that cannot be negative); scenario effects as "
                "paired differences (common random numbers) with t CIs",
            },
        },
        "5_implementation": {
            "5.1_software": software_versions(),
            "code_version": code_version(),
            "5.2_random_sampling": {
                "generator": "numpy PCG64",
                "scheme": "one stream per (seed, replication, stream name): "
                "SeedSequence(entropy=seed, spawn_key=(replication, blake2b(name)))",
                "seed": cfg.run.seed,
                "streams": streams,
            },
            "5.3_model_execution": "SimPy discrete-event simulation, hours as time unit",
            "build": _build(),
            "5.4_system_specification": hardware(),
            "run_time_seconds": round(wall_seconds, 2),
        },
    }


def batch_metadata(
    results: Mapping[str, RunResult],
    baseline: str,
    batch: Mapping[str, Any],
    elapsed_seconds: float,
) -> dict[str, Any]:
    """The top-level ``run.json`` of a comparison: the batch as a whole.

    Each scenario's own ``run.json`` (under ``scenarios/<name>/``) holds its
    details; this one says what was compared, how, with which code and how long
    it took, and carries ``batch_hash``, which a rerun in the same folder checks.
    """
    import datetime as _dt

    from sim.flows import offered_loads

    base = results[baseline]
    wall = float(sum(r.wall_seconds for res in results.values() for r in res.replications))
    streams = sorted({s for res in results.values() for r in res.replications for s in r.streams})
    run_cfg = base.config.run
    return {
        **batch,
        "kind": "comparison",
        "baseline": baseline,
        "written": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "scenarios": [
            {
                "name": name,
                "description": res.config.description,
                "config_hash": config_hash(res.config),
                "replications": len(res.replications),
                "folder": f"scenarios/{name}",
            }
            for name, res in results.items()
        ],
        "replications": len(base.replications),
        "seed": run_cfg.seed,
        "warmup_days": run_cfg.warmup_days,
        "measured_days": run_cfg.measured_days,
        "code_version": code_version(),
        "software": software_versions(),
        "wall_seconds_replications": round(wall, 2),
        "elapsed_seconds": round(elapsed_seconds, 2),
        "warnings": {name: res.warnings() for name, res in results.items()},
        # the offered load of each core service in the baseline (sim/flows.py)
        "expected_flows": offered_loads(base.config).as_dict(),
        "stress_des": stress_des(
            base.config,
            len(base.replications),
            wall,
            streams,
            replications_method=batch.get("replications_method", "fixed (run.replications)"),
        ),
    }


def _build() -> dict[str, str]:
    """Whether the compiled model ran, and why (results are identical either way)."""
    from sim import build_info

    return {k: str(v) for k, v in build_info.describe().items()}
