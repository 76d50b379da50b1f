"""The documented schema of every output: KPIs and the tables' columns.

This module is the single place where the meaning and unit of each output is
written down. ``docs/outputs.md`` is generated from it
(``python -m sim.outputs.schema > docs/outputs.md``) and a test checks that every
KPI a run produces is documented here.
"""

from __future__ import annotations

import functools

KEYS = {
    "scenario": "Scenario name (`name` in the config).",
    "replication": "Replication number, from 0; selects the random streams.",
    "seed": "Root seed of the run (`run.seed`); streams are (seed, replication, name).",
}

#: the unit of money that may be negative (an underspend, a partner's net position)
SIGNED_GBP = "GBP at costs.price_year, signed"

#: KPI name -> (unit, meaning) of the whole system's KPIs. Every component keeps
#: its own in its module (``kpi_docs``); :data:`KPIS` joins them.
#: Totals cover the measured period (after warm-up).
CORE_KPIS: dict[str, tuple[str, str]] = {
    "crises": ("count", "Health crises arising in the registered population."),
    "ae_attendances_per_1000_pop": ("per 1,000 per year", "A&E attendances, annualised."),
    "emergency_admissions_per_1000_pop": (
        "per 1,000 per year",
        "Emergency admissions, annualised.",
    ),
    "bed_days_per_1000_pop": ("per 1,000 per year", "Acute bed days, annualised."),
    "dtoc_days_per_1000_pop": ("per 1,000 per year", "Delayed days, annualised."),
    "ae_attendances_65plus_per_1000_65plus": (
        "per 1,000 aged 65+ per year",
        "A&E attendances of people 65+, annualised.",
    ),
    "emergency_admissions_65plus_per_1000_65plus": (
        "per 1,000 aged 65+ per year",
        "Emergency admissions of people 65+, annualised.",
    ),
    "cost_*": (
        "GBP at costs.price_year",
        "Cost over the measured period: by line (cost_<line>), by budget holder "
        "(cost_acute_trust, cost_community_health, cost_ambulance_trust, cost_social_care), "
        "cost_nhs, cost_pooled (section 75 pooled budget), cost_aligned and cost_total "
        "(sim/outputs/costs.py).",
    ),
    "budget_pooled_envelope": (
        "GBP at costs.price_year",
        "The pooled budget's envelope for the modelled services over the measured period: "
        "the partners' contributions (costs.budgets) x modelled_share x registered / "
        "source_population, restated to costs.price_year.",
    ),
    "budget_pooled_overspend": (
        SIGNED_GBP,
        "cost_pooled minus budget_pooled_envelope: above zero an overspend, below zero "
        "an underspend.",
    ),
    "budget_*_contribution": (
        "GBP at costs.price_year",
        "A partner's contribution to the envelope (budget_<partner>_contribution; partners "
        "in costs.budgets.partners).",
    ),
    "budget_*_risk_share": (
        SIGNED_GBP,
        "A partner's share of the pooled over- (above zero) or underspend (below zero) "
        "under costs.budgets.risk_share; the partners' shares add up to "
        "budget_pooled_overspend.",
    ),
    "budget_*_aligned": (
        "GBP at costs.price_year",
        "The aligned cost lines a partner commissions (its commissions shares in "
        "costs.budgets.partners).",
    ),
    "budget_*_cost": (
        SIGNED_GBP,
        "A partner's cost: contribution + risk share + aligned. The partners' costs add up "
        "to cost_total; a scenario's change in them is the cost shift between partners.",
    ),
    "patients_created": ("count", "Patients created over the whole run (incl. warm-up)."),
    "patients_exited": ("count", "Patients who left the system over the whole run."),
    "patients_in_system_end": ("count", "Patients still inside at the end (created - exited)."),
    "end_*": ("count", "Patients still inside at the end, by where they are."),
    "delayed_at_end": ("count", "Patients still delayed at the end of the run."),
    "*_trend_per_day": (
        "patients per day",
        "Slope of the midnight census of a queue (in_ae, boarding, delayed) "
        "over the measured period: clearly positive = overload.",
    ),
    "*_at_end": ("patients", "Patients in a queue (in_ae, boarding) at the end of the run."),
    "in_ae_mean": ("patients", "Time-average number of patients in A&E."),
    "boarding_mean": ("patients", "Time-average number of patients boarding in A&E."),
    "delayed_mean": ("patients", "Time-average number of delayed patients."),
    "events": ("count", "SimPy events scheduled in this replication."),
}

SUMMARY = {
    "scenario": KEYS["scenario"],
    "metric": "KPI name (see the KPI table).",
    "n": "Replications with a value.",
    "mean": "Mean across replications.",
    "sd": "Standard deviation across replications.",
    "ci_low": "Lower end of the 95% confidence interval of the mean (method in `ci_method`).",
    "ci_high": "Upper end of the 95% confidence interval of the mean.",
    "ci_method": "`log`: for a KPI that cannot be negative, the interval is built on the log "
    "scale by the delta method, mean x exp(+-t(n-1) x sd / (sqrt(n) x mean)): always above "
    "zero, close to the t interval when the mean is precise, wider above than below when it "
    "is not; when t x se exceeds the mean its upper end is no higher than the t interval's; "
    "all zero gives [0, 0]; a share's upper end is capped at 1. `t`: mean +- "
    "t(n-1) x sd / sqrt(n), for quantities that may be negative. Empty with one replication.",
}

DAILY = {
    "day": "Simulation day, from 0 (includes warm-up days).",
    "date": "Calendar date of the day.",
    "weekday": "Day of the week.",
    "warmup": "True for warm-up days, which KPIs exclude.",
    "<level>": "Census at midnight starting the day (beds_occupied, boarding, in_ae, delayed, "
    "delayed_nhs, delayed_social_care, delayed_both, awaiting_review, awaiting_discharge, "
    "<service>_occupied).",
    "<level>_mean": "Time-average of the level over the day.",
    "<level>_peak": "Highest value of the level during the day.",
    "<count>": "Events during the day, all neighbourhoods (crises, community_managed, "
    "ae_attendances, emergency_admissions, readmissions_30d, admissions_diverted, "
    "delayed_patients, discharges_p0..p3).",
}

NEIGHBOURHOODS = {
    "neighbourhood": "Neighbourhood name.",
    "registered": "Registered population.",
    "aged_65_plus": "Registered population aged 65+.",
    "<count>": "Events in the measured period for patients of the neighbourhood.",
    "<count>_per_1000_pop": "The count per 1,000 registered per year.",
}

#: ``years.csv`` (written by :mod:`sim.experiment.years`, which sits above this layer)
YEARS = {
    "year": "Measured year, from 1 (365-day blocks from the end of warm-up).",
    "start_date": "Date of the year's first day.",
    "days": "Days in the year (365, fewer for a part year at the end).",
    "registered": "Registered population in the year (projected, or as configured).",
    "aged_65_plus": "Registered population aged 65+ in the year.",
    "aged_85_plus": "Registered population aged 85+ in the year.",
    "crises_per_1000_pop": "Crises per 1,000 registered a year, in the year.",
    "<kpi>": "A KPI of kpis.csv over the year (crises, attendances, admissions, bed days, "
    "occupancy, delayed days, costs, and those of the services switched on); rates per "
    "1,000 are against the year's population.",
}

EVENTS = {
    "time_hours": "Simulation time of the event (hours from the start).",
    "patient_id": "Episode id (a readmission is a new episode).",
    "person_id": "Person id, shared by a person's episodes.",
    "event": "Event name (ae_arrival, bed_start, medically_fit, delay_start, exit, ...).",
    "detail": "Event detail (outcome, attribution and reason, exit route).",
}

COMPARISON = {
    "scenario": KEYS["scenario"],
    "metric": "KPI name.",
    "n": "Replications paired with the baseline's.",
    "baseline_mean": "Mean of the baseline scenario.",
    "mean": "Mean of the scenario.",
    "ci_low": "Lower end of the 95% CI of the scenario's mean (method in `ci_method`).",
    "ci_high": "Upper end of the 95% CI of the scenario's mean.",
    "ci_method": "How the scenario's CI was computed (`log` or `t`, as in `summary.csv`).",
    "diff_mean": "Mean paired difference, scenario minus baseline, by replication.",
    "diff_ci_low": "Lower end of the 95% t CI of the mean paired difference.",
    "diff_ci_high": "Upper end of the 95% t CI of the mean paired difference.",
    "relative_change": "diff_mean / baseline_mean.",
    "p_increase": "Probability that the scenario's mean is above the baseline's: "
    "T(n-1)(diff_mean / se), the t distribution the CI uses.",
    "p_decrease": "Probability that it is below (the same with the sign turned).",
}

EFFECTS = {
    "scenario": KEYS["scenario"],
    "effect": "The effect stated as a benefit (admissions avoided, bed days saved, delayed "
    "days saved, net saving, rise in 4-hour performance, ...).",
    "metric": "KPI name.",
    "n": "Replications paired with the baseline's.",
    "estimate": "Mean benefit: positive = avoided, saved, better; negative = the opposite "
    "(more admissions, extra cost, worse).",
    "ci_low": "Lower end of the 95% t CI of the benefit.",
    "ci_high": "Upper end of the 95% t CI of the benefit.",
    "relative_benefit": "estimate / baseline mean (empty for shares, whose changes are in "
    "percentage points).",
    "p_improves": "Probability that the effect is a benefit (t distribution of the paired "
    "differences).",
    "baseline_mean": "Mean of the baseline scenario.",
}


def _component_kpi_docs() -> dict[str, tuple[str, str]]:
    """The KPI docs every component declares in its own module."""
    from sim.model import CORE_COMPONENTS
    from sim.services import service_classes

    out: dict[str, tuple[str, str]] = {}
    for cls in (*CORE_COMPONENTS, *service_classes()):
        out.update(cls.kpi_docs)
    return out


def all_kpis() -> dict[str, tuple[str, str]]:
    """Every KPI a run can produce: the core's and every service's found now
    (merged once per set of services found; read it, do not change it)."""
    from sim.services import service_classes

    return _merged(service_classes())


@functools.lru_cache(maxsize=4)
def _merged(services: tuple[type, ...]) -> dict[str, tuple[str, str]]:
    # keyed on the services found, so a service added later (tests) is seen,
    # while the report's many spec() calls do not rebuild the table each time
    return {**CORE_KPIS, **_component_kpi_docs()}


#: every KPI of the built-in services (services added later: :func:`all_kpis`)
KPIS: dict[str, tuple[str, str]] = all_kpis()

FILES = {
    "kpis.csv": ("One row per replication: keys + every KPI.", KPIS),
    "summary.csv": ("One row per KPI: mean and 95% CI across replications.", SUMMARY),
    "daily.csv": ("One row per replication and simulated day.", DAILY),
    "neighbourhoods.csv": ("One row per replication and neighbourhood.", NEIGHBOURHOODS),
    "events.csv": ("Patient-level event log (only with run.event_log=true).", EVENTS),
    "years.csv": (
        "Runs of more than a year only: one row per replication and measured year.",
        YEARS,
    ),
    "comparison.csv": (
        "Runs comparing scenarios only: one row per scenario and KPI, the scenario's mean "
        "and CI and its paired difference from the baseline.",
        COMPARISON,
    ),
    "effects.csv": (
        "Runs comparing scenarios only: the headline effects of each scenario, stated as benefits.",
        EFFECTS,
    ),
}

#: how intervals and probabilities are computed (a section of docs/outputs.md)
INTERVALS = """\
## Confidence intervals and probabilities

- **Means of quantities that cannot be negative** (every KPI whose unit above is a count,
  share, days, hours, beds, places, patients, a rate or GBP - all but the `*_trend_per_day`
  slopes and the signed money of the pooled budget's over- or underspend and the partners'
  shares and costs): the 95% CI is computed on the log scale by the delta method,
  `mean x exp(+-t(n-1) x se / mean)` with `se = sd / sqrt(n)`. It never goes below zero, is
  close to the t interval when the mean is precise, and is wider above the mean than below
  when it is not (a skewed KPI such as hours boarding in A&E). When the estimate is so
  imprecise that `t x se` exceeds the mean (two or three very different replications), the
  upper end is capped at the t interval's, which the exponential would otherwise far exceed.
  All zeros give [0, 0]; a share's upper end is capped at 100%. `ci_method` is `log`.
- **Other means** and **paired differences** between a scenario and the baseline (which may
  be negative): the t interval `mean +- t(n-1) x se`; `ci_method` is `t`.
- **Probabilities** (`p_increase`, `p_decrease`, `p_improves`; P(better), P(saves money)
  in the report): `T(n-1)(mean / se)` of the paired differences, the distribution the t
  interval uses, so a 95% CI excludes zero exactly when the probability is above 97.5% or
  below 2.5%.
- **Cost-effectiveness** (`sim.experiment.economics.cost_effectiveness`, the report's
  "Value for money"): each scenario's quadrant of the cost-effectiveness plane from its point
  estimates (dominant, dominated, or one of two trade-offs), the share of 2,000 paired
  bootstrap resamples of replications in each quadrant, and a net cost per admission
  avoided or per bed day saved only when the scenario costs more and the gain's 95% CI is
  above zero (CI: bootstrap percentile); otherwise a reason in words.
- With one replication there is no interval and no probability.
"""


def documented(kpi: str) -> bool:
    """True if ``kpi`` is in :data:`KPIS`, directly or through a ``*`` pattern."""
    return spec(kpi) is not None


def spec(kpi: str) -> tuple[str, str] | None:
    """(unit, meaning) of ``kpi``: its own entry, else the first ``*`` pattern it matches."""
    import fnmatch

    docs = all_kpis()
    if kpi in docs:
        return docs[kpi]
    for pat, entry in docs.items():
        if "*" in pat and fnmatch.fnmatch(kpi, pat):
            return entry
    return None


def unit(kpi: str) -> str | None:
    """The unit of ``kpi`` (None if the KPI is not documented)."""
    entry = spec(kpi)
    return entry[0] if entry else None


#: units of quantities that can be negative (slopes, differences); all others cannot
SIGNED_UNITS = frozenset({"patients per day", SIGNED_GBP})


def non_negative(kpi: str) -> bool:
    """True if ``kpi`` cannot be negative (a count, time, share, place, amount of money).

    Undocumented KPIs are treated as possibly negative, so they keep the plain interval.
    """
    u = unit(kpi)
    return u is not None and u not in SIGNED_UNITS


def markdown() -> str:
    """The schema as a Markdown document."""
    lines = [
        "# Output schema",
        "",
        "Generated from `sim/outputs/schema.py` (`python -m sim.outputs.schema`).",
        "",
        "Every run folder holds the files below (CSV, and Parquet too when `pyarrow` is",
        "installed), plus `config.yaml` (the resolved configuration), `seeds.csv` (the",
        "random streams of each replication) and `run.json` (versions, timings, warnings).",
        "Every table row carries the keys:",
        "",
    ]
    lines += [f"- `{k}`: {v}" for k, v in KEYS.items()]
    for fname, (what, cols) in FILES.items():
        lines += ["", f"## `{fname}`", "", what, "", "| column | unit | meaning |", "|---|---|---|"]
        for col, spec in cols.items():
            unit, meaning = spec if isinstance(spec, tuple) else ("", spec)
            lines.append(f"| `{col}` | {unit} | {meaning} |")
    lines += ["", INTERVALS.rstrip()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
