"""The compiled model is the Python model: same results, and never out of date."""

from __future__ import annotations

import importlib.machinery
import json
import os
import subprocess
import sys

import pytest

from sim import build_info
from tests.conftest import ROOT

#: prints, as JSON, everything a short run measures: KPIs, the daily census and
#: the patient-level event log, for every intervention at once and the baseline
FINGERPRINT = r"""
import json, sys
from sim import build_info
from sim.config import load_config
from sim.model import CareSystemModel
from sim.outputs.kpis import compute_kpis
out = {"compiled": build_info.compiled()}
for scenario in ("integrated", "baseline"):
    for rep in (0, 1):
        cfg = load_config(scenario, ["run.years=0.08", "run.warmup_days=15", "run.event_log=true"])
        model = CareSystemModel(cfg, rep)
        info = model.run()
        kpis = compute_kpis(model, info)
        kpis.pop("wall_seconds", None)
        rec = model.recorder
        out[f"{scenario}/{rep}"] = {
            "kpis": kpis,
            "census": [a.tolist() for a in rec.census()],
            "events": rec.events,
            "exits": dict(rec.exits),
        }
print(json.dumps(out))
"""


def _fingerprint(pure: bool) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(build_info.PURE_PYTHON, None)
    if pure:
        env[build_info.PURE_PYTHON] = "1"
    out = subprocess.run(
        [sys.executable, "-c", FINGERPRINT],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(out.stdout)


def test_compiled_model_gives_exactly_the_results_of_its_source() -> None:
    """Every KPI, census value and logged event of the compiled model equals the
    pure-Python model's, to the last bit (JSON keeps floats exactly)."""
    if not build_info.compiled():
        pytest.skip("the model is not compiled in this install (pure Python)")
    compiled, pure = _fingerprint(pure=False), _fingerprint(pure=True)
    assert compiled.pop("compiled") is True
    assert pure.pop("compiled") is False
    assert compiled.keys() == pure.keys()
    for key in compiled:
        for part in ("kpis", "census", "events", "exits"):
            assert compiled[key][part] == pure[key][part], f"{key}: {part} differ"


def test_an_edited_source_makes_its_compiled_module_stale(tmp_path) -> None:
    """A compiled module shadows its source, so a source edited after the build is
    reported (and the model refuses to run until rebuilt)."""
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    pkg = tmp_path / "sim"
    (pkg / "core").mkdir(parents=True)
    for name in ("model", "core/level"):
        (pkg / f"{name}.py").write_text("")
        (pkg / f"{name}{suffix}").write_bytes(b"")
    built = (pkg / f"model{suffix}").stat().st_mtime
    assert build_info.stale_modules(pkg) == []
    # unpacked a moment apart by an installer: not stale
    os.utime(pkg / "model.py", (built + 1, built + 1))
    assert build_info.stale_modules(pkg) == []
    # edited a minute after the build: stale
    os.utime(pkg / "core/level.py", (built + 60, built + 60))
    assert build_info.stale_modules(pkg) == [os.path.join("sim", "core", "level.py")]


def test_every_model_module_knows_where_it_is() -> None:
    """Compiled or not, each module of the model reports a file that exists and
    packages list their submodules, so a plain-Python module added beside the
    compiled ones (a new intervention) can be found and imported."""
    import importlib
    import pkgutil
    from pathlib import Path

    import sim.interventions
    import sim.model

    for name, module in list(sys.modules.items()):
        if name == "sim" or name.startswith("sim."):
            assert Path(module.__file__).is_file(), name
    found = {m.name for m in pkgutil.iter_modules(sim.interventions.__path__)}
    assert {"treat", "pace", "mdt", "care_homes", "seven_day"} <= found
    assert importlib.util.find_spec("sim.interventions.treat") is not None
