"""Plots, the HTML report and the cost model."""

from __future__ import annotations

import html as htmllib
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from sim.config import load_config
from sim.experiment.capacity import capacity_cost_curve
from sim.experiment.compare import compare, headline
from sim.experiment.economics import cost_effectiveness
from sim.experiment.runner import run_many
from sim.report import html as report
from sim.report import plots
from sim.report.effects import effect_cells, effects_table
from sim.report.format import kpi_table
from tests.conftest import CHROMIUM_ARGS

SHORT = ["run.years=0.15", "run.warmup_days=20", "run.replications=3"]


@pytest.fixture(scope="module")
def results():
    return run_many([load_config(s, SHORT) for s in ("baseline", "treat", "pace")], n_jobs=2)


def test_costs_add_up_by_holder_and_budget(results) -> None:
    k = results["baseline"].kpis.iloc[0]
    nhs = k["cost_acute_trust"] + k["cost_community_health"] + k["cost_ambulance_trust"]
    assert nhs + k["cost_social_care"] == pytest.approx(k["cost_total"])
    assert k["cost_pooled"] + k["cost_aligned"] == pytest.approx(k["cost_total"])
    assert k["cost_nhs"] == pytest.approx(nhs)
    cfg = results["baseline"].config
    assert k["cost_ae_attendance"] == pytest.approx(
        k["ae_attendances"] * cfg.costs.restated("ae_attendance")
    )
    assert k["cost_delayed_bed_day"] == pytest.approx(
        k["dtoc_days"] * cfg.costs.restated("delayed_bed_day")
    )


def test_intervention_costs_land_on_their_holders(results) -> None:
    """TREAT's staff cost falls on the acute trust; PACE's on community health."""
    base = results["baseline"].kpis["cost_community_health"].mean()
    pace = results["pace"].kpis
    assert (pace["cost_pace_patient_day"] > 0).all()
    assert pace["cost_community_health"].mean() > base
    assert (results["treat"].kpis["cost_treat_staff_hour"] > 0).all()


def test_cost_effectiveness_table(results) -> None:
    kpis = pd.concat([r.kpis for r in results.values()], ignore_index=True)
    ce = cost_effectiveness(kpis).set_index(["scenario", "measure"])
    row = ce.loc[("treat", "net cost per admission avoided")]
    assert row["quadrant"] in ("dominant", "costs_more_improves", "saves_worsens", "dominated")
    assert row["share_" + row["quadrant"]] > 0
    # a ratio only with a clear gain; otherwise a reason in words
    for _, r in ce.iterrows():
        assert pd.isna(r["ratio"]) == bool(r["reason"])
        if not r["reason"]:
            assert r["gain_ci_low"] > 0 and r["cost_change"] > 0


def test_capacity_cost_curve_has_an_interior_minimum() -> None:
    """Few reablement places cost bed days; many cost unused places: the minimum is inside.

    130 places gridlock the hospital (infeasible); 260 leave some 95 places idle,
    which costs GBP 0.4m to 0.7m more than 165 over the run in each replication,
    paired on common random numbers, far beyond the difference in delays they
    buy: 165 is the cheapest in every bootstrap resample."""
    curve = capacity_cost_curve(
        lambda v: load_config(
            "baseline",
            # the place model of pathway 1 (its places are what the curve varies)
            [*SHORT, "discharge.p1_visits.enabled=false", f"discharge.reablement.capacity={v}"],
        ),
        "discharge.reablement.capacity",
        [130, 165, 260],
        replications=2,
        n_jobs=2,
    )
    assert list(curve.table["value"]) == [130, 165, 260]
    assert curve.best_value == 165
    assert curve.best_share.sum() == pytest.approx(1.0)
    assert curve.table["dtoc_days"].is_monotonic_decreasing


def _visible_text(page: str) -> str:
    """The report's text without tags, images or styles."""
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    page = re.sub(r"<img[^>]*>", " ", page)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.fixture(scope="module")
def written(results, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    report.write(path, results, "baseline")
    return path


def test_report_is_self_contained(written: Path) -> None:
    text = written.read_text()
    for section in (
        "Summary",
        "Scenarios",
        "Key performance indicators",
        "Effects against baseline",
        "Value for money",
        "Costs",
        "Beds and delays",
        "KPI glossary",
        "STRESS-DES",
        "treat.enabled",
    ):
        assert section in text
    assert "http://" not in text and "https://" not in text and "<script" not in text


def test_every_chart_is_written_as_png_and_svg_and_embedded(written: Path) -> None:
    figures = written.parent / "figures"
    pngs = sorted(figures.glob("*.png"))
    names = {p.stem for p in pngs}
    assert names >= {"effects", "occupancy", "delays_by_week", "costs_by_holder"}
    assert names == {p.stem for p in figures.glob("*.svg")}
    text = written.read_text()
    assert text.count("data:image/png;base64,") == len(pngs)
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        # the page embeds the very same image
        import base64

        assert base64.b64encode(png.read_bytes()).decode() in text
        assert (figures / f"{png.stem}.svg").read_text().lstrip().startswith("<?xml")
    assert not list(figures.glob(".*.tmp"))  # nothing half-written


def test_report_shows_every_scenario_in_the_occupancy_and_delay_charts(results) -> None:
    dailies = {k: r.daily for k, r in results.items()}
    fig = plots.occupancy_grid(dailies, {k: r.config.beds.acute for k, r in results.items()})
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()][:3] == list(results)
    fig = plots.delayed_grid(dailies)
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()][:3] == list(results)
    # the legend sits outside every panel, so it hides no bar
    assert fig.legends and all(ax.get_legend() is None for ax in fig.axes)


def test_report_numbers_are_the_consoles(results, written: Path) -> None:
    """Every figure the console prints for a run appears, as printed, in the report."""
    page = _visible_text(written.read_text())
    kpis = pd.concat([r.kpis for r in results.values()], ignore_index=True)
    eff = headline(compare(kpis, "baseline"), "baseline")
    console = effects_table(eff, "baseline")
    for _, r in eff.iterrows():
        c = effect_cells(r)
        assert c["estimate"] in console and c["ci"] in console
        assert c["estimate"] in page and c["ci"] in page, (r["scenario"], r["metric"])
    table = kpi_table(results["baseline"].summary())
    for line in table.splitlines()[2:]:
        if "  " not in line.strip():
            continue
        label, *numbers = re.split(r"\s{2,}", line.strip())
        for number in numbers:
            assert number in page, (label, number)


def test_report_has_no_minus_zero_nor_raw_column_headers(written: Path) -> None:
    page = _visible_text(written.read_text())
    assert not re.search(r"\b(nan|inf)\b", page, flags=re.I)
    assert not re.search(r"(?<![\w.])-0(?![.,]?\d)", page)
    for raw in ("ci_low", "ci_high", "relative_change", "diff_mean", "[", "{"):
        assert raw not in page, raw


def test_no_ratio_where_the_gain_is_not_clear(results, written: Path) -> None:
    page = _visible_text(written.read_text())
    kpis = pd.concat([r.kpis for r in results.values()], ignore_index=True)
    for _, r in cost_effectiveness(kpis, "baseline").iterrows():
        if r["reason"]:
            assert r["reason"] in page
        else:
            assert "per " + r["measure"].removeprefix("net cost per ") in page


def test_sweep_report_follows_the_same_rules(results, tmp_path: Path) -> None:
    kpis = pd.concat([r.kpis for r in results.values()], ignore_index=True)
    tidy = kpis.melt(
        id_vars=["scenario", "replication", "seed"], var_name="metric", value_name="value"
    )
    tidy.insert(1, "overrides", "scenario=" + tidy["scenario"])
    tidy["overrides"] = tidy["overrides"].where(tidy["scenario"] != "baseline", "")
    comp = compare(kpis, "baseline")
    path = tmp_path / "sweep_report.html"
    written = report.write_sweep(path, tidy, comp, "baseline")
    assert path in written
    page = _visible_text(path.read_text())
    assert "Summary" in page and "Value for money" in page and "KPI glossary" in page
    assert {p.suffix for p in (tmp_path / "figures").iterdir()} == {".png", ".svg"}
    assert "includes no effect" in page or "avoids" in page


def test_plots_render(results, tmp_path: Path) -> None:
    res = results["baseline"]

    def figures() -> dict:
        return {
            "occupancy": plots.occupancy(res.daily, res.config.beds.acute),
            "delays": plots.delayed_by_week(res.daily),
            "costs": plots.costs_by_holder(res.kpis),
        }

    for name, fig in figures().items():
        path = plots.save(fig, tmp_path / f"{name}.png")
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name, fig in figures().items():
        png, svg = plots.write_figure(fig, tmp_path / "figs", name)
        assert png.suffix == ".png" and svg.read_text().lstrip().startswith("<?xml")
    # SVGs carry no date or random ids: the same figure made again gives the same file
    for name, fig in figures().items():
        again = plots.write_figure(fig, tmp_path / "again", name)[1]
        assert again.read_bytes() == (tmp_path / "figs" / f"{name}.svg").read_bytes()


def test_report_of_one_replication_and_of_a_scenario_alone(tmp_path: Path) -> None:
    """One replication: no interval or probability, said in words; no comparison: KPIs."""
    tiny = ["run.years=0.03", "run.warmup_days=2", "run.replications=1"]
    res = run_many([load_config(s, tiny) for s in ("baseline", "treat")])
    report.write(tmp_path / "one" / "report.html", res, "baseline")
    page = _visible_text((tmp_path / "one" / "report.html").read_text())
    assert "With one replication no confidence interval or probability can be given" in page
    assert "one replication: no interval" in page
    assert "no ratio: with one replication" in page
    assert not re.search(r"\b(nan|inf)\b", page, flags=re.I)
    alone = {"baseline": res["baseline"]}
    page = _visible_text(report.build(alone, "baseline"))
    summary = page.split("Summary", 1)[1].split("Scenarios", 1)[0]
    assert "emergency admissions" in summary and "total cost GBP" in summary
    assert "Effects against" not in page


PROBE = (
    "<script>addEventListener('load',()=>{const r=[...document.querySelectorAll("
    "'table,img,figure,ul,p')].map(e=>e.getBoundingClientRect().right);"
    "document.body.dataset.right=Math.ceil(Math.max(...r));"
    "document.body.dataset.scroll=document.documentElement.scrollWidth;"
    "document.body.dataset.client=document.documentElement.clientWidth;});</script></body>"
)


def _chromium() -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium not installed (apt-get install chromium)")
    return browser


def _widths(browser: str, page: Path, profile: Path) -> dict[str, int]:
    """Lay ``page`` out at 1280 px in headless Chromium; widths a probe script measured."""
    probe = page.with_name("probe-" + page.name)
    probe.write_text(page.read_text().replace("</body>", PROBE))
    res = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--window-size=1280,2000",
            "--virtual-time-budget=5000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    found = dict(re.findall(r'data-(right|scroll|client)="(\d+)"', res.stdout))
    if len(found) < 3:
        pytest.skip(f"chromium gave no layout: {res.stderr[-300:]}")
    return {k: int(v) for k, v in found.items()}


def test_report_fits_a_1280_px_page(written: Path, tmp_path: Path) -> None:
    """Nothing sticks out to the right at 1280 px (the last scenario column was cut off)."""
    browser = _chromium()
    w = _widths(browser, written, tmp_path / "profile")
    assert w["scroll"] <= w["client"] and w["right"] <= w["client"], w
    # the check can fail: a table far too wide for the page is caught
    wide = written.with_name("wide.html")
    table = "<table><tr>" + "<td>123,456,789&nbsp;to&nbsp;987,654,321</td>" * 12 + "</tr></table>"
    wide.write_text(written.read_text().replace("<h2>", table + "<h2>", 1))
    w = _widths(browser, wide, tmp_path / "profile2")
    assert w["right"] > w["client"]


def test_report_renders_in_headless_chromium(written: Path, tmp_path: Path) -> None:
    """Open the report in a real browser and take a screenshot."""
    browser = _chromium()
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            browser,
            "--headless",
            *CHROMIUM_ARGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--hide-scrollbars",
            f"--screenshot={shot}",
            "--window-size=1280,2000",
            written.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000  # a page, not a blank
