"""A new service is one module and one config block.

The example service (``tests/example_service/hospital_at_home.py``) is found the
way the model finds its own services, reads its block from the config, declares
its draws, hooks, KPIs (documented) and cost line, and changes nothing when off.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

import sim.services
from sim.config import ConfigError, load_config
from sim.experiment.runner import run_replication
from sim.outputs import schema

EXAMPLE = "tests.example_service"
#: (continuing healthcare off: its NHS-funded weeks follow the flow, and they are
#: community health's one line that is not a block contract)
QUICK = ["run.years=0.5", "run.warmup_days=20", "run.replications=1", "chc.enabled=false"]


@pytest.fixture
def example_service(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Put the example package where the model looks for services (its block is
    registered when its module is first imported, and stays registered: a block
    whose service is not found does nothing)."""
    monkeypatch.setattr(sim.services, "PACKAGES", (*sim.services.PACKAGES, EXAMPLE))
    sim.services.service_classes.cache_clear()
    sim.services.service_classes()
    yield
    sim.services.service_classes.cache_clear()


def _kpis(overrides: list[str]) -> dict[str, float]:
    result = run_replication(load_config("baseline", QUICK + overrides), 0)
    return result.kpis


def test_the_service_runs_reports_its_kpis_and_costs(example_service: None) -> None:
    """Switched on, it takes admissions, every patient is still accounted for, its
    KPIs are documented, and its cost line lands with its budget holder.

    Little's law for the virtual beds: with beds to spare, mean occupied beds =
    admissions a day x stay. Over half a year of about 2 admissions a day into
    5-day stays, the count is Poisson-like (relative SE about 1/sqrt(360) = 5%) and
    the occupancy integral lags by up to one stay at each end of the period
    (5/180 = 3%), so 15% is three standard errors wide.
    """
    k = _kpis(["+hospital_at_home.enabled=true", "+hospital_at_home.beds=100"])
    base = _kpis([])
    taken = k["hospital_at_home_admissions"]
    assert taken > 100
    assert k["hospital_at_home_full"] == 0  # beds to spare
    days = load_config("baseline", QUICK).run.measured_days
    busy = k["hospital_at_home_occupancy"] * 100
    assert busy == pytest.approx(taken / days * 5.0, rel=0.15)
    # the admissions it took are admissions the hospital did not have
    assert k["emergency_admissions"] < base["emergency_admissions"]
    assert k["patients_created"] == k["patients_exited"] + k["patients_in_system_end"]
    for name in ("hospital_at_home_admissions", "hospital_at_home_occupancy"):
        assert schema.documented(name)
    # its line: virtual bed days x its own unit cost, paid by its holder (community
    # health's other lines are block contracts, the same in both runs)
    assert k["cost_hospital_at_home_day"] == pytest.approx(busy * days * 180.0, rel=1e-9)
    extra = k["cost_community_health"] - base["cost_community_health"]
    assert extra == pytest.approx(k["cost_hospital_at_home_day"], rel=1e-6)


def test_switched_off_it_changes_no_other_result(example_service: None) -> None:
    """With the example service discovered but off, every KPI of the baseline is
    identical to the run without it (its own cost line reads zero)."""
    with_it = _kpis([])
    mp = pytest.MonkeyPatch()
    mp.setattr(sim.services, "PACKAGES", tuple(p for p in sim.services.PACKAGES if p != EXAMPLE))
    try:
        sim.services.service_classes.cache_clear()
        without = _kpis([])
    finally:
        mp.undo()
        sim.services.service_classes.cache_clear()
    assert with_it.pop("cost_hospital_at_home_day") == 0.0
    assert set(with_it) == set(without)
    for name, value in without.items():
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(with_it[name]), name
        else:
            assert with_it[name] == value, name


def test_its_block_is_validated_like_any_other(example_service: None) -> None:
    """A bad value in the new block gets the project's message naming the field."""
    with pytest.raises(ConfigError) as err:
        load_config("baseline", [*QUICK, "+hospital_at_home.share=1.5"])
    assert "hospital_at_home.share" in str(err.value)


def test_a_service_that_holds_patients_joins_a_pathway(example_service: None) -> None:
    """A step-down service added to pathway 2 with share 1/2 takes about half its
    patients, keeps its own places, and every patient is still accounted for.

    Which destination a patient gets is a fair coin on their own uniform, so over
    n P2 discharges the step-down share has SE 0.5/sqrt(n); with n in the hundreds
    over half a year, +-0.1 is more than three SEs.
    """
    k = _kpis(["+step_down_beds.enabled=true", "discharge.intermediate_care.capacity=60"])
    assert k["patients_created"] == k["patients_exited"] + k["patients_in_system_end"]
    assert k["step_down_beds_mean_occupied"] > 0
    assert 0 < k["step_down_beds_utilisation"] <= 1
    n = k["discharges_p2"]
    assert n > 100
    # patients in each service: Little's law, arrivals = occupied x days / stay
    days = load_config("baseline", QUICK).run.measured_days
    to_step_down = k["step_down_beds_mean_occupied"] * days / 14.0
    assert to_step_down / n == pytest.approx(0.5, abs=0.1)
    assert "end_in_step_down_beds" in k
