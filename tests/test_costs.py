"""Unit costs at one price year, the cost of boarding, and infeasible capacities."""

from __future__ import annotations

import pytest

from sim.config import ConfigError, load_config
from sim.config.schema import COST_LINES
from sim.costs import capacity_cost_curve
from sim.experiment import run


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
    """With far too few reablement places the hospital fills with delayed patients,
    admissions queue in A&E and total cost falls (fewer patients get a bed).
    That value is marked infeasible and never chosen as the cheapest."""
    base = ["run.years=0.3", "run.warmup_days=28"]
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
