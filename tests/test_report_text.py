"""Numbers and words of the console and the report: units, signs, flags."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from sim.experiment import compare as cmp
from sim.experiment.economics import cost_effectiveness
from sim.report import effects as in_words
from sim.report import format as fmt
from sim.report import text

NEG_ZERO = re.compile(r"(?<![\w.])-0(?![.,]?\d)")


def test_counts_are_whole_and_never_minus_zero() -> None:
    assert fmt.count(27990.4) == "27,990"
    assert fmt.count(-0.4) == "<1" and fmt.count(0.3) == "<1" and fmt.count(0.0) == "0"
    assert fmt.count(-12.0) == "-12"
    for x in np.linspace(-2, 2, 81):
        for f in (fmt.count, fmt.quantity, fmt.share, fmt.pp, fmt.gbp):
            assert not NEG_ZERO.search(f(float(x))), (f.__name__, x, f(float(x)))


def test_shares_in_percent_and_their_changes_in_points() -> None:
    assert fmt.value("ae_4h_performance", 0.8419) == "84.2%"
    assert fmt.pp(0.0269) == "2.7 pp" and fmt.pp(-0.0269) == "2.7 pp"
    assert in_words.estimate_text("ae_4h_performance", 0.0269) == "2.7 pp better"
    assert in_words.estimate_text("ae_4h_performance", -0.0012) == "0.1 pp worse"
    assert in_words.ci_text("ae_4h_performance", 0.0077, 0.0461) == "0.8 to 4.6 pp better"
    assert in_words.estimate_text("mean_bed_occupancy", 0.036) == "3.6 pp lower"


def test_money_in_thousands_or_millions() -> None:
    assert fmt.gbp(865_894) == "GBP 866k"
    assert fmt.gbp(2_645_154) == "GBP 2.65m"
    assert fmt.gbp(80_912_345) == "GBP 80.9m"
    assert fmt.gbp(5_542.3) == "GBP 5,542"
    assert fmt.gbp(999_700) == "GBP 1.00m"
    assert fmt.value_range("cost_total", 1_408_423, 3_508_724) == "GBP 1.41m to 3.51m"
    assert fmt.value("cost_total", 80_912_345) == "GBP 80.9m"


def test_probabilities_never_claim_certainty_they_do_not_have() -> None:
    assert fmt.probability(0.9996) == ">99%" and fmt.probability(0.004) == "<1%"
    assert fmt.probability(1.0) == "100%" and fmt.probability(0.0) == "0%"
    assert fmt.probability(0.5) == "50%" and fmt.probability(np.nan) == "-"


def test_effects_read_as_benefits_never_a_negative_avoided() -> None:
    assert in_words.estimate_text("emergency_admissions", 443.6) == "444 avoided"
    assert in_words.estimate_text("emergency_admissions", -9.2) == "9 added"
    assert in_words.estimate_text("dtoc_days", -632.4) == "632 extra"
    assert in_words.estimate_text("cost_total", 2_458_573) == "GBP 2.46m saved"
    assert in_words.estimate_text("cost_total", -1_271_548) == "GBP 1.27m extra"
    assert in_words.ci_text("emergency_admissions", -20.8, 2.4) == "21 added to 2 avoided"
    assert in_words.ci_text("emergency_admissions", 409.3, 477.9) == "409 to 478 avoided"
    assert in_words.ci_text("emergency_admissions", -20.8, -2.4) == "2 to 21 added"
    assert in_words.relative_text("emergency_admissions", 0.0159) == "1.6% fewer"
    assert in_words.relative_text("dtoc_days", -0.069) == "6.9% more"
    assert in_words.relative_text("cost_total", -0.016) == "1.6% higher"
    rng = np.random.default_rng(1)
    for metric in cmp.HEADLINE:
        for lo, hi in np.sort(rng.normal(0, 3, size=(50, 2)), axis=1):
            for t in (in_words.estimate_text(metric, lo), in_words.ci_text(metric, lo, hi)):
                assert not t.startswith("-") and " -" not in t and not NEG_ZERO.search(t), t


def test_flag_when_a_ci_includes_no_effect() -> None:
    cells = in_words.effect_cells(
        {
            "metric": "bed_days",
            "effect": "bed days saved",
            "estimate": -203.0,
            "ci_low": -1844.6,
            "ci_high": 1438.2,
            "relative_benefit": -0.0016,
            "p_improves": 0.37,
        }
    )
    assert cells["flag"] == "CI includes no effect"
    assert cells["estimate"] == "203 extra" and cells["ci"] == "1,845 extra to 1,438 saved"
    assert cells["p_better"] == "37%"
    clear = in_words.effect_cells(
        {**{"metric": "bed_days", "effect": "x", "relative_benefit": 0.07, "p_improves": 1},
         "estimate": 9206.3, "ci_low": 6126.8, "ci_high": 12285.8}
    )  # fmt: skip
    assert clear["flag"] == ""


def paired_kpis(shift: dict[str, list[float]], n: int = 5) -> pd.DataFrame:
    """Baseline and one scenario 'x' whose paired differences are ``shift`` per metric."""
    base = {
        "emergency_admissions": 28000.0,
        "bed_days": 130000.0,
        "dtoc_days": 9000.0,
        "cost_total": 80e6,
        "ae_4h_performance": 0.84,
    }
    rows = []
    for r in range(n):
        b = {m: v + 10 * r for m, v in base.items()}
        b["ae_4h_performance"] = base["ae_4h_performance"] + 0.001 * r
        rows.append({"scenario": "baseline", "replication": r, "seed": 1, **b})
        s = {m: b[m] + (shift[m][r] if m in shift else 0.0) for m in b}
        rows.append({"scenario": "x", "replication": r, "seed": 1, **s})
    return pd.DataFrame(rows)


def summary_of(kpis: pd.DataFrame) -> str:
    eff = cmp.headline(cmp.compare(kpis, "baseline"), "baseline")
    ce = cost_effectiveness(kpis, "baseline", n_boot=300)
    return text.scenario_summary("x", eff, ce, "a year")


def test_summary_states_clear_effects_with_their_ci() -> None:
    s = summary_of(
        paired_kpis(
            {
                "emergency_admissions": [-440, -450, -430, -445, -455],
                "bed_days": [-9000, -9500, -8800, -9100, -9400],
                "cost_total": [-2.4e6, -2.5e6, -2.3e6, -2.6e6, -2.5e6],
            }
        )
    )
    assert s.startswith("x avoids 444 admissions a year (95% CI ")
    assert "saves 9,160 bed days a year" in s and "saves GBP 2.46m (95% CI GBP" in s
    assert "dominant (saves money and improves) in 100% of resamples" in s
    assert "includes no effect" not in s.split("Delayed days")[0]


def test_summary_flags_an_effect_whose_ci_includes_none() -> None:
    s = summary_of(
        paired_kpis(
            {
                "emergency_admissions": [-5, 6, -7, 4, -12],
                "cost_total": [1.2e6, 1.3e6, 1.25e6, 1.3e6, 1.3e6],
            }
        )
    )
    assert "has no distinguishable effect on admissions (the 95% CI," in s
    assert "includes no effect" in s
    assert "costs GBP 1.27m more (95% CI GBP" in s
    assert "uncertain" in s


def test_summary_with_one_replication_says_there_is_no_interval() -> None:
    kpis = paired_kpis({"emergency_admissions": [-10.0]}, n=1)
    s = summary_of(kpis)
    assert "one replication: no interval" in s


@pytest.mark.parametrize("baseline", ["baseline"])
def test_console_effects_table_states_the_convention_once(baseline: str) -> None:
    kpis = paired_kpis({"emergency_admissions": [-5, -6, -7, -4, -12]})
    eff = cmp.headline(cmp.compare(kpis, baseline), baseline)
    out = in_words.effects_table(eff, baseline)
    assert out.count("stated as a benefit") == 1
    assert "P(better)" in out and "7 avoided" in out
    assert not NEG_ZERO.search(out)


def test_a_ratio_interval_reaching_a_saving_is_not_called_a_saving_at_both_ends() -> None:
    row = pd.Series(
        {
            "outcome": "emergency_admissions",
            "quadrant": "costs_more_improves",
            "gain": 50.0,
            "reason": "",
            "ratio": 31.0,
            "ratio_ci_low": -109.0,
            "ratio_ci_high": 165.0,
            "uncertain": False,
            "p_gain": 0.99,
        }
    )
    cell = text.cost_effect_cell(row)["ratio"]
    assert "from a saving to 165" in cell and "saving of" not in cell
