"""The notebooks in notebooks/ run top to bottom against the current API."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


#: notebooks whose run takes long (a PSA and a calibration): in the slow set
SLOW = {"uncertainty_and_calibration"}


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, marks=pytest.mark.slow) if p.stem in SLOW else p for p in NOTEBOOKS],
    ids=[p.stem for p in NOTEBOOKS],
)
def test_notebook_runs(path: Path) -> None:
    """Execute every code cell in order in one namespace (headless plotting)."""
    matplotlib.use("Agg")
    nb = json.loads(path.read_text())
    namespace: dict = {"__name__": "__notebook__"}
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        code = "".join(cell["source"])
        exec(compile(code, f"{path.name}[cell {i}]", "exec"), namespace)
