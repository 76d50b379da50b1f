"""The nsim command and the Python API run the model and report errors cleanly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import sim
import sim.api
from tests.conftest import ROOT, TINY
from tests.conftest import nsim as _nsim


def test_nsim_runs_and_writes_outputs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = _nsim(*TINY, f"hydra.run.dir={out}", "beds.acute=380", "compare=[]", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "95% CI" in res.stdout and "Delayed transfer of care days" in res.stdout
    for name in ("kpis.csv", "summary.csv", "daily.csv", "config.yaml", "seeds.csv"):
        assert (out / name).is_file()
    assert "acute: 380" in (out / "config.yaml").read_text()


def test_nsim_compares_scenarios_as_paired_differences(tmp_path: Path) -> None:
    """nsim with compare=[...] runs each scenario and reports effects against baseline."""
    out = tmp_path / "cmp"
    res = _nsim(
        *TINY, f"hydra.run.dir={out}", "compare=[treat,pace]", "beds.acute=380", cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    assert "admissions avoided" in res.stdout and "bed days saved" in res.stdout
    for scen in ("baseline", "treat", "pace"):
        assert (out / "scenarios" / scen / "kpis.csv").is_file()
        # the command line's overrides apply to every compared scenario
        assert "acute: 380" in (out / "scenarios" / scen / "config.yaml").read_text()
    comp = pd.read_csv(out / "comparison.csv")
    assert set(comp["scenario"]) == {"baseline", "treat", "pace"}
    assert {"diff_mean", "diff_ci_low", "diff_ci_high", "relative_change"} <= set(comp.columns)
    # the comparison's own run.json says what was compared, how and with which code
    meta = json.loads((out / "run.json").read_text())
    assert meta["batch_hash"] and meta["code_key"] and "source" in meta["code_version"]
    assert [s["name"] for s in meta["scenarios"]] == ["baseline", "treat", "pace"]
    assert all(s["config_hash"] and s["description"] for s in meta["scenarios"])
    assert meta["replications"] == 2 and meta["seed"] and meta["measured_days"]
    assert meta["software"]["simpy"] and meta["elapsed_seconds"] > 0
    assert set(meta["warnings"]) == {"baseline", "treat", "pace"}
    assert meta["stress_des"]["4_experimentation"]["4.3_estimation"]["replications"] == 2
    # cli.log holds what the console showed
    log = (out / "cli.log").read_text()
    assert "admissions avoided" in log and "Outputs written to" in log


def test_nsim_effects_are_against_the_chosen_baseline(tmp_path: Path) -> None:
    """With another scenario as the baseline, effects.csv holds the compared
    scenarios' effects against it, not the baseline against itself."""
    out = tmp_path / "cmp"
    res = _nsim(*TINY, f"hydra.run.dir={out}", "scenario=treat", "compare=[pace]", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    effects = pd.read_csv(out / "effects.csv")
    assert set(effects["scenario"]) == {"pace"}


def test_nsim_bad_value_exits_cleanly(tmp_path: Path) -> None:
    res = _nsim("beds.acute=-3", f"hydra.run.dir={tmp_path / 'o'}", cwd=tmp_path)
    assert res.returncode == 2
    assert "beds.acute" in res.stderr and "-3" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "o" / "kpis.csv").exists()


def test_nsim_unknown_scenario_lists_choices(tmp_path: Path) -> None:
    res = _nsim("scenario=nope", cwd=tmp_path)
    assert res.returncode != 0
    assert "baseline" in res.stderr


def test_python_api_returns_dataframes() -> None:
    res = sim.run("baseline", ["run.replications=1", "run.years=0.03", "run.warmup_days=2"])
    assert len(res.kpis) == 1
    assert {"metric", "mean", "ci_low", "ci_high"} <= set(res.summary().columns)
    assert len(res.daily) == res.config.run.total_days


def test_python_api_uses_the_configured_workers(monkeypatch) -> None:
    """sim.run(cfg) runs with cfg.run.n_jobs workers unless told otherwise."""
    seen = []
    monkeypatch.setattr(sim.api, "_run", lambda cfg, **kw: seen.append(kw["n_jobs"]))
    cfg = sim.load_config("baseline", ["run.n_jobs=2"])
    sim.run(cfg)
    sim.run(cfg, n_jobs=1)
    sim.run("baseline", ["run.n_jobs=3"])
    assert seen == [2, 1, 3]


def test_no_progress_widget_warning_in_a_notebook_without_ipywidgets() -> None:
    """In a Jupyter kernel without ipywidgets, importing tqdm.auto warns "IProgress
    not found"; a run that shows no progress bar must not import it."""
    code = """
import sys, types, warnings
class _Shell:
    config = {"IPKernelApp": {}}
fake = types.ModuleType("IPython")  # what tqdm looks for to tell it runs in Jupyter
fake.get_ipython = lambda: _Shell()
sys.modules["IPython"] = fake
sys.modules["ipykernel.zmqshell"] = types.ModuleType("ipykernel.zmqshell")
sys.modules["ipywidgets"] = None  # as if not installed
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import sim
    sim.run("baseline", ["run.replications=2", "run.years=0.01", "run.warmup_days=0"], n_jobs=1)
print([str(w.message) for w in caught if "IProgress" in str(w.message)])
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "[]"


@pytest.mark.slow  # long: runs in the slow set (-m slow)
def test_nsim_warmup_writes_under_outputs(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-c", "from sim.commands.tools import warmup_main; warmup_main()"]
    res = subprocess.run(
        [*cmd, "--replications", "2", "--years", "1.05", "--horizon", "14", "run.n_jobs=1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    (written,) = tmp_path.glob("outputs/warmup/baseline/*/warmup_rule.csv")
    assert "set run.warmup_days=" in res.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["outputs"]
    assert str(written.relative_to(tmp_path)) in res.stdout
    bad = subprocess.run(
        [*cmd, "--level", "beds_ocupied_mean"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert bad.returncode == 2 and "did you mean 'beds_occupied_mean'?" in bad.stderr
