"""Less downstream capacity gives more delayed transfers of care.

Runs are paired with common random numbers (same seed and replication): the
same patients arrive with the same needs in both runs, so the difference is
due to the capacity change alone.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest

from sim.config import load_config
from sim.experiment import run
from sim.experiment.stats import mean_ci

BASE = ["run.years=0.5", "run.warmup_days=60", "run.replications=5"]


@cache
def _baseline_kpis() -> pd.DataFrame:
    """The baseline runs once for all the paired comparisons."""
    return run(load_config("baseline", BASE)).kpis


def _paired(metric: str, change: list[str]) -> tuple[np.ndarray, np.ndarray]:
    base = _baseline_kpis()
    less = run(load_config("baseline", [*BASE, *change])).kpis
    assert (base["crises"] == less["crises"]).all()  # same demand: common random numbers
    return base[metric].to_numpy(), less[metric].to_numpy()


@pytest.mark.slow  # long: runs in the slow set (-m slow)
def test_fewer_visit_slots_give_longer_waits_for_care_at_home() -> None:
    """Cutting pathway 1 visit slots (1,440 -> 1,300, offered load 0.87 -> 0.97)
    raises the days delayed awaiting care at home (reason E; 63% of them
    attributed to social care).

    Queues near saturation make the effect multiplicative and its size vary a lot
    between replications, so the 95% CI is taken on the paired log ratio, over 8
    replications. Not every pair need move: slots are booked first come, first
    booked (IPACS), so in a replication where the cut rarely binds a later,
    smaller package can take a gap and shift a wait by a few days either way.
    """
    eight = [*BASE, "run.replications=8"]
    e = "dtoc_days_reason_care_package_in_own_home"
    base = run(load_config("baseline", eight)).kpis[e].to_numpy()
    less = (
        run(load_config("baseline", [*eight, "discharge.p1_visits.visits_per_day=1300"]))
        .kpis[e]
        .to_numpy()
    )
    _, _, lo, _ = mean_ci(np.log(less / base))
    assert lo > 0, (base, less)


@pytest.mark.slow  # the place model of P1 (not the default); its visit twin runs always
def test_fewer_reablement_places_give_more_social_care_delays() -> None:
    """The place model of pathway 1: cutting reablement places does the same."""
    places = ["discharge.p1_visits.enabled=false"]
    base = run(load_config("baseline", [*BASE, *places])).kpis["dtoc_days_social_care"]
    less = run(load_config("baseline", [*BASE, *places, "discharge.reablement.capacity=145"])).kpis[
        "dtoc_days_social_care"
    ]
    base, less = base.to_numpy(), less.to_numpy()
    assert (less > base).all(), (base, less)
    _, _, lo, _ = mean_ci(np.log(less / base))
    assert lo > 0


def test_less_intermediate_care_gives_more_nhs_delays() -> None:
    """Cutting intermediate-care beds raises NHS-attributed delayed days."""
    base, less = _paired("dtoc_days_nhs", ["discharge.intermediate_care.capacity=22"])
    assert (less > base).all(), (base, less)
    _, _, lo, _ = mean_ci(np.log(less / base))
    assert lo > 0
