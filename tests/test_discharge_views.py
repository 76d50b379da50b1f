"""Discharge as planners measure it now: the two views of delay, discharge to
assess, and continuing healthcare.

The two views come from one set of records, so most checks here are identities
that hold exactly in every replication (bed days past the discharge-ready date
of pathways 1-3 are the delayed-transfer days; pathway 0's are the wait for the
ward; the reason groups partition the total). The whole-day counts of the
publication are checked on constructed cases and bounded against the exact
hours. Scenario effects are paired with common random numbers (same seed and
replications) and asserted in every pair and by a 95% CI of the paired log
ratio, as in tests/test_interventions.py.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.config import load_config
from sim.core.recorder import Recorder
from sim.discharge.dtoc import CURRENT_REASON_OF, CURRENT_REASONS, DRD_BANDS, DelayTracker
from sim.experiment import run
from sim.experiment.stats import mean_ci
from sim.patient import Patient, StratumInfo

PAIRED = ["run.years=0.5", "run.warmup_days=60", "run.replications=4"]


def _kpis(scenario: str, *overrides: str) -> pd.DataFrame:
    return run(load_config(scenario, [*PAIRED, *overrides])).kpis


@pytest.fixture(scope="module")
def baseline() -> pd.DataFrame:
    return _kpis("baseline")


def _paired_log_ratio(base: pd.DataFrame, other: pd.DataFrame, metric: str) -> tuple[float, float]:
    assert (base["crises"] == other["crises"]).all()  # common random numbers
    _, _, lo, hi = mean_ci(np.log(other[metric].to_numpy() / base[metric].to_numpy()))
    return lo, hi


# ------------------------------------------------------------------ the views
def test_views_are_one_record(baseline: pd.DataFrame) -> None:
    """Identities between the views, exact to rounding in every replication:
    P1-P3 time past the discharge-ready date is delayed-transfer time; P0's is the
    wait for the ward (which the old collection did not count); the current reason
    groups and the pathways each partition the total; and each DTOC reason's days
    appear under its current group."""
    k = baseline
    tol = 1e-6 * k["nctr_days"].max()
    p123 = k["nctr_days_p1"] + k["nctr_days_p2"] + k["nctr_days_p3"]
    assert np.allclose(p123, k["dtoc_days"], atol=tol)
    assert np.allclose(k["nctr_days_p0"], k["excess_days_awaiting_discharge"], atol=tol)
    by_pathway = sum(k[f"nctr_days_p{i}"] for i in range(4))
    by_reason = sum(k[f"nctr_days_reason_{r}"] for r in CURRENT_REASONS)
    assert np.allclose(by_pathway, k["nctr_days"], atol=tol)
    assert np.allclose(by_reason, k["nctr_days"], atol=tol)
    for group in CURRENT_REASONS:
        dtoc = [r for r, g in CURRENT_REASON_OF.items() if g == group and r != "discharge_process"]
        if dtoc:
            assert np.allclose(
                sum(k[f"dtoc_days_reason_{r}"] for r in dtoc),
                k[f"nctr_days_reason_{group}"],
                atol=tol,
            )
    assert (k["nctr_days_reason_not_recorded"].abs() <= tol).all()
    # DRD-view counts: bands partition the discharges, means agree with totals
    bands = sum(k[f"drd_discharges_delay_{label}"] for label, _ in DRD_BANDS)
    assert (bands == k["drd_discharges"]).all()
    assert np.allclose(k["drd_mean_delay_days"], k["drd_bed_days_lost"] / k["drd_discharges"])
    pw = sum(k[f"drd_discharges_p{i}"] for i in range(4))
    assert (pw == k["drd_discharges"]).all()
    share = 1 - k["drd_discharges_delay_0"] / k["drd_discharges"]
    assert np.allclose(share, k["drd_delayed_share"])
    # whole calendar days differ from exact time by under a day per discharge,
    # plus the time of patients still waiting at the window's edges
    edge = 2 * k["peak_delayed_patients"] + 100
    assert ((k["drd_bed_days_lost"] - k["nctr_days"]).abs() <= k["drd_discharges"] + edge).all()


def test_pathway_three_waits_longest(baseline: pd.DataFrame) -> None:
    """Care-home placements are the slowest discharges in England's data (the
    long-stay SitRep's largest groups are P1-P3 waits); the default keeps that
    order: mean days from DRD to discharge P3 > P2 > P1 > P0."""
    m = baseline[[f"drd_mean_delay_days_p{i}" for i in range(4)]].mean()
    assert m.is_monotonic_increasing, m


def _patient(pid: int) -> Patient:
    info = StratumInfo(neighbourhood=0, age=3, frailty=2, care_home=False, older=True)
    return Patient(pid, pid, 0, 0.0, info, [])


def test_whole_days_from_the_drd() -> None:
    """The publication counts calendar days from the DRD date to the discharge
    date: fit at 23:00 and gone at 01:00 next day is 1 day; fit at 01:00 and gone
    at 23:00 the same day is 0; reasons switch their levels."""
    from sim.core.event_queue import Environment

    rec = Recorder(Environment(), days=10, warmup_days=0, n_neighbourhoods=1)
    t = DelayTracker(rec)
    a, b, c = _patient(1), _patient(2), _patient(3)
    t.ready(a, 1, 23.0)
    t.ready(b, 0, 1.0)
    t.ready(c, 3, 30.0)
    t.discharge_wait(b, 1.0)
    t.start(a, "care_package_in_own_home", "social_care", 23.0)
    t.start(c, "completion_of_assessment", "nhs", 30.0)
    t.start(c, "nursing_home", "social_care", 40.0)
    assert rec.levels["nctr_reason:pathway_3"].value == 1
    assert rec.levels["nctr_reason:transfer_of_care_hub"].value == 0
    t.left_bed(b, 23.0)
    t.left_bed(a, 25.0)
    t.left_bed(c, 24.0 * 5 + 1)
    assert rec.samples["drd_delay_days_p0"] == [(23.0, 0.0)]
    assert rec.samples["drd_delay_days_p1"] == [(25.0, 1.0)]
    assert rec.samples["drd_delay_days_p3"] == [(121.0, 4.0)]
    assert rec.levels["nctr"].value == 0
    assert rec.levels["delayed"].value == 0
    # a patient who leaves before the DRD (early supported discharge) is no DRD discharge
    d = _patient(4)
    t.left_bed(d, 50.0)
    assert sum(len(rec.samples[f"drd_delay_days_p{i}"]) for i in range(4)) == 3


def test_daily_census_has_both_views() -> None:
    """The daily table carries patients past their DRD (all and by pathway) next to
    the delayed-transfer census by attribution."""
    tiny = ["run.years=0.05", "run.warmup_days=5", "run.replications=1"]
    res = run(load_config("baseline", tiny))
    d = res.daily
    for col in ("nctr", "nctr_p0", "nctr_p1", "nctr_p2", "nctr_p3", "delayed", "delayed_nhs"):
        assert col in d.columns
    parts = d[["nctr_p0", "nctr_p1", "nctr_p2", "nctr_p3"]].sum(axis=1)
    assert (parts == d["nctr"]).all()
    assert (d["nctr"] >= d["delayed"]).all()


# ------------------------------------------------------- discharge to assess
def test_discharge_to_assess_moves_assessment_out(baseline: pd.DataFrame) -> None:
    """Assessing P1 and P2 after discharge: delayed days in hospital fall (paired,
    every replication and the 95% CI of the log ratio), waits for assessment in
    hospital all but vanish (only P3 is still assessed there), and community
    workload rises: assessments move to homes and community beds, where they take
    longer, so the assessment team is busier."""
    d2a = _kpis("discharge_to_assess")
    assert (d2a["dtoc_days"] < baseline["dtoc_days"]).all()
    _, hi = _paired_log_ratio(baseline, d2a, "dtoc_days")
    assert hi < 0
    a = "dtoc_days_reason_completion_of_assessment"
    assert (d2a[a] < 0.3 * baseline[a]).all()
    assert (baseline["assessments_after_discharge"] == 0).all()
    assert (d2a["assessments_after_discharge"] > 0).all()
    # every P1/P2 discharge is assessed in the community (bar those still
    # waiting at the window's edges), and longer visits busy the assessors more
    p12 = d2a["discharges_p1"] + d2a["discharges_p2"]
    assert ((d2a["assessments_after_discharge"] - p12).abs() <= 0.05 * p12).all()
    assert (d2a["assessment_utilisation"] > baseline["assessment_utilisation"]).all()
    assert (d2a["nctr_days"] < baseline["nctr_days"]).all()


def test_discharge_to_assess_off_changes_nothing(baseline: pd.DataFrame) -> None:
    """An empty pathway list is today's flow: every KPI identical."""
    same = _kpis("baseline", "discharge.discharge_to_assess.pathways=[]")
    pd.testing.assert_frame_equal(same, baseline)


# ---------------------------------------------------------------- CHC
def test_chc_fast_track_shortens_end_of_life_waits(baseline: pd.DataFrame) -> None:
    """Arranging fast-track care in a day instead of three: fast-track patients'
    wait for their care falls in every pair (by more than 40%: the CI of the
    paired log ratio), and P3 bed days past the DRD fall in total."""
    fast = _kpis("chc_fast_track")
    # much the same people (counts differ only by who crosses the window's edges)
    assert ((fast["chc_fast_track"] - baseline["chc_fast_track"]).abs() <= 5).all()
    assert (fast["chc_fast_track_delay_days"] < baseline["chc_fast_track_delay_days"]).all()
    _, hi = _paired_log_ratio(baseline, fast, "chc_fast_track_delay_days")
    assert hi < math.log(0.6)
    # they then queue for the same care-home places, where a place one of them
    # takes sooner is one another waits longer for: P3 bed days past the DRD as
    # a whole do not rise (the 95% CI of the mean paired difference reaches below
    # zero: with the constant community share they fell 1%, with same-day access
    # they rose 1%)
    diff = fast["drd_bed_days_lost_p3"].to_numpy() - baseline["drd_bed_days_lost_p3"].to_numpy()
    _, _, lo, _ = mean_ci(diff)
    assert lo < 0, diff


def test_chc_with_no_referrals_is_no_chc() -> None:
    """CHC switched on with no one referred changes no other KPI (its draws are
    on their own streams); and its cost lines read 0."""
    quick = ["run.years=0.2", "run.warmup_days=20", "run.replications=2"]
    off = run(load_config("baseline", [*quick, "chc.enabled=false"])).kpis
    none = run(load_config("baseline", [*quick, "chc.referral_share={p1: 0, p2: 0, p3: 0}"])).kpis
    # (the CHC assessors' roster adds events of its own)
    cols = [c for c in off.columns if not c.startswith("chc_") and c != "events"]
    pd.testing.assert_frame_equal(off[cols], none[cols])
    assert (none["cost_chc_care_week"] == 0).all()


def test_chc_charges_funded_care_to_the_nhs() -> None:
    """Every NHS-funded week is charged once: the chc line's quantity is the
    funded weeks, and the care-home line (block contract: every place every
    week) loses exactly those weeks. Waits for CHC-funded care are the NHS's."""
    quick = ["run.years=0.3", "run.warmup_days=30", "run.replications=1"]
    res = run(load_config("baseline", quick))
    k = res.kpis.iloc[0]
    cfg = res.config
    assert k["chc_funded_weeks"] > 0
    chc = cfg.block("chc")
    costs = cfg.costs
    assert math.isclose(
        k["cost_chc_care_week"], k["chc_funded_weeks"] * costs.restate(chc.care_week), rel_tol=1e-9
    )
    weeks_all = cfg.discharge.care_home.capacity * cfg.run.measured_days / 7.0
    charged = k["cost_care_home_week"] / costs.restate(costs.care_home_week)
    assert charged < weeks_all - 1
    assert k["chc_eligible"] >= k["chc_fast_track"]
