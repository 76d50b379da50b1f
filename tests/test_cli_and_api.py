"""The nsim command and the Python API run the model and report errors cleanly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import sim
from tests.conftest import TINY
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
