"""Step-up intermediate care competes with step-down patients for the same places.

Paired runs use common random numbers (same seed and replications), so the
baseline and the step-up scenario see the same crises from the same people; the
step-up service draws its own patients from streams of its own, and so leaves
every other patient's numbers unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.config import ConfigError, load_config
from sim.experiment import run, run_replication
from sim.experiment.stats import mean_ci
from sim.model import CareSystemModel
from sim.outputs.kpis import compute_kpis
from sim.outputs.schema import documented
from sim.services.step_up import StepUp

PAIRED = ["run.years=0.3", "run.warmup_days=30", "run.replications=5", "run.n_jobs=1"]
QUICK = ["run.years=0.25", "run.warmup_days=20", "run.replications=1"]
NO_REFERRALS = [
    "step_up.enabled=true",
    "step_up.direct_per_1000_65plus=0",
    "step_up.community_share={fit: 0, mild: 0, moderate: 0, severe: 0}",
]
#: reason C: waiting for a place in intermediate care (the P2 service)
P2_WAIT = "dtoc_days_reason_further_non_acute_nhs_care"
#: reason E: waiting for pathway 1 care at home
P1_WAIT = "dtoc_days_reason_care_package_in_own_home"


def _paired(*overrides: str) -> pd.DataFrame:
    return run(load_config("baseline", [*PAIRED, *overrides])).kpis


@pytest.fixture(scope="module")
def pair() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The baseline and the step_up scenario's settings, paired."""
    return _paired(), _paired("step_up.enabled=true")


def _higher(base: pd.DataFrame, other: pd.DataFrame, metric: str) -> None:
    """``metric`` is higher in ``other`` in every pair, and the 95% CI of the mean
    paired log ratio is above zero (delays near saturation vary multiplicatively
    between replications, so the log scale is the one to compare them on)."""
    assert (base["crises"] == other["crises"]).all()  # common random numbers
    b, o = base[metric].to_numpy(), other[metric].to_numpy()
    assert (o > b).all(), (metric, b, o)
    _, _, lo, _ = mean_ci(np.log(o / b))
    assert lo > 0, (metric, b, o)


def test_step_up_fills_intermediate_care(pair: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """(1) Step-up referrals take places in the same services: intermediate care
    and reablement are busier, and some step-up stays start in each."""
    base, step_up = pair
    assert (step_up["step_up_starts_bed"] > 0).all()
    assert (step_up["step_up_starts_home"] > 0).all()
    _higher(base, step_up, "intermediate_care_mean_occupied")
    _higher(base, step_up, "p1_mean_booked_visits")
    assert (step_up["intermediate_care_utilisation"] <= 1 + 1e-9).all()


def test_step_down_patients_then_wait_longer(pair: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """(2) Competing for the same places, step-down patients wait longer in
    hospital: more days delayed awaiting intermediate care (reason C, the P2
    service) and awaiting reablement (reason E), and more delayed days overall."""
    base, step_up = pair
    _higher(base, step_up, P2_WAIT)
    # visit slots are booked first come, first booked (IPACS): a later, smaller
    # package can fit a gap, and year-long packages make short runs noisy, so the
    # wait for P1 need not rise in every pair (nor its two-sided CI clear zero in
    # five); its mean paired rise is above zero at one-sided 95% (t with n - 1
    # degrees of freedom)
    from scipy.stats import t as student_t

    d = step_up[P1_WAIT].to_numpy() - base[P1_WAIT].to_numpy()
    se = d.std(ddof=1) / np.sqrt(d.size)
    assert d.mean() - student_t.ppf(0.95, d.size - 1) * se > 0, d
    _higher(base, step_up, "dtoc_days")


def test_no_referrals_changes_nothing() -> None:
    """(3) Switched on with no referrals (rate and shares zero), every KPI of the
    baseline is identical, to the last bit and to the number of events: the
    service's draws come from streams of its own and it schedules nothing."""
    base = run_replication(load_config("baseline", QUICK), 0).kpis
    on = run_replication(load_config("baseline", [*QUICK, *NO_REFERRALS]), 0).kpis
    extra = set(on) - set(base)
    assert extra and all(name.startswith(("step_up_", "end_step_up_")) for name in extra)
    assert set(base) <= set(on)
    for name, value in base.items():
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(on[name]), name
        else:
            assert on[name] == value, name
    assert on["step_up_referrals"] == 0 and on["end_step_up_waiting"] == 0


def test_every_referral_is_accounted_for() -> None:
    """(4) Conservation: over a run with no warm-up (so every referral is counted),
    referrals = starts + still waiting at the end + withdrawn + sent to A&E, and
    every patient of the system is still accounted for. A short maximum wait
    makes some referrals run out of time, so every branch is taken."""
    cfg = load_config(
        "baseline",
        [
            "run.years=0.3",
            "run.warmup_days=0",
            "step_up.enabled=true",
            "step_up.max_wait_days=2",
            "step_up.to_ae_share=0.5",
        ],
    )
    k = run_replication(cfg, 0).kpis
    ended = (
        k["step_up_starts_bed"]
        + k["step_up_starts_home"]
        + k["step_up_withdrawn"]
        + k["step_up_to_ae"]
    )
    assert k["step_up_referrals"] == ended + k["end_step_up_waiting"]
    assert k["step_up_referrals"] == (
        k["step_up_referrals_community"] + k["step_up_referrals_direct"]
    )
    assert min(k["step_up_withdrawn"], k["step_up_to_ae"], k["step_up_starts_bed"]) > 0
    assert k["patients_created"] == k["patients_exited"] + k["patients_in_system_end"]
    assert [name for name in k if not documented(name)] == []


def test_direct_referrals_arrive_at_the_configured_rate() -> None:
    """(5) Direct referrals are a Poisson stream at the configured rate per 1,000
    people aged 65+: over the measured period their count N is Poisson with mean
    m = rate x 65+ head count / 1,000 x years, so (N - m) / sqrt(m) is about
    standard normal. With m about 1,200 (rate 100, ~24,400 people 65+, half a
    year), |z| < 4 fails a correct model with probability 6e-5 and catches a rate
    off by a fifth (z about -7). Community follow-up is off, so every referral is
    direct."""
    rate = 100.0
    cfg = load_config(
        "baseline",
        [
            "run.years=0.5",
            "run.warmup_days=10",
            *NO_REFERRALS[:1],
            f"step_up.direct_per_1000_65plus={rate}",
            NO_REFERRALS[2],
        ],
    )
    model = CareSystemModel(cfg, 0)
    k = compute_kpis(model, model.run())
    m = rate * model.strata.aged_65_plus / 1000.0 * cfg.run.measured_days / 365.0
    n = k["step_up_referrals_direct"]
    assert k["step_up_referrals"] == n
    assert abs(n - m) / math.sqrt(m) < 4, (n, m)


def test_other_services_hand_patients_over_with_refer() -> None:
    """``StepUp.refer`` takes a patient another service has counted in: it is
    referred to the setting asked for, starts there, and leaves through the
    discharge team's service like any other step-up patient."""
    cfg = load_config(
        "baseline",
        ["run.years=0.1", "run.warmup_days=0", *NO_REFERRALS, "step_up.bed_share=0"],
    )
    model = CareSystemModel(cfg, 0)
    step_up = model.component("step_up")
    assert isinstance(step_up, StepUp)

    def hand_over() -> Generator[Any, Any, None]:
        yield model.env.timeout(1.0)
        factory = model.site.factory
        assert factory is not None
        for _ in range(5):
            p = factory.make_one(model.next_id(), 0, int(np.argmax(model.strata.size)), 1.0)
            model.enter(p)
            step_up.refer(p, "bed")  # bed_share is 0: the setting asked for wins

    model.env.process(hand_over())
    k = compute_kpis(model, model.run())
    assert k["step_up_referrals_other"] == k["step_up_referrals"] == 5
    assert k["step_up_starts_bed"] + k["end_step_up_waiting"] == 5
    assert k["step_up_starts_home"] == 0
    assert k["patients_created"] == k["patients_exited"] + k["patients_in_system_end"]
    factory = model.site.factory
    assert factory is not None
    q = factory.make_one(model.next_id(), 0, 0, model.env.now)
    with pytest.raises(ValueError, match="setting"):
        step_up.refer(q, "ward")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="source"):
        step_up.refer(q, "bed", source="hospital")


def test_the_block_is_validated_and_the_scenario_switches_it_on() -> None:
    with pytest.raises(ConfigError) as err:
        load_config("baseline", ["step_up.bed_share=1.5"])
    assert "step_up.bed_share" in str(err.value)
    with pytest.raises(ConfigError):
        load_config("baseline", ["step_up.community_share.severe=2"])
    assert load_config("step_up").block("step_up").enabled
    assert not load_config("baseline").block("step_up").enabled
