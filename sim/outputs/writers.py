"""Write a run's outputs to a folder, atomically and without silent overwrites.

Every file is written to a temporary name in the target folder and renamed into
place, so a run killed while writing never leaves a file that looks complete.
Existing output files are not replaced unless ``overwrite=True``. CSV is always
written; Parquet is added when ``pyarrow`` is installed (``pip install
neighbourhood-sim[parquet]``).
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.config.build import to_dict
from sim.core.rng import replication_seed, stream_key

if TYPE_CHECKING:
    from sim.experiment.runner import RunResult


def parquet_available() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


@functools.cache
def _umask() -> int:
    """The process umask, read once: reading it means setting it, which other
    threads writing files must not catch half-done on every write."""
    umask = os.umask(0)
    os.umask(umask)
    return umask


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` then rename ``tmp`` to ``path`` (same folder, atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        # mkstemp creates 0600; outputs are shared files
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def table_formats() -> list[str]:
    """File formats a table is written in: CSV, and Parquet when pyarrow is installed."""
    return ["csv"] + (["parquet"] if parquet_available() else [])


def write_table(df: pd.DataFrame, outdir: Path, name: str) -> list[Path]:
    """Write ``df`` as ``outdir/name.csv`` (and ``.parquet``), each atomically."""
    paths = []
    for fmt in table_formats():
        path = outdir / f"{name}.{fmt}"
        if fmt == "csv":
            atomic_write(path, lambda p: df.to_csv(p, index=False))
        else:
            atomic_write(path, lambda p: df.to_parquet(p, index=False))
        paths.append(path)
    return paths


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
        "seeds": seeds_frame(result),
    }
    formats = table_formats()
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
            written += write_table(df, outdir, name)
    cfg_text = yaml.safe_dump(to_dict(result.config), sort_keys=False)
    atomic_write(outdir / "config.yaml", lambda p: p.write_text(cfg_text))
    written.append(outdir / "config.yaml")
    from sim.experiment.metadata import code_version, config_hash, stress_des

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
    from sim.flows import offered_loads

    # the offered load of each core service: a planner's first check of capacity
    meta["expected_flows"] = offered_loads(result.config).as_dict()
    methods = {k: meta[k] for k in ("replications_method", "warmup_method") if k in meta}
    meta["stress_des"] = stress_des(
        result.config, len(result.replications), wall, streams, **methods
    )
    atomic_write(outdir / "run.json", lambda p: p.write_text(json.dumps(meta, indent=2)))
    written.append(outdir / "run.json")
    return written
