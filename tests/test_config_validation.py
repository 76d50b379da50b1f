"""Bad configuration stops before the run with a message naming field, value and rule."""

from __future__ import annotations

import pytest

from sim.config import ConfigError, available_scenarios, load_config


def _error(overrides: list[str], scenario: str = "baseline") -> str:
    with pytest.raises(ConfigError) as info:
        load_config(scenario, overrides)
    return str(info.value)


def test_negative_capacity_names_field_value_and_rule() -> None:
    msg = _error(["discharge.reablement.capacity=-5"])
    assert "discharge.reablement.capacity" in msg and "-5" in msg and ">= 0" in msg


def test_probabilities_must_sum_to_one() -> None:
    msg = _error(["discharge.pathways.severe.p0=0.5"])
    assert "discharge.pathways.severe" in msg and "sum to 1" in msg


def test_shares_must_be_probabilities() -> None:
    msg = _error(["ae.admit_probability.age_85_plus=1.5"])
    assert "ae.admit_probability.age_85_plus" in msg and "1.5" in msg and "<= 1" in msg


def test_unknown_scenario_lists_the_available_ones() -> None:
    msg = _error([], scenario="baselin")
    assert "scenario" in msg and "baseline" in msg and "did you mean 'baseline'" in msg
    assert "baseline" in available_scenarios()


def test_unknown_field_is_rejected_with_a_suggestion() -> None:
    msg = _error(["+beds.acut=600"])
    assert "beds.acut" in msg and "did you mean 'acute'" in msg


def test_override_of_missing_field_is_rejected() -> None:
    msg = _error(["beds.acut=600"])
    assert "beds.acut" in msg and "did you mean 'acute'" in msg


def test_wrong_type_and_bad_choice() -> None:
    msg = _error(["beds.acute=many", "acute.los_distribution=lognorm"])
    assert "beds.acute" in msg and "whole number" in msg
    assert "did you mean 'lognormal'" in msg


def test_calendar_hours_must_make_sense() -> None:
    msg = _error(["discharge.calendar.start_hour=20", "discharge.calendar.end_hour=8"])
    assert "discharge.calendar.end_hour" in msg


def test_rota_needs_24_hours() -> None:
    msg = _error(["ae.clinician_rota=[5,5,5]"])
    assert "ae.clinician_rota" in msg and "24" in msg


def test_all_problems_reported_together() -> None:
    msg = _error(["beds.acute=-1", "run.replications=0"])
    assert "2 problems" in msg


def test_config_is_immutable() -> None:
    cfg = load_config("baseline")
    with pytest.raises(AttributeError):
        cfg.beds.acute = 3  # type: ignore[misc]
