"""Typed, immutable configuration of a neighbourhood care system.

Every block of ``configs/config.yaml`` has a frozen dataclass here. The YAML file
holds the default values and names the source of each; these classes hold the
*shape* of the configuration and the rules a value must obey. Relations between
fields (shares summing to one, opening hours within a day) live in each class's
``check`` method so that all problems are reported in one go.

Units are part of field names: ``*_minutes``, ``*_hours``, ``*_days``,
``*_per_person_year``. Simulation time inside the model is in hours.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Literal

from sim.config.build import num
from sim.config.errors import ConfigProblem
from sim.config.uncertainty import UncertaintyConfig, parameter_problems, set_problems

AGE_BANDS: tuple[str, ...] = ("age_0_64", "age_65_74", "age_75_84", "age_85_plus")
FRAILTY_BANDS: tuple[str, ...] = ("fit", "mild", "moderate", "severe")
WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
Weekday = Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
Attribution = Literal["nhs", "social_care", "both"]
ATTRIBUTIONS: tuple[str, ...] = ("nhs", "social_care", "both")
SUM_TOL = 1e-6


def _sum_check(path: str, values: tuple[float, ...], names: tuple[str, ...]) -> list[ConfigProblem]:
    total = math.fsum(values)
    if abs(total - 1.0) > SUM_TOL:
        shown = dict(zip(names, values, strict=True))
        return [
            ConfigProblem(
                path or "config", shown, f"shares that sum to 1 (they sum to {total:.6g})"
            )
        ]
    return []


# --------------------------------------------------------------------------- bands
@dataclass(frozen=True, slots=True)
class AgeValues:
    """A non-negative value per age band (rates, mean stays, multipliers)."""

    age_0_64: float = num(ge=0)
    age_65_74: float = num(ge=0)
    age_75_84: float = num(ge=0)
    age_85_plus: float = num(ge=0)

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.age_0_64, self.age_65_74, self.age_75_84, self.age_85_plus)


@dataclass(frozen=True, slots=True)
class AgeProbabilities:
    """A probability per age band."""

    age_0_64: float = num(ge=0, le=1)
    age_65_74: float = num(ge=0, le=1)
    age_75_84: float = num(ge=0, le=1)
    age_85_plus: float = num(ge=0, le=1)

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.age_0_64, self.age_65_74, self.age_75_84, self.age_85_plus)


@dataclass(frozen=True, slots=True)
class AgeShares(AgeProbabilities):
    """Shares of a population by age band; they must sum to 1."""

    def check(self, path: str) -> list[ConfigProblem]:
        return _sum_check(path, self.as_tuple(), AGE_BANDS)


@dataclass(frozen=True, slots=True)
class FrailtyValues:
    """A non-negative value per eFI frailty band."""

    fit: float = num(ge=0)
    mild: float = num(ge=0)
    moderate: float = num(ge=0)
    severe: float = num(ge=0)

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.fit, self.mild, self.moderate, self.severe)


@dataclass(frozen=True, slots=True)
class FrailtyProbabilities:
    """A probability per eFI frailty band."""

    fit: float = num(ge=0, le=1)
    mild: float = num(ge=0, le=1)
    moderate: float = num(ge=0, le=1)
    severe: float = num(ge=0, le=1)

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.fit, self.mild, self.moderate, self.severe)


@dataclass(frozen=True, slots=True)
class FrailtyShares(FrailtyProbabilities):
    """Shares of a group by eFI frailty band; they must sum to 1."""

    def check(self, path: str) -> list[ConfigProblem]:
        return _sum_check(path, self.as_tuple(), FRAILTY_BANDS)


# --------------------------------------------------------------------------- building blocks
@dataclass(frozen=True, slots=True)
class Duration:
    """A random duration: a distribution family scaled to a mean.

    ``cv`` (coefficient of variation) shapes the lognormal and gamma; the mixed
    exponential is a short-stay and a long-stay phase (Harrison & Millard) with
    ``short_share`` of cases in the short phase and a long phase whose mean is
    ``long_to_short_ratio`` times the short one. The unit is given by the name of
    the field that holds the duration.
    """

    mean: float = num(ge=0)
    distribution: Literal["exponential", "lognormal", "gamma", "mixed_exponential", "fixed"] = (
        "lognormal"
    )
    cv: float = num(1.0, gt=0, le=20)
    short_share: float = num(0.8, gt=0, lt=1)
    long_to_short_ratio: float = num(6.0, ge=1)


@dataclass(frozen=True, slots=True)
class Calendar:
    """When a service works: days of the week and daily hours [start, end).

    ``weekend_share`` is the service's weekend capacity as a share of weekday
    capacity, on Saturdays and Sundays not listed in ``days`` (same hours): 0 means
    closed at weekends, 0.6 the national seven-day target. Staffed services run
    that share of their staff; discharge and admission gates let that share of
    patients through.
    """

    days: tuple[Weekday, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri")
    start_hour: int = num(8, ge=0, le=23)
    end_hour: int = num(18, ge=1, le=24)
    weekend_share: float = num(0.0, ge=0, le=1)

    def check(self, path: str) -> list[ConfigProblem]:
        problems = []
        if self.start_hour >= self.end_hour:
            problems.append(
                ConfigProblem(
                    f"{path}.end_hour",
                    self.end_hour,
                    f"an hour after start_hour ({self.start_hour}) and at most 24",
                )
            )
        if len(set(self.days)) != len(self.days):
            problems.append(ConfigProblem(f"{path}.days", list(self.days), "each weekday once"))
        if not self.days:
            problems.append(ConfigProblem(f"{path}.days", [], "at least one working day"))
        return problems


def _rota_check(path: str, rota: tuple[int, ...]) -> list[ConfigProblem]:
    if len(rota) != 24:
        return [ConfigProblem(path, list(rota), "24 staff numbers, one per hour from 00:00")]
    return []


@dataclass(frozen=True, slots=True)
class PrecisionConfig:
    """Run replications until every metric's CI is within a relative target.

    Uses the Hoad-Robinson-Davies sequential algorithm; ``run.replications`` is
    then ignored.
    """

    enabled: bool = False
    target: float = num(0.05, gt=0, lt=1, units="relative 95% CI half-width")
    metrics: tuple[str, ...] = ("emergency_admissions", "bed_days", "dtoc_days")
    max_replications: int = num(50, ge=3)

    def check(self, path: str) -> list[ConfigProblem]:
        if not self.metrics:
            return [ConfigProblem(f"{path}.metrics", [], "at least one KPI name")]
        return []


# --------------------------------------------------------------------------- run
@dataclass(frozen=True, slots=True)
class RunConfig:
    """Length, replications and seeds of a run."""

    years: float = num(gt=0, le=50, units="years measured after warm-up")
    warmup_days: int = num(ge=0, units="days")
    replications: int = num(ge=1)
    seed: int = num(ge=0, lt=2**63)
    start_date: str = "2019-04-01"
    event_log: bool = False
    n_jobs: int = num(1, ge=-1, units="worker processes; -1 = one per core")
    overwrite: bool = False
    until_precision: PrecisionConfig = field(default_factory=PrecisionConfig)

    @property
    def measured_days(self) -> int:
        return max(1, round(self.years * 365))

    @property
    def total_days(self) -> int:
        return self.warmup_days + self.measured_days

    @property
    def start(self) -> _dt.date:
        return _dt.date.fromisoformat(self.start_date)

    def check(self, path: str) -> list[ConfigProblem]:
        try:
            _dt.date.fromisoformat(self.start_date)
        except ValueError:
            return [ConfigProblem(f"{path}.start_date", self.start_date, "a date as YYYY-MM-DD")]
        return []


# --------------------------------------------------------------------------- population
@dataclass(frozen=True, slots=True)
class Neighbourhood:
    """A group of GP practices with its registered population."""

    name: str
    registered: int = num(ge=0, units="registered patients")
    age_shares: AgeShares | None = None


def _no_frailty_shift() -> AgeProbabilities:
    return AgeProbabilities(0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True, slots=True)
class ProjectionConfig:
    """The registered population changing year by year, by age band (``sim.projection``).

    ``file`` is a projection table (CSV): one row per year and one column per age
    band (counts or an index), or an ONS subnational population projections table
    (rows by area, sex and age; one column per year), summed over ``areas``
    (codes or names; every area in the file when empty). A relative path is looked
    up in the current folder, then in the configs folder. Measured year k (k = 1,
    2, ...) has each band's strata scaled by the table's value in ``base_year`` +
    k - 1 over its value in ``base_year`` (0: the table's first year); warm-up has
    the base year's. ``frailty_shift_per_year`` moves that share of each eFI band
    of a 65+ age band (own home) up one band a year. An empty ``file``: the
    population stays as configured.
    """

    file: str = ""
    areas: tuple[str, ...] = ()
    base_year: int = num(0, ge=0, units="calendar year; 0 = the table's first year")
    frailty_shift_per_year: AgeProbabilities = field(default_factory=_no_frailty_shift)

    def check(self, path: str) -> list[ConfigProblem]:
        problems = []
        if self.frailty_shift_per_year.age_0_64 != 0:
            problems.append(
                ConfigProblem(
                    f"{path}.frailty_shift_per_year.age_0_64",
                    self.frailty_shift_per_year.age_0_64,
                    "0 (eFI frailty is measured from 65; the 0-64 band is all fit)",
                )
            )
        if not self.file and (self.areas or self.base_year):
            problems.append(
                ConfigProblem(
                    f"{path}.file",
                    self.file,
                    "a projection table (CSV) when areas or base_year are given",
                )
            )
        return problems


@dataclass(frozen=True, slots=True)
class PopulationConfig:
    """Registered population by neighbourhood, age, frailty and care-home residence."""

    neighbourhoods: tuple[Neighbourhood, ...]
    age_shares: AgeShares
    frailty_65_74: FrailtyShares
    frailty_75_84: FrailtyShares
    frailty_85_plus: FrailtyShares
    care_home_share: AgeProbabilities
    care_home_frailty: FrailtyShares
    #: year-by-year change by age band (off unless ``projection.file`` is set)
    projection: ProjectionConfig = field(default_factory=ProjectionConfig)

    def check(self, path: str) -> list[ConfigProblem]:
        problems = []
        if not self.neighbourhoods:
            problems.append(
                ConfigProblem(f"{path}.neighbourhoods", [], "at least one neighbourhood")
            )
        names = [n.name for n in self.neighbourhoods]
        if len(set(names)) != len(names):
            problems.append(
                ConfigProblem(
                    f"{path}.neighbourhoods", names, "neighbourhood names that are unique"
                )
            )
        return problems

    @property
    def registered(self) -> int:
        return sum(n.registered for n in self.neighbourhoods)


# --------------------------------------------------------------------------- demand
@dataclass(frozen=True, slots=True)
class TimeProfile:
    """Relative crisis rates by hour of day, day of week (Mon first) and month (Jan first).

    Each profile is rescaled to mean 1, so the annual rates in ``DemandConfig`` stay
    annual averages.
    """

    hourly: tuple[float, ...]
    weekly: tuple[float, ...]
    monthly: tuple[float, ...]

    def check(self, path: str) -> list[ConfigProblem]:
        problems = []
        for name, n in (("hourly", 24), ("weekly", 7), ("monthly", 12)):
            values = getattr(self, name)
            if len(values) != n or any(v < 0 for v in values) or sum(values) <= 0:
                problems.append(
                    ConfigProblem(
                        f"{path}.{name}", list(values), f"{n} non-negative numbers, not all zero"
                    )
                )
        return problems


@dataclass(frozen=True, slots=True)
class DemandConfig:
    """How health crises arise in the registered population."""

    mode: Literal["crises", "direct_admissions"]
    crisis_rate_per_person_year: AgeValues
    frailty_rate_ratio: FrailtyValues
    care_home_crisis_rate_per_person_year: float = num(ge=0)
    profile: TimeProfile
    time_varying: bool = True
    thinning_headroom: float = num(1.5, ge=1, le=10)
    direct_admissions_per_day: float = num(0.0, ge=0)


# --------------------------------------------------------------------------- services
@dataclass(frozen=True, slots=True)
class SameDaySession:
    """Same-day appointments offered on some days of the week between two times."""

    days: tuple[str, ...]
    open: float = num(ge=0, lt=24, units="hour of the day (8.5 = 08:30)")
    close: float = num(gt=0, le=24, units="hour of the day")
    slots_per_10k: float = num(ge=0, units="slots for urgent needs a day per 10,000 registered")

    def check(self, path: str) -> list[ConfigProblem]:
        problems = [
            ConfigProblem(f"{path}.days", d, f"a day of the week: one of {list(WEEKDAYS)}")
            for d in self.days
            if d not in WEEKDAYS
        ]
        if not self.days:
            problems.append(ConfigProblem(f"{path}.days", [], "at least one day of the week"))
        if self.close <= self.open:
            problems.append(
                ConfigProblem(f"{path}.close", self.close, f"a time after open ({self.open})")
            )
        return problems


def _default_sessions() -> tuple[SameDaySession, ...]:
    return (SameDaySession(WEEKDAYS[:5], 8.0, 18.5, 4.5),)


def _zero_ages() -> AgeProbabilities:
    return AgeProbabilities(0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True, slots=True)
class SameDayConfig:
    """Same-day access in general practice and neighbourhood health centres."""

    sessions: tuple[SameDaySession, ...] = field(default_factory=_default_sessions)
    call_ahead_hours: float = num(
        1.0, ge=0, le=12, units="hours before a session opens that a crisis waits for it"
    )
    first_contact_share: float = num(
        0.6, ge=0, le=1, units="share of crises whose first call is to general practice"
    )
    managed_given_slot: AgeProbabilities = field(default_factory=_zero_ages)
    care_home_managed_given_slot: float = num(0.0, ge=0, le=1)
    slot_cost: CostLine = field(default_factory=lambda: CostLine(0.0, "community_health"))

    def check(self, path: str) -> list[ConfigProblem]:
        problems: list[ConfigProblem] = []
        for i, a in enumerate(self.sessions):
            for j in range(i):
                b = self.sessions[j]
                shared = set(a.days) & set(b.days)
                if shared and a.open < b.close and b.open < a.close:
                    problems.append(
                        ConfigProblem(
                            f"{path}.sessions[{i}]",
                            f"{sorted(shared)} {a.open}-{a.close}",
                            f"sessions that do not overlap sessions[{j}] "
                            f"({b.open}-{b.close} on the same days)",
                        )
                    )
        return problems


@dataclass(frozen=True, slots=True)
class Nhs111Config:
    """NHS 111 for crises that do not reach general practice."""

    share: float = num(0.0, ge=0, le=1, units="share of the other crises that call 111 first")
    resolved_share: float = num(
        0.0, ge=0, le=1, units="share of 111 callers resolved by advice or self-care"
    )


@dataclass(frozen=True, slots=True)
class CommunityConfig:
    """Where a crisis goes first: same-day access, NHS 111, or on to A&E.

    ``model: share`` keeps the old constant share managed (``managed_share``),
    for textbook checks; ``model: same_day`` books same-day slots.
    """

    enabled: bool
    managed_share: AgeProbabilities
    care_home_managed_share: float = num(ge=0, le=1)
    ambulance_share: AgeProbabilities
    model: Literal["share", "same_day"] = "share"
    same_day: SameDayConfig = field(default_factory=SameDayConfig)
    nhs111: Nhs111Config = field(default_factory=Nhs111Config)


@dataclass(frozen=True, slots=True)
class AEConfig:
    """Emergency department: triage, clinician assessment, decision, boarding."""

    enabled: bool
    triage_rota: tuple[int, ...]
    clinician_rota: tuple[int, ...]
    clinician_rota_weekend: tuple[int, ...] | None
    triage_minutes: Duration
    assessment_minutes: Duration
    decision_minutes: Duration
    admit_probability: AgeProbabilities
    care_home_admit_probability: float = num(ge=0, le=1)
    four_hour_target_hours: float = num(4.0, gt=0)
    four_hour_standard: float = num(
        0.78, ge=0, le=1, units="share of attendances within 4 hours the target asks for"
    )

    def check(self, path: str) -> list[ConfigProblem]:
        problems = _rota_check(f"{path}.triage_rota", self.triage_rota)
        problems += _rota_check(f"{path}.clinician_rota", self.clinician_rota)
        if self.clinician_rota_weekend is not None:
            problems += _rota_check(f"{path}.clinician_rota_weekend", self.clinician_rota_weekend)
        for name in ("triage_rota", "clinician_rota", "clinician_rota_weekend"):
            rota = getattr(self, name)
            if rota is not None and any(v < 0 for v in rota):
                problems.append(ConfigProblem(f"{path}.{name}", list(rota), "staff numbers >= 0"))
        return problems


@dataclass(frozen=True, slots=True)
class BedsConfig:
    """Acute (general and acute) beds available for emergency admissions."""

    acute: int = num(ge=0, units="beds")
    when_full: Literal["queue", "divert"] = "queue"


@dataclass(frozen=True, slots=True)
class AcuteConfig:
    """Acute length of stay until medically fit, and in-hospital deaths."""

    los_mean_days: AgeValues
    los_frailty_multiplier: FrailtyValues
    los_care_home_multiplier: float = num(ge=0)
    death_probability: AgeProbabilities
    los_distribution: Literal["exponential", "lognormal", "gamma", "mixed_exponential", "fixed"] = (
        "mixed_exponential"
    )
    los_cv: float = num(1.0, gt=0, le=20)
    los_short_share: float = num(0.8, gt=0, lt=1)
    los_long_to_short_ratio: float = num(6.0, ge=1)

    @property
    def los_shape(self) -> Duration:
        return Duration(
            mean=1.0,
            distribution=self.los_distribution,
            cv=self.los_cv,
            short_share=self.los_short_share,
            long_to_short_ratio=self.los_long_to_short_ratio,
        )


@dataclass(frozen=True, slots=True)
class PathwayMix:
    """Probabilities of the four discharge pathways (P0-P3)."""

    p0: float = num(ge=0, le=1)
    p1: float = num(ge=0, le=1)
    p2: float = num(ge=0, le=1)
    p3: float = num(ge=0, le=1)

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.p0, self.p1, self.p2, self.p3)

    def check(self, path: str) -> list[ConfigProblem]:
        return _sum_check(path, self.as_tuple(), ("p0", "p1", "p2", "p3"))


@dataclass(frozen=True, slots=True)
class PathwayProbabilities:
    """Discharge pathway mix for under-65s, for each frailty band (65+) and care-home residents."""

    under_65: PathwayMix
    fit: PathwayMix
    mild: PathwayMix
    moderate: PathwayMix
    severe: PathwayMix
    care_home: PathwayMix


@dataclass(frozen=True, slots=True)
class AssessmentConfig:
    """Discharge assessment (social work / discharge-to-assess) needed before P1-P3.

    ``attribution`` of the wait for assessment: a fixed party, shares, or
    ``service`` to follow the downstream service the patient is assessed for.
    For ``plan_ahead_share`` of P1-P3 patients the ward knows their needs early
    and asks for the assessment ``plan_ahead_hours`` before their acute stay is
    expected to end; an assessment finished by then causes no delay.
    """

    staff: int = num(ge=0, units="assessors working at once")
    duration_hours: Duration
    calendar: Calendar = field(default_factory=Calendar)
    attribution: AttributionRule | AttributionShares = "service"
    plan_ahead_share: float = num(0.0, ge=0, le=1)
    plan_ahead_hours: float = num(0.0, ge=0, units="hours before the end of the acute stay")

    def check(self, path: str) -> list[ConfigProblem]:
        if self.plan_ahead_share > 0 and self.plan_ahead_hours == 0:
            return [
                ConfigProblem(
                    f"{path}.plan_ahead_hours",
                    0,
                    "hours > 0 when plan_ahead_share > 0 (how long before the stay is "
                    "expected to end the ward asks for the assessment)",
                )
            ]
        return []


#: NHS England's reasons for a delayed transfer of care (monthly DTOC collection,
#: codes A to I, with D split into residential and nursing homes), as column keys
DelayReason = Literal[
    "completion_of_assessment",  # A
    "public_funding",  # B
    "further_non_acute_nhs_care",  # C
    "residential_home",  # D(i)
    "nursing_home",  # D(ii)
    "care_package_in_own_home",  # E
    "community_equipment_and_adaptations",  # F
    "patient_or_family_choice",  # G
    "disputes",  # H
    "housing",  # I (patients not covered by the NHS and Community Care Act)
]
DELAY_REASONS: tuple[str, ...] = (
    "completion_of_assessment",
    "public_funding",
    "further_non_acute_nhs_care",
    "residential_home",
    "nursing_home",
    "care_package_in_own_home",
    "community_equipment_and_adaptations",
    "patient_or_family_choice",
    "disputes",
    "housing",
)
#: the reasons for which a patient waits for a place in a downstream service
PlaceReason = Literal[
    "further_non_acute_nhs_care",
    "residential_home",
    "nursing_home",
    "care_package_in_own_home",
]
#: reasons for which a patient waits for something other than a place in a
#: downstream service (the ``discharge.other_delays`` block)
OTHER_DELAYS: tuple[str, ...] = (
    "public_funding",
    "community_equipment_and_adaptations",
    "patient_or_family_choice",
    "disputes",
    "housing",
)
#: who a delay is attributed to: a party, or ``service`` for the party responsible
#: for the downstream service the patient is waiting to go to
AttributionRule = Literal["nhs", "social_care", "both", "service"]


@dataclass(frozen=True, slots=True)
class AttributionShares:
    """Who is responsible for a kind of delay, as shares of the patients delayed.

    The responsible party differs between patients waiting for the same thing (a
    care-home placement is the council's to arrange, unless the NHS funds it as
    continuing healthcare, or both do); each patient's draw picks one party from
    these shares, the same draw for every delay in their episode.
    """

    nhs: float = num(ge=0, le=1)
    social_care: float = num(ge=0, le=1)
    both: float = num(ge=0, le=1)

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.nhs, self.social_care, self.both)

    def check(self, path: str) -> list[ConfigProblem]:
        return _sum_check(path, self.as_tuple(), ATTRIBUTIONS)


@dataclass(frozen=True, slots=True)
class DownstreamServiceConfig:
    """A post-acute service with finite places (reablement, intermediate care, care home).

    ``initial_occupancy`` is a share of the places taken when the run starts, or
    ``steady_state``: the places the core flow would keep taken on average in a
    long run (expected arrivals a day x mean stay, at most the capacity; see
    :mod:`sim.flows`), so that a slow service such as a care home, whose stays
    last years, does not drift for years after the start.
    Once a place is found, ``arrange_days`` pass before the patient can move
    (the provider's own assessment, agreeing the start, transport): the place is
    held and the patient waits in hospital. ``delay_reason`` is the NHS England
    reason recorded while a patient waits for a place or its arrangement; for a
    care home, ``nursing_share`` of patients wait under ``nursing_home`` instead.
    ``attribution`` is who those waits are attributed to.
    ``keeps_place_when_admitted``: a resident readmitted to hospital keeps the
    place (held, and paid for, while they are in hospital) and goes back to it
    on pathway 0; the residence ends at the end of its stay, or if they die in
    hospital. True for a long-stay placement (a care home); false for a
    short-term service, whose episode a readmission ends.
    """

    capacity: int = num(ge=0, units="places")
    stay_days: Duration
    admits: Calendar = field(default_factory=Calendar)
    initial_occupancy: float | Literal["steady_state"] = num("steady_state", ge=0, le=1)
    arrange_days: Duration = field(default_factory=lambda: Duration(mean=0.0))
    delay_reason: PlaceReason = "care_package_in_own_home"
    nursing_share: float = num(0.0, ge=0, le=1)
    attribution: Attribution | AttributionShares = "social_care"
    keeps_place_when_admitted: bool = False


@dataclass(frozen=True, slots=True)
class PathwayShares:
    """A probability for each pathway that needs support (P1-P3)."""

    p1: float = num(0.0, ge=0, le=1)
    p2: float = num(0.0, ge=0, le=1)
    p3: float = num(0.0, ge=0, le=1)

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.p1, self.p2, self.p3)


@dataclass(frozen=True, slots=True)
class OtherDelay:
    """A cause of delay other than assessment and waiting for a place.

    ``share`` of the patients on each pathway meet it, after assessment and
    before they queue for a place, for a random ``days``; its delayed days are
    attributed by ``attribution``.
    """

    share: PathwayShares
    days: Duration
    attribution: AttributionRule | AttributionShares = "service"


@dataclass(frozen=True, slots=True)
class OtherDelays:
    """NHS England's reasons B, F, G, H and I: each patient meets at most one."""

    public_funding: OtherDelay
    community_equipment_and_adaptations: OtherDelay
    patient_or_family_choice: OtherDelay
    disputes: OtherDelay
    housing: OtherDelay

    def items(self) -> list[tuple[str, OtherDelay]]:
        return [(name, getattr(self, name)) for name in OTHER_DELAYS]

    def check(self, path: str) -> list[ConfigProblem]:
        problems = []
        for i, pw in enumerate(("p1", "p2", "p3")):
            total = math.fsum(d.share.as_tuple()[i] for _, d in self.items())
            if total > 1 + SUM_TOL:
                problems.append(
                    ConfigProblem(
                        f"{path}.*.share.{pw}",
                        {n: d.share.as_tuple()[i] for n, d in self.items()},
                        f"shares that sum to at most 1 (they sum to {total:.6g}): a patient "
                        "meets at most one of these causes",
                    )
                )
        return problems


@dataclass(frozen=True, slots=True)
class DischargeToAssessConfig:
    """Discharge to assess: for the pathways listed, the needs assessment is done
    after the patient leaves hospital (at home on P1, in the community bed on
    P2) instead of before, by the same assessment team. The patient still waits
    in hospital for the place itself, and for equipment or housing.
    """

    pathways: tuple[Literal["p1", "p2"], ...] = ()
    #: days from arriving in the community service to the assessment being asked for
    start_after_days: Duration = field(
        default_factory=lambda: Duration(mean=2.0, distribution="gamma", cv=0.5)
    )
    #: an assessment at home or in a community bed, including travel
    assessment_hours: Duration = field(
        default_factory=lambda: Duration(mean=3.5, distribution="lognormal", cv=0.5)
    )


@dataclass(frozen=True, slots=True)
class DischargeConfig:
    """Discharge pathways, assessment and downstream capacity (causes of DTOC).

    ``review`` is when medically-fit decisions are made (ward rounds); ``calendar``
    is when the discharge team lets patients leave.
    """

    enabled: bool
    review: Calendar
    calendar: Calendar
    pathways: PathwayProbabilities
    assessment: AssessmentConfig
    reablement: DownstreamServiceConfig
    intermediate_care: DownstreamServiceConfig
    care_home: DownstreamServiceConfig
    other_delays: OtherDelays
    discharge_to_assess: DischargeToAssessConfig = field(default_factory=DischargeToAssessConfig)
    #: pathway 1 as carer visits a day (sim/discharge/visits.py); when enabled it
    #: takes every P1 patient instead of the ``reablement`` places
    p1_visits: VisitServiceConfig = field(default_factory=lambda: VisitServiceConfig())

    def check(self, path: str) -> list[ConfigProblem]:
        problems = []
        for name in ("reablement", "intermediate_care"):
            share = getattr(self, name).nursing_share
            if share != 0:
                problems.append(
                    ConfigProblem(
                        f"{path}.{name}.nursing_share",
                        share,
                        "0: only care homes split their waits into residential and nursing",
                    )
                )
        return problems


@dataclass(frozen=True, slots=True)
class ReadmissionConfig:
    """Emergency readmission within a window after discharge."""

    enabled: bool
    probability: AgeProbabilities
    window_days: float = num(30.0, gt=0)
    mean_days_to_readmission: float = num(10.0, gt=0)


@dataclass(frozen=True, slots=True)
class InitialStateConfig:
    """The state the run starts from (instead of, or as well as, a warm-up).

    ``acute_occupied`` patients are in acute beds at time 0 with the remaining
    stays of a hospital in steady state; the first ``delayed`` of them are already
    medically fit and waiting (assessment or a downstream place). ``steady_state``
    puts in the beds the patients the core flow keeps there on average in a long
    run, before any delay (admissions a day x mean stay; :mod:`sim.flows`), at
    most every bed. Downstream services start with their own ``initial_occupancy``.
    """

    acute_occupied: int | Literal["steady_state"] = num(0, ge=0, units="patients")
    delayed: int = num(0, ge=0, units="patients")


def _people_shape() -> AgeValues:
    return AgeValues(age_0_64=0.5, age_65_74=1.5, age_75_84=1.5, age_85_plus=1.5)


@dataclass(frozen=True, slots=True)
class PeopleConfig:
    """People, not only strata (:mod:`sim.people`): crisis rates differ between
    people of one stratum by a gamma-distributed multiplier of mean 1 and shape
    ``shape`` (variance 1/shape), and a person with a crisis keeps their identity,
    so repeat crises and frequent attenders arise. ``heterogeneity: false`` keeps
    the identities with every multiplier 1 (shape infinite); ``enabled: false``
    makes every crisis a new person, as a model of strata alone does.
    """

    enabled: bool = True
    heterogeneity: bool = True
    shape: AgeValues = field(default_factory=_people_shape)
    care_home_shape: float = num(1.5, gt=0, units="gamma shape of care-home residents")

    def check(self, path: str) -> list[ConfigProblem]:
        return [
            ConfigProblem(f"{path}.shape.{band}", value, "> 0 (a gamma shape)")
            for band, value in zip(AGE_BANDS, self.shape.as_tuple(), strict=True)
            if value <= 0
        ]


# --------------------------------------------------------------------------- root
@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration of one scenario."""

    name: str
    description: str
    run: RunConfig
    population: PopulationConfig
    demand: DemandConfig
    community: CommunityConfig
    ae: AEConfig
    beds: BedsConfig
    acute: AcuteConfig
    discharge: DischargeConfig
    readmission: ReadmissionConfig
    mdt: MDTConfig
    care_homes: CareHomesConfig
    treat: TreatConfig
    pace: PaceConfig
    seven_day: SevenDayConfig
    costs: CostsConfig
    initial_state: InitialStateConfig = field(default_factory=InitialStateConfig)
    people: PeopleConfig = field(default_factory=PeopleConfig)
    uncertainty: UncertaintyConfig = field(default_factory=UncertaintyConfig)
    compare: tuple[str, ...] = ()
    report: bool = True
    #: blocks of services that declare their schema in their own module
    #: (:mod:`sim.config.blocks`), by name; written at the top level in YAML
    services: Mapping[str, Any] = field(default_factory=dict)

    def block(self, name: str) -> Any:
        """The validated block ``name``: a core field or a registered service's."""
        if name in self.services:
            return self.services[name]
        if name in _CORE_BLOCKS:
            return getattr(self, name)
        from sim.config.blocks import registered

        schema = registered().get(name)
        if schema is None:
            raise KeyError(f"no config block {name!r}")
        return schema()  # a service's block left out of the YAML: its defaults

    def check(self, path: str) -> list[ConfigProblem]:
        problems = []
        if self.mdt.enabled and self.mdt.crisis_rate_ratio > self.demand.thinning_headroom:
            problems.append(
                ConfigProblem(
                    "mdt.crisis_rate_ratio",
                    self.mdt.crisis_rate_ratio,
                    f"at most demand.thinning_headroom ({self.demand.thinning_headroom}): crises "
                    "are thinned from a stream generated at that headroom",
                )
            )
        init = self.initial_state
        occupied = init.acute_occupied
        if occupied != "steady_state" and occupied > self.beds.acute:
            problems.append(
                ConfigProblem(
                    "initial_state.acute_occupied",
                    occupied,
                    f"at most beds.acute ({self.beds.acute})",
                )
            )
        if occupied == "steady_state" and init.delayed > 0:
            problems.append(
                ConfigProblem(
                    "initial_state.delayed",
                    init.delayed,
                    "0 when initial_state.acute_occupied is steady_state (give a number of "
                    "occupied beds to start some patients delayed)",
                )
            )
        elif occupied != "steady_state" and init.delayed > occupied:
            problems.append(
                ConfigProblem(
                    "initial_state.delayed",
                    init.delayed,
                    f"at most initial_state.acute_occupied ({occupied})",
                )
            )
        names = {n.name for n in self.population.neighbourhoods}
        blocks = [(f, getattr(self, f)) for f in _CORE_BLOCKS] + list(self.services.items())
        for block, value in blocks:
            ro = getattr(value, "rollout", None)
            if not isinstance(ro, Rollout):  # only interventions roll out
                continue
            listed = [(f"{block}.rollout.neighbourhoods", n) for n in ro.neighbourhoods]
            for i, ph in enumerate(ro.phases):
                listed += [
                    (f"{block}.rollout.phases[{i}].neighbourhoods", n) for n in ph.neighbourhoods
                ]
            for where, n in listed:
                if n not in names:
                    import difflib

                    close = difflib.get_close_matches(n, sorted(names), n=1)
                    problems.append(
                        ConfigProblem(
                            where,
                            n,
                            "a neighbourhood named in population.neighbourhoods",
                            f"did you mean {close[0]!r}?" if close else "",
                        )
                    )
        problems += parameter_problems(self, self.uncertainty.parameters, "uncertainty")
        unc = self.uncertainty
        problems += set_problems(self, unc.sets, unc.parameters, "uncertainty")
        if self.demand.mode == "crises" and self.population.registered == 0:
            problems.append(
                ConfigProblem(
                    "population.neighbourhoods",
                    0,
                    "a registered population > 0 when demand.mode is 'crises'",
                )
            )
        return problems


# --------------------------------------------------------------------------- interventions
AgeBand = Literal["age_0_64", "age_65_74", "age_75_84", "age_85_plus"]
FrailtyBand = Literal["fit", "mild", "moderate", "severe"]
Pathway = Literal["p0", "p1", "p2", "p3"]


@dataclass(frozen=True, slots=True)
class Phase:
    """A go-live step of a phased roll-out: these neighbourhoods from this day."""

    neighbourhoods: tuple[str, ...]
    start_day: int = num(0, ge=0, units="days after warm-up")


@dataclass(frozen=True, slots=True)
class Rollout:
    """Where and when an intervention is live.

    ``neighbourhoods`` empty means every neighbourhood. ``start_day`` counts from
    the end of warm-up; an intervention starting on day 0 is also live during
    warm-up, so the measured period starts in its steady state. ``phases``, if
    given, replace both with a list of go-live steps.
    """

    neighbourhoods: tuple[str, ...] = ()
    start_day: int = num(0, ge=0, units="days after warm-up")
    phases: tuple[Phase, ...] = ()


@dataclass(frozen=True, slots=True)
class MDTConfig:
    """Risk stratification and weekly MDT case management (OPIC, neighbourhood MDTs).

    The evidence for case management is largely null: the distributions of its
    effects (``uncertainty.parameters.mdt``) give real weight to no effect.
    """

    #: the settings a planner's form shows first (sim.config.levers.key_levers)
    KEY_LEVERS: ClassVar[tuple[str, ...]] = (
        "enabled",
        "staff",
        "caseload_per_staff",
        "reviews_per_meeting",
        "sensitivity",
        "crisis_rate_ratio",
        "extra_community_share",
    )

    enabled: bool
    rollout: Rollout
    eligible_ages: tuple[AgeBand, ...]
    eligible_frailty: tuple[FrailtyBand, ...]
    sensitivity: float = num(gt=0, le=1)
    precision: float = num(gt=0, le=1)
    reviews_per_meeting: int = num(ge=0, units="cases per neighbourhood per week")
    staff: int = num(ge=0, units="case managers / navigators per neighbourhood")
    caseload_per_staff: int = num(ge=0, units="patients")
    caseload_months: float = num(gt=0, units="mean months on caseload")
    crisis_rate_ratio: float = num(gt=0)
    extra_community_share: float = num(ge=-1, le=1)
    meeting_day: Weekday = "Tue"


@dataclass(frozen=True, slots=True)
class CareHomesConfig:
    """Enhanced health in care homes: fewer conveyances to A&E and admissions."""

    #: the settings a planner's form shows first (sim.config.levers.key_levers)
    KEY_LEVERS: ClassVar[tuple[str, ...]] = (
        "enabled",
        "residents_covered",
        "conveyance_rate_ratio",
        "admission_rate_ratio",
    )

    enabled: bool
    rollout: Rollout
    residents_covered: int = num(ge=0, units="residents the team can support")
    conveyance_rate_ratio: float = num(gt=0, le=1)
    admission_rate_ratio: float = num(gt=0, le=1)

    def check(self, path: str) -> list[ConfigProblem]:
        problems = []
        if self.admission_rate_ratio > self.conveyance_rate_ratio:
            problems.append(
                ConfigProblem(
                    f"{path}.admission_rate_ratio",
                    self.admission_rate_ratio,
                    f"<= conveyance_rate_ratio ({self.conveyance_rate_ratio}): fewer "
                    "conveyances cannot raise admissions",
                )
            )
        return problems


@dataclass(frozen=True, slots=True)
class TreatConfig:
    """TREAT: triage and rapid elderly assessment in A&E (Royal Free)."""

    #: the settings a planner's form shows first (sim.config.levers.key_levers)
    KEY_LEVERS: ClassVar[tuple[str, ...]] = (
        "enabled",
        "staff",
        "calendar.weekend_share",
        "home_share",
        "support_slots",
        "los_ratio",
    )

    enabled: bool
    rollout: Rollout
    staff: int = num(ge=0, units="TREAT clinicians on duty")
    calendar: Calendar = field(default_factory=Calendar)
    eligible_ages: tuple[AgeBand, ...] = ("age_75_84", "age_85_plus")
    eligible_frailty: tuple[FrailtyBand, ...] = ("fit", "mild", "moderate", "severe")
    assessment_hours: Duration = field(default_factory=lambda: Duration(mean=1.5))
    home_share: float = num(0.25, ge=0, le=1)
    support_slots: int = num(10, ge=0, units="rapid community support packages at once")
    support_days: Duration = field(default_factory=lambda: Duration(mean=3.0))
    los_ratio: float = num(0.8875, gt=0)


@dataclass(frozen=True, slots=True)
class PaceConfig:
    """PACE: post-acute care enablement (early supported discharge)."""

    #: the settings a planner's form shows first (sim.config.levers.key_levers)
    KEY_LEVERS: ClassVar[tuple[str, ...]] = (
        "enabled",
        "capacity",
        "days_saved",
        "readmission_ratio",
    )

    enabled: bool
    rollout: Rollout
    capacity: int = num(ge=0, units="patients supported at once")
    eligible_pathways: tuple[Pathway, ...] = ("p0", "p1")
    eligible_ages: tuple[AgeBand, ...] = ("age_65_74", "age_75_84", "age_85_plus")
    eligible_frailty: tuple[FrailtyBand, ...] = ("mild", "moderate", "severe")
    days_saved: float = num(2.0, ge=0, units="days")
    support_days: Duration = field(default_factory=lambda: Duration(mean=4.0))
    readmission_ratio: float = num(1.0, ge=0)


@dataclass(frozen=True, slots=True)
class SevenDayConfig:
    """Seven-day working: weekend capacity as a share of weekday capacity."""

    #: the settings a planner's form shows first (sim.config.levers.key_levers)
    KEY_LEVERS: ClassVar[tuple[str, ...]] = (
        "enabled",
        "acute_discharge_weekend_share",
        "assessment_weekend_share",
        "downstream_weekend_share",
    )

    enabled: bool
    rollout: Rollout
    acute_discharge_weekend_share: float = num(ge=0, le=1)
    assessment_weekend_share: float = num(ge=0, le=1)
    downstream_weekend_share: float = num(ge=0, le=1)


# --------------------------------------------------------------------------- costs
Holder = Literal["acute_trust", "community_health", "ambulance_trust", "social_care"]
NHS_HOLDERS = ("acute_trust", "community_health", "ambulance_trust")


@dataclass(frozen=True, slots=True)
class CostLine:
    """One unit cost, who pays it, and whether it sits in the pooled budget.

    ``unit_cost`` is at the line's own ``price_year`` (the year of its source);
    the model restates it to ``costs.price_year`` with ``costs.inflation_index``.
    An empty ``price_year`` means the cost is already at ``costs.price_year``.
    """

    unit_cost: float = num(ge=0, units="GBP per unit at the line's price year")
    holder: Holder = "acute_trust"
    budget: Literal["pooled", "aligned"] = "pooled"
    price_year: str = ""


@dataclass(frozen=True, slots=True)
class IndexValue:
    """The level of a price index in one financial year."""

    year: str
    value: float = num(gt=0)


#: the cost lines of :class:`CostsConfig`, in the order of the configuration
COST_LINES: tuple[str, ...] = (
    "ae_attendance",
    "emergency_admission",
    "bed_day",
    "delayed_bed_day",
    "boarding_hour",
    "reablement_place_day",
    "intermediate_care_bed_day",
    "care_home_week",
    "mdt_staff_year",
    "mdt_case_review",
    "treat_staff_hour",
    "treat_support_day",
    "pace_patient_day",
    "ambulance_conveyance",
)

RiskShare = Literal["proportional", "own_lines", "fixed"]
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


@dataclass(frozen=True, slots=True)
class HolderShares:
    """A share of each budget holder's cost lines (one field per :data:`Holder`)."""

    acute_trust: float = num(0.0, ge=0, le=1)
    community_health: float = num(0.0, ge=0, le=1)
    ambulance_trust: float = num(0.0, ge=0, le=1)
    social_care: float = num(0.0, ge=0, le=1)

    def of(self, holder: str) -> float:
        share: float = getattr(self, holder)
        return share


@dataclass(frozen=True, slots=True)
class BudgetPartner:
    """A partner of the section 75 agreement.

    ``contribution_gbp_m`` is what it puts into the whole pooled fund a year;
    ``commissions`` the share of each budget holder's cost lines it commissions:
    its aligned budget pays that share of the holder's aligned lines, and under
    ``risk_share: own_lines`` it answers for that share of the holder's pooled
    lines. ``fixed_share`` is its share of the pool's over- or underspend under
    ``risk_share: fixed``.
    """

    name: str
    contribution_gbp_m: float = num(ge=0, units="GBP million a year at budgets.price_year")
    commissions: HolderShares = field(default_factory=HolderShares)
    fixed_share: float = num(0.0, ge=0, le=1, units="share of an over- or underspend")


@dataclass(frozen=True, slots=True)
class BudgetsConfig:
    """The section 75 pooled fund: partners' contributions, the envelope of the
    modelled services and the rule that shares an over- or underspend.

    The envelope of the pooled cost lines over a run is the partners'
    contributions x ``modelled_share`` (the part of the fund that pays for the
    services the model costs) x registered population / ``source_population``,
    restated from ``price_year`` to ``costs.price_year`` and pro rata to the
    measured period (:mod:`sim.outputs.costs`).
    """

    price_year: str
    source_population: int = num(gt=0, units="registered people the contributions serve")
    modelled_share: float = num(ge=0, le=1, units="share of the fund for the modelled services")
    risk_share: RiskShare
    partners: tuple[BudgetPartner, ...]

    def check(self, path: str) -> list[ConfigProblem]:
        if not all(isinstance(p, BudgetPartner) for p in self.partners):
            return []  # a partner's own problems are reported already
        problems = []
        where = f"{path}.partners"
        names = [p.name for p in self.partners]
        if not names:
            problems.append(ConfigProblem(where, [], "at least one partner"))
        for i, name in enumerate(names):
            if not (name[:1].isalpha() and set(name) <= _NAME_CHARS):
                problems.append(
                    ConfigProblem(
                        f"{where}[{i}].name",
                        name,
                        "a lower-case name of letters, digits and _ starting with a letter "
                        "(it names KPIs: budget_<name>_cost)",
                    )
                )
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            problems.append(ConfigProblem(where, names, "each partner name once", str(twice)))
        for holder in HolderShares.__dataclass_fields__:
            shares = {p.name: p.commissions.of(holder) for p in self.partners}
            total = math.fsum(shares.values())
            if names and abs(total - 1.0) > SUM_TOL:
                problems.append(
                    ConfigProblem(
                        f"{where}[*].commissions.{holder}",
                        shares,
                        f"shares of the {holder} lines that sum to 1 over the partners "
                        f"(they sum to {total:.6g})",
                    )
                )
        contributions = {p.name: p.contribution_gbp_m for p in self.partners}
        if self.risk_share == "proportional" and names and math.fsum(contributions.values()) <= 0:
            problems.append(
                ConfigProblem(
                    f"{where}[*].contribution_gbp_m",
                    contributions,
                    "contributions above zero in total (risk_share: proportional "
                    "shares by contribution)",
                )
            )
        if self.risk_share == "fixed" and names:
            fixed = {p.name: p.fixed_share for p in self.partners}
            total = math.fsum(fixed.values())
            if abs(total - 1.0) > SUM_TOL:
                problems.append(
                    ConfigProblem(
                        f"{where}[*].fixed_share",
                        fixed,
                        f"shares that sum to 1 with risk_share: fixed (they sum to {total:.6g})",
                    )
                )
        return problems


@dataclass(frozen=True, slots=True)
class CostsConfig:
    """Unit costs, restated to ``price_year``, and their budget holders (section 75 pool).

    Each line's cost is given at the price year of its source and restated with
    ``inflation_index`` (levels by financial year, any base): cost x index at
    ``price_year`` / index at the line's year.
    """

    #: the settings a planner's form shows first (sim.config.levers.key_levers):
    #: the unit costs, and how downstream places are paid for
    KEY_LEVERS: ClassVar[tuple[str, ...]] = (
        *(f"{line}.unit_cost" for line in COST_LINES),
        "downstream_contract",
    )

    price_year: str
    inflation_index: tuple[IndexValue, ...]
    ae_attendance: CostLine
    emergency_admission: CostLine
    bed_day: CostLine
    delayed_bed_day: CostLine
    boarding_hour: CostLine
    reablement_place_day: CostLine
    intermediate_care_bed_day: CostLine
    care_home_week: CostLine
    mdt_staff_year: CostLine
    mdt_case_review: CostLine
    treat_staff_hour: CostLine
    treat_support_day: CostLine
    pace_patient_day: CostLine
    ambulance_conveyance: CostLine
    budgets: BudgetsConfig
    index_name: str = "NHS cost inflation index, pay and prices"
    downstream_contract: Literal["block", "spot"] = "block"

    def index(self) -> dict[str, float]:
        return {v.year: v.value for v in self.inflation_index}

    def restated(self, name: str) -> float:
        """Unit cost of line ``name`` at ``price_year``."""
        return self.restate(getattr(self, name))

    def restate(self, line: CostLine) -> float:
        """Unit cost of ``line`` (of this block or a service's) at ``price_year``."""
        return self.at_price_year(line.unit_cost, line.price_year)

    def at_price_year(self, amount: float, year: str) -> float:
        """``amount`` GBP of financial year ``year`` (empty: ``price_year``) at ``price_year``."""
        if not year or year == self.price_year:
            return amount
        idx = self.index()
        return amount * idx[self.price_year] / idx[year]

    def check(self, path: str) -> list[ConfigProblem]:
        problems = []
        years = [v.year for v in self.inflation_index]
        if len(set(years)) != len(years):
            problems.append(
                ConfigProblem(f"{path}.inflation_index", years, "each financial year once")
            )
        known = set(years)
        allowed = "a financial year listed in costs.inflation_index (" + ", ".join(years) + ")"
        needed = [(f"{path}.price_year", self.price_year)] + [
            (f"{path}.{name}.price_year", getattr(self, name).price_year)
            for name in COST_LINES
            if getattr(self, name).price_year not in ("", self.price_year)
        ]
        if self.budgets.price_year not in ("", self.price_year):
            needed.append((f"{path}.budgets.price_year", self.budgets.price_year))
        for where, year in needed:
            if year not in known:
                import difflib

                close = difflib.get_close_matches(year, years, n=1)
                problems.append(
                    ConfigProblem(
                        where, year, allowed, f"did you mean {close[0]!r}?" if close else ""
                    )
                )
        return problems


#: the core config's blocks (fields that are dataclasses), for lookups by name
_CORE_BLOCKS: frozenset[str] = frozenset(
    f.name
    for f in fields(Config)
    if f.name not in ("name", "description", "compare", "report", "services")
)


# at the end: sim.config.visits builds on the blocks above (Duration, Calendar, ...)
from sim.config.visits import VisitServiceConfig  # noqa: E402
