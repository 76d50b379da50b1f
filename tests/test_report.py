"""Plots, the HTML report and the cost model."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from sim.config import load_config
from sim.costs import capacity_cost_curve, cost_effectiveness
from sim.experiment.runner import run_many
from sim.report import html as report
from sim.report import plots

SHORT = ["run.years=0.15", "run.warmup_days=20", "run.replications=3"]


@pytest.fixture(scope="module")
def results():
    return run_many([load_config(s, SHORT) for s in ("baseline", "treat", "pace")], n_jobs=2)


def test_costs_add_up_by_holder_and_budget(results) -> None:
    k = results["baseline"].kpis.iloc[0]
    holders = k["cost_acute_trust"] + k["cost_community_health"] + k["cost_social_care"]
    assert holders == pytest.approx(k["cost_total"])
    assert k["cost_pooled"] + k["cost_aligned"] == pytest.approx(k["cost_total"])
    assert k["cost_nhs"] == pytest.approx(k["cost_acute_trust"] + k["cost_community_health"])
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
    assert pd.notna(row["estimate"])
    if pd.notna(row["ci_low"]):
        assert row["ci_low"] <= row["estimate"] <= row["ci_high"]


def test_capacity_cost_curve_has_an_interior_minimum() -> None:
    """Few reablement places cost bed days; many cost unused places: the minimum is inside."""
    curve = capacity_cost_curve(
        lambda v: load_config("baseline", [*SHORT, f"discharge.reablement.capacity={v}"]),
        "discharge.reablement.capacity",
        [130, 165, 260],
        replications=2,
        n_jobs=2,
    )
    assert list(curve.table["value"]) == [130, 165, 260]
    assert curve.best_value == 165
    assert curve.best_share.sum() == pytest.approx(1.0)
    assert curve.table["dtoc_days"].is_monotonic_decreasing


def test_report_is_self_contained(results, tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    report.write(path, results, "baseline")
    text = path.read_text()
    for section in (
        "Scenarios",
        "Key performance indicators",
        "Effects against baseline",
        "Costs",
        "STRESS-DES",
        "treat.enabled",
    ):
        assert section in text
    assert text.count("data:image/png;base64,") >= 4  # effects, occupancy, delays, costs
    assert "http://" not in text and "https://" not in text and "<script" not in text


def test_plots_render(results, tmp_path: Path) -> None:
    res = results["baseline"]
    for name, fig in {
        "occupancy": plots.occupancy(res.daily, res.config.beds.acute),
        "delays": plots.delayed_by_week(res.daily),
        "costs": plots.costs_by_holder(res.kpis),
    }.items():
        path = plots.save(fig, tmp_path / f"{name}.png")
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_renders_in_headless_chromium(results, tmp_path: Path) -> None:
    """Open the report in a real browser and take a screenshot."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium not installed (apt-get install chromium)")
    page = tmp_path / "report.html"
    report.write(page, results, "baseline")
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--hide-scrollbars",
            f"--screenshot={shot}",
            "--window-size=1200,2000",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000  # a page, not a blank
