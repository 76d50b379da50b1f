"""Finished replications kept on disk as plain data, so a rerun can resume.

Each replication is one NumPy ``.npz`` file: its KPIs, counts and stream names
as JSON text, and every column of its tables as a NumPy array (strings as
fixed-width text with a mask of missing values). Nothing is pickled and files
are read with ``allow_pickle=False``, so a cache in a shared folder can only
ever hold data, never code. The round trip is exact: a table read back equals
the one written, value for value and type for type.

Entries live under ``<cache>/<scenario>-<config hash>/code-<code key>/``: the
configuration hash covers what one replication's results depend on, and the
code key (package version and a hash of the model's source) makes a change to
the code start afresh instead of returning the old code's results.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from sim.config.schema import Config
    from sim.experiment.runner import ReplicationResult

#: bumped when the layout of a file changes; other versions are recomputed
FORMAT = 1
_FRAMES = ("daily", "neighbourhoods", "events", "years")


def entry_dir(cache_dir: Path, cfg: Config) -> Path:
    """Folder of ``cfg``'s cached replications made by the running code."""
    from sim.experiment.metadata import code_key, config_hash

    key = config_hash(cfg, per_replication=True)
    return cache_dir / f"{cfg.name}-{key}" / f"code-{code_key()}"


def entry_path(cache_dir: Path, cfg: Config, replication: int) -> Path:
    return entry_dir(cache_dir, cfg) / f"rep_{replication:05d}.npz"


def _plain(value: Any) -> Any:
    """JSON-ready copy of a NumPy scalar (Python floats and ints pass through)."""
    return value.item() if isinstance(value, np.generic) else value


def _frame_arrays(df: pd.DataFrame, prefix: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Columns of ``df`` as arrays, and what is needed to rebuild it exactly."""
    import pandas as pd

    if not df.index.equals(pd.RangeIndex(len(df))):
        raise TypeError(f"cannot cache {prefix}: only a default 0..n-1 index is supported")
    arrays: dict[str, np.ndarray] = {}
    columns: list[dict[str, Any]] = []
    for i, name in enumerate(df.columns):
        col = df[name]
        dtype = str(col.dtype)
        key = f"{prefix}__{i}"
        if isinstance(col.dtype, np.dtype) and col.dtype.kind in "biufmM":
            # NumPy numbers, booleans and dates are stored as they are
            arrays[key] = col.to_numpy()
            columns.append({"name": name, "dtype": dtype})
            continue
        missing = col.isna().to_numpy()
        values = col.to_numpy(dtype=object)
        present = values[~missing]
        if not all(isinstance(v, str) for v in present):
            raise TypeError(f"cannot cache column {prefix}.{name} of dtype {dtype}")
        text = np.array(["" if m else v for v, m in zip(values, missing, strict=True)], dtype=str)
        arrays[key] = text
        arrays[f"{key}__missing"] = missing
        # an object column may hold None or NaN for missing: keep which
        na = "none" if any(v is None for v in values[missing]) else "nan"
        columns.append({"name": name, "dtype": dtype, "text": True, "na": na})
    return arrays, {"rows": len(df), "columns": columns}


def _frame_from(data: Any, prefix: str, spec: dict[str, Any]) -> pd.DataFrame:
    import pandas as pd

    cols: dict[str, Any] = {}
    for i, col in enumerate(spec["columns"]):
        key = f"{prefix}__{i}"
        values = data[key]
        if col.get("text"):
            obj = values.astype(object)
            obj[data[f"{key}__missing"]] = None if col["na"] == "none" else np.nan
            cols[col["name"]] = pd.Series(obj, dtype=col["dtype"])
        else:
            cols[col["name"]] = pd.Series(values, dtype=col["dtype"])
    df = pd.DataFrame(cols)
    if len(df) != spec["rows"]:  # a frame without columns still has its rows
        df = pd.DataFrame(index=pd.RangeIndex(spec["rows"]))
    return df


def save(path: Path, res: ReplicationResult) -> None:
    """Write one replication to ``path`` (atomically: a killed run leaves no entry)."""
    from sim.outputs.writers import atomic_write

    arrays: dict[str, np.ndarray] = {}
    frames: dict[str, Any] = {}
    for name in _FRAMES:
        df = getattr(res, name)
        if df is None:
            frames[name] = None
            continue
        cols, spec = _frame_arrays(df, name)
        arrays.update(cols)
        frames[name] = spec
    meta = {
        "format": FORMAT,
        "scenario": res.scenario,
        "replication": res.replication,
        "seed": res.seed,
        "kpis": {k: _plain(v) for k, v in res.kpis.items()},
        "streams": list(res.streams),
        "in_system": {k: _plain(v) for k, v in res.in_system.items()},
        "wall_seconds": res.wall_seconds,
        "frames": frames,
    }
    arrays["meta"] = np.array(json.dumps(meta))

    def write(p: Path) -> None:
        with p.open("wb") as f:  # a file object: savez would add .npz to a name
            # nothing here needs pickle, and load() refuses it
            np.savez(f, allow_pickle=False, **arrays)

    atomic_write(path, write)


def load(path: Path) -> ReplicationResult | None:
    """Read one replication; None if the file is unreadable or of another format."""
    from sim.experiment.runner import ReplicationResult

    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("format") != FORMAT:
                return None
            frames = {
                name: None if spec is None else _frame_from(data, name, spec)
                for name, spec in meta["frames"].items()
            }
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError):
        return None
    daily, neighbourhoods = frames["daily"], frames["neighbourhoods"]
    if daily is None or neighbourhoods is None:  # every replication has both: not ours
        return None
    return ReplicationResult(
        scenario=meta["scenario"],
        replication=meta["replication"],
        seed=meta["seed"],
        kpis=meta["kpis"],
        daily=daily,
        neighbourhoods=neighbourhoods,
        events=frames["events"],
        streams=meta["streams"],
        in_system=meta["in_system"],
        wall_seconds=meta["wall_seconds"],
        years=frames.get("years"),
    )


@dataclass
class Lookup:
    """What a cache holds for a batch: reusable replications and stale entries."""

    found: dict[tuple[str, int], ReplicationResult] = field(default_factory=dict)
    other_code: int = 0  # same configuration, made by another code version
    pickles: int = 0  # written by versions that pickled replications (never loaded)


def lookup(cache_dir: Path, jobs: list[tuple[Config, int]]) -> Lookup:
    """Load every job already in the cache and count the entries that cannot be used."""
    out = Lookup()
    seen: set[Path] = set()
    for cfg, r in jobs:
        path = entry_path(cache_dir, cfg, r)
        if path.exists() and (res := load(path)) is not None:
            out.found[(cfg.name, r)] = res
        cfg_dir = path.parent.parent
        if cfg_dir in seen or not cfg_dir.is_dir():
            continue
        seen.add(cfg_dir)
        out.pickles += sum(1 for _ in cfg_dir.glob("rep_*.pkl"))
        out.other_code += sum(
            1 for p in cfg_dir.glob("code-*/rep_*.npz") if p.parent != path.parent
        )
    return out


def finished_kpis(cache_dir: Path) -> pd.DataFrame:
    """The KPI rows of every replication finished so far under ``cache_dir``, by the
    running code (scenario, replication, seed, then the KPIs), for watching a run
    from outside: only the small JSON part of each file is read."""
    import pandas as pd

    from sim.experiment.metadata import code_key

    rows = []
    for path in sorted(Path(cache_dir).glob(f"*/code-{code_key()}/rep_*.npz")):
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError):
            continue  # being written, or not ours
        if meta.get("format") != FORMAT:
            continue
        rows.append(
            {
                "scenario": meta["scenario"],
                "replication": meta["replication"],
                "seed": meta["seed"],
                **meta["kpis"],
            }
        )
    return pd.DataFrame(rows)
