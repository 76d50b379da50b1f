"""Delayed transfers of care by NHS England reason and attribution.

Every delayed day has one reason (codes A-I, D split into residential and
nursing homes) and one responsible party; the reason and attribution levels
are integrals of the same delays, so they must add up to the total exactly.
Mechanisms are checked in paired runs (common random numbers) or against their
closed form.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import load_config
from sim.config.schema import DELAY_REASONS, OTHER_DELAYS
from sim.experiment import run

SHORT = ["run.years=0.25", "run.warmup_days=28", "run.replications=3"]
NO_OTHER = [f"discharge.other_delays.{c}.share={{p1: 0, p2: 0, p3: 0}}" for c in OTHER_DELAYS]


def _kpis(*overrides: str):
    return run(load_config("baseline", [*SHORT, *overrides]), n_jobs=2).kpis


@pytest.fixture(scope="module")
def base():
    return _kpis()


def test_every_reason_occurs_and_reasons_add_up(base) -> None:
    """All ten reasons carry delayed days, and reasons and attributions each sum
    to the total (the same delays, integrated by two keys)."""
    reasons = base[[f"dtoc_days_reason_{r}" for r in DELAY_REASONS]]
    assert (reasons > 0).all().all(), reasons.min()
    np.testing.assert_allclose(reasons.sum(axis=1), base["dtoc_days"], rtol=1e-9)
    parties = base[["dtoc_days_nhs", "dtoc_days_social_care", "dtoc_days_both"]]
    np.testing.assert_allclose(parties.sum(axis=1), base["dtoc_days"], rtol=1e-9)
    days = load_config("baseline", SHORT).run.measured_days
    np.testing.assert_allclose(base["mean_delayed_patients_nhs"] * days, base["dtoc_days_nhs"])


def test_patients_count_under_every_attribution_their_delay_had() -> None:
    """With assessment attributed to the NHS and places to social care (the old
    default), patients who wait for a place after an NHS assessment count for
    social care too. Counting each patient once, under the attribution of their
    first delay, gave zero social-care patients in every run."""
    k = _kpis(
        "discharge.assessment.attribution=nhs",
        "discharge.reablement.attribution=social_care",
        "discharge.p1_visits.attribution=social_care",
        "discharge.care_home.attribution=social_care",
        *NO_OTHER,
    )
    assert (k["delayed_patients_social_care"] > 0).all()
    assert (k["delayed_patients_nhs"] > 0).all()
    total = (
        k["delayed_patients_nhs"] + k["delayed_patients_social_care"] + k["delayed_patients_both"]
    )
    assert (total >= k["delayed_patients"]).all()
    assert (k["delayed_patients_nhs"] <= k["delayed_patients"]).all()


def test_fixed_attribution_puts_every_day_on_that_party() -> None:
    rules = [
        "discharge.assessment.attribution=social_care",
        "discharge.reablement.attribution=social_care",
        "discharge.p1_visits.attribution=social_care",
        "discharge.intermediate_care.attribution=social_care",
        "discharge.care_home.attribution=social_care",
        *(f"discharge.other_delays.{c}.attribution=service" for c in OTHER_DELAYS),
        "chc.enabled=false",  # continuing healthcare's waits are the NHS's by rule
    ]
    k = _kpis(*rules)
    np.testing.assert_allclose(k["dtoc_days_social_care"], k["dtoc_days"])
    assert (k["dtoc_days_nhs"] == 0).all() and (k["delayed_patients_nhs"] == 0).all()


def test_other_delay_days_match_their_closed_form() -> None:
    """Every P1 patient waits exactly 2 days for housing: housing days are 2 x
    the P1 patients. Only patients whose 2 days straddle the start or end of the
    measured period are counted in part: about 2 days' worth of the ~8 P1
    patients a day at each end, under 3% of a quarter's ~700, hence 3%."""
    k = _kpis(
        *NO_OTHER[:-1],
        "discharge.other_delays.housing.share={p1: 1.0, p2: 0, p3: 0}",
        "discharge.other_delays.housing.days={mean: 2, distribution: fixed}",
    )
    want = 2.0 * k["discharges_p1"].to_numpy()
    np.testing.assert_allclose(k["dtoc_days_reason_housing"].to_numpy(), want, rtol=0.03)


def test_pace_patients_need_no_assessment() -> None:
    """PACE takes patients home with their social worker: an assessment asked for
    ahead of their fitness is dropped. With PACE taking P1 patients only, the
    assessments done equal the P1-P3 patients less those PACE took (within 2%:
    assessments ahead of fitness fall up to two days before the patient's
    discharge is counted, so a few cross the period's edges). Before planned
    assessments were dropped, about a sixth more were done."""
    k = _kpis(
        "pace.enabled=true",
        "pace.capacity=200",
        "pace.eligible_pathways=[p1]",
    )
    supported = k["discharges_p1"] + k["discharges_p2"] + k["discharges_p3"]
    want = (supported - k["pace_patients"]).to_numpy()
    # PACE takes a real share (a tenth or more), or the check below would say little
    assert (k["pace_patients"] > 0.1 * supported).all()
    np.testing.assert_allclose(k["assessments"].to_numpy(), want, rtol=0.02)


def test_assessing_ahead_of_fitness_cuts_assessment_delays(base) -> None:
    """Paired: without planning ahead every P1-P3 patient waits for assessment
    from the moment they are fit, so reason A's days rise in every replication.

    By default 80% are assessed ahead of fitness, so five times as many patients
    wait from fitness without it; some assessed ahead still wait (no assessor
    free, a weekend), so the rise is less than fivefold (2.5 to 2.9 in these
    three replications). At least double in each is what planning ahead must
    give; a mechanism that halved its effect would fail."""
    none = _kpis("discharge.assessment.plan_ahead_share=0")
    assert (base["crises"] == none["crises"]).all()  # common random numbers
    key = "dtoc_days_reason_completion_of_assessment"
    assert (none[key] > 2 * base[key]).all(), (base[key], none[key])


def test_arranging_a_placement_adds_care_home_delays(base) -> None:
    quick = _kpis("discharge.care_home.arrange_days.mean=0")
    homes = ["dtoc_days_reason_residential_home", "dtoc_days_reason_nursing_home"]
    assert (quick[homes].sum(axis=1) < base[homes].sum(axis=1)).all()


def test_nursing_share_splits_care_home_reasons() -> None:
    k = _kpis("discharge.care_home.nursing_share=0")
    assert (k["dtoc_days_reason_nursing_home"] == 0).all()
    assert (k["dtoc_days_reason_residential_home"] > 0).all()
