"""Calibration by history matching (sim.experiment.calibration, nsim-calibrate).

The known truth is the model itself: targets are made by running it at chosen
parameter values, and the matching must find those values again. Failures must
be reported (a target no parameter set reaches), and bad targets files stop the
command with exit status 2 and a message naming the field.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.commands.calibrate import main
from sim.config import load_config
from sim.config.loading import config_dir
from sim.experiment.calibration import (
    CalibrationResult,
    history_match,
    load_targets,
    write_scenario,
)
from sim.experiment.parameters import ParameterSpace, apply
from sim.experiment.runner import map_jobs, run_kpis

AGES = ("age_0_64", "age_65_74", "age_75_84", "age_85_plus")
#: two parameter groups, each one coordinate: A&E conversion (group "admit") and
#: the clinical length of stay (group "los"), every age band moving together
ADMIT = [f"ae.admit_probability.{a}" for a in AGES]
LOS = [f"acute.los_mean_days.{a}" for a in AGES]
#: their priors (docs/uncertainty.md: not sampled by default, since a borough's
#: own activity data fixes them; calibration is how)
PRIORS = [
    "+uncertainty.parameters.ae={admit_probability: {"
    + ", ".join(
        f"{a}: {{dist: beta, mean: {m}, sd: 0.025, group: admit}}"
        for a, m in zip(AGES, (0.21, 0.40, 0.45, 0.50), strict=True)
    )
    + "}}",
    "+uncertainty.parameters.acute={los_mean_days: {"
    + ", ".join(
        f"{a}: {{dist: lognormal, median: {m}, sigma: 0.05, group: los}}"
        for a, m in zip(AGES, (2.6, 5.0, 6.0, 7.0), strict=True)
    )
    + "}}",
]
#: short runs: 36 measured days after 20 days of warm-up (about 0.5 s each)
SHORT = ["run.years=0.1", "run.warmup_days=20", *PRIORS]
#: the truth, in the unit cube: the 15% quantile of the admit group's priors and
#: the 80% quantile of the stay group's; for the 85+ bands that is an admit
#: probability of 0.474 (prior beta mean 0.50, sd 0.025) and a mean stay of
#: 7.30 days (prior lognormal median 7.0, sigma 0.05)
TRUTH_UNIT = (0.15, 0.80)
TARGETS = ("emergency_admissions", "bed_days", "mean_los_days")


def _write(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def recovered(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[CalibrationResult, dict[str, float]]:
    """History matching of the admit and stay groups to figures the model made at
    known values (the truth), and the truth.

    The observed figures are the mean of 8 replications at the truth (model
    replications 100-107, none of those the matching runs), each with the sd of
    that mean as its uncertainty (how well the figure is known); the matching
    adds a year's own chance variation, one run's variance, itself. So the
    comparison noise is sqrt(V_run / 8 + V_run (1 + 1/2)), about 1.27 one-run
    sd. Counts are stated per 365 days, so the matching must rescale its 36
    measured days.
    """
    cfg = load_config("baseline", SHORT)
    space = ParameterSpace.of(cfg, ADMIT + LOS)
    truth = dict(zip(space.keys, map(float, space.values(np.array([TRUTH_UNIT]))[0]), strict=True))
    jobs = [(apply(cfg, truth), 100 + r) for r in range(8)]
    runs = [k for _, _, k in map_jobs(run_kpis, jobs, n_jobs=2)]
    per_year = 365 / cfg.run.measured_days
    targets = {}
    for t in TARGETS:
        x = np.array([k[t] for k in runs]) * (per_year if t != "mean_los_days" else 1.0)
        targets[t] = {"observed": float(x.mean()), "sd": float(x.std(ddof=1) / np.sqrt(len(x)))}
    path = _write(
        tmp_path_factory.mktemp("targets") / "truth.yaml", {"period_days": 365, "targets": targets}
    )
    result = history_match(
        cfg, load_targets(path), ADMIT + LOS, points=16, replications=2, waves=2, n_jobs=2
    )
    return result, truth


@pytest.mark.slow  # long: runs in the slow set (-m slow)
def test_recovers_known_parameters(recovered: tuple[CalibrationResult, dict[str, float]]) -> None:
    """The truth lies inside the plausible set's range, and the best point is near it.

    Tolerances, from the model's response at the truth (a least-squares fit over
    the points of one matching; one-year figures): one prior sd of the admit
    group (+0.025 on every band) adds ~2,800 emergency admissions (11%), against
    a comparison noise of ~700 (1.27 one-run sd, above), so the evidence places
    the group to ~0.25 prior sd; the best point is asked to be within two such
    noise units, 0.5 prior sd (0.0125 on the 85+ band). One prior sd of the stay
    group (+5% on every band) adds only ~5,500 bed days (noise ~5,100) and
    ~0.16 days of mean stay (noise ~0.16; delays and waits do not scale with it),
    ~0.65 prior sd per noise unit: two units are ~1.3 prior sd, 0.5 day on the
    85+ band. The plausible range of the admit group must also be narrower than
    half the prior's central 95% (2 prior sd), since the targets bound
    admissions to +-3 noise units, about +-0.75 prior sd.
    """
    result, truth = recovered
    assert not result.unreachable
    ok = result.plausible
    assert len(ok) >= 3
    ranges = result.ranges()
    for key in (ADMIT[-1], LOS[-1], ADMIT[0], LOS[0]):
        lo, hi = ranges[key]
        assert lo <= truth[key] <= hi, (key, truth[key], lo, hi)
    best = result.best_values()
    assert best[ADMIT[-1]] == pytest.approx(truth[ADMIT[-1]], abs=0.0125)
    assert best[LOS[-1]] == pytest.approx(truth[LOS[-1]], abs=0.5)
    lo, hi = ranges[ADMIT[-1]]
    assert hi - lo < 2 * 0.025
    fit = result.fit().set_index("target")
    assert (fit["within"] == "yes").all()
    assert fit.loc["emergency_admissions", "scale"] == pytest.approx(365 / 36)
    assert fit.loc["mean_los_days", "scale"] == 1.0
    # every point of wave 2 lies in the box the plausible points of wave 1 span
    w1 = result.points[(result.points["wave"] == 1) & result.points["plausible"]]
    w2 = result.points[result.points["wave"] == 2]
    assert not w1.empty and not w2.empty
    for col in ("unit:admit", "unit:los"):
        pad = max(0.1 * (w1[col].max() - w1[col].min()), 1 / 12) + 1e-12
        assert w2[col].min() >= w1[col].min() - pad
        assert w2[col].max() <= w1[col].max() + pad


def test_calibrated_scenario_loads_and_sets_values(
    recovered: tuple[CalibrationResult, dict[str, float]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The written scenario, copied into a config folder's scenario/, loads by name
    and sets the best values (to the 6 significant figures written), per fitted
    parameter a uniform distribution over the plausible values, and the plausible
    sets themselves, which a PSA draws whole."""
    result, _ = recovered
    configs = tmp_path / "configs"
    shutil.copytree(config_dir(), configs)
    out = write_scenario(result, tmp_path / "calibrated.yaml", "truth_calibrated")
    assert out.read_text(encoding="utf-8").startswith("# @package _global_\n")
    shutil.copy(out, configs / "scenario" / "truth_calibrated.yaml")
    monkeypatch.setenv("NSIM_CONFIG_DIR", str(configs))
    cfg = load_config("truth_calibrated")
    assert cfg.name == "truth_calibrated"
    best, ranges = result.best_values(), result.ranges()
    tree = cfg.uncertainty.parameters
    for key in ADMIT + LOS:
        block, field, band = key.split(".")
        value = getattr(getattr(cfg.block(block), field), band)
        assert value == pytest.approx(best[key], rel=1e-5)
        d = tree[key]
        assert d.dist == "uniform"
        assert (d.low, d.high) == pytest.approx(ranges[key], rel=1e-5)
        assert d.group == ("admit" if key in ADMIT else "los")
        assert "history matching" in d.source
    # a PSA of the calibrated scenario draws inside the plausible ranges
    space = ParameterSpace.of(cfg, ADMIT + LOS)
    drawn = space.values(np.array([[0.0, 0.0], [1.0, 1.0]]))
    for j, key in enumerate(space.keys):
        lo, hi = ranges[key]
        assert lo * (1 - 1e-5) <= drawn[:, j].min() and drawn[:, j].max() <= hi * (1 + 1e-5)
    # the plausible sets themselves, for the PSA to draw whole
    sets = cfg.uncertainty.sets
    assert list(sets.columns) == ADMIT + LOS
    assert len(sets.rows) == len(result.plausible)
    from sim.experiment.psa import parameter_sets

    _, table = parameter_sets(cfg, draws=2 * len(sets.rows))
    drawn_rows = {tuple(r) for r in table[list(sets.columns)].to_numpy().tolist()}
    assert drawn_rows == {tuple(r) for r in sets.rows}
    # run settings are not part of the scenario: the defaults apply
    assert cfg.run == load_config("baseline").run


FAR = {
    "targets": {
        "emergency_admissions": {"observed": 270000, "tolerance": 0.05},
        "mean_los_days": {"observed": 4.3, "sd": 0.3},
    }
}
TINY_RUN = ["run.years=0.05", "run.warmup_days=10", *PRIORS]


def test_unreachable_target_is_reported(tmp_path: Path) -> None:
    """Ten times the model's emergency admissions cannot be reached by the stay
    group: it is named, with the closest simulated value, and no point is kept."""
    path = _write(tmp_path / "far.yaml", FAR)
    cfg = load_config("baseline", TINY_RUN)
    res = history_match(cfg, load_targets(path), LOS, points=3, replications=2, waves=2)
    assert res.plausible.empty
    assert [u.target for u in res.unreachable] == ["emergency_admissions"]
    u = res.unreachable[0]
    assert u.closest < 270000 / 5 and u.min_implausibility >= 3
    assert "below the observed figure" in u.reason
    assert res.notes and "wave 1" in res.notes[0]
    assert set(res.points["wave"]) == {1}  # stopped after the wave with nothing plausible
    with pytest.raises(ValueError, match="no plausible point"):
        write_scenario(res, tmp_path / "x.yaml")


def test_cli_prints_unreachable_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path / "far.yaml", FAR)
    out = tmp_path / "out"
    argv = [
        str(path),
        *TINY_RUN,
        "--params",
        LOS[-1],
        "--points",
        "3",
        "--n-jobs",
        "1",
        "--out",
        str(out),
    ]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 1
    printed = capsys.readouterr()
    assert "Targets not reached" in printed.out
    assert "emergency_admissions: no point came within 3 sd" in printed.out
    assert "no plausible parameter set" in printed.err
    for name in (
        "calibration_points.csv",
        "calibration_fit.csv",
        "calibration.png",
        "calibration.svg",
    ):
        assert (out / name).is_file()
    assert not (out / "calibrated.yaml").exists()


@pytest.mark.parametrize(
    ("targets", "field", "words"),
    [
        (
            {"emergency_admisions": {"observed": 1, "sd": 1}},
            "targets.emergency_admisions",
            "did you mean 'emergency_admissions'",
        ),
        ({"ae_attendances": {"sd": 5}}, "targets.ae_attendances.observed", "missing"),
        (
            {"mean_los_days": {"observed": 6.1, "sd": 0.3, "tolerance": 0.1}},
            "targets.mean_los_days.sd",
            "exactly one of sd",
        ),
        ({"mean_los_days": {"observed": 6.1}}, "targets.mean_los_days.sd", "exactly one of sd"),
        ({"bed_days": {"observed": 9, "sd": 0}}, "targets.bed_days.sd", "a number > 0"),
        (
            {"mean_bed_occupancy": {"observed": 90, "sd": 1}},
            "targets.mean_bed_occupancy.observed",
            "a share from 0 to 1",
        ),
        ({"events": {"observed": 9, "sd": 1}}, "targets.events", "measured over the period"),
    ],
)
def test_bad_targets_file_exits_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    targets: dict[str, object],
    field: str,
    words: str,
) -> None:
    """A mistake in the targets file stops the command before any run, with exit
    status 2, no traceback, and the field, the file and its line named."""
    path = _write(tmp_path / "t.yaml", {"period_days": 365, "targets": targets})
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main([str(path), "--params", ADMIT[-1], "--out", str(out)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"{field}:" in err and words in err
    # the line named is the field's own, or its target's when the field is missing
    found = re.search(r"t\.yaml, line (\d+)", err)
    assert found is not None, err
    line = path.read_text(encoding="utf-8").splitlines()[int(found.group(1)) - 1]
    assert field.split(".")[-1] in line or field.split(".")[1] in line
    assert "Traceback" not in err
    assert not out.exists()  # nothing written


def test_bad_params_and_priors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "t.yaml", {"targets": {"dtoc_days": {"observed": 5000, "sd": 500}}})
    with pytest.raises(SystemExit) as exc:
        main([str(path), "--params", "readmission.probability.age_85_pls"])
    assert exc.value.code == 2
    assert "did you mean 'readmission.probability.age_85_plus'" in capsys.readouterr().err
    # a capacity has no distribution in configs/config.yaml: the targets file gives one
    path = _write(
        tmp_path / "p.yaml",
        {
            "targets": {"dtoc_days": {"observed": 5000, "sd": 500}},
            "priors": {
                "discharge": {
                    "reablement": {"capacity": {"dist": "uniform", "low": 120, "high": 40}}
                }
            },
        },
    )
    with pytest.raises(SystemExit) as exc:
        main([str(path), "--params", "discharge.reablement.capacity"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "priors.discharge.reablement.capacity.high" in err and "p.yaml, line" in err


def test_targets_file_reading(tmp_path: Path) -> None:
    """A relative tolerance is 2 sd; totals (not means or shares) are rescaled."""
    path = _write(
        tmp_path / "t.yaml",
        {
            "scenario": "treat",
            "period_days": 365,
            "targets": {
                "ae_attendances": {"observed": 78000, "tolerance": 0.05},
                "mean_los_days": {"observed": 6.1, "sd": 0.3},
                "mean_bed_occupancy": {"observed": 0.9, "sd": 0.02},
                "dtoc_days_social_care": {"observed": 4000, "sd": 400},
            },
        },
    )
    t = load_targets(path)
    assert t.scenario == "treat"
    by = {x.kpi: x for x in t.targets}
    assert by["ae_attendances"].sd == pytest.approx(78000 * 0.05 / 2)
    assert {k for k, x in by.items() if x.total} == {"ae_attendances", "dtoc_days_social_care"}
    cfg = load_config("baseline", SHORT)
    assert t.scale(cfg)["ae_attendances"] == pytest.approx(365 / 36)
    assert t.scale(cfg)["mean_los_days"] == 1.0


def test_overloaded_points_are_ruled_out_however_close(tmp_path: Path) -> None:
    """Five to ten reablement places for a borough that needs ~180: the queue for
    reablement grows without bound, so however loose the target (here +-250% of
    the figure) no point is plausible, and the reason says overload."""
    data = {
        "targets": {"mean_delayed_patients": {"observed": 40, "tolerance": 5.0}},
        "priors": {
            "discharge": {"reablement": {"capacity": {"dist": "uniform", "low": 5, "high": 10}}}
        },
    }
    path = _write(tmp_path / "loose.yaml", data)
    # the place model of pathway 1, whose places the prior varies
    cfg = load_config("baseline", [*TINY_RUN, "discharge.p1_visits.enabled=false"])
    res = history_match(
        cfg,
        load_targets(path),
        ["discharge.reablement.capacity"],
        points=3,
        replications=2,
        waves=1,
    )
    assert (res.points["max_implausibility"] < 3).all()
    assert (res.points["overload"] != "").all()
    assert res.plausible.empty
    assert "overloaded" in res.unreachable[0].reason
