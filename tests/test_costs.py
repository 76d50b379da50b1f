"""Unit costs at one price year, the cost of boarding, and infeasible capacities."""

from __future__ import annotations

import pytest

from sim.config import ConfigError, load_config
from sim.config.schema import COST_LINES
from sim.experiment import run
from sim.experiment.capacity import capacity_cost_curve


def test_every_line_is_restated_to_the_price_year_with_the_index() -> None:
    costs = load_config("baseline").costs
    idx = costs.index()
    assert costs.price_year in idx
    for name in COST_LINES:
        line = getattr(costs, name)
        year = line.price_year or costs.price_year
        want = line.unit_cost * idx[costs.price_year] / idx[year]
        assert costs.restated(name) == pytest.approx(want)
    # a 2016/17 reference cost grows by the index between the years (NHSCII)
    assert costs.restated("bed_day") == pytest.approx(313 * 1.2450 / 1.0250)


def test_moving_the_price_year_rescales_every_line() -> None:
    a = load_config("baseline").costs
    b = load_config("baseline", ['costs.price_year="2024/25"']).costs
    for name in COST_LINES:
        assert b.restated(name) == pytest.approx(a.restated(name) * 1.2951 / 1.2450)


def test_a_year_missing_from_the_index_is_a_clear_error() -> None:
    with pytest.raises(ConfigError) as err:
        load_config("baseline", ['costs.bed_day.price_year="2016/7"'])
    text = str(err.value)
    assert "costs.bed_day.price_year" in text and "2016/17" in text


def test_boarding_is_costed() -> None:
    res = run(load_config("baseline", ["run.years=0.1", "run.warmup_days=14"]), replications=1)
    k = res.kpis.iloc[0]
    cfg = res.config
    assert k["boarding_hours"] > 0
    assert k["cost_boarding_hour"] == pytest.approx(
        k["boarding_hours"] * cfg.costs.restated("boarding_hour")
    )


def test_gridlocked_capacity_is_infeasible_not_cheapest() -> None:
    """With far too few reablement places the hospital fills with delayed patients
    and admissions queue in A&E: that value is infeasible and never the cheapest."""
    # the place model of pathway 1 (its places are what the curve varies)
    base = ["run.years=0.3", "run.warmup_days=28", "discharge.p1_visits.enabled=false"]
    curve = capacity_cost_curve(
        lambda v: load_config("baseline", [*base, f"discharge.reablement.capacity={v}"]),
        "discharge.reablement.capacity",
        [40, 178, 260],
        replications=2,
        n_jobs=2,
    )
    t = curve.table.set_index("value")
    assert not t.loc[40.0, "feasible"], t
    assert t.loc[40.0, "infeasible_because"]
    assert t.loc[178.0, "feasible"] and t.loc[260.0, "feasible"]
    assert curve.best_value != 40.0


def test_turning_emergencies_away_is_infeasible_even_when_cheapest() -> None:
    """When a full hospital diverts admissions (beds.when_full: divert) nobody
    boards, so gridlock does not cost more: with 40 reablement places the total
    cost is the lowest of all, because most emergencies go elsewhere. The curve
    must call it infeasible and choose among the others."""
    base = [
        "run.years=0.25",
        "run.warmup_days=28",
        "beds.when_full=divert",
        "discharge.p1_visits.enabled=false",  # the place model of pathway 1
        # the constant community share: under same-day access more admissions come
        # at weekends, when wards discharge at half rate, and at 178 places 5.2% of
        # admissions are turned away (3.7% here), so no value would be feasible
        "community.model=share",
    ]
    curve = capacity_cost_curve(
        lambda v: load_config("baseline", [*base, f"discharge.reablement.capacity={v}"]),
        "discharge.reablement.capacity",
        [40, 178],
        replications=2,
        n_jobs=2,
    )
    t = curve.table.set_index("value")
    assert t.loc[40.0, "mean"] < t.loc[178.0, "mean"], t  # cheapest on cost alone
    assert not t.loc[40.0, "feasible"], t
    assert curve.best_value == 178.0


def test_diverting_a_twentieth_of_admissions_is_gridlock() -> None:
    import pandas as pd

    from sim.experiment.checks import gridlocked

    k = pd.DataFrame({"emergency_admissions": [1000.0, 1000.0], "admissions_diverted": [40, 70]})
    assert "turned away" in gridlocked(k, 365)
    assert gridlocked(k.assign(admissions_diverted=[10, 20]), 365) is None
