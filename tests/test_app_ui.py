"""The web app's pages, headless, in Streamlit's own test harness (``AppTest``).

Each test is a browser session without a browser: the app's script runs in this
process, widgets are set and buttons clicked through ``AppTest``, and what the
page would show is read back. They hold the pages to their promises: every page
draws, bad input in a form gets the project's message (never a traceback, and
nothing is written or started), a session's work stays its own until shared,
and a small run started from the form finishes and its results show. The full
planner's flow in a real browser, with accessibility checks and the downloads'
content, is tests/test_app_browser.py.

``AppTest.switch_page`` reaches only pages that are files; the app's pages are
functions given to ``st.navigation``. So the sessions run a small script
(:data:`DRIVER`) that asks for a page with ``st.switch_page`` (a ``Page`` object,
as Streamlit documents for pages defined by a callable), then runs the app's own
``main()``. The runs use a small borough (one neighbourhood of 15,000, one
process), as in tests/test_app_backend.py, so that they finish in seconds.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from sim.app import jobs
from tests.conftest import TINY_TREAT, tiny_home

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest

ROOT = Path(__file__).resolve().parents[1]
ENTRY = ROOT / "sim" / "app" / "streamlit_app.py"
#: seconds a single script run may take (a page lists and composes every scenario)
TIMEOUT = 60
#: each page of the app and its title
TITLES = {
    "Borough": "Your borough",
    "Scenarios": "Scenarios",
    "Run": "Run",
    "Results": "Results",
    "Compare runs": "Compare runs",
    "About": "About",
}
#: the app's own words for a page that failed (it logs the traceback, never shows it)
MASKED = ("Something went wrong", "This cannot be shown")
#: the script the sessions run: go to the page asked for (the address's query kept,
#: as when a planner opens a page's address), then the app as ``nsim-app`` runs it
DRIVER = '''\
"""The app for AppTest: switch to the page in session state, then run main()."""
import streamlit as st

from sim.app import ui

PAGES = {
    "Borough": st.Page(ui.borough_page, title="Borough", default=True),
    "Scenarios": st.Page(ui.scenarios_page, title="Scenarios", url_path="scenarios"),
    "Run": st.Page(ui.run_page, title="Run", url_path="run"),
    "Results": st.Page(ui.results_page, title="Results", url_path="results"),
    "Compare runs": st.Page(ui.compare_page, title="Compare runs", url_path="compare"),
    "About": st.Page(ui.about_page, title="About", url_path="about"),
}
page = st.session_state.pop("nsim_test_page", None)
if page is not None:
    st.switch_page(PAGES[page], query_params=st.query_params.to_dict())
ui.main()
'''
#: the small borough with its report: the Results page offers it
TINY_HOME = tiny_home(report=True)


class _Logged(logging.Handler):
    """What the app logged when it caught a page's exception (its traceback)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))


_LOGGED = _Logged()


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # a folder in the environment would be searched by every run here
    monkeypatch.delenv("NSIM_SCENARIO_PATH", raising=False)
    monkeypatch.delenv("NSIM_PROGRESS_FILE", raising=False)
    logger = logging.getLogger("nsim-app")
    _LOGGED.texts.clear()
    logger.addHandler(_LOGGED)
    yield
    logger.removeHandler(_LOGGED)


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data folder for the app (``NSIM_APP_DATA``)."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("NSIM_APP_DATA", str(root))
    return root


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The script the sessions run (:data:`DRIVER`), in a folder of its own."""
    script = tmp_path_factory.mktemp("app") / "app_pages.py"
    script.write_text(DRIVER, encoding="utf-8")
    return script


def _name_only(ws: object, name: str) -> str:
    return name


@pytest.fixture
def fast_labels(monkeypatch: pytest.MonkeyPatch) -> None:
    """Options labelled by their names: a label composes its scenario (half a second
    each, for every scenario and session); the first test keeps the real labels."""
    monkeypatch.setattr("sim.app.ui.describe", _name_only)


def _write(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return folder


def _clean(at: Any) -> None:
    """No exception on the page, and none that the app caught and logged instead."""
    assert not at.exception, [e.value for e in at.exception]
    masked = [e.value for e in at.error if e.value.startswith(MASKED)]
    assert not masked, "\n".join([*masked, *_LOGGED.texts])
    shown = [*at.markdown, *at.error, *at.warning, *at.info, *at.success, *at.caption]
    assert not any("Traceback" in str(el.value) for el in shown)


def _session(driver: Path, token: str | None = None) -> Any:
    """A new browser session (opened at ``?w=token`` when given); not run yet."""
    at = AppTest.from_file(str(driver), default_timeout=TIMEOUT)
    if token is not None:
        at.query_params["w"] = token
    return at


def _show(at: Any, page: str) -> Any:
    """Go to ``page`` and check it drew without an error."""
    at.session_state["nsim_test_page"] = page
    at.run()
    _clean(at)
    assert [t.value for t in at.title] == [TITLES[page]]
    return at


def _errors(at: Any) -> str:
    return "\n".join(e.value for e in at.error)


def _click(at: Any, key: str) -> Any:
    at.button(key=key).click()
    at.run()
    _clean(at)
    return at


def _submit_run(at: Any) -> Any:
    """Press the run form's "Start run" (its widgets' values go with it)."""
    [go] = [b for b in at.button if b.label == "Start run"]
    go.click()
    at.run()
    _clean(at)
    return at


def _ws(at: Any) -> Any:
    return at.session_state["ns_ws"]


def _unescape(text: object) -> str:
    return re.sub(r"\\(.)", r"\1", str(text))


def _rows(table: pd.DataFrame) -> list[list[str]]:
    """A table's rows as the page shows them, its row name first: ``st.table`` reads
    cells as Markdown, where a backslash shows the character after it as written."""
    return [
        [_unescape(name), *map(_unescape, row)]
        for name, row in zip(table.index, table.itertuples(index=False), strict=True)
    ]


# --- every page ------------------------------------------------------------------------


def test_every_page_draws_with_its_title(data: Path, driver: Path) -> None:
    """The entry script ``nsim-app`` runs opens the Borough page and gives the session
    its address; each page then draws with no exception, and every scenario offered
    is labelled by its description (so every library scenario composes)."""
    at = AppTest.from_file(str(ENTRY), default_timeout=TIMEOUT).run()
    _clean(at)
    assert [t.value for t in at.title] == ["Your borough"]
    assert at.query_params["w"] == _ws(at).token
    assert _ws(at).private.parent == data / "sessions"

    at = _session(driver)
    for page in TITLES:
        _show(at, page)
        if page == "Run":
            options = at.selectbox(key="ns_r_base").options
            assert "baseline" in [o.partition(":")[0] for o in options]
            assert all(": " in o and "does not load" not in o for o in options), options
        if page == "Results":
            assert "No finished runs yet" in at.info[0].value
        if page == "Compare runs":
            assert "Two finished runs" in at.info[0].value


# --- bad input in the forms ------------------------------------------------------------


@pytest.mark.usefixtures("fast_labels")
def test_borough_form_refuses_bad_names_values_and_references(data: Path, driver: Path) -> None:
    """Names that could be paths or are not plain names, a capacity out of range, a
    blank neighbourhood, a share above 1 and text with ``${`` get the project's
    message next to the form; nothing is written."""
    at = _session(driver).run()
    _clean(at)
    ws = _ws(at)
    for name in ("../x", "Bad Name"):
        at.text_input(key="ns_b_name").input(name)
        _click(at, "ns_b_save")
        assert "Not saved" in _errors(at)
        assert f"name: got {name!r}" in _errors(at) and "lower-case letters" in _errors(at)

    at.number_input(key="ns_cap_baseline_beds.acute").set_value(-5)
    at.run()
    _clean(at)
    assert "beds.acute: allowed: a whole number >= 0" in _errors(at)
    at.number_input(key="ns_cap_baseline_beds.acute").set_value(400)

    at.text_input(key="ns_b_name").input("ok_name")
    at.text_input(key="ns_b_description").input("${oc.env:HOME}")
    _click(at, "ns_b_save")
    assert "description: got '${oc.env:HOME}'" in _errors(at)
    assert "text without '${'" in _errors(at)
    at.text_input(key="ns_b_description").input("")

    # the tables: AppTest applies a data editor's edits given as its state
    edits = {"added_rows": [], "deleted_rows": []}
    at.session_state["ns_hoods_editor_baseline_0"] = {"edited_rows": {0: {"name": ""}}, **edits}
    at.session_state["ns_frail_baseline"] = {"edited_rows": {0: {"fit": 2.0}}, **edits}
    _click(at, "ns_b_save")
    assert "population.neighbourhoods[0].name: got ''; allowed: a name" in _errors(at)
    at.session_state["ns_hoods_editor_baseline_0"] = {"edited_rows": {}, **edits}
    _click(at, "ns_b_save")
    assert "population.frailty_65_74.fit: got 2.0" in _errors(at)
    assert not any(ws.scenarios.iterdir())


@pytest.mark.usefixtures("fast_labels")
def test_practice_import_refuses_a_bad_file_and_a_practice_in_two_places(
    data: Path, driver: Path
) -> None:
    """A file that is not a practice list is refused with the reader's message, and a
    practice put in two neighbourhoods is refused by name."""
    at = _session(driver).run()
    at.file_uploader(key="ns_practice_file").upload("bad.csv", b"hello,world\n1,2\n", "text/csv")
    at.run()
    _clean(at)
    assert "The file could not be used" in _errors(at)
    assert "bad.csv, line 1: got 'hello,world'" in _errors(at)

    good = (ROOT / "examples" / "practices_small.csv").read_bytes()
    at.file_uploader(key="ns_practice_file").set_value(("practices.csv", good, "text/csv"))
    at.run()
    _clean(at)
    assert "7 practices" in at.success[0].value
    at.number_input(key="ns_group_count").set_value(2)
    at.run()
    code = at.multiselect(key="ns_gp_0").options[0].split()[0]
    at.multiselect(key="ns_gp_0").set_value([code])
    at.multiselect(key="ns_gp_1").set_value([code])
    _click(at, "ns_use_practices")
    assert f"A practice can be in one neighbourhood only: {code}" in _errors(at)


@pytest.mark.usefixtures("fast_labels")
@pytest.mark.parametrize("beds", [-5, 300])
def test_borough_capacity_reaches_the_check_and_the_file(
    data: Path, driver: Path, beds: int
) -> None:
    """A capacity typed on the Borough page is checked when saving (out of range:
    refused, nothing written) and is in the file when it is allowed."""
    at = _session(driver).run()
    at.number_input(key="ns_cap_baseline_beds.acute").set_value(beds)
    at.text_input(key="ns_b_name").input("my_beds")
    _click(at, "ns_b_save")
    saved = _ws(at).scenarios / "my_beds.yaml"
    if beds < 0:
        assert "beds.acute: got -5" in _errors(at)
        assert not saved.exists()
    else:
        assert yaml.safe_load(saved.read_text())["beds"] == {"acute": beds}


@pytest.mark.usefixtures("fast_labels")
def test_scenario_form_refuses_a_lever_out_of_range_and_a_library_name(
    data: Path, driver: Path
) -> None:
    """TREAT's staff at -1 is flagged next to the control and refused on saving,
    naming treat.staff; a library scenario's name is refused; nothing is written."""
    at = _show(_session(driver), "Scenarios")
    at.multiselect(key="ns_s_chosen").select("treat")
    at.run()
    _clean(at)
    at.number_input(key="ns_s_treat_treat.staff").set_value(-1)
    at.run()
    _clean(at)
    assert "treat.staff: allowed: a whole number >= 0" in _errors(at)
    at.text_input(key="ns_s_name").input("my_treat")
    _click(at, "ns_s_save")
    assert "Not saved" in _errors(at) and "treat.staff: got -1" in _errors(at)

    at.number_input(key="ns_s_treat_treat.staff").set_value(3)
    at.text_input(key="ns_s_name").input("treat")
    _click(at, "ns_s_save")
    assert "name: got 'treat'; allowed: a name not used by the project's library" in _errors(at)
    assert not any(_ws(at).scenarios.iterdir())


@pytest.mark.usefixtures("fast_labels")
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ns_r_reps": 1}, "replications: got 1"),
        ({"ns_r_reps": 0}, "replications: got 0"),
        ({"ns_r_reps": 1000}, "replications: got 1000"),
        ({"ns_r_years": 0}, "years: got 0"),
        ({"ns_r_years": 9}, "years: got 9"),
        ({"ns_r_seed": -1}, "seed: got -1"),
        ({"ns_r_psa": True, "ns_r_draws": 1}, "parameter sets: got 1"),
        ({"ns_r_compare": ["baseline"]}, "compare: got 'baseline'"),
    ],
)
def test_run_form_refuses_values_out_of_range(
    data: Path, driver: Path, changes: dict[str, Any], field: str
) -> None:
    """The run form, submitted with one value out of range, names the field and
    starts nothing."""
    at = _show(_session(driver), "Run")
    for key, value in changes.items():
        if isinstance(value, bool):
            at.checkbox(key=key).set_value(value)
        elif isinstance(value, list):
            at.multiselect(key=key).set_value(value)
        else:
            at.number_input(key=key).set_value(value)
    _submit_run(at)
    assert "The run was not started" in _errors(at) and field in _errors(at)
    assert not any(_ws(at).runs.iterdir())
    assert not at.get("progress")


# --- sessions ----------------------------------------------------------------------------


def _baselines(at: Any) -> list[str]:
    _show(at, "Run")
    return list(at.selectbox(key="ns_r_base").options)


@pytest.mark.usefixtures("fast_labels")
def test_a_saved_scenario_is_the_sessions_own_until_shared(data: Path, driver: Path) -> None:
    """Saved from the Scenarios form, a scenario is offered on its session's Run page
    (and at its session's address) but not in another session, until it is saved to
    the shared library."""
    one, two = _session(driver), _session(driver)
    _show(one, "Scenarios")
    one.multiselect(key="ns_s_chosen").select("treat")
    one.run()
    one.text_input(key="ns_s_name").input("mine")
    _click(one, "ns_s_save")
    assert [s.value for s in one.success] == ["Saved mine."]
    assert "mine" in _baselines(one)
    assert "mine" not in _baselines(two)
    assert _ws(one).token != _ws(two).token

    # the address (?w=...) is the capability to a session: it reopens that work
    again = _session(driver, _ws(one).token)
    assert "mine" in _baselines(again) and _ws(again) == _ws(one)

    _show(one, "Scenarios")
    assert one.selectbox(key="ns_share_pick").value == "mine"
    _click(one, "ns_share")
    assert "mine is in the shared library." in [s.value for s in one.success]
    assert "mine" in _baselines(two)
    assert (data / "library" / "scenarios" / "mine.yaml").is_file()


@pytest.mark.usefixtures("fast_labels")
@pytest.mark.parametrize("token", ["../../etc", "..", "", "short", "A" * 24, "a" * 65])
def test_an_address_that_is_no_session_gives_a_fresh_one(
    data: Path, driver: Path, token: str, tmp_path: Path
) -> None:
    """A malformed token, a path or a made-up token opens a new session of the app's
    own making, under the data folder; nothing is made anywhere else."""
    before = sorted(p.name for p in tmp_path.iterdir())
    at = _show(_session(driver, token), "Run")
    ws = _ws(at)
    assert ws.token != token and at.query_params["w"] == ws.token
    assert ws.root == data.resolve() and ws.private.parent == data / "sessions"
    assert [p.name for p in (data / "sessions").iterdir()] == [ws.token]
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not list(tmp_path.rglob("etc"))


# --- a run -------------------------------------------------------------------------------


def _finished(at: Any) -> bool:
    return any(s.value.startswith("Finished in") for s in at.success)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory, driver: Path) -> Iterator[dict]:
    """The small borough against TREAT on it, two replications of a year, started from
    the Run page form and watched there (by rerunning the page) until it finished."""
    root = tmp_path_factory.mktemp("app-run-data")
    _write(root / "library" / "scenarios", tiny_home=TINY_HOME, tiny_treat=TINY_TREAT)
    seen: dict[str, Any] = {"root": root}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NSIM_APP_DATA", str(root))
        mp.delenv("NSIM_SCENARIO_PATH", raising=False)
        mp.delenv("NSIM_PROGRESS_FILE", raising=False)
        mp.setattr("sim.app.ui.describe", _name_only)
        at = _show(_session(driver), "Run")
        at.selectbox(key="ns_r_base").select("tiny_home")
        at.multiselect(key="ns_r_compare").select("tiny_treat")
        at.number_input(key="ns_r_reps").set_value(2)
        at.number_input(key="ns_r_seed").set_value(7)
        started = time.monotonic()
        _submit_run(at)
        assert not at.error, _errors(at)
        [folder] = _ws(at).runs.iterdir()
        run = jobs.Run(folder)
        try:
            # AppTest does not rerun a fragment on its timer: rerun the page instead
            while not _finished(at):
                assert time.monotonic() - started < 120, "the run did not finish in 120 s"
                assert not at.error, _errors(at) + (folder / "nsim.log").read_text()
                if at.get("progress"):
                    seen["progress"] = at.get("progress")[0].proto.text
                    seen["cancel"] = [b.key for b in at.button if b.key == "ns_cancel"]
                time.sleep(0.5)
                at.run()
                _clean(at)
        finally:
            if run.status().state == "running":
                run.cancel()
        seen["command"] = at.code[0].value
    seen.update(at=at, run=folder, token=_ws(at).token, seconds=time.monotonic() - started)
    yield seen


def _copy_run(folder: Path, key: str, report: bool = True) -> Path:
    """Another finished run in the same session: a copy (with or without its report)."""
    copy = folder.parent / key
    if not copy.exists():
        shutil.copytree(folder, copy)
        meta = json.loads((copy / "job.json").read_text())
        (copy / "job.json").write_text(json.dumps({**meta, "started": meta["started"] + 1}))
        if not report:
            (copy / "out" / "report.html").unlink()
    return copy


def test_a_run_started_from_the_form_shows_progress_and_finishes(small_run: dict) -> None:
    """While it runs the page shows its progress and a cancel button; it finishes, and
    the command shown is the form's request, as typed by hand."""
    assert "progress" in small_run, "no progress bar was seen while the run went on"
    assert "replications" in small_run["progress"] or "starting" in small_run["progress"]
    assert small_run["cancel"] == ["ns_cancel"]
    assert jobs.Run(small_run["run"]).status().state == "finished"
    assert small_run["command"] == (
        "NSIM_SCENARIO_PATH=scenarios nsim scenario=tiny_home 'compare=[tiny_treat]' "
        "run.replications=2 run.years=1 run.seed=7"
    )


@pytest.mark.usefixtures("fast_labels")
def test_results_page_shows_the_summary_effects_and_downloads(
    small_run: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Results page of the session's finished run: its summary, the effects table
    in the report's words and the three downloads."""
    monkeypatch.setenv("NSIM_APP_DATA", str(small_run["root"]))
    at = _show(small_run["at"], "Results")
    headers = [h.value for h in at.header]
    assert headers[:2] == ["Summary", "Effects"] and "Downloads" in headers
    assert any("<b>tiny_treat</b>" in h.value for h in at.html)  # the summary's sentence
    rows = [row for t in at.table for row in _rows(t.value)]
    twice = [row for row in rows if any("\\" in cell for cell in row)]
    assert not twice, f"a backslash on the page (Markdown escaped twice): {twice[:2]}"
    assert [r for r in rows if "tiny_treat" in r and any("admissions avoided" in c for c in r)]
    assert [d.label for d in at.get("download_button")] == [
        "Report (HTML)",
        "Tables (CSV, zip)",
        "Configuration (zip)",
    ]


@pytest.mark.usefixtures("fast_labels")
def test_compare_page_sets_two_runs_side_by_side(
    small_run: dict, driver: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two finished runs (the run and a copy of it) side by side: the same numbers,
    in a session opened at the run's session's address."""
    monkeypatch.setenv("NSIM_APP_DATA", str(small_run["root"]))
    _copy_run(small_run["run"], "c" * 20)
    at = _show(_session(driver, small_run["token"]), "Compare runs")
    [table] = [t.value for t in at.table]
    assert list(table.columns) == ["run 1", "run 2"]
    rows = _rows(table)
    assert "tiny_treat: admissions avoided" in [row[0] for row in rows]
    assert all(row[1] == row[2] for row in rows)


@pytest.mark.usefixtures("fast_labels")
def test_results_of_a_run_without_a_report_show(
    small_run: dict, driver: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A finished run whose scenario writes no report still shows its results."""
    monkeypatch.setenv("NSIM_APP_DATA", str(small_run["root"]))
    copy = _copy_run(small_run["run"], "d" * 20, report=False)
    at = _show(_session(driver, small_run["token"]), "Results")
    at.selectbox(key="ns_res_pick").select(str(copy))
    at.run()
    _clean(at)
    assert "Effects" in [h.value for h in at.header]
