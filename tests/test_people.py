"""People, not only strata: the registry against the gamma-Poisson model it implements.

A resident of stratum *s* has a crisis-rate multiplier Z ~ gamma(shape k, mean 1)
and crises at rate lambda_s Z, so their count of crises over a period T is
negative binomial with mean lambda_s T and shape k. The registry attributes each
of a stratum's crises (generated at the stratum's total rate, as without people)
to a known person or to a new one; these tests compare the resulting counts per
person, zeros included (head count less the people with a crisis), with that
distribution, and check what people change and do not change in the model:
aggregate demand (exactly the same crises), nothing at all when switched off,
and MDT case finding that finds the people who come back.

Chi-square tests use a fixed seed and reject at 1%: the pooled classes all
expect at least 5 people, and the counts are exactly right in expectation (the
unknown rest of a stratum has, on average, the rate of the people it stands for:
the expected weight of the known people follows the same linear equation as in
the exact model). A correct model fails such a test with probability 1%, once,
for this seed; a wrong shape, a wrong posterior or a person's rate off by a
factor moves these classes by many standard errors (tens of people of thousands).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import build_info
from sim.config import load_config
from sim.experiment import run
from sim.experiment.stats import mean_ci
from sim.model import CareSystemModel
from sim.people import PERSON_BASE, People, Registry

ON = "++people.enabled=true"
OFF = "++people.enabled=false"
#: one neighbourhood, everyone aged 0-64 and at home: a single stratum, with a
#: constant crisis rate; nobody dies, and no readmissions (a person's count is
#: then theirs alone)
ONE_STRATUM = [
    "population.neighbourhoods=[{name: Only, registered: 30000}]",
    "population.age_shares={age_0_64: 1, age_65_74: 0, age_75_84: 0, age_85_plus: 0}",
    "demand.crisis_rate_per_person_year={age_0_64: 2, age_65_74: 0, age_75_84: 0, age_85_plus: 0}",
    "demand.time_varying=false",
    "ae.enabled=false",
    "discharge.enabled=false",
    "readmission.enabled=false",
    "beds.acute=2000",
    "acute.death_probability={age_0_64: 0, age_65_74: 0, age_75_84: 0, age_85_plus: 0}",
    "run.years=0.25",
    "run.warmup_days=10",
    "run.replications=1",
]
SHAPE = "++people.shape={age_0_64: 0.5, age_65_74: 1, age_75_84: 1, age_85_plus: 1}"
PAIRED = ["run.years=0.3", "run.warmup_days=30", "run.replications=3", "run.n_jobs=1"]


def _nb_chi_square(counts: np.ndarray, n_people: int, mean: float, k: float) -> float:
    """p-value of a chi-square test of people's crisis counts (``counts[n]``
    people with n crises, zeros included) against the negative binomial of
    ``mean`` and shape ``k``, classes expecting fewer than 5 pooled into the tail."""
    n = np.arange(len(counts) + 1)
    p = stats.nbinom.pmf(n, k, k / (k + mean)) if math.isfinite(k) else stats.poisson.pmf(n, mean)
    expected = n_people * p
    last = int(np.max(np.flatnonzero(expected >= 5)))
    observed = np.append(counts[:last], counts[last:].sum())
    exp = np.append(expected[:last], n_people - expected[:last].sum())
    assert observed.sum() == n_people
    return float(stats.chisquare(observed, exp).pvalue)


def _feed(
    reg: Registry, n_people: int, rate: float, years: float, seed: int
) -> tuple[np.ndarray, list[float]]:
    """Feed a one-stratum registry the crises of a Poisson stream at the stratum's
    total rate over ``years``; the people's counts (zeros included) and each new
    person's time of first crisis."""
    rng = np.random.default_rng(seed)
    n = int(rng.poisson(rate * n_people * years))
    times = np.sort(rng.uniform(0.0, years * 8760.0, n)).tolist()
    u_who, u_z = rng.random(n).tolist(), rng.random(n).tolist()
    first: list[float] = []
    for t, u, v in zip(times, u_who, u_z, strict=True):
        j = reg.identify(0, u)
        if j < 0:
            reg.add(0, reg.multiplier_at_first_crisis(0, t, v))
            first.append(t)
        else:
            reg.crises[j] += 1
    counts = np.bincount(np.array(reg.crises, dtype=np.int64), minlength=1)
    counts[0] = n_people - len(reg)
    return counts, first


@pytest.mark.parametrize(
    ("rate", "k"),
    [(1.0, 0.5), (0.5, 2.0), (2.0, 1.5)],
)
def test_counts_per_person_are_negative_binomial(rate: float, k: float) -> None:
    """(1) Crises per person over a year in one stratum of 20,000 people follow the
    negative binomial of mean lambda T and shape k, zeros included (chi-square at
    1%); and the known people's multipliers add up to their expectation,
    N (1 - (k / (k + lambda T))^(k + 1)), within 4 standard errors."""
    n_people, years = 20_000, 1.0
    reg = Registry([n_people], [rate], [k])
    counts, _ = _feed(reg, n_people, rate, years, seed=11)
    assert _nb_chi_square(counts, n_people, rate * years, k) > 0.01
    m = rate * years
    expected_z = n_people * (1.0 - (k / (k + m)) ** (k + 1.0))
    z = np.array(reg.z)
    # sd of a sum of ~n posterior draws (variance of Z <= (k+1)/k^2, generous)
    se = math.sqrt(len(z) * (k + 1.0) / k**2)
    assert abs(z.sum() - expected_z) < 4 * se, (z.sum(), expected_z)


def test_without_heterogeneity_counts_are_poisson() -> None:
    """(1) With every multiplier 1 (``heterogeneity: false``) people keep their
    identities and a person's count is Poisson(lambda T): repeats by chance only."""
    n_people, rate = 20_000, 1.0
    reg = Registry([n_people], [rate], None)
    counts, _ = _feed(reg, n_people, rate, 1.0, seed=5)
    assert _nb_chi_square(counts, n_people, rate, math.inf) > 0.01


def test_a_known_person_has_crises_at_their_own_rate() -> None:
    """(1) After their first crisis at t1 a person has crises at lambda Z: the
    crises after the first, summed over everyone known in the first half-year,
    are Poisson with mean sum of lambda Z (T - t1) (within 4 sd)."""
    n_people, rate, k, years = 20_000, 1.0, 0.5, 1.0
    reg = Registry([n_people], [rate], [k])
    _, first = _feed(reg, n_people, rate, years, seed=3)
    t1 = np.array(first) / 8760.0
    early = t1 < years / 2
    z = np.array(reg.z)[early]
    later = np.array(reg.crises)[early] - 1
    expected = float((rate * z * (years - t1[early])).sum())
    assert abs(later.sum() - expected) < 4 * math.sqrt(expected), (later.sum(), expected)


def test_gamma_quantile_table_is_exact_enough() -> None:
    """The interpolated gamma quantile agrees with SciPy's to a relative 1e-4 for
    shapes from 1.1 to 20, over 100,000 uniforms including both tails."""
    from scipy.special import gammaincinv

    from sim.people import GammaQuantile

    u = np.random.default_rng(0).random(100_000)
    u[:4] = [1e-12, 1e-6, 1 - 1e-6, 1 - 1e-12]
    for a in (1.1, 1.5, 2.5, 20.0):
        q = GammaQuantile(a)
        approx = np.array([q(x) for x in u.tolist()])
        assert np.max(np.abs(approx / gammaincinv(a, u) - 1.0)) < 1e-4


def test_a_small_stratum_that_fills_up_keeps_its_rate() -> None:
    """A care-home-sized stratum (12 residents, 1 crisis a year each) over 10 years:
    the known people's multipliers outgrow the head count, after which crises are
    shared among the known in proportion to Z; the stratum keeps exactly its
    crises (every one is attributed to someone), and once full no new people
    arrive: at most about 12 / E[Z | first crisis] new people a year at the start."""
    reg = Registry([12.0], [1.0], [1.5])
    _, first = _feed(reg, 12, 1.0, 10.0, seed=2)
    assert sum(reg.crises) > 0
    assert reg.known_weight(0) > 12.0  # it filled up
    # people arrive early; late in the run the interval is all known weight
    assert sum(1 for t in first if t > 5 * 8760.0) <= 2


def test_departed_people_make_room_and_are_never_chosen() -> None:
    """A person who left is never identified again; the weight they leave goes
    to new people (the stratum's head count is fixed)."""
    reg = Registry([10.0], [1.0], None)  # multipliers 1: ten segments fill it
    for _ in range(10):
        reg.add(0, 1.0)
    assert reg.identify(0, 0.999) == 9
    reg.leave(3)
    assert [reg.identify(0, (i + 0.5) / 10) for i in range(10)].count(-1) == 1
    assert reg.identify(0, 0.35) == -1  # person 3's segment: someone new
    reg.add(0, 1.0)  # now over the head count: rebuilt without person 3
    assert reg.departed[0] == 0.0 and len(reg.cum[0]) == 10
    assert 3 not in list(reg.owner[0])


@pytest.fixture(scope="module")
def one_stratum() -> CareSystemModel:
    model = CareSystemModel(load_config("baseline", [*ONE_STRATUM, ON, SHAPE]), 0)
    model.run()
    return model


def test_model_counts_per_person_are_negative_binomial(one_stratum: CareSystemModel) -> None:
    """(1) In the whole model, one stratum of 30,000 at 2 crises a year and k = 0.5:
    each person's crises in the measured period (after warm-up) are negative
    binomial with mean 2 x 0.25 years (chi-square at 1%)."""
    model = one_stratum
    people = model.people
    n_people = round(model.strata.registered)
    measured = np.array(people.crises_measured, dtype=np.int64)
    counts = np.bincount(measured[measured > 0], minlength=1)
    counts[0] = n_people - int((measured > 0).sum())
    years = model.cfg.run.years
    assert _nb_chi_square(counts, n_people, 2.0 * years, 0.5) > 0.01


def test_every_kept_crisis_is_someones(one_stratum: CareSystemModel) -> None:
    """Conservation: the registry's crises are the model's crises, over the whole
    run and over the measured period; and every crisis's person is in it."""
    model = one_stratum
    people = model.people
    crises = model.recorder.counters["crises"].array()
    assert sum(people.registry.crises) == crises.sum()
    warmup = model.cfg.run.warmup_days
    assert sum(people.crises_measured) == crises[warmup:].sum()
    logged = model.recorder.events
    assert logged is None or all(e[2] >= PERSON_BASE for e in logged)


def test_people_off_runs_no_people_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """(2) Switched off, the component declares no draws and no KPIs, and none of
    its methods runs (each would raise): every other result is the model's
    without people. (The back-tests' stored KPI tables check the numbers.)"""
    if build_info.compiled():
        pytest.skip("a compiled class's methods cannot be replaced")

    def refuse(*args: object) -> None:
        raise AssertionError("people code ran with people switched off")

    for method in ("identify", "commit", "attended", "admitted", "died", "candidates"):
        monkeypatch.setattr(People, method, refuse)
    cfg = load_config("mdt", ["run.years=0.05", "run.warmup_days=7", "run.replications=1", OFF])
    model = CareSystemModel(cfg, 0)
    assert not model.people.active and model.people.draws() == []
    assert not any(d.name.startswith("u_people") for d in model.factory.draws)
    model.run()
    assert len(model.people.registry) == 0


@pytest.fixture(scope="module")
def paired() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The default borough, people off and on, same seeds."""
    return run(load_config("baseline", [*PAIRED, OFF])).kpis, run(
        load_config("baseline", [*PAIRED, ON])
    ).kpis


def test_people_leave_demand_as_it_was(paired: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """(3) People change who has a crisis, not how many: the same crises in every
    replication (the same candidates, thinned the same way), the same A&E
    attendances within 0.5% (only places kept for a person, such as a care-home
    place held through a readmission, depend on who the person is), and the
    registry's crises in the measured period are all of them."""
    off, on = paired
    assert (off["crises"] == on["crises"]).all()
    for kpi in ("ae_attendances", "emergency_admissions"):
        rel = (on[kpi] - off[kpi]).abs() / off[kpi]
        assert (rel < 0.005).all(), (kpi, off[kpi].tolist(), on[kpi].tolist())
    per_person = on["people_with_crisis"] * on["people_crises_per_person"]
    assert np.allclose(per_person, on["crises"])
    assert not any(c.startswith("people_") for c in off.columns)


def test_people_kpis_are_plausible(paired: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """Repeat crises arise: a share of people have two or more in 0.3 years, above
    what a Poisson count at the same mean would give; repeat admissions are a
    share of admissions below one."""
    _, on = paired
    assert (on["people_share_2plus_crises"] > 0.05).all()
    assert (
        (on["people_repeat_admission_share"] > 0) & (on["people_repeat_admission_share"] < 1)
    ).all()
    assert (on["people_known"] >= on["people_with_crisis"] * 0.9).all()


def test_mdt_finds_the_people_who_come_back() -> None:
    """(4) Paired MDT runs: with strata only the caseload's crisis rate is its
    strata's average (ratio within 25% of 1, the CI of ~100 crises a run); with
    people the tool finds people with a crisis history, whose rate is well above
    their strata's (95% CI of the paired ratio above 1.2), and so more of the
    caseload's crises are case-managed."""
    mdt = ["mdt.enabled=true", *PAIRED]
    off = run(load_config("baseline", [*mdt, OFF])).kpis
    on = run(load_config("baseline", [*mdt, ON])).kpis
    assert (off["crises"] == on["crises"]).all()  # crisis_rate_ratio 1: no thinning
    ratio_off = off["mdt_caseload_crisis_rate_ratio"].to_numpy()
    assert abs(ratio_off.mean() - 1.0) < 0.25, ratio_off
    ratio_on = on["mdt_caseload_crisis_rate_ratio"].to_numpy()
    _, _, lo, _ = mean_ci(ratio_on / ratio_off)
    assert lo > 1.2, (ratio_on, ratio_off)
    assert (on["mdt_case_managed_crises"] > off["mdt_case_managed_crises"]).all()


def test_thinned_crises_create_nobody() -> None:
    """A candidate crisis that case management thins away is identified (the
    multiplier is the person's) but neither creates nor counts a person: with
    half of case-managed people's crises avoided, the registry's crises are
    still exactly the model's, and some case-managed crises were of people the
    tool found."""
    cfg = load_config(
        "baseline",
        [
            "mdt.enabled=true",
            "mdt.crisis_rate_ratio=0.5",
            "run.years=0.1",
            "run.warmup_days=20",
            ON,
        ],
    )
    model = CareSystemModel(cfg, 0)
    model.run()
    crises = model.recorder.counters["crises"].array().sum()
    assert sum(model.people.registry.crises) == crises
    mdt = model.component("mdt")
    assert mdt.person_member  # type: ignore[attr-defined]
    assert model.recorder.counters["mdt_case_managed_crises"].array().sum() > 0


def test_every_people_kpi_is_documented(paired: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, on = paired
    assert {c for c in on.columns if c.startswith("people_")} == set(People.kpi_docs)
