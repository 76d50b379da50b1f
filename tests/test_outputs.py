"""Outputs: documented, keyed, written atomically, never silently overwritten."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.experiment import run
from sim.outputs import schema


@pytest.fixture(scope="module")
def result(short_baseline):
    return run(short_baseline)


def test_every_kpi_is_documented(result) -> None:
    missing = [c for c in result.kpis.columns if c not in schema.KEYS and not schema.documented(c)]
    assert missing == []


def test_required_kpis_present(result) -> None:
    required = [
        "ae_attendances",
        "ae_4h_performance",
        "emergency_admissions",
        "community_managed",
        "bed_days",
        "mean_los_days",
        "mean_bed_occupancy",
        "peak_bed_occupancy",
        "boarding_hours",
        "dtoc_days",
        "dtoc_days_nhs",
        "dtoc_days_social_care",
        "dtoc_days_both",
        "delayed_patients",
        "readmissions_30d",
        "emergency_admissions_per_1000_pop",
        "emergency_admissions_65plus_per_1000_65plus",
    ]
    assert set(required) <= set(result.kpis.columns)


def test_every_row_is_keyed(result) -> None:
    for df in (result.kpis, result.daily, result.neighbourhoods):
        assert {"scenario", "replication", "seed"} <= set(df.columns)
        assert df["scenario"].eq("baseline").all()


def test_dtoc_by_attribution_adds_up(result) -> None:
    k = result.kpis
    parts = k["dtoc_days_nhs"] + k["dtoc_days_social_care"] + k["dtoc_days_both"]
    assert (abs(parts - k["dtoc_days"]) < 1e-6).all()
    reasons = k[[c for c in k.columns if c.startswith("dtoc_days_reason_")]].sum(axis=1)
    assert (abs(reasons - k["dtoc_days"]) < 1e-6).all()


def test_daily_series_agree_with_totals(result) -> None:
    d = result.daily[(result.daily["replication"] == 0) & ~result.daily["warmup"]]
    k = result.kpis.iloc[0]
    assert d["beds_occupied_mean"].sum() == pytest.approx(k["bed_days"])
    assert d["delayed_mean"].sum() == pytest.approx(k["dtoc_days"])
    assert d["emergency_admissions"].sum() == k["emergency_admissions"]


def test_summary_has_confidence_intervals(result) -> None:
    s = result.summary()
    row = s.set_index("metric").loc["emergency_admissions"]
    assert row["ci_low"] <= row["mean"] <= row["ci_high"] and row["n"] == 2


def test_save_writes_files_and_refuses_to_overwrite(result, tmp_path: Path) -> None:
    written = result.save(tmp_path / "run")
    names = {p.name for p in written}
    assert {
        "kpis.csv",
        "summary.csv",
        "daily.csv",
        "neighbourhoods.csv",
        "config.yaml",
        "seeds.csv",
        "run.json",
    } <= names
    back = pd.read_csv(tmp_path / "run" / "kpis.csv")
    assert len(back) == 2
    assert not list((tmp_path / "run").glob(".*.tmp"))  # no temp files left behind
    with pytest.raises(FileExistsError):
        result.save(tmp_path / "run")
    result.save(tmp_path / "run", overwrite=True)


def test_schema_doc_is_current() -> None:
    doc = Path(__file__).resolve().parents[1] / "docs" / "outputs.md"
    assert doc.read_text() == schema.markdown(), "regenerate: python -m sim.outputs.schema"


def test_an_unknown_counter_level_or_sample_is_an_error_not_a_zero() -> None:
    """A KPI read under a name no component registered fails loudly (a misspelt
    name would otherwise read as a plausible zero), naming the closest real one."""
    import pytest

    from sim.config import load_config
    from sim.core.window import KpiWindow
    from sim.model import CareSystemModel

    model = CareSystemModel(load_config("baseline", ["run.years=0.02", "run.warmup_days=0"]))
    model.run()
    win = KpiWindow.of(model)
    assert win.count("ae_attendances") > 0
    with pytest.raises(KeyError, match="ae_attendances"):
        win.count("ae_attendance")
    with pytest.raises(KeyError, match="no level"):
        win.integral_days("beds_ocupied")
    with pytest.raises(KeyError, match="no sample list"):
        win.samples("los_dayz")
