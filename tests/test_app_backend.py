"""The web app's back end: scenario folders, drafts, runs, progress and results read back.

Everything the app shows comes from ``nsim`` run in a process of its own, so
these tests hold it to the command line: the same seeds give the same numbers,
and every comparison of results here is exact (no tolerance). The runs use a
small borough (one neighbourhood of 15,000, no report, one process) so that the
shortest run the app allows (two replications of a year) takes seconds.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from sim.app import drafts, jobs, results
from sim.app.workspace import Workspace, name_problem, prune
from sim.config import ConfigError, load_config
from sim.config.build import to_dict
from sim.config.loading import (
    available_scenarios,
    compose_dict,
    scenario_path,
    scenario_problem,
    searchpath_override,
)
from sim.config.schema import Config
from sim.experiment import runner
from sim.experiment.cache import finished_kpis
from tests.conftest import ROOT, TINY, TINY_TREAT, tiny_home
from tests.conftest import nsim as _nsim

TINY_HOME = tiny_home(report=False)
#: the small borough run by worker processes (something for cancel to stop)
TINY_POOL = """\
# @package _global_
defaults:
  - /scenario/tiny_home@_here_
  - _self_
name: tiny_pool
description: The small borough, two worker processes.
run:
  n_jobs: 2
"""
SHORT_RUN = ["compare=[]", "run.years=0.1"]
#: the app's run: its seed and years are not the files' (the command must carry them)
APP_REQUEST = jobs.Request("tiny_home", ("tiny_treat",), replications=2, years=1, seed=7)


def _write(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return folder


def _twin(beds: int) -> str:
    return f"# @package _global_\nname: twin\ndescription: d\nbeds:\n  acute: {beds}\n"


@pytest.fixture(autouse=True)
def _no_env_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # a folder in the environment would be searched by every test here
    monkeypatch.delenv("NSIM_SCENARIO_PATH", raising=False)
    monkeypatch.delenv("NSIM_PROGRESS_FILE", raising=False)


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(
        tmp_path_factory.mktemp("tiny"),
        tiny_home=TINY_HOME,
        tiny_treat=TINY_TREAT,
        tiny_pool=TINY_POOL,
    )


# --- scenario folders ------------------------------------------------------------------


def test_scenario_path_composes_a_file_that_builds_on_the_library(tiny_folder: Path) -> None:
    with scenario_path([tiny_folder]):
        assert {"tiny_home", "tiny_treat", "treat"} <= set(available_scenarios())
        assert scenario_problem("tiny_treat") is None
        assert searchpath_override() and "hydra.searchpath" in searchpath_override()[0]
        cfg = load_config("tiny_treat", ["compare=[]"])
    # the library's TREAT, the small borough's population, the file's own name
    assert cfg.name == "tiny_treat" and cfg.treat.enabled
    assert [n.registered for n in cfg.population.neighbourhoods] == [15000]
    assert cfg.run.warmup_days == 2 and not cfg.report
    # outside the block the folder is not searched
    assert "tiny_home" not in available_scenarios() and searchpath_override() == []
    with pytest.raises(ConfigError, match="tiny_home"):
        load_config("tiny_home")


def test_environment_variable_adds_a_folder(
    tiny_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NSIM_SCENARIO_PATH", str(tiny_folder))
    assert load_config("tiny_home", ["compare=[]"]).population.neighbourhoods[0].name == "Only"
    # scenario_path replaces the variable within its block
    with scenario_path([]):
        assert "tiny_home" not in available_scenarios()
    monkeypatch.delenv("NSIM_SCENARIO_PATH")
    assert "tiny_home" not in available_scenarios()


def test_a_library_name_in_an_extra_folder_is_an_error_naming_both(tmp_path: Path) -> None:
    folder = _write(tmp_path / "mine", treat=TINY_HOME.replace("tiny_home", "treat"))
    with scenario_path([folder]):
        problem = scenario_problem("treat")
        assert problem is not None
        with pytest.raises(ConfigError) as err:
            load_config("treat")
    text = str(err.value)
    assert str(folder.resolve() / "treat.yaml") in text and str(problem) in text
    # the library's own file is named too (relative to here: scenarios/treat.yaml)
    assert text.count("treat.yaml") == 2 and "scenarios/treat.yaml" in text


def test_a_missing_folder_is_an_error_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with scenario_path([tmp_path / "nowhere"]), pytest.raises(ConfigError) as err:
        load_config("baseline")
    assert err.value.problems[0].path == "NSIM_SCENARIO_PATH"
    assert str(tmp_path / "nowhere") in str(err.value)
    monkeypatch.setenv("NSIM_SCENARIO_PATH", str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match="NSIM_SCENARIO_PATH"):
        load_config("baseline")
    # and Hydra is left as it was (an error once left it initialised for every later test)
    from hydra.core.global_hydra import GlobalHydra

    assert not GlobalHydra.instance().is_initialized()


def test_two_threads_compose_their_own_folders_at_once(tmp_path: Path) -> None:
    """One name in two folders, one folder per thread: each thread gets its own file."""
    folders = {beds: _write(tmp_path / str(beds), twin=_twin(beds)) for beds in (111, 222)}
    start = threading.Barrier(len(folders))
    got: dict[int, list[int]] = {beds: [] for beds in folders}
    errors: list[BaseException] = []

    def compose(beds: int) -> None:
        try:
            with scenario_path([folders[beds]]):
                start.wait(timeout=30)
                for _ in range(4):
                    got[beds].append(load_config("twin", ["compare=[]"]).beds.acute)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=compose, args=(b,)) for b in folders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert got == {111: [111] * 4, 222: [222] * 4}
    assert "twin" not in available_scenarios()


def test_nsim_runs_a_scenario_from_the_environment_folder(
    tiny_folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    res = _nsim(
        "scenario=tiny_treat",
        *SHORT_RUN,
        *TINY,
        f"hydra.run.dir={out}",
        cwd=tmp_path,
        env={"NSIM_SCENARIO_PATH": str(tiny_folder)},
    )
    assert res.returncode == 0, res.stderr
    written = (out / "config.yaml").read_text(encoding="utf-8")
    assert "name: tiny_treat" in written and "registered: 15000" in written
    assert (out / "kpis.csv").is_file()


# --- the runner: job order, progress file, cache ---------------------------------------


@pytest.fixture(scope="module")
def pair_runs(tiny_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``run_many([a, b])`` watched (order of jobs, progress file, cache), and ``[a]`` alone."""
    with scenario_path([tiny_folder]):
        a = load_config("tiny_home", [*SHORT_RUN, "run.replications=2"])
        b = load_config("tiny_treat", [*SHORT_RUN, "run.replications=3"])
    tmp = tmp_path_factory.mktemp("pair")
    order: list[tuple[str, int]] = []
    original = runner.run_replication

    def watched(cfg: Config, replication: int = 0) -> runner.ReplicationResult:
        order.append((cfg.name, replication))
        return original(cfg, replication)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(runner, "run_replication", watched)
        mp.setenv("NSIM_PROGRESS_FILE", str(tmp / "progress.jsonl"))
        both = runner.run_many([a, b], n_jobs=1, progress=False, cache_dir=tmp / "cache")
    alone = runner.run_many([a], n_jobs=1, progress=False)
    return {"both": both, "alone": alone, "order": order, "tmp": tmp}


def test_jobs_go_replication_by_replication_and_order_changes_no_result(pair_runs: dict) -> None:
    """Exact equality: every job has its own streams, whatever runs before it."""
    assert pair_runs["order"] == [
        ("tiny_home", 0),
        ("tiny_treat", 0),
        ("tiny_home", 1),
        ("tiny_treat", 1),
        ("tiny_treat", 2),
    ]
    pd.testing.assert_frame_equal(
        pair_runs["both"]["tiny_home"].kpis, pair_runs["alone"]["tiny_home"].kpis, check_exact=True
    )
    assert list(pair_runs["both"]["tiny_treat"].kpis["replication"]) == [0, 1, 2]


def test_progress_file_has_a_start_line_then_one_line_per_job(pair_runs: dict) -> None:
    lines = (pair_runs["tmp"] / "progress.jsonl").read_text(encoding="utf-8").splitlines()
    items = [json.loads(line) for line in lines]
    assert [i["done"] for i in items] == [0, 1, 2, 3, 4, 5]
    assert {i["total"] for i in items} == {5} and {i["desc"] for i in items} == {"2 scenarios"}


def test_finished_kpis_reads_the_cache_exactly(pair_runs: dict) -> None:
    """Exact equality with the RunResult's KPI rows (the JSON round trip loses nothing)."""
    got = finished_kpis(pair_runs["tmp"] / "cache")
    want = pd.concat([r.kpis for r in pair_runs["both"].values()], ignore_index=True)
    key = ["scenario", "replication"]
    got = got.sort_values(key).reset_index(drop=True)
    want = want.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert finished_kpis(pair_runs["tmp"] / "no-cache-here").empty


# --- workspace -------------------------------------------------------------------------


def test_sessions_are_private_until_shared(tmp_path_factory: pytest.TempPathFactory) -> None:
    root = tmp_path_factory.mktemp("app-data")
    one, two = Workspace.new(root), Workspace.new(root)
    assert one.token != two.token and one.private != two.private
    assert one.library_scenarios == two.library_scenarios
    one.scenario_path("only_mine").write_text(_twin(150).replace("twin", "only_mine"))
    assert one.own_scenarios() == ["only_mine"] and two.own_scenarios() == []
    assert one.scenarios not in two.scenario_dirs()
    with scenario_path(two.scenario_dirs()):
        assert "only_mine" not in available_scenarios()
    with scenario_path(one.scenario_dirs()):
        assert "only_mine" in available_scenarios()

    shared = one.share("only_mine")
    assert shared.parent == one.library_scenarios and not one.scenario_path("only_mine").exists()
    for ws in (one, two):
        with scenario_path(ws.scenario_dirs()):
            assert load_config("only_mine", ["compare=[]"]).beds.acute == 150
    # a second file of that name is not shared over the first
    one.scenario_path("only_mine").write_text("x")
    with pytest.raises(FileExistsError):
        one.share("only_mine")


@pytest.mark.parametrize("name", ["../x", "a/b", "X", "", "a" * 41, "con.yaml", "1st", "a-b"])
def test_names_that_are_not_plain_names_are_refused(name: str, tmp_path: Path) -> None:
    ws = Workspace.new(tmp_path)
    assert name_problem(name) is not None
    with pytest.raises(ValueError):
        ws.scenario_path(name)


def test_plain_names_are_accepted(tmp_path: Path) -> None:
    ws = Workspace.new(tmp_path)
    for name in ("my_borough", "a" * 40, "b2"):
        assert name_problem(name) is None
        assert ws.scenario_path(name) == ws.scenarios / f"{name}.yaml"
    assert "library" in (name_problem("treat", taken_by_library=True) or "")


def test_prune_removes_only_old_sessions(tmp_path: Path) -> None:
    old, new = Workspace.new(tmp_path), Workspace.new(tmp_path)
    other = tmp_path / "sessions" / "notes"  # not a session token: never removed
    other.mkdir()
    long_ago = time.time() - 30 * 86400
    for folder in (old.private, other):
        os.utime(folder, (long_ago, long_ago))
    assert prune(tmp_path, max_age_days=14) == 1
    assert not old.private.exists() and new.private.is_dir() and other.is_dir()
    assert prune(tmp_path / "no-such-root") == 0


# --- drafts ----------------------------------------------------------------------------


def test_a_saved_draft_composes_like_the_same_file_written_by_hand(tmp_path: Path) -> None:
    """Exact equality of the composed data and the validated configuration."""
    ws = Workspace.new(tmp_path / "app")
    draft = drafts.Draft(
        name="draft_treat",
        description="TREAT with fewer beds.",
        bases=["treat"],
        settings={"beds": {"acute": 400}, "run": {"warmup_days": 10}},
        note="A test.",
    )
    assert draft.yaml().startswith("# @package _global_\n")
    path, problems = drafts.save(draft, ws)
    assert problems == [] and path == ws.scenario_path("draft_treat")
    assert path.read_text(encoding="utf-8").startswith("# @package _global_\n")
    by_hand = _write(
        tmp_path / "by_hand",
        draft_treat=(
            "# @package _global_\n"
            "defaults:\n  - /scenario/treat@_here_\n  - _self_\n"
            "name: draft_treat\ndescription: TREAT with fewer beds.\n"
            "beds:\n  acute: 400\nrun:\n  warmup_days: 10\n"
        ),
    )
    with scenario_path(ws.scenario_dirs()):
        saved = compose_dict("draft_treat", ["compare=[]"])
        saved_cfg = load_config("draft_treat", ["compare=[]"])
    with scenario_path([by_hand]):
        hand = compose_dict("draft_treat", ["compare=[]"])
        hand_cfg = load_config("draft_treat", ["compare=[]"])
    assert saved == hand and saved_cfg == hand_cfg and to_dict(saved_cfg) == to_dict(hand_cfg)
    assert saved_cfg.treat.enabled and saved_cfg.beds.acute == 400
    assert drafts.load_yaml(path)["beds"] == {"acute": 400}


@pytest.mark.parametrize(
    "description", ["plain", "with: a colon", "quotes ' and \" and # a hash", "ünïcödé"]
)
def test_a_draft_of_only_bases_and_words_reads_back_as_its_data(
    description: str, tmp_path: Path
) -> None:
    """The file is valid YAML whatever its text (a draft with bases and no settings
    once came out as a list followed by a flow mapping, which YAML refuses)."""
    ws = Workspace.new(tmp_path / "app")
    draft = drafts.Draft(name="only_bases", description=description, bases=["treat", "pace"])
    data = drafts.load_yaml(Path(drafts.save(draft, ws)[0] or tmp_path / "missing"))
    assert data == draft.data()
    with scenario_path(ws.scenario_dirs()):
        cfg = load_config("only_bases", ["compare=[]"])
    assert cfg.description == description and cfg.treat.enabled and cfg.pace.enabled


def test_a_draft_that_breaks_the_schema_is_not_written(tmp_path: Path) -> None:
    ws = Workspace.new(tmp_path)
    bad = drafts.Draft(name="few_beds", description="d", settings={"beds": {"acute": -5}})
    path, problems = drafts.save(bad, ws)
    assert path is None and "beds.acute" in [p.path for p in problems]
    assert list(ws.scenarios.iterdir()) == []


@pytest.mark.parametrize(
    "draft",
    [
        drafts.Draft(name="sneaky", description="home is ${oc.env:HOME}"),
        drafts.Draft(
            name="sneaky",
            description="d",
            settings={"population": {"neighbourhoods": [{"name": "${oc.env:HOME}"}]}},
        ),
        drafts.Draft(name="treat", description="a library name"),
        drafts.Draft(name="Bad Name", description="d"),
        drafts.Draft(name="itself", description="d", bases=["itself"]),
        drafts.Draft(name="nothing_under", description="d", bases=["no_such_scenario"]),
    ],
    ids=["interpolation", "nested-interpolation", "library-name", "name", "self", "missing-base"],
)
def test_refused_drafts_write_nothing(draft: drafts.Draft, tmp_path: Path) -> None:
    ws = Workspace.new(tmp_path)
    path, problems = drafts.save(draft, ws)
    assert path is None and problems
    assert list(ws.scenarios.iterdir()) == [] and list(ws.library_scenarios.iterdir()) == []


def test_changed_keeps_only_the_differences() -> None:
    new = {"a": 1, "b": {"c": 2, "d": 3}, "e": (1, 2), "f": {"g": 1}, "h": "new"}
    old = {"a": 1, "b": {"c": 2, "d": 4}, "e": [1, 2], "f": {"g": 1}}
    assert drafts.changed(new, old) == {"b": {"d": 3}, "h": "new"}
    assert drafts.changed(old, old) == {}


# --- jobs: requests, keys, runs --------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"replications": 1}, "replications"),
        ({"replications": 101}, "replications"),
        ({"years": 0}, "years"),
        ({"years": 6}, "years"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**31}, "seed"),
        ({"psa": True, "draws": 1}, "parameter sets"),
        ({"psa": True, "draws": 501}, "parameter sets"),
        ({"compare": tuple(f"s{i}" for i in range(9))}, "compare"),
        ({"compare": ("baseline",)}, "compare"),
    ],
)
def test_request_bounds(changes: dict, field: str) -> None:
    assert [p.path for p in jobs.Request("baseline", **changes).problems()] == [field]


def test_request_within_bounds_has_no_problems() -> None:
    for req in (
        jobs.Request("baseline", replications=2, years=1, seed=0),
        jobs.Request("baseline", tuple(f"s{i}" for i in range(8)), 100, 5),
        jobs.Request("baseline", seed=2**31 - 1, psa=True, draws=500, tornado=True),
        jobs.Request("baseline", psa=False, draws=1),  # draws matter only with psa
    ):
        assert req.problems() == []


@pytest.mark.parametrize("psa", [False, True])
@pytest.mark.parametrize("tornado", [False, True])
def test_request_overrides_hold_only_the_run_keys(psa: bool, tornado: bool) -> None:
    req = jobs.Request("baseline", ("treat", "pace"), 3, 2, 7, psa=psa, draws=9, tornado=tornado)
    keys = [o.partition("=")[0] for o in req.overrides()]
    fixed = {"compare", "run.replications", "run.years", "run.seed"}
    assert set(keys) - fixed == {k for k in keys if k.startswith("uncertainty.")}
    assert fixed <= set(keys) and len(keys) == len(set(keys))
    assert ("uncertainty.method" in keys) == psa and ("uncertainty.tornado" in keys) == tornado
    assert "compare=[treat,pace]" in req.overrides()


def test_check_key_follows_the_scenario_files(tiny_folder: Path, tmp_path: Path) -> None:
    ws = Workspace.new(tmp_path)
    _write(ws.scenarios, tiny_home=TINY_HOME, tiny_treat=TINY_TREAT)
    req = jobs.Request("tiny_home", ("tiny_treat",), replications=2, years=1)
    key, problems = jobs.check(req, ws)
    assert problems == [] and key is not None
    assert jobs.check(req, ws) == (key, [])
    other, _ = jobs.check(jobs.Request("tiny_home", ("tiny_treat",), 3, 1), ws)
    assert other not in (None, key)
    # a change to a file the compared scenario builds on changes the key
    ws.scenario_path("tiny_home").write_text(TINY_HOME.replace("15000", "16000"))
    changed, _ = jobs.check(req, ws)
    assert changed not in (None, key)
    # a scenario of another session is not found
    none, problems = jobs.check(jobs.Request("tiny_home"), Workspace.new(tmp_path))
    assert none is None and problems and problems[0].path == "scenario"


@pytest.fixture(scope="module")
def app_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, jobs.Run, float]:
    """The shortest run the app allows, of the small borough and TREAT on it, finished."""
    ws = Workspace.new(tmp_path_factory.mktemp("app-data"))
    _write(ws.scenarios, tiny_home=TINY_HOME, tiny_treat=TINY_TREAT)
    run, problems = jobs.start(APP_REQUEST, ws)
    assert problems == [] and run is not None
    started = time.monotonic()
    run.wait(timeout=300)
    return ws, run, time.monotonic() - started


def test_started_run_finishes_with_progress_to_total(app_run: tuple) -> None:
    ws, run, _ = app_run
    status = run.status()
    assert status.state == "finished", (run.folder / "nsim.log").read_text()
    assert run.folder.parent == ws.runs and run.finished()
    stages = jobs._progress(run.folder / "progress.jsonl")
    assert [(s["done"], s["total"]) for s in stages] == [(4, 4)]
    assert (status.done, status.total) == (4, 4) and status.fraction == 1.0
    assert run.request == APP_REQUEST
    assert sorted(p.name for p in (run.folder / "scenarios").iterdir()) == [
        "tiny_home.yaml",
        "tiny_treat.yaml",
    ]
    assert [r.folder for r in jobs.runs(ws)] == [run.folder]


def test_starting_a_finished_run_again_reopens_it(app_run: tuple) -> None:
    ws, run, _ = app_run
    proc = jobs._PROCS[run.folder]
    stamp = (run.out / "run.json").stat().st_mtime_ns
    again, problems = jobs.start(run.request, ws)
    assert problems == [] and again is not None and again.folder == run.folder
    assert jobs._PROCS[run.folder] is proc  # no new process
    assert (run.out / "run.json").stat().st_mtime_ns == stamp


def test_the_app_run_and_nsim_by_hand_give_identical_tables(app_run: tuple, tmp_path: Path) -> None:
    """Byte for byte: the command in the configuration download, run from its folder."""
    _, run, _ = app_run
    with zipfile.ZipFile(io.BytesIO(results.config_zip(run))) as z:
        z.extractall(tmp_path)
    assert sorted(p.name for p in (tmp_path / "scenarios").iterdir()) == [
        "tiny_home.yaml",
        "tiny_treat.yaml",
    ]
    assert {p.name for p in (tmp_path / "resolved").iterdir()} == {
        "tiny_home.yaml",
        "tiny_treat.yaml",
    }
    words = shlex.split((tmp_path / "command.txt").read_text(encoding="utf-8"))
    assert words[:2] == ["NSIM_SCENARIO_PATH=scenarios", "nsim"]
    env_name, _, env_value = words[0].partition("=")
    out = tmp_path / "out"
    env = {**os.environ, env_name: env_value, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "sim.cli", *words[2:], f"hydra.run.dir={out}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    meta = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert (meta["seed"], meta["replications"], meta["measured_days"]) == (7, 2, 365)
    tables = ["comparison.csv", "effects.csv"]
    tables += [str(p.relative_to(run.out)) for p in run.out.glob("scenarios/*/kpis.csv")]
    assert len(tables) == 4
    assert sorted(str(p.relative_to(out)) for p in out.glob("scenarios/*/kpis.csv")) == sorted(
        tables[2:]
    )
    for name in tables:
        assert (out / name).read_bytes() == (run.out / name).read_bytes(), name


def test_results_read_back_say_what_nsim_said(app_run: tuple) -> None:
    """Exact equality with the files nsim wrote; the words are the console's own."""
    _, run, _ = app_run
    answer = results.load(run)
    assert answer is not None
    assert answer.baseline == "tiny_home" and answer.scenarios == ["tiny_home", "tiny_treat"]
    assert answer.replications == 2 and answer.period == "a year"
    pd.testing.assert_frame_equal(
        answer.effects, pd.read_csv(run.out / "effects.csv"), check_exact=True
    )
    assert len(answer.kpis) == 4 and answer.figures == []  # report: false
    sentences = answer.sentences()
    assert [s for s, _ in sentences] == ["tiny_treat"] and all(t for _, t in sentences)
    view = results.effects_view(answer.effects)
    assert len(view) == len(answer.effects)
    # each row as the console printed it: effect, estimate and interval on one line
    log = (run.out / "cli.log").read_text(encoding="utf-8").splitlines()
    for _, row in view.iterrows():
        assert any(
            row["effect"] in line and row["estimate"] in line and row["95% CI"] in line
            for line in log
        ), row.to_dict()
    names = {n for n in zipfile.ZipFile(io.BytesIO(results.tables_zip(run))).namelist()}
    assert {"effects.csv", "comparison.csv", "scenarios/tiny_treat/kpis.csv"} <= names
    assert not any(n.startswith(".") for n in names)


def test_interim_effects_of_a_finished_run_are_the_final_ones(app_run: tuple) -> None:
    """Exact equality: the cache's KPIs are the run's, so paired effects are too."""
    _, run, _ = app_run
    found = results.interim(run)
    assert found is not None
    effects, pairs = found
    final = pd.read_parquet(run.out / "effects.parquet")
    assert pairs == 2
    assert list(effects["metric"]) == list(final["metric"])
    assert list(effects["estimate"]) == list(final["estimate"])


def _group(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group ``pgid``."""
    try:
        import psutil
    except ImportError:
        psutil = None
    alive = []
    if psutil is not None:
        for p in psutil.process_iter():
            try:
                if os.getpgid(p.pid) == pgid and p.status() != psutil.STATUS_ZOMBIE:
                    alive.append(p.pid)
            except (ProcessLookupError, psutil.Error):
                continue
        return alive
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(stat.parent.name))
    return alive


def test_cancel_stops_the_run_and_its_workers(tmp_path: Path) -> None:
    ws = Workspace.new(tmp_path)
    _write(ws.scenarios, tiny_home=TINY_HOME, tiny_pool=TINY_POOL)
    run, problems = jobs.start(jobs.Request("tiny_pool", replications=100, years=1), ws)
    assert problems == [] and run is not None
    proc = jobs._PROCS[run.folder]
    try:
        deadline = time.monotonic() + 120
        # wait for the first replication: by then the worker processes are running
        while run.status().done < 1 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert run.status().state == "running", (run.folder / "nsim.log").read_text()
        assert len(_group(proc.pid)) >= 2  # nsim and its workers
        started = time.monotonic()
        run.cancel()
        assert proc.poll() is not None and time.monotonic() - started < 15
        deadline = time.monotonic() + 10
        while _group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _group(proc.pid) == []
    finally:  # a failed test leaves no run going
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    status = run.status()
    assert status.state == "cancelled" and status.done < 100


def test_psa_effects_are_worded_as_ranges(app_run: tuple) -> None:
    """The Results page words a PSA's headline (same columns as the effects) with
    ranges, not confidence intervals, as the report does."""
    from sim.report.effects import effect_cells

    _ws, run, _ = app_run
    effects = pd.read_csv(run.out / "effects.csv")
    view = results.effects_view(effects, "range")
    assert "95% range" in view.columns and "95% CI" not in view.columns
    flagged = [effect_cells(r, "range")["flag"] for _, r in effects.iterrows()]
    assert view["note"].tolist() == flagged
    assert all(not f or f == "range includes no effect" for f in flagged)
