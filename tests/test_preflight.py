"""The checks nsim makes before Hydra starts: sweep plans, inert overrides, folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sim.config.checks import effective_hash, inert_overrides, why_inert
from sim.config.errors import ConfigError
from sim.config.loading import compose_dict
from sim.experiment import sweep
from sim.preflight import check_run, check_sweep, probe_folder, quote
from tests.conftest import ROOT


def test_inert_override_of_a_switched_off_block() -> None:
    base = compose_dict("baseline")
    assert why_inert(base, "pace.capacity") == "pace.enabled is false"
    assert why_inert(base, "pace.enabled") is None
    assert why_inert(base, "beds.acute") is None
    assert why_inert(base, "run.until_precision.target") == "run.until_precision.enabled is false"
    assert "demand.mode is direct_admissions" in why_inert(base, "demand.direct_admissions_per_day")
    pace = compose_dict("pace")
    assert why_inert(pace, "pace.capacity") is None
    # inert only if inert in every configuration it applies to (e.g. compared ones)
    assert inert_overrides(["pace.capacity=10"], [base, pace]) == []
    (warning,) = inert_overrides(["pace.capacity=10,20"], [base], ["pace"])
    assert "pace.enabled is false" in warning and "scenario=pace" in warning


def test_effective_hash_ignores_only_what_cannot_matter() -> None:
    a = compose_dict("baseline", ["pace.capacity=10"])
    b = compose_dict("baseline", ["pace.capacity=20"])
    c = compose_dict("pace", ["pace.capacity=10"])
    d = compose_dict("pace", ["pace.capacity=20"])
    assert effective_hash(a) == effective_hash(b)
    assert effective_hash(c) != effective_hash(d)
    assert effective_hash(a) != effective_hash(compose_dict("baseline", ["beds.acute=300"]))


def test_readme_sweep_example_warns(tmp_path: Path) -> None:
    """The sweep from the issue: PACE capacity swept while PACE is off."""
    plan = check_sweep(
        ["beds.acute=380,420", "pace.capacity=10,20", f"hydra.sweep.dir={tmp_path / 's'}"],
        ["nsim"],
    )
    assert len(plan.jobs) == 4
    text = "\n".join(plan.warnings)
    assert "pace.capacity=10,20 has no effect" in text
    assert "jobs 0 (beds.acute=380 pace.capacity=10), 1 (beds.acute=380 pace.capacity=20)" in text
    out = f"hydra.sweep.dir={tmp_path / 't'}"
    fixed = check_sweep(["scenario=pace", "beds.acute=380,420", "pace.capacity=10,20", out], [])
    assert fixed.warnings == []


def test_sweep_plan_names_job_folders_after_the_scenario_asked_for(
    tmp_path: Path, monkeypatch
) -> None:
    """A scenario file that sets another name still gets a folder named after the file
    (the cause of a failed job's folder being named after the wrong scenario), and a
    warning."""
    configs = tmp_path / "configs"
    shutil.copytree(ROOT / "configs", configs)
    (configs / "scenario" / "pace30.yaml").write_text(
        "# @package _global_\ndefaults:\n  - /scenario/pace@_here_\n  - _self_\npace:\n"
        "  capacity: 30\n"
    )
    monkeypatch.setenv("NSIM_CONFIG_DIR", str(configs))
    out = tmp_path / "sweep"
    plan = check_sweep(["scenario=pace,pace30", f"hydra.sweep.dir={out}"], ["nsim", "-m"])
    assert [j.folder for j in plan.jobs] == ["0_pace", "1_pace30"]
    assert any("pace30.yaml sets name: pace" in w for w in plan.warnings)
    manifest = json.loads((out / "sweep.json").read_text())
    assert [j["folder"] for j in manifest["jobs"]] == ["0_pace", "1_pace30"]
    assert manifest["jobs"][1]["overrides"] == ["scenario=pace30"]


def test_sweep_jobs_over_settings_of_the_run(tmp_path: Path) -> None:
    out = f"hydra.sweep.dir={tmp_path / 's'}"
    plan = check_sweep(["run.n_jobs=2", "compare=[treat]", "beds.acute=range(380,400,10)", out], [])
    assert [j.overrides for j in plan.jobs] == [
        ["run.n_jobs=2", "compare=[treat]", "beds.acute=380"],
        ["run.n_jobs=2", "compare=[treat]", "beds.acute=390"],
    ]
    text = "\n".join(plan.warnings)
    assert "run.n_jobs has no effect in a sweep" in text
    assert "compare has no effect in a sweep" in text


def test_states_of_planned_jobs(tmp_path: Path) -> None:
    jobs = [sweep.Job(i, [f"beds.acute={i}"], f"{i}_baseline") for i in range(4)]
    sweep.write_manifest(tmp_path, jobs, ["nsim"], [])
    (tmp_path / "0_baseline").mkdir()
    (tmp_path / "0_baseline" / "run.json").write_text("{}")
    (tmp_path / "1_baseline").mkdir()
    sweep.record_failure(tmp_path / "1_baseline", RuntimeError("boom"), ["beds.acute=1"])
    (tmp_path / "2_baseline").mkdir()
    states = [s.state for s in sweep.states(tmp_path)]
    assert states == ["finished", "failed", "unfinished", "never launched"]
    assert sweep.states(tmp_path)[1].error == "RuntimeError: boom"
    sweep.clear_failure(tmp_path / "1_baseline")
    assert sweep.states(tmp_path)[1].state == "unfinished"


def test_probe_folder(tmp_path: Path) -> None:
    assert probe_folder(tmp_path / "a" / "b") is None
    assert not (tmp_path / "a").exists()  # probing leaves nothing behind
    (tmp_path / "f").write_text("")
    assert probe_folder(tmp_path / "f") == "it exists and is not a folder"
    assert probe_folder(tmp_path / "f" / "sub") is not None


def test_quote_makes_values_hydra_can_read() -> None:
    assert quote("outputs/baseline/2026-01-01_10-00-00") == "outputs/baseline/2026-01-01_10-00-00"
    assert quote("my run, 2") == "'my run, 2'"


def test_check_run_refuses_another_configurations_folder(tmp_path: Path) -> None:
    run = tmp_path / "r"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"batch_hash": "something else"}))
    with pytest.raises(Exception, match="another configuration"):
        check_run(["compare=[]", f"hydra.run.dir={run}"])
    plan = check_run(["compare=[]", f"hydra.run.dir={run}", "run.overwrite=true"])
    assert plan.hydra_overrides == [f"hydra.run.dir={run}"]


def test_compared_scenarios_must_have_distinct_names(tmp_path: Path, monkeypatch) -> None:
    """Two scenarios of one run with the same name would overwrite each other's
    results: stopped before the run, naming the file."""
    configs = tmp_path / "configs"
    shutil.copytree(ROOT / "configs", configs)
    (configs / "scenario" / "pace30.yaml").write_text(
        "# @package _global_\ndefaults:\n  - /scenario/pace@_here_\n  - _self_\npace:\n"
        "  capacity: 30\n"
    )
    monkeypatch.setenv("NSIM_CONFIG_DIR", str(configs))
    with pytest.raises(ConfigError, match=r"scenarios/pace30\.yaml") as info:
        check_run(["scenario=pace", "compare=[pace30]", f"hydra.run.dir={tmp_path / 'r'}"])
    assert "also called 'pace'" in str(info.value)


def test_name_and_description_stay_with_the_scenario_run() -> None:
    from sim.preflight import compared_overrides

    kept = compared_overrides(["name=bigbeds", "description=x", "beds.acute=420", "compare=[a]"])
    assert kept == ["beds.acute=420"]


def test_replication_cache_key_ignores_what_does_not_change_a_replication() -> None:
    from sim.config import load_config
    from sim.experiment.metadata import config_hash

    a = load_config("baseline", ["compare=[treat]"])
    b = load_config("baseline", ["compare=[treat,pace]", "report=false", "description=other"])
    assert config_hash(a, per_replication=True) == config_hash(b, per_replication=True)
    assert config_hash(a) != config_hash(b)  # the folder's own record still tells them apart


def test_code_key_follows_the_numerical_libraries(monkeypatch) -> None:
    from sim.experiment import metadata

    before = metadata.code_key()
    real = metadata.metadata.version
    monkeypatch.setattr(
        metadata.metadata, "version", lambda pkg: "0.0" if pkg == "numpy" else real(pkg)
    )
    assert metadata.code_key() != before
