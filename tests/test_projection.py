"""The years ahead: a projected population, per-year outputs, roll-out over years.

What is checked, and against what:

* without a projection nothing changes; with a projection that leaves every band
  as it was, the projected code path reproduces the unprojected run exactly;
* demand follows the table: with every band scaled by f in year 2, the expected
  hourly rates of year 2 are f times the unprojected ones (exactly), and the
  crises counted in year 2 over year 1 match the ratio of their expectations
  within a Poisson tolerance; a band-specific growth moves the age mix of the
  candidate crises to the analytic mix of the strata's rates;
* the frailty drift is the Markov shift it claims to be;
* the per-year table adds up to the whole-run KPIs (counts, bed days, delayed
  days, costs), and a phased roll-out shows year by year;
* a table that cannot be used gives one message naming the file, line, column,
  value and what is allowed, before anything runs (exit status 2 from ``nsim``).

Runs are two years of a borough one twentieth of the default (about 17,000
registered, ~6,000 crises a year, a few seconds each).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.config import ConfigError, load_config
from sim.config.schema import AGE_BANDS, AgeProbabilities, Config, Phase, Rollout
from sim.experiment import cache
from sim.experiment.metadata import config_hash
from sim.experiment.runner import ReplicationResult, RunResult, run_many, run_replication
from sim.experiment.years import year_bounds
from sim.interventions.rollout import RolloutSchedule
from sim.model import CareSystemModel
from sim.projection import frailty_mix, load, measured_years, population_by_year, read
from tests.conftest import ROOT
from tests.conftest import nsim as _nsim

DEFAULT_TABLE = "projections/city_and_hackney_snpp2022.csv"
#: two measured years after a short warm-up
TWO_YEARS = ["run.years=2", "run.warmup_days=20", "run.replications=1", "run.n_jobs=1"]
HEADER = "year,age_0_64,age_65_74,age_75_84,age_85_plus\n"
#: z beyond which a count is called inconsistent with its expectation: a false
#: alarm once in ~16,000 checks
Z = 4.0


def _table(tmp_path: Path, rows: list[tuple[int, float, float, float, float]], name: str) -> str:
    path = tmp_path / name
    path.write_text(HEADER + "".join(",".join(str(v) for v in r) + "\n" for r in rows))
    return str(path)


def _with(cfg: Config, **projection: Any) -> Config:
    proj = dataclasses.replace(cfg.population.projection, **projection)
    return dataclasses.replace(cfg, population=dataclasses.replace(cfg.population, projection=proj))


def _tiny(overrides: list[str] = TWO_YEARS, share: int = 20, scenario: str = "baseline") -> Config:
    """A borough with 1/``share`` of the default registered population and beds."""
    cfg = load_config(scenario, overrides)
    pop = cfg.population
    nbs = tuple(
        dataclasses.replace(n, registered=n.registered // share) for n in pop.neighbourhoods
    )
    beds = dataclasses.replace(cfg.beds, acute=max(1, cfg.beds.acute // share))
    return dataclasses.replace(
        cfg, population=dataclasses.replace(pop, neighbourhoods=nbs), beds=beds
    )


def _years(res: ReplicationResult) -> pd.DataFrame:
    """The per-year table of a run of more than a year."""
    assert res.years is not None
    return res.years


def _poisson_ratio_z(n1: float, n2: float, e1: float, e2: float) -> float:
    """z of log(n2/n1) against log(e2/e1) for independent Poisson counts (delta
    method: var(log N) ~ 1/E)."""
    return (math.log(n2 / n1) - math.log(e2 / e1)) / math.sqrt(1 / e1 + 1 / e2)


def _expected_crises(model: CareSystemModel, first: int, end: int) -> float:
    """Expected crises on days [first, end): the base rate of each hour (no
    intervention thins crises in these runs)."""
    demand = model.demand
    return float(sum(demand.expected_per_day(d).sum() for d in range(first, end)))


# ----------------------------------------------------------------------------- the table
def test_the_default_table_reads_with_its_source() -> None:
    path = ROOT / "configs" / DEFAULT_TABLE
    text = path.read_text()
    assert "Office for National Statistics" in text and "2022-based" in text
    table = load(DEFAULT_TABLE)
    assert table.years == tuple(range(2022, 2048))
    assert table.values[0].tolist() == [250523, 13690, 6510, 2366]
    # 2022 total: Hackney 261,632 + City of London 11,457 (the ONS table's All ages)
    assert table.values[0].sum() == pytest.approx(273089, abs=2)
    g = table.growth(0, 5, "population.projection")
    assert g[0].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert g[4] == pytest.approx(table.values[4] / table.values[0])
    assert (g[4, 1:3] > g[4, 0]).all()  # the 65-84s grow faster than the under-65s


def test_base_year_and_run_length_must_fit_the_table(tmp_path: Path) -> None:
    file = _table(tmp_path, [(2030, 1, 1, 1, 1), (2031, 2, 2, 2, 2)], "short.csv")
    table = load(file)
    assert table.growth(2031, 1, "population.projection").tolist() == [[1.0] * 4]
    with pytest.raises(ConfigError, match=r"base_year: got 2029; allowed: a year .*2030-2031"):
        table.growth(2029, 1, "population.projection")
    with pytest.raises(ConfigError, match=r"run.years: got 3; allowed: at most 2 measured"):
        table.growth(0, 3, "population.projection")
    empty = load(_table(tmp_path, [(2030, 1, 1, 0, 1)], "empty.csv"))
    with pytest.raises(ConfigError, match="empty: age_75_84"):
        empty.growth(0, 1, "population.projection")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            HEADER + "2022,100,10,5,2\n2023,100,10,5,-3\n",
            "line 3, column age_85_plus: got '-3'; allowed: a number >= 0 for age_85_plus",
        ),
        (HEADER + "2022,100,10,5,2\n2023,100,ten,5,2\n", "line 3, column age_65_74: got 'ten'"),
        (
            HEADER + "2022,100,10,5,2\n2024,100,10,5,2\n",
            "line 3, column year: got 2024; allowed: 2023",
        ),
        (HEADER + "twenty22,100,10,5,2\n", "line 2, column year: got 'twenty22'"),
        (HEADER + "2022,100,10,5\n", "line 2: got '2022,100,10,5'; allowed: 5 values"),
        ("year,age_0_64,age_65_74,age_75_84\n2022,1,1,1\n", "column age_85_plus"),
        ("band,value\n0-64,1\n", "allowed: a header with 'year'"),
        ("# only a comment\n", "the file is empty"),
    ],
)
def test_a_broken_bands_table_says_where_and_what(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        read(path)
    assert expected in str(err.value)
    assert str(path) in str(err.value)


def test_comments_aliases_and_an_index_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "index.csv"
    path.write_text("# an index, base 100\nYear,0-64,65-74,75-84,85+\n2025,100,100,100,100\n\n")
    path.write_text(path.read_text() + "2026,101,104,103,99.5\n")
    table = read(path)
    assert table.growth(0, 2, "p")[1].tolist() == pytest.approx([1.01, 1.04, 1.03, 0.995])


def _ons(path: Path, rows: list[tuple[str, str, str, str, list[float]]]) -> Path:
    """A table in the ONS SNPP layout: area code, name, sex, age group, 2 years."""
    lines = ['"AREA_CODE","AREA_NAME","COMPONENT","SEX","AGE_GROUP","2022","2023"']
    lines += [f"{c},{n},Population,{s},{a},{v[0]:.3f},{v[1]:.3f}" for c, n, s, a, v in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_an_ons_table_is_summed_into_bands_over_the_named_areas(tmp_path: Path) -> None:
    rows = []
    for code, name, scale in (("E1", "Alpha", 1.0), ("E2", "Beta", 2.0), ("E3", "Gamma", 50.0)):
        for sex, share in (("persons", 1.0), ("males", 0.5), ("females", 0.5)):
            for age in range(90):
                rows.append((code, name, sex, str(age), [scale * share, scale * share * 1.1]))
            rows.append((code, name, sex, "90 and over", [scale * share * 3, scale * share * 3]))
            rows.append((code, name, sex, "All ages", [1e9, 1e9]))  # totals are ignored
    path = _ons(tmp_path / "2022 SNPP Population persons.csv", rows)
    table = read(path, ["e1", "Beta"])  # codes or names, any case
    # persons only (males and females are not added again); Alpha + Beta = 3 a year of age
    assert table.years == (2022, 2023)
    assert table.values[0].tolist() == pytest.approx([65 * 3, 10 * 3, 10 * 3, 5 * 3 + 3 * 3])
    assert table.values[1].tolist() == pytest.approx([65 * 3.3, 10 * 3.3, 10 * 3.3, 5 * 3.3 + 9])
    groups = [("E1", "Alpha", "persons", a, [1.0, 2.0]) for a in ("0-64", "65-74", "75-84", "85+")]
    grouped = read(_ons(tmp_path / "groups.csv", groups))  # one area: no need to name it
    assert grouped.growth(0, 2, "p")[1].tolist() == [2.0] * 4


def test_a_broken_ons_table_says_what_to_do(tmp_path: Path) -> None:
    ages = [str(a) for a in range(90)] + ["90 and over"]
    two = [
        (c, n, "persons", a, [1.0, 1.0])
        for c, n in (("E9", "Hackney"), ("E8", "Camden"))
        for a in ages
    ]
    path = _ons(tmp_path / "two.csv", two)
    with pytest.raises(
        ConfigError, match=r"areas: got \[\]; allowed: the areas to add up .* 2 areas"
    ):
        read(path)
    with pytest.raises(ConfigError, match=r"got 'Hackny'.*did you mean 'Hackney'"):
        read(path, ["Hackny"])
    straddle = _ons(tmp_path / "straddle.csv", [("E9", "H", "persons", "60-69", [1.0, 1.0])])
    with pytest.raises(
        ConfigError,
        match=r"line 2, column AGE_GROUP: got '60-69'; allowed: an age group within one band",
    ):
        read(straddle)
    no_old = _ons(
        tmp_path / "young.csv", [("E9", "H", "persons", str(a), [1.0, 1.0]) for a in range(65)]
    )
    with pytest.raises(ConfigError, match="age_65_74, age_75_84, age_85_plus"):
        read(no_old)


def test_a_missing_file_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"population.projection.file: got 'nowhere.csv'.*looked for"
    ):
        load("nowhere.csv")


# ----------------------------------------------------------------------------- demand
def test_without_a_projection_nothing_changes() -> None:
    cfg = load_config("baseline", ["run.years=0.05", "run.warmup_days=0"])
    assert cfg.population.projection.file == ""
    model = CareSystemModel(cfg)
    assert model.demand.year_sizes is None and model.demand.year_rate_per_hour == []
    res = run_replication(cfg)
    assert res.years is None  # a run of a year or less keeps its outputs as they were


@pytest.fixture(scope="module")
def flat_pair(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[ReplicationResult, ReplicationResult]:
    """Two years without a projection and with one that changes nothing."""
    tmp = tmp_path_factory.mktemp("flat")
    flat = _table(tmp, [(2022, 5, 4, 3, 2), (2023, 5, 4, 3, 2)], "flat.csv")
    cfg = _tiny()
    return run_replication(cfg), run_replication(_with(cfg, file=flat))


def test_a_projection_that_changes_nothing_reproduces_the_run(
    flat_pair: tuple[ReplicationResult, ReplicationResult],
) -> None:
    """The projected path (per-year rates and weights) gives the unprojected
    numbers bit for bit: the first year's weights are the base year's, and a flat
    table keeps them."""
    plain, flat = flat_pair
    pd.testing.assert_series_equal(pd.Series(plain.kpis), pd.Series(flat.kpis), check_exact=True)
    pd.testing.assert_frame_equal(_years(plain), _years(flat))
    pd.testing.assert_frame_equal(plain.daily, flat.daily)


def _growth_cfg(tmp_path: Path, f: float) -> Config:
    file = _table(tmp_path, [(2022, 1, 1, 1, 1), (2023, f, f, f, f)], f"f{f}.csv")
    return _with(_tiny(), file=file)


def test_uniform_growth_scales_the_expected_rates_exactly(tmp_path: Path) -> None:
    f = 1.5
    base = CareSystemModel(_tiny())
    grown = CareSystemModel(_growth_cfg(tmp_path, f))
    w = base.cfg.run.warmup_days
    for day in (0, w - 1, w, w + 364):  # warm-up and year 1: as configured
        assert grown.demand.expected_per_day(day) == pytest.approx(
            base.demand.expected_per_day(day), rel=1e-12
        )
    for day in (w + 365, w + 500, w + 729):
        assert grown.demand.expected_per_day(day) == pytest.approx(
            f * base.demand.expected_per_day(day), rel=1e-12
        )
    # the stratum mix is unchanged when every band grows alike
    assert grown.demand.year_cum_weights[1] == pytest.approx(base.demand.cum_weights, abs=1e-12)


def test_uniform_growth_scales_the_crises(tmp_path: Path) -> None:
    """Crises in year 2 over year 1 match the ratio of their expectations (about
    f, with the calendar's month and weekday mix): counts are Poisson, so the log
    ratio's sd is sqrt(1/E1 + 1/E2) (~0.017 here) and |z| < 4."""
    f = 1.5
    cfg = _growth_cfg(tmp_path, f)
    res = run_replication(cfg)
    model = CareSystemModel(cfg)
    (a1, b1), (a2, b2) = year_bounds(cfg.run.warmup_days, cfg.run.total_days)
    e1, e2 = _expected_crises(model, a1, b1), _expected_crises(model, a2, b2)
    assert e2 / e1 == pytest.approx(f, rel=0.02)
    n1, n2 = _years(res)["crises"].tolist()
    assert abs(_poisson_ratio_z(n1, n2, e1, e2)) < Z, (n1, n2, e1, e2)
    reg = _years(res)["registered"].to_numpy()
    assert reg[1] / reg[0] == pytest.approx(f)


def test_uniform_growth_scales_the_candidates_of_the_whole_borough(tmp_path: Path) -> None:
    """The same on the default borough's candidate stream alone (~180,000 a year):
    the log ratio's sd is ~0.003."""
    f = 1.2
    file = _table(tmp_path, [(2022, 1, 1, 1, 1), (2023, f, f, f, f)], "f.csv")
    cfg = _with(load_config("baseline", TWO_YEARS), file=file)
    demand = CareSystemModel(cfg).demand
    (a1, b1), (a2, b2) = year_bounds(cfg.run.warmup_days, cfg.run.total_days)
    # drawn in one go from day 0, as the model does, so the streams run in time order
    times, _, _ = demand.candidates(0, b2)
    day = times // 24
    n1 = float(((day >= a1) & (day < b1)).sum())
    n2 = float(((day >= a2) & (day < b2)).sum())
    e1 = demand.headroom * sum(demand.expected_per_day(d).sum() for d in range(a1, b1))
    e2 = demand.headroom * sum(demand.expected_per_day(d).sum() for d in range(a2, b2))
    assert abs(_poisson_ratio_z(n1, n2, e1, e2)) < Z, (n1, n2, e1, e2)


def test_growth_of_one_band_moves_the_age_mix_of_crises(tmp_path: Path) -> None:
    """85+ doubling in year 2: the candidates' age bands are multinomial with the
    shares of the strata's crisis rates, size x rate per person (analytic); each
    band's count is within 4 sd of its expectation, and the 85+ share rises as
    2w/(W + w) predicts."""
    file = _table(tmp_path, [(2022, 1, 1, 1, 1), (2023, 1, 1, 1, 2)], "old.csv")
    cfg = _with(load_config("baseline", TWO_YEARS), file=file)
    model = CareSystemModel(cfg)
    demand, strata = model.demand, model.strata
    rate = demand.stratum_rate_per_year  # size x rate per person, base year
    by_band = np.bincount(strata.age, weights=rate, minlength=4)
    share1 = by_band / by_band.sum()
    grown = by_band * np.array([1, 1, 1, 2])
    share2 = grown / grown.sum()
    assert share2[3] == pytest.approx(2 * share1[3] / (1 + share1[3]))
    (a1, b1), (a2, b2) = year_bounds(cfg.run.warmup_days, cfg.run.total_days)
    times, chosen, _ = demand.candidates(0, b2)
    day = times // 24
    for (a, b), share in (((a1, b1), share1), ((a2, b2), share2)):
        ages = strata.age[chosen[(day >= a) & (day < b)]]
        n = ages.size
        counts = np.bincount(ages, minlength=4)
        z = (counts - n * share) / np.sqrt(n * share * (1 - share))
        assert (np.abs(z) < Z).all(), (AGE_BANDS, counts, n * share)
    # and the model's own year-2 weights say the same
    w2 = np.diff(np.concatenate([[0.0], demand.year_cum_weights[1]]))
    assert np.bincount(strata.age, weights=w2, minlength=4) == pytest.approx(share2, abs=1e-12)


def test_the_frailty_drift_is_a_markov_shift(tmp_path: Path) -> None:
    mix = np.array([0.5, 0.3, 0.15, 0.05])
    s = 0.1
    after = frailty_mix(mix, s, 3)
    assert after.sum() == pytest.approx(1.0)
    assert after[0] == pytest.approx(0.5 * 0.9**3)  # the fit only ever leave
    step = np.eye(4) * (1 - s) + np.eye(4, k=1) * s
    step[3, 3] = 1.0
    assert after == pytest.approx(mix @ np.linalg.matrix_power(step, 3))
    cfg = load_config("baseline", ["run.years=3", "run.warmup_days=0"])
    shift = AgeProbabilities(0.0, 0.0, 0.0, s)
    strata = CareSystemModel(cfg).strata
    sizes = population_by_year(
        strata,
        dataclasses.replace(cfg.population.projection, frailty_shift_per_year=shift),
        cfg.run,
    )
    assert sizes is not None and sizes.shape == (3, len(strata))
    assert sizes.sum(axis=1) == pytest.approx(strata.size.sum())  # no one added or lost
    oldest = (strata.age == 3) & ~strata.care_home
    for y in range(3):
        by_frailty = np.bincount(strata.frailty[oldest], weights=sizes[y][oldest], minlength=4)
        start = np.bincount(strata.frailty[oldest], weights=strata.size[oldest], minlength=4)
        assert by_frailty / by_frailty.sum() == pytest.approx(
            frailty_mix(start / start.sum(), s, y)
        )
    others = ~oldest
    assert (sizes[:, others] == strata.size[others]).all()


# ----------------------------------------------------------------------------- outputs
@pytest.fixture(scope="module")
def phased() -> tuple[Config, ReplicationResult]:
    """Two years of the default projection with the MDT scenario, live everywhere
    from the first day of year 2."""
    cfg = _tiny(scenario="mdt")
    rollout = Rollout(phases=(Phase((), 365),))
    cfg = dataclasses.replace(cfg, mdt=dataclasses.replace(cfg.mdt, rollout=rollout))
    cfg = _with(cfg, file=DEFAULT_TABLE)
    return cfg, run_replication(cfg)


def test_the_years_add_up_to_the_whole_run(phased: tuple[Config, ReplicationResult]) -> None:
    cfg, res = phased
    years, k = _years(res), res.kpis
    assert years["year"].tolist() == [1, 2] and years["days"].tolist() == [365, 365]
    assert years["start_date"].tolist() == ["2019-04-21", "2020-04-20"]
    for name in (
        "crises",
        "ae_attendances",
        "emergency_admissions",
        "readmissions_30d",
        "mdt_reviews",
    ):
        assert years[name].sum() == k[name], name
    for name in ("bed_days", "dtoc_days", "nctr_days", "cost_total", "cost_nhs", "boarding_hours"):
        assert years[name].sum() == pytest.approx(k[name], rel=1e-9), name
    # each year's population is the configured one with each band scaled by the table
    strata = CareSystemModel(cfg).strata
    by_band = np.bincount(strata.age, weights=strata.size, minlength=4)
    table = load(DEFAULT_TABLE).values
    expected = [by_band @ (table[y] / table[0]) for y in (0, 1)]
    assert years["registered"].tolist() == pytest.approx(expected, rel=1e-12)
    # and rates per 1,000 are set against it
    for _, row in years.iterrows():
        assert row["crises_per_1000_pop"] == pytest.approx(row["crises"] / row["registered"] * 1000)


def test_a_phased_roll_out_shows_year_by_year(phased: tuple[Config, ReplicationResult]) -> None:
    years = _years(phased[1])
    assert years["mdt_reviews"].iloc[0] == 0 and years["mdt_caseload_mean"].iloc[0] == 0
    assert years["mdt_reviews"].iloc[1] > 0 and years["mdt_caseload_mean"].iloc[1] > 0
    schedule = RolloutSchedule(
        Rollout(phases=(Phase(("A",), 365), Phase(("B",), 730))), ("A", "B"), 20
    )
    assert not schedule.live(0, (20 + 364) * 24.0) and schedule.live(0, (20 + 365) * 24.0)
    assert not schedule.live(1, (20 + 729.9) * 24.0) and schedule.live(1, (20 + 730) * 24.0)


def test_a_part_year_is_its_own_row() -> None:
    cfg = _tiny(["run.years=1.5", "run.warmup_days=10", "run.replications=1"], share=40)
    res = run_replication(cfg)
    assert measured_years(cfg.run) == 2
    assert _years(res)["days"].tolist() == [365, cfg.run.measured_days - 365]
    assert _years(res)["crises"].sum() == res.kpis["crises"]


def test_years_are_cached_and_saved(
    phased: tuple[Config, ReplicationResult], tmp_path: Path
) -> None:
    cfg, res = phased
    path = tmp_path / "rep.npz"
    cache.save(path, res)
    back = cache.load(path)
    assert back is not None and back.years is not None
    pd.testing.assert_frame_equal(back.years, _years(res))
    written = {p.name for p in RunResult(cfg, [res]).save(tmp_path / "out")}
    assert "years.csv" in written
    one_year = dataclasses.replace(res, years=None)
    assert "years.csv" not in {p.name for p in RunResult(cfg, [one_year]).save(tmp_path / "one")}


# ----------------------------------------------------------------------------- around the run
def test_the_configuration_hash_follows_the_table_content(tmp_path: Path) -> None:
    file = _table(tmp_path, [(2022, 1, 1, 1, 1), (2023, 1, 1, 1, 2)], "t.csv")
    cfg = _with(load_config("baseline", []), file=file)
    before = config_hash(cfg, per_replication=True)
    Path(file).write_text(HEADER + "2022,1,1,1,1\n2023,1,1,1,3\n")
    assert config_hash(cfg, per_replication=True) != before


def test_a_bad_table_stops_the_batch_before_it_runs(tmp_path: Path) -> None:
    file = _table(tmp_path, [(2022, 1, 1, 1, 1)], "one_year.csv")
    cfg = _with(load_config("baseline", TWO_YEARS), file=file)
    with pytest.raises(ConfigError, match=r"run.years: got 2; allowed: at most 1 measured"):
        run_many([cfg])


def test_nsim_exits_with_status_2_on_a_bad_table(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "2022,100,10,5,2\n2023,100,10,5,-3\n")
    out = tmp_path / "out"
    res = _nsim(
        "scenario=years_ahead",
        f"population.projection.file={bad}",
        "run.replications=1",
        "run.n_jobs=1",
        "report=false",
        f"hydra.run.dir={out}",
        cwd=tmp_path,
    )
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert f"{bad}, line 3, column age_85_plus: got '-3'" in res.stderr
    assert not out.exists() or not any(p.suffix == ".csv" for p in out.rglob("*"))


def test_the_scenario_runs_five_projected_years_with_mdt_in_years_2_and_3() -> None:
    cfg = load_config("years_ahead", [])
    assert cfg.run.years == 5 and cfg.mdt.enabled
    assert [p.start_day for p in cfg.mdt.rollout.phases] == [365, 730]
    live = RolloutSchedule(cfg.mdt.rollout, tuple(n.name for n in cfg.population.neighbourhoods), 0)
    assert sorted(set(live.start_hours)) == [365 * 24.0, 730 * 24.0]
    demand = CareSystemModel(cfg).demand
    assert demand.n_years == 5
    assert np.all(np.diff(demand.year_rate_per_hour) > 0)  # demand grows every year
