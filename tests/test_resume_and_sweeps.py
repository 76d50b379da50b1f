"""Resume without loss, Hydra sweeps, collection into one table, run metadata."""

from __future__ import annotations

import json
import math
import pickle
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim.experiment.metadata as metadata
import sim.experiment.runner as runner
from sim.commands.collect import write
from sim.config import load_config
from sim.experiment import cache
from sim.experiment.collect import collect
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
    cached = sorted(tmp_path.rglob("rep_*.npz"))
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


def _same_result(a: runner.ReplicationResult, b: runner.ReplicationResult) -> None:
    """Equal value for value and type for type (NaN equal to NaN)."""
    assert (a.scenario, a.replication, a.seed) == (b.scenario, b.replication, b.seed)
    assert list(a.kpis) == list(b.kpis)
    for k, v in a.kpis.items():
        w = b.kpis[k]
        assert type(v) is type(w) and (v == w or (math.isnan(v) and math.isnan(w))), k
    for name in ("daily", "neighbourhoods", "events"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None)
        if x is not None:
            pd.testing.assert_frame_equal(x, y, check_exact=True)
            assert list(x.dtypes.astype(str)) == list(y.dtypes.astype(str))
    assert a.streams == b.streams and a.in_system == b.in_system
    assert a.wall_seconds == b.wall_seconds


def test_cached_replication_round_trips_exactly(tmp_path) -> None:
    """A replication read back from the cache equals the one that was run, and the
    outputs written from it are the same files, byte for byte."""
    cfg = load_config("integrated", [*TINY, "run.event_log=true"])
    fresh = runner.run_many([cfg], cache_dir=tmp_path / "cache")["integrated"]
    assert len(list((tmp_path / "cache").rglob("rep_*.npz"))) == 2
    again = runner.run_many([cfg], cache_dir=tmp_path / "cache")["integrated"]
    for a, b in zip(fresh.replications, again.replications, strict=True):
        _same_result(a, b)
    fresh.save(tmp_path / "a")
    again.save(tmp_path / "b")
    names = sorted(p.name for p in (tmp_path / "a").iterdir() if p.name != "run.json")
    assert "events.csv" in names and "daily.csv" in names
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_cache_with_missing_text_values_round_trips(tmp_path) -> None:
    """Text columns with missing values (None or NaN) come back as they were."""
    frame = pd.DataFrame(
        {
            "a": pd.Series(["x", None, "z"], dtype=object),
            "b": pd.Series(["x", np.nan, "z"], dtype=object),
            "n": [1, 2, 3],
            "f": [0.1, np.nan, np.inf],
            "t": [True, False, True],
        }
    )
    res = runner.ReplicationResult(
        "s", 0, 1, {"k": float("nan"), "j": 1.5}, frame, frame.iloc[:0], None, ["a"], {}, 0.1
    )
    path = tmp_path / "r.npz"
    cache.save(path, res)
    _same_result(res, cache.load(path))


def test_cache_is_keyed_on_the_code_version(tmp_path, monkeypatch, capsys) -> None:
    """After a change to the model's code, cached replications are not reused (and
    the run says why)."""
    cfg = load_config("baseline", TINY)
    runner.run_many([cfg], cache_dir=tmp_path)
    assert "reusing" not in capsys.readouterr().err
    runner.run_many([cfg], cache_dir=tmp_path)
    assert "reusing 2 finished replication(s)" in capsys.readouterr().err
    monkeypatch.setattr(metadata, "code_key", lambda: "0.1.0-changedsource")
    calls = _count_replications(monkeypatch)
    runner.run_many([cfg], cache_dir=tmp_path)
    assert calls == [0, 1]
    assert "made by another code version" in capsys.readouterr().err


def test_source_hash_follows_the_source(tmp_path) -> None:
    src = Path(metadata.__file__).resolve().parents[1]
    copy = tmp_path / "sim"
    shutil.copytree(src, copy, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    before = metadata.tree_hash(copy)
    assert before == metadata.source_hash()
    with (copy / "acute.py").open("a") as f:
        f.write("\n# a change\n")
    assert metadata.tree_hash(copy) != before
    assert metadata.source_hash() in metadata.code_version()


class _Boom:
    """Unpickling this would create a file: proof that a pickle was loaded."""

    def __init__(self, flag: str) -> None:
        self.flag = flag

    def __reduce__(self):
        return (Path.touch, (Path(self.flag),))


def test_old_pickle_caches_are_never_loaded(tmp_path, capsys) -> None:
    """A pickle in a shared cache folder is never unpickled: it is ignored, said once."""
    cfg = load_config("baseline", TINY)
    flag = tmp_path / "pickle-was-loaded"
    old_dir = cache.entry_dir(tmp_path / "cache", cfg).parent
    old_dir.mkdir(parents=True)
    (old_dir / "rep_00000.pkl").write_bytes(pickle.dumps(_Boom(str(flag))))
    res = runner.run_many([cfg], cache_dir=tmp_path / "cache")["baseline"]
    assert len(res.replications) == 2 and not flag.exists()
    err = capsys.readouterr().err
    assert err.count("cached as pickle files") == 1
    # nor does an .npz that holds a pickled object array: it is recomputed
    entry = cache.entry_path(tmp_path / "cache", cfg, 0)
    with entry.open("wb") as f:
        np.savez(f, meta=np.array([_Boom(str(flag))], dtype=object))
    assert cache.load(entry) is None and not flag.exists()


def test_nsim_resume_gives_the_same_files_as_a_fresh_run(tmp_path) -> None:
    """An interrupted run, resumed in its folder, writes what a fresh run writes."""
    args = [*TINY, "run.replications=3", "compare=[]", "report=false", "run.n_jobs=1"]
    fresh, resumed = tmp_path / "fresh", tmp_path / "resumed"
    assert _nsim(*args, f"hydra.run.dir={fresh}", cwd=tmp_path).returncode == 0
    assert _nsim(*args, f"hydra.run.dir={resumed}", cwd=tmp_path).returncode == 0
    # as if killed after two replications: outputs gone, one cached replication gone
    for p in resumed.iterdir():
        if p.is_file():
            p.unlink()
    sorted(resumed.rglob("rep_*.npz"))[-1].unlink()
    again = _nsim(*args, f"hydra.run.dir={resumed}", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "reusing 2 finished replication(s)" in again.stderr
    assert "same configuration and code version" in again.stderr
    for p in sorted(fresh.glob("*.csv")):
        assert p.read_bytes() == (resumed / p.name).read_bytes(), p.name
    # results of another code version in the folder: never passed off as current
    meta = json.loads((resumed / "run.json").read_text())
    meta["code_key"] = "0.0.1-oldsource"
    (resumed / "run.json").write_text(json.dumps(meta))
    old = _nsim(*args, f"hydra.run.dir={resumed}", cwd=tmp_path)
    assert old.returncode == 2 and "another code version" in old.stderr
    assert "Traceback" not in old.stderr


@pytest.mark.slow  # long: runs in the slow set (-m slow)
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


@pytest.mark.slow  # long: runs in the slow set (-m slow)
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


def test_collect_keeps_the_tidy_table_of_a_seed_sweep(tmp_path: Path, capsys) -> None:
    """Jobs run with different seeds cannot be paired, but their results can be
    gathered: nsim-collect writes the tidy table and says why there is no comparison."""
    sweep = tmp_path / "sw"
    res = _nsim(
        "-m",
        "run.seed=1,2",
        "compare=[]",
        "report=false",
        "run.years=0.02",
        "run.replications=1",
        "run.warmup_days=2",
        f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    written = write(sweep)
    assert "sweep.csv" in written and (sweep / "sweep.csv").exists()
    assert "sweep_comparison.csv" not in written
    assert "no paired comparison" in capsys.readouterr().err
