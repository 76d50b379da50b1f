"""What parameter uncertainty costs: a PSA and a Sobol analysis, serial and on 2 workers.

Run:  python -m benchmarks.psa [--draws 1000] [--years 1] [--sobol-samples 16]
                               [--dask] [--out benchmarks/results]

It measures, in one run on this machine:

* a PSA of ``baseline`` against ``integrated`` (``--draws`` parameter sets, one
  replication each, ``--years`` measured after the usual warm-up) on one worker
  and on ``--workers`` (default 2): wall time, runs per second and the
  efficiency of the workers (speed-up / workers);
* a Sobol analysis of 8 parameter groups of TREAT's effect on admissions
  (``--sobol-samples`` base samples: ``N * (8 + 2)`` points, two runs each);
* with ``--dask``, the same PSA on a Dask ``LocalCluster`` of the same size,
  and whether its tables are identical to the serial run's.

A full 1,000-draw PSA takes a while: ``--draws 40`` measures the rate, from
which the time of 1,000 draws is projected (and said to be a projection).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from sim import build_info
from sim.config import load_config
from sim.experiment.psa import run_psa

SOBOL_PARAMS = [
    "treat.home_share",
    "treat.los_ratio",
    "readmission.probability.age_0_64",  # the group `readmit`: four age bands together
    "seven_day.acute_discharge_weekend_share",  # group `seven_day` (inert in this scenario)
    "costs.bed_day.unit_cost",  # costs do not change admissions: indices 0
    "costs.delayed_bed_day.unit_cost",
    "mdt.crisis_rate_ratio",  # inert in this scenario: its indices must be 0
    "pace.readmission_ratio",  # inert too
]


def _psa(
    draws: int, years: float, n_jobs: int, backend: str = "loky"
) -> tuple[float, pd.DataFrame]:
    cfgs = [load_config(s, [f"run.years={years}"]) for s in ("baseline", "integrated")]
    t = time.perf_counter()
    res = run_psa(cfgs, "baseline", draws, 1, n_jobs=n_jobs, backend=backend)
    return time.perf_counter() - t, res.runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=40)
    ap.add_argument("--years", type=float, default=1.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sobol-samples", type=int, default=8)
    ap.add_argument("--dask", action="store_true")
    ap.add_argument("--out", default="benchmarks/results")
    args = ap.parse_args()
    out: dict[str, object] = {
        "compiled": build_info.compiled(),
        "draws": args.draws,
        "years": args.years,
    }
    runs = 2 * args.draws
    t1, serial = _psa(args.draws, args.years, 1)
    tn, parallel = _psa(args.draws, args.years, args.workers)
    pd.testing.assert_frame_equal(serial, parallel)
    out["psa_serial_s"] = t1
    out["psa_parallel_s"] = tn
    out["runs_per_s_serial"] = runs / t1
    out["runs_per_s_parallel"] = runs / tn
    out["efficiency"] = (t1 / tn) / args.workers
    out["projected_1000_draws_parallel_min"] = tn / args.draws * 1000 / 60
    if args.dask:
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=args.workers, threads_per_worker=1) as cluster, Client(cluster):
            td, dask_runs = _psa(args.draws, args.years, args.workers, backend="dask")
        out["psa_dask_s"] = td
        out["dask_identical"] = bool(dask_runs.equals(serial))
    from sim.experiment.sensitivity import sobol

    cfg = load_config("treat", [f"run.years={args.years}"])
    base = load_config("baseline", [f"run.years={args.years}"])
    t = time.perf_counter()
    g = sobol(
        cfg,
        "emergency_admissions",
        base,
        SOBOL_PARAMS,
        args.sobol_samples,
        replications=1,
        n_jobs=args.workers,
    )
    out["sobol_points"] = len(g.runs.values)
    out["sobol_s"] = time.perf_counter() - t
    out["sobol_indices"] = g.indices.to_dict("records")
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "psa.json").write_text(json.dumps(out, indent=2))
    lines = ["| measure | value |", "|---|---|"]
    lines += [
        f"| {k} | {v:.3g} |" if isinstance(v, float) else f"| {k} | {v} |"
        for k, v in out.items()
        if k != "sobol_indices"
    ]
    (folder / "psa.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(g.indices.to_string(index=False))


if __name__ == "__main__":
    main()
