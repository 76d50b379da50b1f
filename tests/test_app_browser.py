"""The web app end to end, in a real headless Chromium (Debian's, driven by Playwright).

A planner's afternoon: open the app, import a practice list, save the borough,
compose TREAT on it and change a lever, run a small comparison, read the
summary and download the report. Every page is checked with axe-core's
accessibility rules (WCAG 2.2 AA is the public-sector standard) and fails on a
serious or critical violation; bad input in the forms must give the project's
message, never a traceback. Screenshots of each step are kept in
``tests/artifacts/app/`` (or ``NSIM_ARTIFACTS``) to be looked at.

The browser is the system's (``NSIM_CHROMIUM``, else ``chromium`` on the path):
nothing is downloaded at test time. Without it the test skips, except where
``NSIM_REQUIRE_BROWSER=1`` (set by ``.ci/run``) makes that a failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CHROMIUM_ARGS, start_app

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("NSIM_ARTIFACTS", ROOT / "tests" / "artifacts")) / "app"
#: axe-core impacts that fail the test (minor and moderate ones are reported only)
FAILING = ("serious", "critical")


def _chromium() -> str:
    found = os.environ.get("NSIM_CHROMIUM") or shutil.which("chromium")
    if found:
        return found
    if os.environ.get("NSIM_REQUIRE_BROWSER") == "1":
        pytest.fail("NSIM_REQUIRE_BROWSER=1 but no chromium: install Debian's chromium")
    pytest.skip("no chromium on this machine (Debian: apt-get install chromium)")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``nsim-app`` serving on a free port with its own data folder."""
    pytest.importorskip("streamlit")
    data = tmp_path_factory.mktemp("app-data")
    log_path = tmp_path_factory.mktemp("app-log") / "app.log"
    with log_path.open("wb") as log:
        try:
            proc, url = start_app(data, log)
        except RuntimeError:
            pytest.fail("nsim-app did not start: " + log_path.read_text(errors="replace"))
        yield url
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def page(app_url: str) -> Iterator[Any]:
    pw = pytest.importorskip("playwright.sync_api")
    chromium = _chromium()
    with pw.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1280, "height": 2200}, accept_downloads=True
        )
        pg = context.new_page()
        pg.set_default_timeout(60_000)
        pg.goto(app_url)
        yield pg
        browser.close()


def settle(pg: Any, timeout: float = 120) -> None:
    """Wait until the script has finished running: Streamlit shows its status widget
    while a rerun goes (give it a moment to appear), then removes it."""
    pg.wait_for_selector("h1", timeout=timeout * 1000)
    widget = '[data-testid="stStatusWidget"]'
    with contextlib.suppress(Exception):  # a quick rerun may come and go unseen
        pg.wait_for_selector(widget, state="attached", timeout=700)
    pg.wait_for_selector(widget, state="detached", timeout=timeout * 1000)
    time.sleep(0.2)


def shot(pg: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def accessible(pg: Any, name: str) -> None:
    """axe-core on the page as it is now; serious or critical violations fail."""
    from axe_playwright_python.sync_playwright import Axe

    shot(pg, name)
    result = Axe().run(pg)
    bad = [v for v in result.response["violations"] if v["impact"] in FAILING]
    report = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes'][0]['target']}" for v in bad
    )
    assert not bad, f"accessibility violations on {name}:\n{report}"


def no_traceback(pg: Any) -> None:
    text = pg.inner_text("body")
    assert "Traceback" not in text and 'File "' not in text, text[:2000]


def nav(pg: Any, title: str) -> None:
    pg.get_by_role("link", name=title, exact=True).click()
    settle(pg)


def fill(pg: Any, label: str, value: str) -> None:
    """Type into a text or number input and commit it (Enter), as a user does."""
    box = pg.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    settle(pg)


def choose(pg: Any, label: str, option: str) -> None:
    """Pick ``option`` (the start of its text) in a select or multiselect."""
    box = pg.get_by_label(label, exact=True)
    box.click()
    pg.keyboard.type(option)  # long lists are drawn only in part: filter first
    pg.get_by_role("option", name=option).first.click()
    pg.keyboard.press("Escape")
    settle(pg)


def test_planner_flow_in_a_real_browser(page: Any, tmp_path: Path) -> None:
    try:
        _planner_flow(page, tmp_path)
    except Exception:
        shot(page, "failure")  # what the page showed when the test stopped
        raise


def _planner_flow(pg: Any, tmp_path: Path) -> None:
    settle(pg)
    accessible(pg, "01-borough")

    # a hostile file gets a message, not a crash
    junk = tmp_path / "practices.csv"
    junk.write_bytes(b"ORG_CODE,AGE_GROUP_5\n\x00\xff\xfe=cmd|' /C calc'!A0\n" * 50)
    upload = pg.locator('[data-testid="stFileUploaderDropzoneInput"]')
    upload.set_input_files(str(junk))
    settle(pg)
    pg.get_by_text("The file could not be used").wait_for()
    no_traceback(pg)
    shot(pg, "02a-borough-bad-file")

    # import the practice list: 7 practices, one neighbourhood by default
    pg.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        str(ROOT / "examples" / "practices_small.csv")
    )
    settle(pg)
    pg.get_by_text("7 practices").wait_for()
    fill(pg, "Neighbourhood 1 name", "Riverside")
    pg.get_by_role("button", name="Use these practices as the neighbourhoods").click()
    settle(pg)
    pg.get_by_text("1 neighbourhood(s) made from the practices").wait_for()
    accessible(pg, "02-borough-imported")

    # bad input: a name that could be a path gets the project's message
    fill(pg, "Borough name (letters, digits and _)", "../Bad Name")
    pg.get_by_role("button", name="Check and save borough").click()
    settle(pg)
    pg.get_by_text("lower-case letters, digits and underscores").first.wait_for()
    no_traceback(pg)
    shot(pg, "03-borough-bad-name")
    fill(pg, "Borough name (letters, digits and _)", "e2e_borough")
    pg.get_by_role("button", name="Check and save borough").click()
    settle(pg)
    pg.get_by_text("Saved e2e_borough").wait_for()
    pg.locator("code").filter(has_text="Riverside").first.wait_for()  # the file, shown
    shot(pg, "04-borough-saved")

    # a scenario on that borough: TREAT with one more member of staff
    nav(pg, "Scenarios")
    choose(pg, "Borough", "e2e_borough")
    choose(pg, "Services and interventions (from the library)", "treat:")
    fill(pg, "Staff (TREAT clinicians on duty)", "-1")
    pg.get_by_text("treat.staff:").first.wait_for()  # the rule, next to the field
    no_traceback(pg)
    shot(pg, "05-scenario-bad-lever")
    fill(pg, "Staff (TREAT clinicians on duty)", "3")
    fill(pg, "Scenario name (letters, digits and _)", "e2e_treat")
    pg.get_by_role("button", name="Check and save scenario").click()
    settle(pg)
    pg.get_by_text("Saved e2e_treat").wait_for()
    pg.locator("code").filter(has_text="staff: 3").first.wait_for()
    accessible(pg, "06-scenarios")

    # a small comparison; the page stays usable while it runs
    nav(pg, "Run")
    choose(pg, "Baseline", "e2e_borough")
    choose(pg, "Compare with", "e2e_treat")
    fill(pg, "Replications", "2")
    pg.get_by_role("button", name="Start run").click()
    pg.get_by_role("progressbar").first.wait_for(timeout=60_000)
    accessible(pg, "07-run-progress")
    started = time.monotonic()
    nav(pg, "About")  # another page answers while the run goes on
    assert time.monotonic() - started < 20
    nav(pg, "Run")
    pg.get_by_text("Finished in").wait_for(timeout=600_000)
    no_traceback(pg)
    shot(pg, "08-run-finished")

    nav(pg, "Results")
    pg.get_by_role("heading", name="Summary").wait_for()
    table = pg.locator("table").filter(has_text="admissions avoided").first
    table.wait_for()
    assert "e2e_treat" in table.inner_text()
    accessible(pg, "09-results")
    with pg.expect_download() as info:
        pg.get_by_role("button", name="Report (HTML)").click()
    saved = tmp_path / "report.html"
    info.value.save_as(saved)
    html = saved.read_text(encoding="utf-8")
    assert "<html" in html and "e2e_treat" in html

    nav(pg, "Compare runs")
    accessible(pg, "10-compare")
    nav(pg, "About")
    accessible(pg, "11-about")
