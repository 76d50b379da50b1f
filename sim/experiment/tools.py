"""Command-line helpers for experiment design: warm-up and replications.

``nsim-warmup [SCENARIO] [OVERRIDES...]``
    Pilot runs with no warm-up; MSER-5 on daily bed occupancy. Prints the
    suggested ``run.warmup_days`` and writes the pilot series as CSV.
``nsim-replications [SCENARIO] [OVERRIDES...] --target 0.05 --metrics a,b``
    The Hoad-Robinson-Davies sequential algorithm (replications added one at a
    time until every metric's 95% CI half-width is within the target, with a
    look-ahead), and the confidence-interval method on the same runs.
``nsim-capacity [SCENARIO] [OVERRIDES...] --param P --values 130,165,200``
    Total cost (with 95% CI) against one capacity and the cheapest value, with
    the share of bootstrap resamples in which each value is cheapest.
"""

from __future__ import annotations

import argparse
import sys

from sim.config import ConfigError, load_config

DEFAULT_METRICS = "emergency_admissions,bed_days,dtoc_days"


def _parser(prog: str, doc: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=prog, description=doc)
    ap.add_argument("scenario", nargs="?", default="baseline")
    ap.add_argument("overrides", nargs="*", help="Hydra-style overrides, e.g. beds.acute=420")
    return ap


def warmup_main(argv: list[str] | None = None) -> None:
    from sim.experiment.warmup import estimate_warmup

    ap = _parser("nsim-warmup", "Estimate the warm-up period by MSER-5 from pilot runs.")
    ap.add_argument("--replications", type=int, default=5)
    ap.add_argument("--years", type=float, default=1.0)
    ap.add_argument("--level", default="beds_occupied_mean")
    ap.add_argument("--out", default="warmup_pilot.csv")
    args = ap.parse_args(argv)
    try:
        cfg = load_config(args.scenario, args.overrides)
    except ConfigError as exc:
        print(f"nsim-warmup: {exc}", file=sys.stderr)
        sys.exit(2)
    est = estimate_warmup(cfg, args.level, args.replications, args.years, n_jobs=-1)
    est.series.to_csv(args.out, index=False)
    print(
        f"MSER-5 warm-up for {args.level}: {est.warmup_days} days "
        f"(pilot series in {args.out}); set run.warmup_days={est.warmup_days}"
    )


def replications_main(argv: list[str] | None = None) -> None:
    from sim.experiment.replications import ci_method, sequential_for_config

    ap = _parser("nsim-replications", "Estimate how many replications a precision needs.")
    ap.add_argument(
        "--target", type=float, default=0.05, help="relative CI half-width wanted (0.05 = +/-5%%)"
    )
    ap.add_argument("--metrics", default=DEFAULT_METRICS)
    ap.add_argument("--max", type=int, default=100, dest="max_replications")
    args = ap.parse_args(argv)
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    try:
        cfg = load_config(args.scenario, args.overrides)
    except ConfigError as exc:
        print(f"nsim-replications: {exc}", file=sys.stderr)
        sys.exit(2)
    res = sequential_for_config(cfg, metrics, args.target, max_replications=args.max_replications)
    print(ci_method(res.kpis, metrics, args.target).to_string(index=False))
    if res.met:
        print(
            f"\nsequential algorithm: {res.n_solution} replications meet +/-"
            f"{100 * args.target:g}% for all of {', '.join(metrics)} "
            f"({res.replications_run} run); set run.replications={res.n_solution}"
        )
    else:
        print(
            f"\nsequential algorithm: target not met within {res.replications_run} replications",
            file=sys.stderr,
        )
        sys.exit(1)


def capacity_main(argv: list[str] | None = None) -> None:
    """``nsim-capacity``: total cost against one downstream capacity."""
    from pathlib import Path

    from sim.costs import capacity_cost_curve
    from sim.report import plots

    ap = _parser("nsim-capacity", "Search one capacity for the lowest total cost.")
    ap.add_argument("--param", default="discharge.reablement.capacity")
    ap.add_argument(
        "--values", default="130,145,165,185,210,240", help="comma-separated capacities to try"
    )
    ap.add_argument("--replications", type=int, default=5)
    ap.add_argument("--out", default="capacity_cost", help="folder for the table and plot")
    args = ap.parse_args(argv)
    try:
        values = [int(v) for v in args.values.split(",")]
        load_config(args.scenario, args.overrides)  # validate before running anything
    except (ValueError, ConfigError) as exc:
        print(f"nsim-capacity: {exc}", file=sys.stderr)
        sys.exit(2)
    curve = capacity_cost_curve(
        lambda v: load_config(args.scenario, [*args.overrides, f"{args.param}={v}"]),
        args.param,
        values,
        replications=args.replications,
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    curve.table.to_csv(out / "capacity_cost.csv", index=False)
    plots.save(
        plots.capacity_cost(curve.table, args.param, curve.best_value), out / "capacity_cost.png"
    )
    print(curve.table.to_string(index=False))
    share = ", ".join(f"{v:g}: {100 * s:.0f}%" for v, s in curve.best_share.items())
    print(
        f"\ncheapest {args.param} = {curve.best_value:g} (share of bootstrap resamples "
        f"in which each value is cheapest: {share}); outputs in {out}"
    )
