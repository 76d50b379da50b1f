"""Urgent community response (sim/services/ucr.py) against theory and paired runs.

Paired runs use common random numbers: the same seed and replications, so the
baseline and the UCR run see the same crises from the same people, and UCR's
own draws come from streams of its own. Overrides use ``++`` so the tests work
whether or not configs/config.yaml has the block yet (its schema's defaults
apply when it has not).
"""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest

from sim.config import ConfigError, load_config
from sim.core.resources import HOURS_PER_WEEK, RotaQueue
from sim.core.window import window_samples
from sim.experiment import run, run_replication
from sim.experiment.stats import mean_ci
from sim.model import CareSystemModel
from sim.outputs.kpis import compute_kpis
from sim.outputs.schema import documented
from sim.services.ucr import UrgentCommunityResponse
from sim.theory import erlang_c

B = "++urgent_community_response."
ON = B + "enabled=true"
NO_STAFF = B + "rota=[" + ",".join(["0"] * 24) + "]"
QUICK = ["run.years=0.25", "run.warmup_days=20", "run.replications=1"]
PAIRED = ["run.years=0.3", "run.warmup_days=30", "run.replications=4", "run.n_jobs=1"]
#: the service's own KPIs (and the community's counts of referrals it offered,
#: which it reports only when a service takes referrals)
OWN = ("ucr_", "end_ucr_", "referred_on_")


def _same(base: dict[str, float], other: dict[str, float], skip: tuple[str, ...] = ()) -> None:
    """Every KPI of ``base`` has the same value in ``other`` (to the last bit)."""
    for name, value in base.items():
        if name.startswith(skip):
            continue
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(other[name]), name
        else:
            assert other[name] == value, (name, value, other[name])


def test_a_team_with_no_staff_changes_nothing() -> None:
    """(1) Switched on with nobody on the rota, every referral is turned down and
    goes on to A&E at once, as without UCR: every KPI of the baseline is identical,
    to the last bit and to the number of events (no staff, no roster process, no
    visits), and the service's own KPIs say why."""
    base = run_replication(load_config("baseline", QUICK), 0).kpis
    on = run_replication(load_config("baseline", [*QUICK, ON, NO_STAFF]), 0).kpis
    extra = set(on) - set(base)
    assert extra and all(name.startswith(OWN) for name in extra), sorted(extra)
    _same(base, on)
    assert on["ucr_referrals"] > 100
    assert on["ucr_not_accepted"] == on["ucr_referrals"]
    assert on["ucr_responses"] == on["ucr_kept_home"] == on["ucr_staffed_hours"] == 0


def test_no_referrals_changes_nothing_but_the_cost_of_the_team() -> None:
    """(1b) With staff but every referral share at zero, the flow is untouched:
    every KPI is identical except the team's cost (and the totals it adds to)
    and the event count (the weekly roster booking)."""
    base = run_replication(load_config("baseline", QUICK), 0).kpis
    none = B + "referral_share={gp: 0, nhs111: 0, ambulance: 0, care_home: 0}"
    on = run_replication(load_config("baseline", [*QUICK, ON, none]), 0).kpis
    _same(base, on, skip=("cost_", "budget_", "events"))
    assert on["ucr_referrals"] == 0 and on["ucr_staffed_hours"] > 0
    assert on["cost_ucr_staff_hour"] > 0
    assert on["cost_total"] == pytest.approx(base["cost_total"] + on["cost_ucr_staff_hour"])


@pytest.fixture(scope="module")
def pair() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The baseline and the scenario, paired (4 replications of 0.3 years)."""
    base = run(load_config("baseline", PAIRED)).kpis
    ucr = run(load_config("urgent_community_response", PAIRED)).kpis
    assert (base["crises"] == ucr["crises"]).all()  # common random numbers
    return base, ucr


def _lower(base: pd.DataFrame, other: pd.DataFrame, metric: str) -> None:
    """``metric`` is lower with UCR in every pair, and the 95% CI of the mean
    paired difference is below zero."""
    d = (other[metric] - base[metric]).to_numpy()
    assert (d < 0).all(), (metric, d)
    _, _, _, hi = mean_ci(d)
    assert hi < 0, (metric, d)


def test_ucr_keeps_people_out_of_a_and_e_and_hospital(
    pair: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    """(2) The scenario lowers A&E attendances, ambulance arrivals and emergency
    admissions in every pair; it meets the two-hour standard (70%) with margin;
    and the drop in admissions is at least the admissions UCR says it avoided and
    at most that times 1 / (1 - r), r the highest 30-day readmission probability
    (each avoided admission also avoids its chain of readmissions, a geometric
    series), with 10% for chance: the readmissions are new episodes whose draws
    are not paired one for one."""
    base, ucr = pair
    for metric in ("ae_attendances", "ae_ambulance_arrivals", "emergency_admissions"):
        _lower(base, ucr, metric)
    assert (ucr["ucr_2h_performance"] > 0.8).all()
    drop = float((base["emergency_admissions"] - ucr["emergency_admissions"]).sum())
    avoided = float(ucr["ucr_admissions_avoided"].sum())
    r = max(load_config("baseline").readmission.probability.as_tuple())
    assert 0.9 * avoided <= drop <= 1.1 * avoided / (1 - r), (drop, avoided)


def test_counterfactuals_match_the_paired_differences() -> None:
    """(2b) Without readmissions (so nothing downstream feeds back) the paired
    differences are UCR's counterfactual counts: A&E attendances fall by those
    kept at home, emergency admissions by the admissions avoided and ambulance
    arrivals by the conveyances avoided. The only slack is at the edges of the
    measured period, where a visit (up to max_wait_hours + a visit) or a
    different A&E queue moves an arrival or a decision across midnight of the
    first or last day: 3 per count and replication allows for it (a few patients
    an hour arrive at A&E; measured differences are 0-2)."""
    settings = [*PAIRED, "run.replications=3", "readmission.enabled=false"]
    base = run(load_config("baseline", settings)).kpis
    ucr = run(load_config("urgent_community_response", settings)).kpis
    for fall, counted in (
        ("ae_attendances", ucr["ucr_kept_home"] + ucr["ucr_to_virtual_ward"]),
        ("emergency_admissions", ucr["ucr_admissions_avoided"]),
        ("ae_ambulance_arrivals", ucr["ucr_conveyances_avoided"]),
    ):
        d = (base[fall] - ucr[fall]).to_numpy()
        assert (np.abs(d - counted.to_numpy()) <= 3).all(), (fall, d, counted.to_numpy())
        assert (counted > 0).all()


def test_first_start_answers_as_the_queue_does() -> None:
    """``RotaQueue.first_start`` asks the rota queue when a newcomer would start without
    joining it: over 5,000 random arrivals, service times and a rota that varies
    by hour (with hours off duty), its answer is the start the queue then gives,
    to the last bit, and ``inf`` exactly when that start is after ``latest``."""
    rng = random.Random(7)
    staff = [rng.choice((0, 1, 1, 2, 3)) for _ in range(HOURS_PER_WEEK)]
    q = RotaQueue(staff)
    t = 0.0
    turned_down = 0
    for _ in range(5_000):
        t += rng.expovariate(1.2)
        latest = t + rng.choice((0.5, 2.0, 4.0, 1e9))
        s = q.first_start(t, latest)
        if s == math.inf:
            turned_down += 1
            assert q.first_start(t, math.inf) > latest
            continue
        assert q.start(t, rng.expovariate(1.0)) == s
    assert 100 < turned_down < 4_000
    assert RotaQueue([0] * HOURS_PER_WEEK).first_start(5.0, math.inf) == math.inf


#: UCR alone as an M/M/c queue: Poisson referrals (constant crisis rates, no
#: community stage, so whether a crisis is referred depends on the patient's
#: draws only), a constant rota of C responders, exponential visits, no travel,
#: and a maximum wait no referral reaches
C, MEAN_S, TARGET = 3, 2.0, 2.0
MMC = [
    "demand.time_varying=false",
    "community.enabled=false",
    "ae.enabled=false",
    "discharge.enabled=false",
    "readmission.enabled=false",
    "run.years=0.3",
    "run.warmup_days=10",
    ON,
    B + "rota=[" + ",".join([str(C)] * 24) + "]",
    B + "referral_share={gp: 0.18, nhs111: 0.18, ambulance: 0.18, care_home: 0.18}",
    B + "age_share={age_0_64: 1, age_65_74: 1, age_75_84: 1, age_85_plus: 1}",
    B + "travel_minutes=0",
    B + f"visit_hours={{mean: {MEAN_S}, distribution: exponential}}",
    B + "max_wait_hours=150",
]


def _batch_se(x: np.ndarray, batches: int = 20) -> float:
    """Standard error of the mean of a correlated series by batch means."""
    means = np.array([b.mean() for b in np.array_split(x, batches)])
    return float(means.std(ddof=1) / math.sqrt(batches))


def test_the_team_is_an_m_m_c_queue() -> None:
    """(3) With Poisson referrals, a constant rota of C = 3 and exponential visits
    of mean 2 h, the team is an M/M/3 queue. In each of 5 replications, from the
    measured arrival rate lambda (accepted referrals / measured hours; none is
    turned down) and a = lambda x E[S]:

    * Little's law: utilisation = a / C. Given lambda, only the N service times
      are random (cv 1), so the relative error has standard error 1 / sqrt(N);
    * Erlang C: the share reached within 2 h is 1 - C(c, a) exp(-(c mu - lambda) 2 h).
      Successive waits are correlated (busy periods), so its standard error is
      estimated from the run itself by batch means (20 batches in time order).

    Over the replications together each mean error is within 4 of its standard
    errors (a correct model fails with probability ~6e-5); the standard errors
    are small enough (under 1.5% and 0.02) for that to mean something.
    """
    rel, rel_var, gap, gap_var = [], [], [], []
    for rep in range(5):
        model = CareSystemModel(load_config("baseline", MMC), rep)
        k = compute_kpis(model, model.run())
        assert k["ucr_not_accepted"] == 0 and k["ucr_to_virtual_ward"] == 0
        n = k["ucr_responses"]
        lam = n / (model.cfg.run.measured_days * 24.0)
        a = lam * MEAN_S
        assert 0.4 < a / C < 0.85, a / C  # stable, at a load where waits are common
        rel.append(k["ucr_utilisation"] / (a / C) - 1.0)
        rel_var.append(1.0 / n)
        within = 1.0 - erlang_c(C, a) * math.exp(-(C / MEAN_S - lam) * TARGET)
        gap.append(k["ucr_2h_performance"] - within)
        waits = window_samples(
            model.recorder.samples["ucr_response_hours"], model.cfg.run.warmup_days * 24.0
        )
        gap_var.append(_batch_se((waits <= TARGET).astype(float)) ** 2)
    se_rel = math.sqrt(sum(rel_var)) / len(rel)
    se_gap = math.sqrt(sum(gap_var)) / len(gap)
    assert se_rel < 0.015 and se_gap < 0.02, (se_rel, se_gap)
    assert abs(np.mean(rel)) < 4 * se_rel, (rel, se_rel)
    assert abs(np.mean(gap)) < 4 * se_gap, (gap, se_gap)


def test_bad_values_are_named_with_the_rule() -> None:
    """(4) Bad values stop before the run, naming the field, the value and the rule."""
    cases = {
        "rota=[2,2,2]": ("urgent_community_response.rota", "24 staff numbers"),
        "rota_weekend=[" + ",".join(["-1"] * 24) + "]": (
            "urgent_community_response.rota_weekend",
            ">= 0",
        ),
        "referral_share.gp=1.5": ("urgent_community_response.referral_share.gp", "<= 1"),
        "home_share_late=0.95": ("urgent_community_response.home_share_late", "home_share_in_time"),
        "max_wait_hours=0.2": ("urgent_community_response.max_wait_hours", "travel time"),
        "visit_hours.mean=-1": ("urgent_community_response.visit_hours.mean", ">= 0"),
        "staff_hour.holder=gp_practice": ("urgent_community_response.staff_hour.holder", ""),
    }
    for override, (path, rule) in cases.items():
        with pytest.raises(ConfigError) as err:
            load_config("baseline", [B + override])
        msg = str(err.value)
        assert path in msg and rule in msg, (override, msg)
    assert load_config("urgent_community_response").block("urgent_community_response").enabled
    assert not load_config("baseline").block("urgent_community_response").enabled


def test_every_patient_is_accounted_for() -> None:
    """(5) Conservation with UCR on and every outcome taken (a virtual ward that
    takes every person offered, through the ``community_step_up`` hook), and a
    team too small for its referrals so that some are still waiting or being seen
    when the run ends: created = exited + still inside, by place; every referral
    is accepted or not; every response ends at home, on the ward, in A&E or is
    still under way; every KPI is documented."""
    cfg = load_config(
        "urgent_community_response",
        [
            "run.years=0.1",
            "run.warmup_days=0",
            B + "rota=[" + ",".join(["1"] * 24) + "]",
            B + "max_wait_hours=24",
            B + "virtual_ward_share=0.5",
        ],
    )
    model = CareSystemModel(cfg, 0)
    ucr = model.component("urgent_community_response")
    assert isinstance(ucr, UrgentCommunityResponse)
    offered: list[str] = []

    def ward(p: object, source: str) -> bool:
        offered.append(source)
        model.exit(p, "test_virtual_ward")  # type: ignore[arg-type]
        return True

    model.hooks.community_step_up.append(ward)
    k = compute_kpis(model, model.run())
    assert k["patients_created"] == k["patients_exited"] + k["patients_in_system_end"]
    assert sum(v for n, v in k.items() if n.startswith("end_")) == k["patients_in_system_end"]
    assert k["ucr_referrals"] == k["ucr_responses"] + k["ucr_not_accepted"]
    ended = k["ucr_kept_home"] + k["ucr_to_virtual_ward"] + k["ucr_to_ae"]
    assert k["ucr_responses"] == ended + k["end_ucr_in_response"]
    assert min(k["ucr_to_virtual_ward"], k["ucr_to_ae"], k["end_ucr_in_response"]) > 0
    assert len(offered) == k["ucr_to_virtual_ward"] and set(offered) == {"ucr"}
    assert 0 < k["ucr_admissions_avoided_virtual_ward"] < k["ucr_to_virtual_ward"]
    assert [name for name in k if not documented(name)] == []


def test_the_scenario_conserves_patients() -> None:
    """(5b) The scenario as shipped (no virtual ward), a short run: conservation;
    the staffed hours are the rota's (2 responders x 12 hours a day); the cost
    lines are their units times the restated unit costs."""
    cfg = load_config("urgent_community_response", ["run.years=0.1", "run.warmup_days=5"])
    k = run_replication(cfg, 0).kpis
    assert k["patients_created"] == k["patients_exited"] + k["patients_in_system_end"]
    assert k["ucr_staffed_hours"] == pytest.approx(24.0 * cfg.run.measured_days)
    assert 0 < k["ucr_utilisation"] < 1
    block = cfg.block("urgent_community_response")
    assert k["cost_ucr_staff_hour"] == pytest.approx(
        k["ucr_staffed_hours"] * cfg.costs.restate(block.staff_hour)
    )
    assert k["cost_ucr_follow_up"] == pytest.approx(
        k["ucr_kept_home"] * cfg.costs.restate(block.follow_up)
    )


def test_with_the_virtual_ward_service() -> None:
    """The scenario with the virtual-ward service on: UCR offers it the people it
    does not keep at home, the ward takes those it has a bed for (each a
    community step-up of the ward's), the admissions UCR hands over are within
    the ward's own count of admissions avoided, and every patient is accounted
    for."""
    cfg = load_config(
        "urgent_community_response",
        ["run.years=0.1", "run.warmup_days=5", "++virtual_wards.enabled=true"],
    )
    k = run_replication(cfg, 0).kpis
    assert k["ucr_to_virtual_ward"] > 0
    assert k["ucr_to_virtual_ward"] <= k["vw_admissions_community"]
    assert k["ucr_admissions_avoided_virtual_ward"] <= k["vw_admissions_avoided"]
    assert k["patients_created"] == k["patients_exited"] + k["patients_in_system_end"]
