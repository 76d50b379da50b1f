"""Resume without loss, Hydra sweeps, collection into one table, run metadata."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import sim.experiment.runner as runner
from sim.config import load_config
from sim.experiment.collect import collect, write
from tests.conftest import TINY
from tests.conftest import nsim as _nsim


def _count_replications(monkeypatch) -> list[int]:
    """From now on, the replication numbers the runner actually computes."""
    calls: list[int] = []
    real = runner.run_replication

    def counting(c, r):
        calls.append(r)
        return real(c, r)

    monkeypatch.setattr(runner, "run_replication", counting)
    return calls


def test_interrupted_batch_redoes_only_what_did_not_finish(tmp_path, monkeypatch) -> None:
    """A rerun with the same cache computes only the replications that are missing."""
    cfg = load_config("baseline", [*TINY, "run.replications=3"])
    first = runner.run_many([cfg], cache_dir=tmp_path)["baseline"]
    cached = sorted(tmp_path.rglob("rep_*.pkl"))
    assert len(cached) == 3
    cached[1].unlink()  # as if the run had been killed before replication 1 finished
    calls = _count_replications(monkeypatch)
    again = runner.run_many([cfg], cache_dir=tmp_path)["baseline"]
    assert calls == [1]
    pd.testing.assert_frame_equal(first.kpis, again.kpis)
    assert not list(tmp_path.rglob("*.tmp"))


def test_more_replications_reuse_the_ones_already_run(tmp_path, monkeypatch) -> None:
    """A replication does not depend on how many run: raising the number (as the
    precision rule does after choosing it) runs only the new ones."""
    few = load_config("baseline", TINY)
    runner.run_many([few], cache_dir=tmp_path)
    calls = _count_replications(monkeypatch)
    more = load_config("baseline", [*TINY, "run.replications=3"])
    runner.run_many([more], cache_dir=tmp_path)
    assert calls == [2]


def test_nsim_rerun_skips_and_never_overwrites_silently(tmp_path) -> None:
    out = tmp_path / "run"
    args = [*TINY, "compare=[]", f"hydra.run.dir={out}"]
    assert _nsim(*args, cwd=tmp_path).returncode == 0
    stamp = (out / "kpis.csv").stat().st_mtime_ns
    again = _nsim(*args, cwd=tmp_path)
    assert again.returncode == 0 and "nothing to do" in again.stderr
    assert (out / "kpis.csv").stat().st_mtime_ns == stamp
    other = _nsim(*args, "beds.acute=390", cwd=tmp_path)
    assert other.returncode == 2 and "another configuration" in other.stderr
    assert (out / "kpis.csv").stat().st_mtime_ns == stamp
    forced = _nsim(*args, "beds.acute=390", "run.overwrite=true", cwd=tmp_path)
    assert forced.returncode == 0
    assert "acute: 390" in (out / "config.yaml").read_text()


def test_run_metadata_has_stress_des_items(tmp_path) -> None:
    cfg = load_config("baseline", TINY)
    runner.run(cfg).save(tmp_path)
    meta = json.loads((tmp_path / "run.json").read_text())
    exp, impl = meta["stress_des"]["4_experimentation"], meta["stress_des"]["5_implementation"]
    assert exp["4.1_initialisation"]["warmup_days"] == 2
    assert exp["4.2_run_length"]["measured_days"] == cfg.run.measured_days
    assert exp["4.3_estimation"]["replications"] == 2
    assert impl["5.1_software"]["simpy"] and impl["5.4_system_specification"]["cores"]
    assert "acute.los" in impl["5.2_random_sampling"]["streams"]
    assert len(meta["wall_seconds_by_replication"]) == 2


def test_multirun_sweep_with_joblib_and_collect(tmp_path) -> None:
    """nsim -m over two factors runs in parallel; nsim-collect makes one tidy table."""
    sweep = tmp_path / "sweep"
    res = _nsim(
        "-m",
        "scenario=baseline,treat",
        "beds.acute=380,420",
        *TINY,
        f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    tidy = collect(sweep)
    assert set(tidy.columns) >= {
        "scenario",
        "overrides",
        "replication",
        "seed",
        "metric",
        "value",
        "code_version",
    }
    assert tidy["job"].nunique() == 4
    paths = write(sweep, report=True)
    assert paths["sweep.csv"].exists() and paths["sweep_report.html"].exists()
    comp = pd.read_csv(sweep / "sweep_comparison.csv")
    assert comp["scenario"].nunique() == 4
    # labels keep only what differs between jobs
    assert set(comp["scenario"]) == {
        f"beds.acute={b} scenario={s}" for b in (380, 420) for s in ("baseline", "treat")
    }


@pytest.mark.slow
def test_submitit_local_sweep(tmp_path) -> None:
    """The SLURM path, through submitit's local executor."""
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    sweep = tmp_path / "sweep"
    res = _nsim(
        "-m",
        "hydra/launcher=submitit_local",
        "scenario=baseline,treat",
        *TINY,
        f"hydra.sweep.dir={sweep}",
        "hydra.launcher.timeout_min=10",
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert collect(sweep)["job"].nunique() == 2


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_results() -> None:
    """Replications on a dask LocalCluster equal a serial run."""
    distributed = pytest.importorskip("distributed")

    cfg = load_config("baseline", TINY)
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster,
        distributed.Client(cluster),
    ):
        remote = runner.run_many([cfg], backend="dask")["baseline"]
    local = runner.run(cfg)
    pd.testing.assert_frame_equal(remote.kpis, local.kpis)
