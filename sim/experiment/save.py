"""Save a run: its tables, resolved configuration, seeds and ``run.json``.

Existing output files are not replaced unless ``overwrite=True``. Each file is
written atomically (:mod:`sim.outputs.writers`); ``run.json`` goes last, so a
folder with one holds a complete run. The metadata in ``run.json`` (STRESS-DES,
configuration hash, code version) comes from :mod:`sim.experiment.metadata`.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.config.build import to_dict
from sim.core.rng import replication_seed, stream_key
from sim.experiment.metadata import code_version, config_hash, stress_des
from sim.flows import offered_loads

# called through the module, so that a test that replaces atomic_write (to kill a
# write half-way) reaches every file this writes
from sim.outputs import writers

if TYPE_CHECKING:
    from sim.experiment.runner import RunResult


def seeds_frame(result: RunResult) -> pd.DataFrame:
    """How each replication's random streams are seeded."""
    rows = []
    for r in result.replications:
        ss = replication_seed(r.seed, r.replication)
        for name in r.streams:
            rows.append(
                {
                    "scenario": r.scenario,
                    "replication": r.replication,
                    "seed": r.seed,
                    "stream": name,
                    "spawn_key": f"({r.replication}, {stream_key(name)})",
                    "entropy": ss.entropy,
                }
            )
    return pd.DataFrame(rows)


def write_run(
    result: RunResult,
    outdir: str | Path,
    overwrite: bool = False,
    extra_meta: dict[str, Any] | None = None,
) -> list[Path]:
    """Write every table of ``result`` into ``outdir``; returns the paths written.

    Raises:
        FileExistsError: if an output file exists and ``overwrite`` is False.
    """
    import yaml

    outdir = Path(outdir)
    tables: dict[str, pd.DataFrame | None] = {
        "kpis": result.kpis,
        "summary": result.summary(),
        "daily": result.daily,
        "neighbourhoods": result.neighbourhoods,
        "events": result.events,
        "years": result.years,  # runs of more than a year
        "seeds": seeds_frame(result),
    }
    formats = writers.table_formats()
    targets = [
        outdir / f"{name}.{fmt}" for name, df in tables.items() if df is not None for fmt in formats
    ]
    targets += [outdir / "config.yaml", outdir / "run.json"]
    if not overwrite:
        clash = [p for p in targets if p.exists()]
        if clash:
            raise FileExistsError(
                f"output files already exist in {outdir} (e.g. {clash[0].name}); "
                "choose another folder or pass overwrite=True"
            )
    written: list[Path] = []
    for name, df in tables.items():
        if df is not None:
            written += writers.write_table(df, outdir, name)
    cfg_text = yaml.safe_dump(to_dict(result.config), sort_keys=False)
    writers.atomic_write(outdir / "config.yaml", lambda p: p.write_text(cfg_text))
    written.append(outdir / "config.yaml")
    wall = float(sum(r.wall_seconds for r in result.replications))
    streams = sorted({s for r in result.replications for s in r.streams})
    meta = {
        "scenario": result.config.name,
        "written": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "config_hash": config_hash(result.config),
        "code_version": code_version(),
        "replications": len(result.replications),
        "seed": result.config.run.seed,
        "warmup_days": result.config.run.warmup_days,
        "measured_days": result.config.run.measured_days,
        "wall_seconds_total": wall,
        "wall_seconds_by_replication": [round(r.wall_seconds, 3) for r in result.replications],
        "warnings": result.warnings(),
        "end_state": result.end_state(),
        **(extra_meta or {}),
    }
    # the offered load of each core service: a planner's first check of capacity
    meta["expected_flows"] = offered_loads(result.config).as_dict()
    methods = {k: meta[k] for k in ("replications_method", "warmup_method") if k in meta}
    meta["stress_des"] = stress_des(
        result.config, len(result.replications), wall, streams, **methods
    )
    writers.atomic_write(outdir / "run.json", lambda p: p.write_text(json.dumps(meta, indent=2)))
    written.append(outdir / "run.json")
    return written
