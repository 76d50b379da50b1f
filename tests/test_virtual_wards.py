"""Virtual wards: a loss system of beds at home, fed from the community, A&E and the wards.

The checks are against what must hold whatever the parameters: with no beds
nothing else changes (common random numbers: the ward's draws come from streams
of its own); with beds, paired runs admit fewer people and use fewer acute bed
days; fed by one Poisson stream, the share turned away is Erlang B's and the mean
occupied beds obey Little's law; every patient the ward takes leaves it or is
still on it at the end. The overrides use ``++`` so that they work whether or not
``configs/config.yaml`` carries the block (its schema's defaults apply if not).
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.components import Component, Site
from sim.config import ConfigError, load_config
from sim.config.schema import Config
from sim.core.window import KpiWindow
from sim.experiment import run, run_replication
from sim.experiment.stats import mean_ci
from sim.model import CareSystemModel
from sim.outputs.kpis import compute_kpis
from sim.outputs.schema import documented
from sim.services import discover
from sim.services.virtual_wards import VirtualWards, adults
from sim.theory import erlang_b
from tests.conftest import TEXTBOOK

ON = "++virtual_wards.enabled=true"
QUICK = ["run.years=0.25", "run.warmup_days=20", "run.replications=1"]
PAIRED = ["run.years=0.3", "run.warmup_days=30", "run.replications=5", "run.n_jobs=1"]
#: only the beds and the stream a test feeds them: the A&E and step-down routes off
ONLY_COMMUNITY = [
    "++virtual_wards.ari_share=0",
    "++virtual_wards.frailty_share={fit: 0, mild: 0, moderate: 0, severe: 0}",
    "++virtual_wards.step_down_share={age_0_64: 0, age_65_74: 0, age_75_84: 0, age_85_plus: 0}",
]


def _own(name: str) -> bool:
    return name.startswith(("vw_", "end_vw_"))


# --------------------------------------------------------------------------- test doubles
class PoissonReferrals(Component):
    """A community service that offers the ward a Poisson stream of patients (a GP
    asking for a bed at home); those not taken leave at once. Its patients come
    from a factory with streams of their own."""

    name = "test_poisson_referrals"

    def __init__(self, site: Site, per_day: float) -> None:
        super().__init__(site)
        self.per_day = per_day

    def processes(self) -> Iterator[Generator[Any, Any, None]]:
        yield self._offers()

    def _offers(self) -> Generator[Any, Any, None]:
        from sim.patient import PatientFactory

        site, env = self.site, self.env
        assert site.factory is not None
        factory = PatientFactory(site.strata, site.streams, site.factory.draws, prefix="test/")
        gaps = site.streams.get("test.referral_gaps")
        stratum = int(np.argmax(site.strata.size))
        while True:
            yield env.timeout(float(gaps.exponential(24.0 / self.per_day)))
            pid = site.flow.next_id()
            p = factory.make_one(pid, pid, stratum, env.now)
            site.flow.enter(p)
            if not site.hooks.step_up(p, "gp"):
                site.flow.exit(p, "test_not_taken")


class UrgentResponse(Component):
    """An urgent community response stand-in: offers the ward a share of the crises
    on their way to A&E, and tallies those taken whose own A&E decision would
    have admitted them (the ward's counterfactual, counted independently)."""

    name = "test_urgent_response"
    uses = ("ae",)

    def __init__(self, site: Site, share: float) -> None:
        super().__init__(site)
        self.share = share
        self.taken_would_admit = 0
        self.rng = site.streams.get("test.urgent_response")

    def install(self, hooks: Any) -> None:
        hooks.crisis_referral.append(self.refer)

    def refer(self, p: Any, source: str) -> bool:
        if self.rng.random() >= self.share:
            return False
        taken = self.site.hooks.step_up(p, "ucr")
        if taken and self.links["ae"].decides_admit(p):  # type: ignore[attr-defined]
            self.taken_would_admit += 1
        return taken


def _model(cfg: Config, replication: int, *extra: Any) -> CareSystemModel:
    return CareSystemModel(cfg, replication, extensions=[*discover(), *extra])


# --------------------------------------------------------------------------- (1) no beds
def test_no_beds_changes_nothing_else() -> None:
    """(1) With zero beds the ward's hooks still run (it counts the patients it
    turns away) but every other KPI is identical to the run without the service,
    to the last bit and to the number of events: its draws come from streams of
    its own, it takes no one and schedules nothing."""
    base = run_replication(load_config("baseline", QUICK), 0).kpis
    cfg = load_config("baseline", [*QUICK, ON, "++virtual_wards.beds_per_100k_adults=0"])
    on = run_replication(cfg, 0).kpis
    extra = set(on) - set(base)
    assert extra and all(_own(name) for name in extra), sorted(extra)
    assert set(base) <= set(on)
    for name, value in base.items():
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(on[name]), name
        else:
            assert on[name] == value, name
    assert on["vw_beds"] == 0 and on["vw_admissions"] == 0
    assert on["vw_turned_away_ae"] > 0  # the A&E route was asked, and had no bed
    assert on["vw_turned_away_share"] == 1.0
    assert on["cost_virtual_ward_bed_day"] == 0.0


# --------------------------------------------------------------------------- (2) paired
@pytest.fixture(scope="module")
def pair() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The baseline and the default virtual ward (40 beds per 100,000 adults), paired."""
    base = run(load_config("baseline", PAIRED)).kpis
    on = run(load_config("baseline", [*PAIRED, ON])).kpis
    assert (base["crises"] == on["crises"]).all()  # common random numbers
    return base, on


def _lower(base: pd.DataFrame, on: pd.DataFrame, metric: str) -> None:
    """``metric`` is lower with the ward in every pair, and the 95% CI of the mean
    paired difference is below zero."""
    b, o = base[metric].to_numpy(), on[metric].to_numpy()
    assert (o < b).all(), (metric, b, o)
    _, _, _, hi = mean_ci(o - b)
    assert hi < 0, (metric, b, o)


def test_the_ward_avoids_admissions_and_saves_bed_days(
    pair: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    """(2) Paired runs (common random numbers, five replications of 0.3 years):
    emergency admissions and acute bed days fall in every pair. Admissions fall
    by at least the admissions avoided less the escalations of step-up patients
    (each of whom is admitted once more), less a margin for the few whose
    escalation or A&E decision straddles the end of the period (one a day at
    most, at ~11 escalations a month); fewer discharges also mean fewer
    readmissions, so the fall is usually larger."""
    base, on = pair
    _lower(base, on, "emergency_admissions")
    _lower(base, on, "bed_days")
    assert (on["vw_admissions_ae"] > 0).all() and (on["vw_admissions_step_down"] > 0).all()
    fall = base["emergency_admissions"] - on["emergency_admissions"]
    net = on["vw_admissions_avoided"] - on["vw_escalations_ae"] - on["vw_escalations_community"]
    assert (fall >= net - 5).all(), (fall.tolist(), net.tolist())
    # the beds are never over-full, and the cost line is staffed beds x days x price
    assert (on["vw_occupancy"] <= 1.0).all()
    assert (on["vw_bed_days_saved"] > 0).all()
    assert (on["cost_virtual_ward_bed_day"] > 0).all()


# --------------------------------------------------------------------------- (3) theory
def _textbook_ward(beds: int, stay: str, *extra: str) -> Config:
    """Everything but the ward switched off (no crises, no A&E, no discharge
    flow): the only patients are the ones a test double offers."""
    return load_config(
        "baseline",
        [
            *TEXTBOOK,
            "demand.direct_admissions_per_day=0",
            "run.years=0.3",
            "run.warmup_days=10",
            ON,
            f"++virtual_wards.beds={beds}",
            f"++virtual_wards.stay_days={stay}",
            *ONLY_COMMUNITY,
            *extra,
        ],
    )


def _mean_unit(distribution: str) -> float:
    """Mean of the unit law as the ward reads it: from a uniform given to 4 digits,
    each read at the middle of its interval (``DrawPart``)."""
    u = (np.arange(10_000) + 0.5) / 10_000
    assert distribution == "exponential"
    return float(np.mean(-np.log1p(-u)))


def test_turned_away_share_is_erlang_b_and_littles_law_holds() -> None:
    """(3) One Poisson stream of offers (20 a day) into 20 beds with exponential
    stays of one day, no escalations: an Erlang loss system M/M/20/20 with offered
    load a = 20 x the mean stay (the mean of the 4-digit unit law, 0.99997), so
    the share turned away is B(20, a) = 0.159.

    Each replication sees ~2,200 offers in its 100 measured days; the share
    turned away varies between replications by about 0.01 (offers are Poisson,
    and blocking comes in runs, so more than the binomial 0.008), and the mean of
    five by a standard error estimated from them. The test allows 4.6 of those
    standard errors (Student's t with 4 degrees of freedom, 99%): about 0.025,
    while one bed fewer (B(19, a) = 0.189) would be off by 0.03 and a queue
    instead of a loss would turn no one away.

    Little's law per replication: mean beds occupied = admissions a day x mean
    stay of the stays that ended. They differ only through the stays that
    straddle the ends of the period: each end holds ~17 patients with about a day
    to go, ~1% of the ~1,700 bed-days measured, with opposite signs in
    expectation; 3% is three times that.
    """
    beds, per_day = 20, 20.0
    cfg = _textbook_ward(
        beds,
        "{mean: 1, distribution: exponential}",
        "++virtual_wards.escalation_share=0",
        "++virtual_wards.cost_basis=occupied",
    )
    price = cfg.costs.restate(cfg.block("virtual_wards").cost)
    a = per_day * _mean_unit("exponential")
    expected = erlang_b(beds, a)
    shares = []
    for r in range(5):
        model = _model(cfg, r, lambda site, cfg: PoissonReferrals(site, per_day))
        k = compute_kpis(model, model.run())
        days = cfg.run.measured_days
        assert k["vw_admissions_community"] == k["vw_admissions"] > 1500
        shares.append(k["vw_turned_away_share"])
        little = k["vw_admissions"] / days * k["vw_mean_stay_days"]
        assert k["vw_mean_occupied"] == pytest.approx(little, rel=0.03), r
        assert KpiWindow.of(model).peak("busy:virtual_wards") <= beds
        assert k["patients_created"] == k["patients_exited"] + k["patients_in_system_end"]
        # bought per occupied bed-day here
        assert k["cost_virtual_ward_bed_day"] == pytest.approx(k["vw_bed_days"] * price)
    mean, sd, _, _ = mean_ci(np.asarray(shares))
    assert abs(mean - expected) <= 4.6 * sd / math.sqrt(5), (shares, expected)


def test_escalations_happen_during_the_stay_and_are_admitted() -> None:
    """Escalation at a uniform point of the stay: with escalation share e, the time
    on the ward is the stay S, or S x U for the escalated, so its mean is
    m (1 - e/2) and its variance (for exponential S) m^2 (2 - e (4/3) - (1 - e/2)^2).
    With e = 0.5 and beds to spare, ~2,000 stays of mean m = 2 days end in the
    period: the mean is 1.5 days with a standard error of ~0.04 (sd 1.76 /
    sqrt(2,000)) and the escalated share 0.5 with one of 0.011; four standard
    errors each. Every escalated patient is a new episode that is admitted (A&E
    is off here, so at the same instant): emergency admissions equal escalations
    exactly, and none of them counts as a readmission."""
    e, m = 0.5, 2.0
    cfg = _textbook_ward(
        200, f"{{mean: {m}, distribution: exponential}}", f"++virtual_wards.escalation_share={e}"
    )
    model = _model(cfg, 0, lambda site, cfg: PoissonReferrals(site, 20.0))
    k = compute_kpis(model, model.run())
    assert k["vw_turned_away"] == 0
    stays = k["vw_escalations"] / k["vw_escalation_share"]
    sd = m * math.sqrt(2 - e * 4 / 3 - (1 - e / 2) ** 2)
    assert k["vw_mean_stay_days"] == pytest.approx(m * (1 - e / 2), abs=4 * sd / math.sqrt(stays))
    assert abs(k["vw_escalation_share"] - e) <= 4 * math.sqrt(e * (1 - e) / stays)
    assert k["emergency_admissions"] == k["vw_escalations"] == k["vw_escalations_community"] > 0
    assert k["readmissions_30d"] == 0
    assert model.recorder.exits["virtual_ward_escalated"] >= k["vw_escalations"]
    # the cost line: staffed beds x days x the block's price, restated to the price year
    price = cfg.costs.restate(cfg.block("virtual_wards").cost)
    days = cfg.run.measured_days
    assert k["cost_virtual_ward_bed_day"] == pytest.approx(200 * days * price)
    assert k["cost_community_health"] >= k["cost_virtual_ward_bed_day"]
    assert k["patients_created"] == k["patients_exited"] + k["patients_in_system_end"]


# --------------------------------------------------------------------------- (4) config
@pytest.mark.parametrize(
    ("override", "path"),
    [
        ("beds_per_100k_adults=-1", "virtual_wards.beds_per_100k_adults"),
        ("beds=-3", "virtual_wards.beds"),
        ("beds=2.5", "virtual_wards.beds"),
        ("adult_share_0_64=1.5", "virtual_wards.adult_share_0_64"),
        ("escalation_share=2", "virtual_wards.escalation_share"),
        ("ari_share=-0.1", "virtual_wards.ari_share"),
        ("frailty_share.severe=1.2", "virtual_wards.frailty_share.severe"),
        ("step_down_days_early=0", "virtual_wards.step_down_days_early"),
        ("stay_days.mean=0", "virtual_wards.stay_days.mean"),
        ("stay_days.distribution=weibull", "virtual_wards.stay_days.distribution"),
        ("cost_basis=per_patient", "virtual_wards.cost_basis"),
    ],
)
def test_bad_values_are_named(override: str, path: str) -> None:
    """(4) A bad value is refused before anything runs, with its path in the message."""
    with pytest.raises(ConfigError) as err:
        load_config("baseline", [f"++virtual_wards.{override}"])
    assert path in str(err.value)


def test_a_misspelt_field_gets_a_suggestion() -> None:
    with pytest.raises(ConfigError) as err:
        load_config("baseline", ["++virtual_wards.bed=10"])
    assert "did you mean 'beds'" in str(err.value)


def test_beds_follow_the_adult_population() -> None:
    """The default size: 40 per 100,000 adults, the adults being everyone 65+ and
    adult_share_0_64 of the 0-64s; ``beds`` overrides it; the scenario switches
    the block on and the baseline leaves it off."""
    cfg = load_config("virtual_wards")
    block = cfg.block("virtual_wards")
    assert block.enabled and not load_config("baseline").block("virtual_wards").enabled
    model = CareSystemModel(cfg, 0)
    ward = model.component("virtual_wards")
    assert isinstance(ward, VirtualWards)
    strata = model.strata
    older = strata.aged_65_plus
    young = strata.registered - older
    assert ward.adults == pytest.approx(older + block.adult_share_0_64 * young)
    assert ward.adults == adults(strata.age, strata.size, block.adult_share_0_64)
    assert ward.capacity == round(block.beds_per_100k_adults * ward.adults / 100_000)
    fixed = CareSystemModel(load_config("virtual_wards", ["++virtual_wards.beds=7"]), 0)
    assert fixed.component("virtual_wards").capacity == 7  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- (5) conservation
def test_every_patient_is_accounted_for_with_all_three_routes() -> None:
    """(5) With every route on (community step-ups from an urgent-response stand-in,
    A&E step-ups, step-down) and few beds, so each route also turns patients
    away: over a run with no warm-up (so everything is counted), every patient the
    ward took was discharged, escalated or is still on it; beds never exceed the
    capacity; the admissions it counts as avoided are its A&E step-ups plus the
    community step-ups whose own A&E decision would have admitted them (tallied
    by the stand-in); and the whole system conserves patients."""
    beds = 12
    cfg = load_config(
        "baseline", ["run.years=0.2", "run.warmup_days=0", ON, f"++virtual_wards.beds={beds}"]
    )
    ucr: list[UrgentResponse] = []

    def urgent_response(site: Site, cfg: Any) -> UrgentResponse:
        ucr.append(UrgentResponse(site, 0.02))
        return ucr[-1]

    model = _model(cfg, 0, urgent_response)
    k = compute_kpis(model, model.run())
    exits = model.recorder.exits
    ended = exits.get("virtual_ward_discharged", 0) + exits.get("virtual_ward_escalated", 0)
    assert k["vw_admissions"] == ended + k["end_vw_patients"]
    for route in ("community", "ae", "step_down"):
        assert k[f"vw_admissions_{route}"] > 0, route
        assert k[f"vw_turned_away_{route}"] > 0, route
    assert KpiWindow.of(model).peak("busy:virtual_wards") <= beds
    assert k["vw_admissions_avoided"] == k["vw_admissions_ae"] + ucr[0].taken_would_admit
    assert 0 < ucr[0].taken_would_admit < k["vw_admissions_community"]
    assert k["patients_created"] == k["patients_exited"] + k["patients_in_system_end"]
    inside = sum(v for name, v in k.items() if name.startswith("end_"))
    assert inside == k["patients_in_system_end"]
    assert [name for name in k if not documented(name)] == []


def test_step_down_patients_readmitted_during_the_stay_are_escalations() -> None:
    """A step-down patient's readmission that falls during the stay ends it and is
    the stay's escalation (no second escalation draw), and the ward does not take
    the returning patient back from A&E.

    Readmission made likely (p = 0.6) and early (exponential delay D of mean 2
    days, truncated at 30): a step-down stay S (gamma, mean 6 days, cv 0.6, so
    shape k = 1/0.36 and scale 6/k) is escalated with probability
    p P(D < S) = p (1 - E[exp(-S/2)]) / (1 - exp(-15)), where E[exp(-S/2)] =
    (1 + scale/2)^-k: 0.522. Over ~750 step-down stays the binomial standard error
    is 0.018; four of them, plus 0.01 for stays that straddle the end of the
    period, is the tolerance (an extra escalation draw would add ~0.05)."""
    cfg = load_config(
        "baseline",
        [
            "run.years=0.2",
            "run.warmup_days=10",
            "run.event_log=true",
            ON,
            "++virtual_wards.step_down_share={age_0_64: 0.5, age_65_74: 0.5, age_75_84: 0.5, "
            "age_85_plus: 0.5}",
            "readmission.probability={age_0_64: 0.6, age_65_74: 0.6, age_75_84: 0.6, "
            "age_85_plus: 0.6}",
            "readmission.mean_days_to_readmission=2",
        ],
    )
    model = CareSystemModel(cfg, 0)
    k = compute_kpis(model, model.run())
    n = k["vw_admissions_step_down"]
    shape = 1 / 0.6**2
    expected = 0.6 * (1 - (1 + 6.0 / shape / 2) ** -shape) / (1 - math.exp(-15.0))
    share = k["vw_escalations_step_down"] / n
    assert abs(share - expected) <= 4 * math.sqrt(expected * (1 - expected) / n) + 0.01, (
        share,
        expected,
    )
    assert k["patients_created"] == k["patients_exited"] + k["patients_in_system_end"]
    # nobody escalated is taken back from A&E within the guard (without it, the
    # ~3-15% of returning patients offered a bed would be)
    events = model.recorder.events
    assert events is not None
    escalated: dict[int, float] = {}
    retaken = 0
    for t, _, person, event, detail in events:
        if event == "exit" and detail == "virtual_ward_escalated":
            escalated[person] = t
        elif event == "virtual_ward_start" and detail == "ae":
            retaken += t - escalated.get(person, -math.inf) < 48.0
    assert len(escalated) > 300 and retaken == 0
