"""The section 75 budgets: pooled and aligned lines, the envelope, the risk share,
the cost shift between partners, and the cost of ambulance conveyances."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from sim.config import ConfigError, load_config
from sim.config.loading import compose_dict, from_mapping
from sim.config.schema import CostsConfig, HolderShares
from sim.experiment import run
from sim.model import CareSystemModel
from sim.outputs.costs import HOLDERS, budget_kpis
from sim.outputs.kpis import compute_kpis

QUICK = ["run.years=0.1", "run.warmup_days=14"]
PARTNERS = ("ccg", "hackney", "city")


def _model_kpis(scenario: str, *overrides: str) -> tuple[CareSystemModel, dict[str, float]]:
    model = CareSystemModel(load_config(scenario, [*QUICK, *overrides]), 0)
    info = model.run()
    return model, compute_kpis(model, info)


@pytest.fixture(scope="module")
def integrated() -> tuple[CareSystemModel, dict[str, float]]:
    """Every intervention on, so that nearly every cost line is used."""
    return _model_kpis("integrated")


def test_pooled_and_aligned_totals_are_the_sums_of_their_lines(
    integrated: tuple[CareSystemModel, dict[str, float]],
) -> None:
    model, k = integrated
    by_budget = {"pooled": 0.0, "aligned": 0.0}
    by_holder = dict.fromkeys(HOLDERS, 0.0)
    for comp in model.components:
        for spec in comp.cost_lines:
            line = comp.cost_line(spec.name, model.cfg.costs)
            by_budget[line.budget] += k[f"cost_{spec.name}"]
            by_holder[line.holder] += k[f"cost_{spec.name}"]
    assert by_budget["aligned"] > 0 and by_budget["pooled"] > 0
    assert k["cost_pooled"] == pytest.approx(by_budget["pooled"])
    assert k["cost_aligned"] == pytest.approx(by_budget["aligned"])
    assert k["cost_pooled"] + k["cost_aligned"] == pytest.approx(k["cost_total"])
    for h in HOLDERS:
        assert k[f"cost_{h}"] == pytest.approx(by_holder[h])
    # the partners' costs add up to the total and their risk shares to the overspend
    assert sum(k[f"budget_{p}_cost"] for p in PARTNERS) == pytest.approx(k["cost_total"])
    assert sum(k[f"budget_{p}_risk_share"] for p in PARTNERS) == pytest.approx(
        k["budget_pooled_overspend"]
    )
    assert k["budget_pooled_overspend"] == pytest.approx(
        k["cost_pooled"] - k["budget_pooled_envelope"]
    )


def test_ambulance_conveyances_are_costed(
    integrated: tuple[CareSystemModel, dict[str, float]],
) -> None:
    model, k = integrated
    costs = model.cfg.costs
    # GBP 257.34 at 2018/19 prices, restated with the index
    assert costs.restated("ambulance_conveyance") == pytest.approx(257.34 * 1.2450 / 1.0543)
    assert k["ae_ambulance_arrivals"] > 0
    assert k["cost_ambulance_conveyance"] == pytest.approx(
        k["ae_ambulance_arrivals"] * costs.restated("ambulance_conveyance")
    )
    # the ambulance trust's line sits in the CCG's aligned budget (seed 001)
    assert costs.ambulance_conveyance.budget == "aligned"
    assert k["cost_ambulance_trust"] == pytest.approx(k["cost_ambulance_conveyance"])
    assert k["cost_nhs"] == pytest.approx(
        k["cost_acute_trust"] + k["cost_community_health"] + k["cost_ambulance_trust"]
    )


def test_every_scenario_has_the_same_cost_and_budget_columns(
    integrated: tuple[CareSystemModel, dict[str, float]],
) -> None:
    _, k = integrated
    _, base = _model_kpis("baseline")
    money = {c for c in k if c.startswith(("cost_", "budget_"))}
    assert money == {c for c in base if c.startswith(("cost_", "budget_"))}
    assert {"cost_ambulance_conveyance", "cost_ambulance_trust"} <= money
    assert {f"budget_{p}_{x}" for p in PARTNERS for x in ("contribution", "cost")} <= money


# --------------------------------------------------------------------------- envelope and rules

SPEND = {
    ("acute_trust", "pooled"): 60e6,
    ("community_health", "pooled"): 5e6,
    ("social_care", "pooled"): 30e6,
    ("ambulance_trust", "aligned"): 6e6,
    ("community_health", "aligned"): 1e6,
}


def _costs(rule: str = "proportional", fixed: tuple[float, ...] = (0.0, 0.0, 0.0)) -> CostsConfig:
    costs = load_config("baseline").costs
    partners = tuple(
        dataclasses.replace(p, fixed_share=s)
        for p, s in zip(costs.budgets.partners, fixed, strict=True)
    )
    budgets = dataclasses.replace(costs.budgets, risk_share=rule, partners=partners)
    return dataclasses.replace(costs, budgets=budgets)


def test_partners_can_commission_every_holder() -> None:
    assert tuple(HolderShares.__dataclass_fields__) == HOLDERS


def test_the_envelope_is_the_contributions_scaled_to_the_model() -> None:
    costs = _costs()
    b = costs.budgets
    assert [(p.name, p.contribution_gbp_m) for p in b.partners] == [
        ("ccg", 335.0),
        ("hackney", 111.0),
        ("city", 6.0),
    ]
    out = budget_kpis(SPEND, costs, years=1.0, registered=b.source_population)
    restated = 452e6 * 1.2450 / 1.0377  # 2017/18 to 2023/24
    assert out["budget_pooled_envelope"] == pytest.approx(restated * b.modelled_share)
    assert out["budget_ccg_contribution"] == pytest.approx(
        335e6 * 1.2450 / 1.0377 * b.modelled_share
    )
    # half the population over half a year: a quarter of the envelope
    quarter = budget_kpis(SPEND, costs, years=0.5, registered=b.source_population / 2)
    assert quarter["budget_pooled_envelope"] == pytest.approx(out["budget_pooled_envelope"] / 4)


@pytest.mark.parametrize(
    ("rule", "fixed"),
    [("proportional", (0, 0, 0)), ("own_lines", (0, 0, 0)), ("fixed", (0.5, 0.4, 0.1))],
)
def test_risk_shares_add_up_to_the_overspend(rule: str, fixed: tuple[float, ...]) -> None:
    costs = _costs(rule, fixed)
    pooled = sum(v for (_, budget), v in SPEND.items() if budget == "pooled")
    for registered in (332272, 100000):  # an overspend, then an underspend
        out = budget_kpis(SPEND, costs, years=1.0, registered=registered)
        over = out["budget_pooled_overspend"]
        assert over == pytest.approx(pooled - out["budget_pooled_envelope"])
        shares = [out[f"budget_{p}_risk_share"] for p in PARTNERS]
        assert math.fsum(shares) == pytest.approx(over)
        total = math.fsum(out[f"budget_{p}_cost"] for p in PARTNERS)
        assert total == pytest.approx(sum(SPEND.values()))
        # the NHS's aligned lines are the CCG's; the councils have none here
        assert out["budget_ccg_aligned"] == pytest.approx(7e6)
        assert out["budget_hackney_aligned"] == out["budget_city_aligned"] == 0.0
    if rule == "proportional":
        assert shares[0] == pytest.approx(over * 335 / 452)
    if rule == "fixed":
        assert shares == pytest.approx([0.5 * over, 0.4 * over, 0.1 * over])
    if rule == "own_lines":
        hackney = 0.948718 * 30e6 - out["budget_hackney_contribution"]
        assert shares[1] == pytest.approx(hackney)


def test_moving_activity_from_acute_to_an_aligned_line_shifts_cost_between_partners() -> None:
    """TREAT sends would-be admissions home with support. With that support paid by
    social care outside the pool, and each partner bearing its own pooled lines,
    the acute saving falls to the CCG and the support's cost to the councils."""
    moved = [
        *QUICK,
        "costs.treat_support_day.holder=social_care",
        "costs.treat_support_day.budget=aligned",
        "costs.treat_staff_hour.unit_cost=0",  # the move alone, not TREAT's staff
        "costs.budgets.risk_share=own_lines",
    ]
    cfg = load_config("treat", moved)
    base = run(load_config("baseline", moved), replications=2, n_jobs=1).kpis
    treat = run(cfg, replications=2, n_jobs=1).kpis

    def change(metric: str) -> float:
        return float((treat[metric] - base[metric]).mean())

    assert change("cost_treat_support_day") > 0
    assert change("cost_acute_trust") < 0
    assert change("budget_ccg_cost") < 0  # the acute trust's pooled lines are the CCG's
    assert change("budget_hackney_cost") > 0  # social care's aligned lines the councils'
    assert change("budget_city_cost") > 0
    # the councils pay every aligned social care line between them, 111 : 6
    model = CareSystemModel(cfg, 0)
    aligned_social_care = [
        spec.name
        for comp in model.components
        for spec in comp.cost_lines
        if (line := comp.cost_line(spec.name, cfg.costs)).budget == "aligned"
        and line.holder == "social_care"
    ]
    assert "treat_support_day" in aligned_social_care
    moved_cost = sum(change(f"cost_{name}") for name in aligned_social_care)
    assert change("budget_hackney_aligned") == pytest.approx(0.948718 * moved_cost)
    assert change("budget_city_aligned") == pytest.approx(0.051282 * moved_cost)
    shift = sum(change(f"budget_{p}_cost") for p in PARTNERS)
    assert shift == pytest.approx(change("cost_total"))


# --------------------------------------------------------------------------- validation


def _error_from(edit: Any) -> str:
    data = compose_dict("baseline")
    edit(data["costs"]["budgets"])
    with pytest.raises(ConfigError) as info:
        from_mapping(data)
    return str(info.value)


def test_bad_budget_values_name_the_field() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(
            "baseline",
            [
                "costs.budgets.modelled_share=1.5",
                "costs.budgets.risk_share=proportionl",
                "costs.budgets.source_population=0",
            ],
        )
    msg = str(info.value)
    assert "costs.budgets.modelled_share" in msg and "1.5" in msg and "<= 1" in msg
    assert "costs.budgets.risk_share" in msg and "did you mean 'proportional'" in msg
    assert "costs.budgets.source_population" in msg and "> 0" in msg


def test_a_budget_year_missing_from_the_index_is_a_clear_error() -> None:
    with pytest.raises(ConfigError) as info:
        load_config("baseline", ['costs.budgets.price_year="2017/8"'])
    msg = str(info.value)
    assert "costs.budgets.price_year" in msg and "did you mean '2017/18'" in msg


def test_a_negative_contribution_is_rejected() -> None:
    def edit(b: dict[str, Any]) -> None:
        b["partners"][1]["contribution_gbp_m"] = -111

    msg = _error_from(edit)
    assert "costs.budgets.partners[1].contribution_gbp_m" in msg and ">= 0" in msg


def test_each_holder_must_be_commissioned_in_full() -> None:
    def edit(b: dict[str, Any]) -> None:
        b["partners"][2]["commissions"] = {"social_care": 0.2}

    msg = _error_from(edit)
    assert "commissions.social_care" in msg and "sum to 1" in msg and "1.14872" in msg


def test_fixed_shares_must_sum_to_one() -> None:
    msg = _error_from(lambda b: b.update(risk_share="fixed"))
    assert "costs.budgets.partners[*].fixed_share" in msg and "sum to 1" in msg


def test_partner_names_make_kpi_names() -> None:
    def edit(b: dict[str, Any]) -> None:
        b["partners"][0]["name"] = "City & Hackney CCG"
        b["partners"][2]["name"] = "hackney"

    msg = _error_from(edit)
    assert "costs.budgets.partners[0].name" in msg and "lower-case" in msg
    assert "each partner name once" in msg


def test_proportional_sharing_needs_contributions() -> None:
    def edit(b: dict[str, Any]) -> None:
        for p in b["partners"]:
            p["contribution_gbp_m"] = 0

    msg = _error_from(edit)
    assert "contribution_gbp_m" in msg and "above zero in total" in msg
