"""Write files atomically, and tables as CSV (and Parquet).

Every file is written to a temporary name in the target folder and renamed into
place, so a run killed while writing never leaves a file that looks complete.
CSV is always written; Parquet is added when ``pyarrow`` is installed (``pip
install neighbourhood-sim[parquet]``). Saving a whole run (tables, config,
``run.json``) is :mod:`sim.experiment.save`: it needs the run's results and
metadata, which belong to the analysis layer.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd


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


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` then rename ``tmp`` to ``path`` (same folder, atomic); what
    ``write`` returns (a byte count, say) is ignored."""
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
