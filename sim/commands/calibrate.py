"""``nsim-calibrate``: fit uncertain parameters to a borough's observed figures.

``nsim-calibrate TARGETS [SCENARIO] [OVERRIDES...] --params a,b [--points 40]
[--replications 2] [--waves 2] [--cutoff 3] [--discrepancy 0] [--n-jobs -1] [--out DIR]``

History matching (:mod:`sim.experiment.calibration`): the parameters named in
``--params`` (keys of ``uncertainty.parameters``, or of the targets file's
``priors``) are sampled from their priors in waves, each point run with the same
replications, and every point whose simulated figures are all within
``--cutoff`` sd of the targets is kept. The scenario is the one given here, else
the targets file's ``scenario:``, else ``baseline``.

Writes, in ``--out`` (default ``outputs/calibration/<scenario>/<timestamp>``):
``calibration_points.csv`` (every point), ``calibration_fit.csv`` (the fit
table), ``calibration.png``/``.svg`` (the fit chart) and ``calibrated.yaml``
(the calibrated scenario, when some point is plausible), and prints the fit and
what could not be reached.

Exit status: 2, before any simulation, for a mistake in the arguments, the
configuration or the targets file; 1 when no parameter set is plausible (the
outputs are still written and the unreachable targets printed); 0 otherwise.
"""

from __future__ import annotations

import argparse
import sys

from sim.commands.tools import _fail, _positive, output_folder
from sim.commands.uncertainty import _client, _jobs
from sim.config import ConfigError, load_config


def _parser(prog: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog=prog,
        description="History matching of chosen parameters to observed figures (a targets file).",
    )
    ap.add_argument("targets", help="the targets file (YAML: targets, period_days, priors)")
    ap.add_argument(
        "scenario",
        nargs="?",
        default=None,
        help="a scenario (default: the targets file's scenario, else baseline)",
    )
    ap.add_argument("overrides", nargs="*", help="Hydra-style overrides, e.g. run.years=0.5")
    ap.add_argument(
        "--params",
        required=True,
        help="comma-separated parameters to fit (keys of uncertainty.parameters)",
    )
    ap.add_argument("--points", type=_positive, default=40, help="points per wave (40)")
    ap.add_argument(
        "--replications",
        type=_positive,
        default=2,
        help="replications per point, the same at every point (2)",
    )
    ap.add_argument("--waves", type=_positive, default=2, help="waves at most (2)")
    ap.add_argument(
        "--cutoff",
        type=float,
        default=3.0,
        help="largest implausibility of a plausible point (3: three-sigma rule)",
    )
    ap.add_argument(
        "--discrepancy",
        type=float,
        default=0.0,
        help="model discrepancy sd as a share of each observed figure (0)",
    )
    ap.add_argument("--name", help="name of the calibrated scenario (<scenario>_calibrated)")
    ap.add_argument("--out", help="folder for tables, chart and calibrated.yaml")
    _jobs(ap)
    return ap


def main(argv: list[str] | None = None) -> None:
    """``nsim-calibrate``: history-match ``--params`` to the targets file."""
    import math
    import re

    prog = "nsim-calibrate"
    args = _parser(prog).parse_intermixed_args(argv)
    if args.scenario is not None and "=" in args.scenario:
        args.overrides = [args.scenario, *args.overrides]
        args.scenario = None
    if args.points < 2:
        _fail(prog, f"--points: got {args.points}; allowed: a whole number >= 2")
    if args.replications < 2:
        _fail(
            prog,
            f"--replications: got {args.replications}; allowed: a whole number >= 2 "
            "(the between-replication variance needs two)",
        )
    if not (math.isfinite(args.cutoff) and args.cutoff > 0):
        _fail(prog, f"--cutoff: got {args.cutoff}; allowed: a number > 0 (3: three-sigma rule)")
    if not (math.isfinite(args.discrepancy) and args.discrepancy >= 0):
        _fail(
            prog,
            f"--discrepancy: got {args.discrepancy}; allowed: a number >= 0 "
            "(0.05: model discrepancy sd 5% of each observed figure)",
        )
    params = [p.strip() for p in args.params.split(",") if p.strip()]
    if not params:
        _fail(
            prog,
            f"--params: got {args.params!r}; allowed: comma-separated keys of "
            "uncertainty.parameters",
        )
    if args.name is not None and not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", args.name):
        _fail(
            prog,
            f"--name: got {args.name!r}; allowed: letters, digits, _ . - "
            "(it becomes a file name in configs/scenario/)",
        )
    from sim.experiment import calibration as cal

    try:
        targets = cal.load_targets(args.targets)
        scenario = args.scenario or targets.scenario or "baseline"
        cfg = load_config(scenario, args.overrides)
        cal.prepare(cfg, targets, params)  # priors, parameters and target KPIs checked here
    except ConfigError as exc:
        _fail(prog, exc)
    out = output_folder("calibration", scenario, args.out, prog)
    from sim.outputs.writers import write_table
    from sim.report import calibration as rc
    from sim.report import plots

    client = _client(args)
    try:
        result = cal.history_match(
            cfg,
            targets,
            params,
            points=args.points,
            replications=args.replications,
            waves=args.waves,
            cutoff=args.cutoff,
            discrepancy=args.discrepancy,
            n_jobs=args.n_jobs,
            backend=args.backend,
            progress=None,
        )
    except ConfigError as exc:  # a point the model cannot take (a rule between fields)
        _fail(prog, exc)
    finally:
        if client is not None:
            client.close()  # type: ignore[attr-defined]
    write_table(result.points, out, "calibration_points")
    write_table(result.fit(), out, "calibration_fit")
    plots.write_figure(rc.fit_figure(result), out, "calibration")
    print(rc.fit_text(result))
    if result.plausible.empty:
        print("\n" + rc.unreachable_text(result))
        print(f"\noutputs in {out} (no calibrated scenario: no plausible parameter set)")
        print(
            f"{prog}: no plausible parameter set; widen the priors, fit other parameters, "
            "or allow for model discrepancy (--discrepancy)",
            file=sys.stderr,
        )
        sys.exit(1)
    name = args.name or f"{cfg.name}_calibrated"
    path = cal.write_scenario(result, out / "calibrated.yaml", name)
    print(f"\noutputs in {out}")
    print(
        f"calibrated scenario: {path}\n  to use it: cp {path} configs/scenario/{name}.yaml "
        f"&& nsim scenario={name}\n  (load_config takes a scenario name from configs/scenario/, "
        "not a path)"
    )


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
