"""Command-line tools for what the evidence does not know, and for fitting to data.

``nsim-sensitivity [SCENARIO] [OVERRIDES...] --method oneway|morris|sobol``
    Which uncertain parameters move an outcome (a scenario's KPI, or with
    ``--baseline`` its paired effect): the tornado table and chart (one-way),
    Morris screening or Sobol indices (SALib) with bootstrap CIs and a bar chart.
``nsim-calibrate TARGETS [SCENARIO] [OVERRIDES...] --params a,b``
    History matching to a planner's observed figures (see
    :mod:`sim.experiment.calibration`): the plausible parameter sets, a fit
    table and plot, and a calibrated scenario file.

Both write under ``outputs/`` (``outputs/sensitivity/<scenario>/<timestamp>``,
``outputs/calibration/<scenario>/<timestamp>``) unless ``--out`` says where, and
stop with exit status 2, before any simulation, on a mistake in the arguments,
the configuration or the targets.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sim.commands.tools import _fail, _parse, _parser, _positive, output_folder
from sim.config import Config, ConfigError, load_config


def _jobs(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--n-jobs", type=int, default=-1, help="worker processes (-1: one per core)")
    ap.add_argument(
        "--backend",
        choices=["loky", "dask"],
        default="loky",
        help="loky: local processes; dask: the distributed.Client started by the scheduler "
        "address in --scheduler",
    )
    ap.add_argument("--scheduler", help="a Dask scheduler address (with --backend dask)")


def _client(args: argparse.Namespace) -> object | None:
    """A Dask client when asked for (a LocalCluster if no scheduler is given)."""
    if args.backend != "dask":
        return None
    from distributed import Client, LocalCluster

    if args.scheduler:
        return Client(args.scheduler)
    return Client(LocalCluster(n_workers=max(1, args.n_jobs), threads_per_worker=1))


def sensitivity_main(argv: list[str] | None = None) -> None:
    """``nsim-sensitivity``: one-way, Morris or Sobol sensitivity of one outcome."""
    prog = "nsim-sensitivity"
    ap = _parser(prog, "Which uncertain parameters move an outcome (or an effect).")
    ap.add_argument("--method", choices=["oneway", "morris", "sobol"], default="oneway")
    ap.add_argument("--baseline", help="compare with this scenario: the outcome is the effect")
    ap.add_argument(
        "--metric",
        default="emergency_admissions",
        help="the KPI (comma-separated for oneway: a tornado per KPI)",
    )
    ap.add_argument(
        "--params", help="comma-separated parameters (default: all in uncertainty.parameters)"
    )
    ap.add_argument("--replications", type=_positive, default=2, help="per design point")
    ap.add_argument("--samples", type=_positive, default=64, help="Sobol base samples (N)")
    ap.add_argument("--trajectories", type=_positive, default=10, help="Morris trajectories")
    ap.add_argument("--out", help="folder for tables and charts")
    _jobs(ap)
    args = _parse(ap, argv)
    params = args.params.split(",") if args.params else None
    metrics = [m.strip() for m in args.metric.split(",") if m.strip()]
    try:
        scen = load_config(args.scenario, args.overrides)
        base = load_config(args.baseline, args.overrides) if args.baseline else None
        from sim.experiment.parameters import ParameterSpace

        ParameterSpace.of(scen, params)  # unknown parameters stop it here
    except ConfigError as exc:
        _fail(prog, exc)
    from sim.outputs import schema

    for m in metrics:
        if not schema.documented(m):
            _fail(prog, f"--metric: got {m!r}; allowed: a KPI name (see docs/outputs.md)")
    if args.method != "oneway" and len(metrics) > 1:
        _fail(prog, f"--metric: got {args.metric!r}; allowed: one KPI for {args.method}")
    out = output_folder("sensitivity", args.scenario, args.out, prog)
    client = _client(args)
    common = {"n_jobs": args.n_jobs, "backend": args.backend, "progress": None}
    try:
        _sensitivity(args, scen, base, params, metrics, out, common)
    except ConfigError as exc:  # a design point the model cannot take
        if not any(out.iterdir()):  # nothing half-written: no empty folder either
            out.rmdir()
        _fail(prog, exc)
    finally:
        if client is not None:
            client.close()  # type: ignore[attr-defined]
    print(f"\noutputs in {out}")


def _sensitivity(
    args: argparse.Namespace,
    scen: Config,
    base: Config | None,
    params: list[str] | None,
    metrics: list[str],
    out: Path,
    common: dict[str, Any],
) -> None:
    """Run the chosen analysis and write its table and chart to ``out``."""
    from sim.experiment import sensitivity as sa
    from sim.outputs.writers import write_table
    from sim.report import plots
    from sim.report import uncertainty as ru

    if args.method == "oneway":
        res = sa.one_way(scen, metrics, base, params, args.replications, **common)
        table = res.table()
        write_table(table, out, "oneway")
        for m in metrics:
            plots.write_figure(ru.tornado(res, m), out, f"tornado_{m}")
        print(table.to_string(index=False))
    else:
        if args.method == "morris":
            g = sa.morris(
                scen,
                metrics[0],
                base,
                params,
                args.trajectories,
                replications=args.replications,
                **common,
            )
        else:
            g = sa.sobol(
                scen,
                metrics[0],
                base,
                params,
                args.samples,
                replications=args.replications,
                **common,
            )
        write_table(g.indices, out, args.method)
        what = f"effect on {metrics[0]}" if base is not None else metrics[0]
        plots.write_figure(
            ru.indices(g.indices, f"{args.method.title()} indices: {what}"), out, args.method
        )
        print(g.indices.to_string(index=False))


def calibrate_main(argv: list[str] | None = None) -> None:
    """``nsim-calibrate``: fit chosen parameters to observed targets."""
    from sim.commands.calibrate import main

    main(argv)


if __name__ == "__main__":  # pragma: no cover
    sensitivity_main(sys.argv[1:])
