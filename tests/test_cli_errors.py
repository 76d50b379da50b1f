"""Every user mistake, made on the command line, gets the project's own message.

Each case runs ``nsim`` as a user would and checks the exit status (2), that the
message names what is wrong (field, value, what is allowed, the closest valid
name; file, line and column for YAML), that no traceback is shown and that no
output folder is left behind. A small Hypothesis fuzz feeds random overrides
through the command line too (a few cases by default, more with ``-m slow``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from tests.conftest import nsim as _nsim

#: a run as short as can be (one day, no report), for cases that may run
QUICK = ["run.replications=1", "run.years=0.003", "run.warmup_days=0", "report=false"]


def _clean_failure(res: subprocess.CompletedProcess, *expected: str) -> str:
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr and "HYDRA_FULL_ERROR" not in res.stderr
    for text in expected:
        assert text in res.stderr, res.stderr
    return res.stderr


@pytest.fixture()
def config_copy(tmp_path: Path) -> Path:
    """A copy of the configuration folder that a test may break."""
    dest = tmp_path / "configs"
    shutil.copytree(ROOT / "configs", dest, symlinks=False)
    return dest


def _nsim_with(config: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return _nsim(*args, cwd=cwd, env={"NSIM_CONFIG_DIR": str(config)})


def test_unknown_key_gets_a_suggestion_and_no_folder(tmp_path: Path) -> None:
    out = tmp_path / "o"
    res = _nsim("beds.acut=420", f"hydra.run.dir={out}", cwd=tmp_path)
    _clean_failure(res, "beds.acut", "420", "did you mean 'acute'?")
    assert "not in struct" not in res.stderr
    assert not out.exists()


def test_every_mistake_is_reported_at_once(tmp_path: Path) -> None:
    res = _nsim("beds.acut=420", "pace.capacit=3", "beds.acute=-1", cwd=tmp_path)
    err = _clean_failure(res, "beds.acut", "pace.capacit", "did you mean 'capacity'?")
    assert "beds.acute: got -1" in err and "3 problems" in err


def test_unknown_scenario_suggests_the_closest(tmp_path: Path) -> None:
    res = _nsim("scenario=tret", cwd=tmp_path)
    _clean_failure(res, "scenario: got 'tret'", "did you mean 'treat'?", "baseline")
    assert "search path" not in res.stderr.lower()
    assert not (tmp_path / "outputs").exists()


def test_yaml_error_names_file_line_and_column(tmp_path: Path, config_copy: Path) -> None:
    (config_copy / "scenario" / "broken.yaml").write_text(
        "# @package _global_\nname: broken\npace:\n  enabled: true\n   capacity: 3\n"
    )
    res = _nsim_with(config_copy, "scenario=broken", cwd=tmp_path)
    err = _clean_failure(res, "broken.yaml, line 5, column 12", "indentation")
    assert len(err.splitlines()) <= 3


def test_scenario_without_package_header_says_so(tmp_path: Path, config_copy: Path) -> None:
    (config_copy / "scenario" / "nohead.yaml").write_text("name: nohead\npace:\n  enabled: true\n")
    res = _nsim_with(config_copy, "scenario=nohead", cwd=tmp_path)
    _clean_failure(res, "nohead.yaml", "# @package _global_")


def test_compare_mistakes(tmp_path: Path) -> None:
    twice = _nsim("compare=[treat,treat]", cwd=tmp_path)
    _clean_failure(twice, "compare", "more than once: treat")
    single = _nsim("compare=treat", cwd=tmp_path)
    err = _clean_failure(single, "compare: got 'treat'", "did you mean [treat]?")
    assert "a list of a string" not in err
    unknown = _nsim("compare=[tret]", cwd=tmp_path)
    _clean_failure(unknown, "compare[0]", "did you mean 'treat'?")


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc (Linux)")
def test_output_folder_that_cannot_be_created(tmp_path: Path) -> None:
    res = _nsim("hydra.run.dir=/proc/x", cwd=tmp_path)
    _clean_failure(res, "hydra.run.dir", "/proc/x", "a folder that can be created")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    res = _nsim(f"hydra.run.dir={blocker / 'sub'}", cwd=tmp_path)
    _clean_failure(res, "hydra.run.dir")


def test_override_syntax_error(tmp_path: Path) -> None:
    res = _nsim("beds.acute=[1,", cwd=tmp_path)
    _clean_failure(res, "beds.acute=[1,", "key=value")


def test_help_is_short_and_ours(tmp_path: Path) -> None:
    res = _nsim("--help", cwd=tmp_path)
    assert res.returncode == 0
    lines = res.stdout.splitlines()
    assert len(lines) < 60
    assert lines[0].startswith("nsim")
    for text in ("nsim --cfg job", "--hydra-help", "outputs/", "treat", "nsim -m"):
        assert text in res.stdout
    assert "== Config ==" not in res.stdout and "Powered by Hydra" not in res.stdout


def test_help_and_mistakes_do_not_import_the_heavy_libraries() -> None:
    """--help and a configuration error answer without pandas, SciPy or matplotlib."""
    code = (
        "import sys\n"
        "import sim.cli\n"
        "for argv in (['--help'], ['beds.acut=1']):\n"
        "    try:\n"
        "        sim.cli.main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ('pandas', 'scipy', 'matplotlib', 'sim.experiment.runner')\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "[]"
    assert "did you mean 'acute'?" in res.stderr


def test_broken_scenario_stops_a_sweep_before_any_job(tmp_path: Path, config_copy: Path) -> None:
    """Every job is checked first; all problems are listed; nothing is launched."""
    scen = config_copy / "scenario"
    keep = {"baseline.yaml", "treat.yaml", "pace.yaml"}
    for p in scen.iterdir():
        if p.name not in keep:
            p.unlink()
    (scen / "broken.yaml").write_text("# @package _global_\nname: broken\nbeds:\n\tacute: 3\n")
    (scen / "nohead.yaml").write_text("name: nohead\n")
    (scen / "badval.yaml").write_text("# @package _global_\nname: badval\nbeds:\n  acute: -5\n")
    sweep = tmp_path / "sweep"
    res = _nsim_with(
        config_copy, "-m", "scenario=glob(*)", f"hydra.sweep.dir={sweep}", cwd=tmp_path
    )
    err = _clean_failure(res, "3 of 6 sweep job(s) cannot run; nothing was launched")
    assert "broken.yaml, line 4, column 1" in err and "tabs" in err
    assert "nohead.yaml" in err and "@package _global_" in err
    assert "beds.acute: got -5" in err
    assert "in job 0: scenario=badval" in err
    assert "semaphore" not in err
    assert not sweep.exists()


def test_sweep_job_failing_at_run_time_does_not_stop_the_others(tmp_path: Path) -> None:
    """A job that fails while running is recorded; the rest finish; the command says
    so and exits with status 1; nsim-collect lists every job with its state."""
    sweep = tmp_path / "sweep"
    # job 1 cannot keep its replications: a file is where their folder goes (a
    # rerun keeps the cache, so it is not cleared away like old outputs)
    (sweep / "1_treat").mkdir(parents=True)
    (sweep / "1_treat" / ".replications").write_text("in the way")
    res = _nsim("-m", "scenario=baseline,treat", *QUICK, f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert res.returncode == 1, res.stderr[-3000:]
    assert "job 1 failed" in res.stderr and "1 finished, 1 failed" in res.stderr
    assert (sweep / "0_baseline" / "run.json").is_file()
    failed = json.loads((sweep / "1_treat" / "failed.json").read_text())
    assert ".replications" in failed["error"] and "Traceback" in failed["traceback"]
    plan = json.loads((sweep / "sweep.json").read_text())
    assert [j["folder"] for j in plan["jobs"]] == ["0_baseline", "1_treat"]
    # a planned job that never started is listed too
    plan["jobs"].append({"num": 2, "overrides": ["scenario=pace"], "folder": "2_pace"})
    (sweep / "sweep.json").write_text(json.dumps(plan))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    col = subprocess.run(
        [sys.executable, "-c", "from sim.commands.collect import main; main()", str(sweep)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert col.returncode == 0, col.stderr
    assert "1 finished, 1 failed, 1 never launched" in col.stderr
    jobs = (sweep / "sweep_jobs.csv").read_text()
    assert "failed" in jobs and "never launched" in jobs and ".replications" in jobs


def test_inert_override_is_warned_and_logged(tmp_path: Path) -> None:
    """An override that cannot change the run is warned about (and the run goes on);
    cli.log holds what the console showed; run.json says which code ran."""
    out = tmp_path / "o"
    res = _nsim(
        *QUICK,
        "compare=[]",
        "pace.capacity=10",
        "run.n_jobs=1",
        f"hydra.run.dir={out}",
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    warning = "pace.capacity=10 has no effect: pace.enabled is false"
    assert warning in res.stderr
    log = (out / "cli.log").read_text()
    assert warning in log and "Emergency admissions" in log and "Outputs written to" in log
    meta = json.loads((out / "run.json").read_text())
    assert meta["code_key"] and "source" in meta["code_version"]


# ------------------------------------------------------------------------------- fuzzing
KEYS = [
    "beds.acute",
    "beds.acut",
    "run.years",
    "pace.capacity",
    "treat.home_share",
    "discharge.reablement.capacity",
    "demand.mode",
    "acute.los_distribution",
    "compare",
    "scenario",
]
VALUES = st.one_of(
    st.integers(-5, 500).map(str),
    st.floats(-2, 2, allow_nan=False).map(lambda x: f"{x:.3g}"),
    st.sampled_from(["[]", "[treat]", "[treat,treat]", "true", "x", "[1,", "null", "tret", "pace"]),
)
OVERRIDES = st.lists(st.tuples(st.sampled_from(KEYS), VALUES), min_size=1, max_size=3)


def _fuzz_case(tmp_path: Path, pairs: list[tuple[str, str]]) -> None:
    out = tmp_path / "fuzz-out"
    shutil.rmtree(out, ignore_errors=True)
    args = [f"{k}={v}" for k, v in pairs]
    res = _nsim(*QUICK, "run.n_jobs=1", *args, f"hydra.run.dir={out}", cwd=tmp_path)
    assert "Traceback" not in res.stderr, res.stderr[-3000:]
    if res.returncode == 0:
        assert (out / "run.json").is_file()
    else:
        assert res.returncode == 2, res.stderr[-3000:]
        assert res.stderr.startswith("nsim: invalid configuration"), res.stderr[-3000:]
        assert not (out / "kpis.csv").exists()


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pairs=OVERRIDES)
def test_fuzzed_command_lines_run_or_fail_cleanly(tmp_path: Path, pairs) -> None:
    _fuzz_case(tmp_path, pairs)


@pytest.mark.slow
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pairs=OVERRIDES)
def test_fuzzed_command_lines_many(tmp_path: Path, pairs) -> None:
    _fuzz_case(tmp_path, pairs)


def test_unknown_precision_metric_and_empty_glob(tmp_path: Path) -> None:
    res = _nsim(
        "run.until_precision.enabled=true",
        "run.until_precision.metrics=[dtoc_dayz]",
        "compare=[]",
        f"hydra.run.dir={tmp_path / 'x'}",
        cwd=tmp_path,
    )
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "run.until_precision.metrics[0]" in res.stderr and "'dtoc_days'" in res.stderr
    assert not (tmp_path / "x").exists()
    res = _nsim("-m", "scenario=glob(tret*)", f"hydra.sweep.dir={tmp_path / 's'}", cwd=tmp_path)
    assert res.returncode == 2 and "glob() must match a scenario" in res.stderr
    assert not (tmp_path / "s").exists()


def test_a_rerun_clears_what_an_unfinished_run_left(tmp_path: Path) -> None:
    """A folder without run.json holds no finished results: files an earlier,
    interrupted run wrote there are not left beside the new ones."""
    out = tmp_path / "run"
    (out / "scenarios" / "pace").mkdir(parents=True)
    (out / "report.html").write_text("old")
    (out / "scenarios" / "pace" / "kpis.csv").write_text("old")
    res = _nsim(
        "compare=[]",
        "report=false",
        "run.years=0.02",
        "run.replications=1",
        "run.warmup_days=2",
        f"hydra.run.dir={out}",
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert not (out / "report.html").exists() and not (out / "scenarios").exists()
    assert (out / "run.json").exists()
