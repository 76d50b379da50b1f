"""Parameter uncertainty: distributions, parameter sets, the PSA and sensitivity analyses.

Checks are against the distributions' own laws (quantiles, stratification),
against exact identities of paired runs (a parameter a scenario never reads
changes nothing, run for run; fixed distributions reproduce the point runs)
and against a variance split with known components.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.config import ConfigError, load_config
from sim.experiment import sensitivity as sa
from sim.experiment.parameters import ParameterSpace, apply, unit_sample
from sim.experiment.psa import _summarise, run_psa
from sim.experiment.runner import run_kpis

TINY = ["run.years=0.03", "run.warmup_days=5"]


def _problems(*overrides: str) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_config("baseline", list(overrides))
    return [str(p) for p in err.value.problems]


def test_a_distribution_missing_a_setting_is_named() -> None:
    msgs = _problems("~uncertainty.parameters.treat.home_share.sd")
    assert any("uncertainty.parameters.treat.home_share.sd" in m and "beta" in m for m in msgs)


def test_a_setting_of_another_family_is_refused() -> None:
    msgs = _problems("+uncertainty.parameters.treat.home_share.sigma=0.2")
    assert any("treat.home_share.sigma" in m and "not a setting of a beta" in m for m in msgs)


def test_a_distribution_on_no_field_says_which_and_suggests_one() -> None:
    msgs = _problems("+uncertainty.parameters.treat.home_shar={dist: uniform, low: 0, high: 0.3}")
    assert any("treat.home_shar" in m and "did you mean 'home_share'" in m for m in msgs)


def test_values_the_field_cannot_take_are_refused_before_any_run() -> None:
    """A share's distribution must stay within 0-1: a uniform to 1.5 is refused, with
    the advice to truncate it."""
    key = "uncertainty.parameters.treat.home_share"
    msgs = _problems(f"~{key}", f"+{key}={{dist: uniform, low: 0, high: 1.5}}")
    assert any("treat.home_share" in m and "bounds" in m for m in msgs)


def test_latin_hypercube_is_stratified_and_follows_each_law() -> None:
    """Each column of the Latin hypercube has one point in each of the n strata, and
    the values follow the parameter's (truncated) law: a Kolmogorov-Smirnov test
    against its CDF at n = 2,000 (an LHS sample is closer to its law than a random one,
    so p > 0.01 fails a right law far less often than 1%)."""
    cfg = load_config("baseline")
    space = ParameterSpace.of(cfg)
    n = 2000
    u = unit_sample(space, n, "lhs", 7)
    for col in u.T:
        assert sorted(np.floor(col * n).astype(int)) == list(range(n))
    vals = space.values(u)
    for k, p in enumerate(space.parameters):
        x = vals[:, k]
        lo, hi = p.dist.range()
        assert (x >= lo - 1e-12).all() and (x <= hi + 1e-12).all(), p.key
        if p.dist.dist == "fixed":
            continue
        a, b = p._cut
        law = p._frozen

        def cdf(v: np.ndarray, law=law, a=a, b=b) -> np.ndarray:
            return (law.cdf(v) - a) / (b - a)

        assert stats.kstest(x, cdf).pvalue > 0.01, p.key


def test_adding_a_parameter_leaves_the_others_draws_unchanged() -> None:
    """LHS columns come from one stream per coordinate."""
    cfg = load_config("baseline")
    more = load_config(
        "baseline", ["+uncertainty.parameters.beds.acute={dist: uniform, low: 380, high: 420}"]
    )
    a, b = ParameterSpace.of(cfg), ParameterSpace.of(more)
    va = a.values(unit_sample(a, 50, "lhs", 3))
    vb = b.values(unit_sample(b, 50, "lhs", 3))
    np.testing.assert_array_equal(va, vb[:, : va.shape[1]])
    beds = vb[:, -1]
    assert (beds == np.round(beds)).all() and beds.min() >= 380 and beds.max() <= 420


def test_a_group_moves_together_and_keeps_its_order() -> None:
    """The care-home ratios share one draw: admissions never above conveyances."""
    cfg = load_config("care_homes")
    space = ParameterSpace.of(cfg)
    v = pd.DataFrame(space.values(unit_sample(space, 500, "random", 1)), columns=space.keys)
    assert (v["care_homes.admission_rate_ratio"] <= v["care_homes.conveyance_rate_ratio"]).all()
    assert space.dimension < len(space.keys)


def test_apply_names_the_parameter_set_of_a_bad_value() -> None:
    cfg = load_config("care_homes")
    with pytest.raises(ConfigError) as err:
        apply(
            cfg,
            {"care_homes.admission_rate_ratio": 0.95, "care_homes.conveyance_rate_ratio": 0.7},
            "parameter set 4",
        )
    assert "parameter set 4" in str(err.value)


def test_variance_split_recovers_known_components() -> None:
    """4,000 parameter sets with effect sd 1 and 2 replications with noise sd 2: the
    parameter share is 1 / 5 = 0.2. Leaving out the correction for the chance in
    each set's mean (within / R) would give about 0.43. The estimator's sd here is
    about 0.02, so 0.05 is a 2.5-sigma tolerance."""
    rng = np.random.default_rng(0)
    draws, reps = 4000, 2
    level = rng.normal(0, 1, draws)
    y = level[:, None] + rng.normal(0, 2, (draws, reps))
    df = pd.DataFrame({"scenario": "s", "draw": np.repeat(np.arange(draws), reps), "m": y.ravel()})
    row = _summarise(df, ["m"], reps).iloc[0]
    assert row["share_parameters"] == pytest.approx(0.2, abs=0.05)
    assert row["share_parameters"] + row["share_stochastic"] == pytest.approx(1.0)
    # sets with a missing run (unequal sizes) are weighed by the unbalanced formula
    uneven = df.drop(index=df.index[1:2000:2])
    share = _summarise(uneven, ["m"], reps).iloc[0]["share_parameters"]
    assert share == pytest.approx(0.2, abs=0.06)


def test_each_family_has_the_stated_moments_or_quantiles() -> None:
    """The laws are built from the settings as documented: beta and gamma have the
    stated mean and sd (before truncation), a lognormal's ci95 its 2.5% and 97.5%
    points (for an interval symmetric on the log scale), a triangular its ends and
    mode."""
    from sim.config.uncertainty import Distribution
    from sim.experiment.parameters import Parameter

    def law(**kw: object) -> object:
        return Parameter("x", Distribution(**kw), 0.0, False)._frozen  # type: ignore[arg-type]

    b = law(dist="beta", mean=0.3, sd=0.1)
    assert (b.mean(), b.std()) == pytest.approx((0.3, 0.1))
    g = law(dist="gamma", mean=313.0, sd=25.0)
    assert (g.mean(), g.std()) == pytest.approx((313.0, 25.0))
    ln = law(dist="lognormal", median=1.0, ci95=(0.8, 1.25))
    assert (ln.ppf(0.025), ln.median(), ln.ppf(0.975)) == pytest.approx((0.8, 1.0, 1.25), rel=1e-4)
    tri = law(dist="triangular", low=0.0, mode=2.0, high=4.0)
    assert (tri.ppf(0.0), tri.ppf(0.5), tri.ppf(1.0)) == pytest.approx((0.0, 2.0, 4.0))


def test_whole_number_parameters_stay_within_their_bounds() -> None:
    """A capacity drawn from a uniform 4.5-9.5 is rounded and never leaves 5-9; an
    unbounded law at the design's corner u = 1 stays finite."""
    from sim.config.uncertainty import Distribution
    from sim.experiment.parameters import Parameter

    cap = Parameter("c", Distribution(dist="uniform", low=4.5, high=9.5), 7.0, True)
    x = cap.ppf(np.linspace(0, 1, 101))
    assert x.min() == 5 and x.max() == 9 and (x == np.round(x)).all()
    cost = Parameter("c", Distribution(dist="gamma", mean=313.0, sd=25.0), 313.0, False)
    assert np.isfinite(cost.ppf(np.array([1.0]))).all()


def test_fixed_parameters_reproduce_the_point_runs_replication_for_replication() -> None:
    """With every distribution fixed at the point value, set i replication r is the
    plain run of model replication i * R + r: the PSA adds nothing but bookkeeping."""
    fixed = [
        "~uncertainty.parameters",
        "+uncertainty.parameters={treat: {home_share: {dist: fixed, value: 0.25}}}",
    ]
    cfg = load_config("treat", [*TINY, *fixed])
    psa = run_psa([cfg], draws=2, replications_per_draw=2)
    for _, row in psa.runs.iterrows():
        _, _, k = run_kpis((load_config("treat", TINY), int(row["model_replication"])))
        assert row["emergency_admissions"] == k["emergency_admissions"]
        assert row["bed_days"] == k["bed_days"]
    assert (psa.parameters["treat.home_share"] == 0.25).all()


@pytest.fixture(scope="module")
def small_psa() -> object:
    cfgs = [load_config(s, TINY) for s in ("baseline", "treat")]
    return run_psa(cfgs, "baseline", draws=4, replications_per_draw=2)


def test_psa_is_paired_and_the_scenario_changes_only_what_it_reads(small_psa) -> None:
    """Baseline and TREAT see the same parameter sets and random numbers: crises in
    the community (upstream of TREAT) are equal run for run, so their difference
    is exactly 0 in every set."""
    d = small_psa.differences()
    assert len(d) == 4 * 2
    assert (d["crises"] == 0).all() and (d["community_managed"] == 0).all()
    assert (d["emergency_admissions"] <= 0).all()  # TREAT only sends people home


def test_acceptability_at_zero_willingness_is_the_chance_of_saving_money(small_psa) -> None:
    plane, ceac = small_psa.plane(), small_psa.ceac()
    at0 = ceac[(ceac["wtp"] == 0) & (ceac["outcome"] == "emergency_admissions")]
    assert at0["p_cost_effective"].iloc[0] == pytest.approx(np.mean(plane["cost_change"] < 0))
    curve = ceac[ceac["outcome"] == "emergency_admissions"]["p_cost_effective"].to_numpy()
    # TREAT avoids admissions in every set, so paying more per admission never hurts
    assert (np.diff(curve) >= 0).all()


def test_psa_tables_carry_keys_and_the_headline_states_benefits(small_psa) -> None:
    tables = small_psa.tables()
    for key in ("scenario", "draw", "replication", "model_replication", "seed"):
        assert key in tables["psa_runs"]
    head = small_psa.headline().set_index("metric")
    row = head.loc["emergency_admissions"]
    assert row["estimate"] >= 0 and row["ci_low"] <= row["estimate"] <= row["ci_high"]
    assert 0 <= row["p_improves"] <= 1


def test_psa_is_the_same_in_parallel() -> None:
    cfgs = [load_config(s, TINY) for s in ("baseline", "treat")]
    a = run_psa(cfgs, "baseline", draws=2, replications_per_draw=1, n_jobs=1)
    b = run_psa(cfgs, "baseline", draws=2, replications_per_draw=1, n_jobs=2)
    pd.testing.assert_frame_equal(a.runs, b.runs)


def test_psa_refuses_scenarios_with_different_distributions() -> None:
    a = load_config("baseline", TINY)
    b = load_config("treat", [*TINY, "uncertainty.parameters.treat.home_share.mean=0.3"])
    with pytest.raises(ConfigError, match="same uncertainty block"):
        run_psa([a, b], "baseline", draws=2)


def test_one_way_moves_the_effect_in_the_expected_direction() -> None:
    """More of TREAT's would-be admissions sent home avoids more admissions (paired,
    with common random numbers); a parameter of an intervention that is off moves
    nothing at all."""
    base, treat = load_config("baseline", TINY), load_config("treat", TINY)
    res = sa.one_way(
        treat,
        ["emergency_admissions"],
        base,
        params=["treat.home_share", "mdt.crisis_rate_ratio"],
        replications=1,
    )
    t = res.table().set_index("parameter")
    home = t.loc["treat.home_share"]
    assert home["at_high"] < home["at_point"] < home["at_low"] <= 0
    assert t.loc["mdt.crisis_rate_ratio", "swing"] == 0


def test_morris_gives_an_inert_parameter_no_effect() -> None:
    treat = load_config("treat", TINY)
    g = sa.morris(
        treat,
        "emergency_admissions",
        params=["treat.home_share", "mdt.crisis_rate_ratio"],
        trajectories=3,
        replications=1,
    )
    mu = g.indices[g.indices["index"] == "mu_star"].set_index("parameter")["value"]
    assert mu["mdt.crisis_rate_ratio"] == 0 and mu["treat.home_share"] > 0


@pytest.mark.slow  # long: runs in the slow set (-m slow)
def test_nsim_psa_writes_tables_console_and_report(tmp_path) -> None:
    """``uncertainty.method=psa`` on the command line: the PSA's tables, its
    effects in the console, a report section with the probabilities and, with
    ``uncertainty.tornado``, the tornado charts."""
    from tests.conftest import nsim

    out = tmp_path / "run"
    res = nsim(
        "compare=[treat]",
        *TINY,
        "run.replications=2",
        "uncertainty.method=psa",
        "uncertainty.draws=3",
        "uncertainty.replications_per_draw=1",
        "uncertainty.tornado=true",
        f"hydra.run.dir={out}",
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    for stem in ("psa_runs", "psa_summary", "psa_headline", "psa_decision", "psa_ceac"):
        assert (out / "psa" / f"{stem}.csv").exists(), stem
    assert "Effects with parameter uncertainty" in res.stdout
    assert "probability of saving money" in res.stdout
    html = (out / "report.html").read_text()
    assert "Parameter uncertainty (probabilistic sensitivity analysis)" in html
    assert "Probability that the scenario is better" in html
    assert "Which parameters matter (one-way sensitivity)" in html
    assert (out / "psa" / "oneway_treat.csv").exists()


def test_nsim_sensitivity_refuses_an_unknown_parameter(capsys) -> None:
    from sim.commands.uncertainty import sensitivity_main

    with pytest.raises(SystemExit) as ex:
        sensitivity_main(["treat", "--params", "treat.home_shar"])
    assert ex.value.code == 2
    err = capsys.readouterr().err
    assert "treat.home_shar" in err and "did you mean 'treat.home_share'" in err


def test_nsim_sensitivity_writes_a_tornado(tmp_path) -> None:
    from sim.commands.uncertainty import sensitivity_main

    sensitivity_main(
        [
            "treat",
            *TINY,
            "--baseline",
            "baseline",
            "--params",
            "treat.home_share,treat.los_ratio",
            "--replications",
            "1",
            "--n-jobs",
            "1",
            "--out",
            str(tmp_path),
        ]
    )
    assert (tmp_path / "oneway.csv").exists()
    assert (tmp_path / "tornado_emergency_admissions.png").exists()


def test_sobol_gives_an_inert_parameter_no_share_of_variance() -> None:
    """SALib's Sobol estimators over the design: a parameter the scenario never reads
    has first-order and total indices of exactly 0 (its column changes no run)."""
    treat = load_config("treat", TINY)
    g = sa.sobol(
        treat,
        "emergency_admissions",
        params=["treat.home_share", "mdt.crisis_rate_ratio"],
        base_samples=8,
        replications=1,
    )
    idx = g.indices.set_index(["parameter", "index"])["value"]
    assert idx[("mdt.crisis_rate_ratio", "ST")] == 0
    assert idx[("treat.home_share", "ST")] > 0
    assert len(g.runs.values) == 8 * (2 + 2)


def test_psa_on_a_dask_cluster_is_identical_to_serial() -> None:
    """The documented scale-out path (a Dask client; here a LocalCluster of two
    worker processes) gives the same runs as one process."""
    distributed = pytest.importorskip("distributed")
    cfgs = [load_config(s, TINY) for s in ("baseline", "treat")]
    serial = run_psa(cfgs, "baseline", draws=2, replications_per_draw=1)
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as c,
        distributed.Client(c),
    ):
        on_dask = run_psa(cfgs, "baseline", draws=2, replications_per_draw=1, backend="dask")
    pd.testing.assert_frame_equal(serial.runs, on_dask.runs)


def test_gridlocked_parameter_sets_are_named_not_averaged_in_silently() -> None:
    """Beds drawn far below the borough's demand (150-170 for a load of ~400)
    gridlock the hospital: every such set is listed, and a warning says so."""
    beds = "+uncertainty.parameters.beds={acute: {dist: uniform, low: 150, high: 170}}"
    cfg = load_config("baseline", ["run.years=0.1", "run.warmup_days=5", beds])
    psa = run_psa([cfg], draws=2, replications_per_draw=1)
    assert list(psa.gridlock()["draw"]) == [0, 1]
    assert "gridlocked in 2 of 2 parameter sets" in psa.warnings()[0]


def test_psa_draws_whole_parameter_sets_when_given() -> None:
    """A calibration's plausible sets are drawn whole (the pairs stay pairs), each
    row as often as the number of draws allows; other parameters keep their laws."""
    sets = (
        "uncertainty.sets={columns: [treat.home_share, treat.los_ratio], "
        "rows: [[0.1, 0.9], [0.3, 0.95]]}"
    )
    cfg = load_config("treat", [*TINY, sets])
    from sim.experiment.psa import parameter_sets

    _, table = parameter_sets(cfg, draws=6)
    pairs = sorted(zip(table["treat.home_share"], table["treat.los_ratio"], strict=True))
    assert pairs == [(0.1, 0.9)] * 3 + [(0.3, 0.95)] * 3
    assert table["mdt.crisis_rate_ratio"].nunique() == 6


def test_parameter_sets_must_name_fields() -> None:
    msgs = _problems("uncertainty.sets={columns: [treat.home_shar], rows: [[0.1]]}")
    assert any("uncertainty.sets.columns[0]" in m and "home_share" in m for m in msgs)


def test_a_group_cannot_be_split_between_sets_and_distributions() -> None:
    """The care-home ratios share one draw; taking one from parameter sets and the
    other from its distribution would break that, and is refused."""
    msgs = _problems(
        "uncertainty.sets={columns: [care_homes.conveyance_rate_ratio], rows: [[0.8]]}"
    )
    assert any("group 'care_homes'" in m for m in msgs)


def test_uneven_sets_are_used_in_whole_passes() -> None:
    """Seven draws from three sets: every set at least twice, none three times
    before all have been used twice."""
    sets = "uncertainty.sets={columns: [treat.home_share], rows: [[0.1], [0.2], [0.3]]}"
    from sim.experiment.psa import parameter_sets

    _, table = parameter_sets(load_config("treat", [sets]), draws=7)
    counts = table["treat.home_share"].value_counts()
    assert sorted(counts.tolist()) == [2, 2, 3]


def test_replacing_a_distribution_by_override_says_how() -> None:
    """Hydra merges a mapping into the old one key by key, so a distribution of
    another family cannot be set in one override: the message gives the two that
    work."""
    key = "uncertainty.parameters.treat.home_share"
    msgs = _problems(f"{key}={{dist: uniform, low: 0, high: 0.3}}")
    assert any(f"'~{key}'" in m and f"'+{key}=" in m for m in msgs)
