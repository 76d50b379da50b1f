"""Every patient created is accounted for: either gone, or still inside."""

from __future__ import annotations

import pytest

from sim.config import load_config
from sim.experiment import run_replication
from tests.conftest import SHORT, textbook


def _balanced(k: dict[str, float]) -> None:
    assert k["patients_created"] == k["patients_exited"] + k["patients_in_system_end"]
    inside = sum(v for name, v in k.items() if name.startswith("end_"))
    assert inside == k["patients_in_system_end"]


def test_whole_system_conserves_patients(short_baseline) -> None:
    """Default borough: created = exited + still inside, by location."""
    k = run_replication(short_baseline, 0).kpis
    _balanced(k)
    assert k["patients_created"] > 20_000  # some 40,000 crises in 0.25 + 30 / 365 years
    assert k["end_in_acute_bed"] > 0  # a short run ends with patients in beds


@pytest.mark.parametrize(
    "overrides",
    [
        ["beds.acute=0"],  # nobody ever gets a bed
        ["beds.acute=50", "beds.when_full=divert"],
        ["discharge.p1_visits.visits_per_day=0"],  # P1 patients wait for ever
        # the place model of P1, with no places
        ["discharge.p1_visits.enabled=false", "discharge.reablement.capacity=0"],
        # discharge to assess, and step-up from the community into the same services
        ["discharge.discharge_to_assess.pathways=[p1,p2]", "step_up.enabled=true"],
        ["discharge.assessment.staff=0"],
        ["community.enabled=false", "readmission.enabled=false"],
        # care-home places kept through readmissions, and given up at deaths in
        # hospital: short residences, many readmissions and deaths
        [
            "discharge.care_home.stay_days={mean: 30, distribution: exponential}",
            "readmission.probability={age_0_64: 0.5, age_65_74: 0.5, age_75_84: 0.5, "
            "age_85_plus: 0.5}",
            "acute.death_probability={age_0_64: 0.3, age_65_74: 0.3, age_75_84: 0.3, "
            "age_85_plus: 0.3}",
        ],
        ["discharge.care_home.keeps_place_when_admitted=false"],
        # the neighbourhood health services together, with a tiny virtual ward and
        # an urgent community response team of one, and with no same-day slots
        [
            "urgent_community_response.enabled=true",
            "urgent_community_response.rota=[0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, "
            "1, 1, 1, 1, 1, 0, 0, 0, 0]",
            "virtual_wards.enabled=true",
            "virtual_wards.beds=3",
            "community.same_day.sessions=[{days: [Mon], open: 8.0, close: 9.0, slots_per_10k: 0}]",
        ],
    ],
)
def test_extreme_capacities_conserve_patients(overrides: list[str]) -> None:
    """Zero or tiny capacities leave patients inside, never lost or double counted."""
    cfg = load_config("baseline", [*SHORT, "run.years=0.1", *overrides])
    _balanced(run_replication(cfg, 0).kpis)


def test_textbook_queue_conserves_patients() -> None:
    cfg = textbook(5, 6.0, "run.years=0.5", "run.warmup_days=0")
    k = run_replication(cfg, 0).kpis
    _balanced(k)
    # beds never exceed capacity
    assert k["peak_beds_occupied"] <= 5
