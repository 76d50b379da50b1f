"""Command-line helpers for experiment design: warm-up and replications.

``nsim-warmup [SCENARIO] [OVERRIDES...]``
    Pilot runs with no warm-up; the warm-up rule (MSER-5 on the seasonal
    differences of beds, delays, boarding and short-stay services; see
    :mod:`sim.experiment.warmup`). Prints the measured ``run.warmup_days`` and
    writes the difference series as CSV.
``nsim-replications [SCENARIO] [OVERRIDES...] --target 0.05 --metrics a,b``
    The Hoad-Robinson-Davies sequential algorithm (replications added one at a
    time until every metric's 95% CI half-width is within the target, with a
    look-ahead), and the confidence-interval method on the same runs.
``nsim-capacity [SCENARIO] [OVERRIDES...] --param P --values 130,165,200``
    Total cost (with 95% CI) against one capacity and the cheapest value, with
    the share of bootstrap resamples in which each value is cheapest.

Like ``nsim``, the tools that write files write them under ``outputs/``
(``outputs/warmup/<scenario>/<timestamp>/``, ``outputs/capacity/<scenario>/
<timestamp>/``) unless ``--out`` names another folder, never into the current
folder; a mistake in the arguments or the configuration stops them before any
simulation, with exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.config import Config, ConfigError, load_config

DEFAULT_METRICS = "emergency_admissions,bed_days,dtoc_days"


def _fail(prog: str, message: object) -> None:
    print(f"{prog}: {message}", file=sys.stderr)
    sys.exit(2)


def output_folder(kind: str, scenario: str, out: str | None, prog: str) -> Path:
    """The folder a tool writes to (``--out``, or a new one under ``outputs/``), made
    now so that a folder that cannot be made stops the tool before it runs anything."""
    import datetime as _dt

    if out:
        path = Path(out)
    else:
        stamp = _dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
        path = Path("outputs") / kind / scenario / stamp
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail(prog, f"--out: cannot create the folder {path}: {exc.strerror or exc}")
    return path


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"got {value}; allowed: a whole number >= 1")
    return value


def _parser(prog: str, doc: str) -> argparse.ArgumentParser:
    """A parser of ``[SCENARIO] [OVERRIDES...]`` (read with :func:`_parse`)."""
    ap = argparse.ArgumentParser(prog=prog, description=doc)
    ap.add_argument("scenario", nargs="?", default="baseline", help="a scenario (baseline)")
    ap.add_argument("overrides", nargs="*", help="Hydra-style overrides, e.g. beds.acute=420")
    return ap


def _parse(ap: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """The arguments of ``argv``; a first argument with ``=`` is an override, not a scenario."""
    ns = ap.parse_args(argv)
    if "=" in ns.scenario:
        ns.overrides = [ns.scenario, *ns.overrides]
        ns.scenario = "baseline"
    return ns


def warmup_main(argv: list[str] | None = None) -> None:
    from sim.experiment.warmup import RULE_LEVELS, SEASON_DAYS

    ap = _parser(
        "nsim-warmup",
        "Measure the warm-up a scenario needs: MSER-5 on seasonal differences of pilot runs.",
    )
    ap.add_argument("--replications", type=_positive, default=8, help="in each set")
    ap.add_argument(
        "--sets",
        type=_positive,
        default=5,
        help="independent sets of pilot replications; the rule takes their median",
    )
    ap.add_argument("--years", type=float, default=3.0, help="length of each pilot run")
    ap.add_argument(
        "--horizon",
        type=_positive,
        default=SEASON_DAYS,
        help="days at the start in which to look for initial bias (default 364)",
    )
    ap.add_argument(
        "--level",
        action="append",
        help=f"daily series to check (repeatable; default: {', '.join(RULE_LEVELS)})",
    )
    ap.add_argument(
        "--out",
        help="folder for warmup_rule.csv (default outputs/warmup/<scenario>/<timestamp>)",
    )
    args = _parse(ap, argv)
    need = (SEASON_DAYS + args.horizon) / 365.0
    if not args.years >= need:
        _fail(
            "nsim-warmup",
            f"--years: got {args.years}; allowed: a number >= {need:.3g} (364 days to a later "
            f"season, plus --horizon {args.horizon} days)",
        )
    try:
        cfg = load_config(args.scenario, args.overrides)
    except ConfigError as exc:
        _fail("nsim-warmup", exc)
    levels = _daily_levels(cfg)
    wanted = tuple(args.level or [lv for lv in RULE_LEVELS if lv in levels])
    for level in wanted:
        if level not in levels:
            import difflib

            close = difflib.get_close_matches(level, levels, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            _fail(
                "nsim-warmup", f"--level: got {level!r}; allowed: one of {', '.join(levels)}{hint}"
            )
    name = "warmup_rule.csv"
    folder = args.out
    if args.out and args.out.endswith(".csv"):  # a file name, as earlier versions took
        folder, name = str(Path(args.out).parent), Path(args.out).name
    out = output_folder("warmup", args.scenario, folder, "nsim-warmup")
    from sim.experiment.warmup import warmup_rule
    from sim.outputs.writers import atomic_write

    rule = warmup_rule(
        cfg,
        args.replications,
        args.years,
        args.horizon,
        wanted,
        n_jobs=cfg.run.n_jobs,
        sets=args.sets,
    )
    import pandas as pd

    table = pd.concat(
        [r.series.assign(seed=seed) for seed, r in zip(rule.seeds, rule.sets, strict=True)],
        ignore_index=True,
    )
    path = out / name
    atomic_write(path, lambda p: table.to_csv(p, index=False))
    print(
        f"{rule.describe()}\n(seasonal differences in {path}); "
        f"set run.warmup_days={rule.warmup_days} or more"
    )


def _daily_levels(cfg: Config) -> list[str]:
    """Numeric columns of the daily table (from a one-day run: they depend on the services)."""
    import dataclasses

    from sim.experiment.runner import run_replication

    day = dataclasses.replace(cfg.run, warmup_days=0, years=1 / 365, event_log=False)
    daily = run_replication(dataclasses.replace(cfg, run=day), 0).daily
    skip = {"day", "replication", "seed", "warmup"}
    return [c for c in daily.columns if c not in skip and daily[c].dtype.kind in "iuf"]


def replications_main(argv: list[str] | None = None) -> None:
    ap = _parser("nsim-replications", "Estimate how many replications a precision needs.")
    ap.add_argument(
        "--target", type=float, default=0.05, help="relative CI half-width wanted (0.05 = +/-5%%)"
    )
    ap.add_argument("--metrics", default=DEFAULT_METRICS)
    ap.add_argument("--max", type=_positive, default=100, dest="max_replications")
    args = _parse(ap, argv)
    if not args.target > 0:
        _fail("nsim-replications", f"--target: got {args.target}; allowed: a number > 0")
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    from sim.outputs import schema

    unknown = [m for m in metrics if not schema.documented(m)]
    if not metrics or unknown:
        import difflib

        known = sorted(k for k in schema.KPIS if "*" not in k)
        hints = "".join(
            f" (did you mean {c[0]!r}?)"
            for m in unknown
            if (c := difflib.get_close_matches(m, known, n=1))
        )
        _fail(
            "nsim-replications",
            f"--metrics: got {args.metrics!r}; allowed: comma-separated KPI names "
            f"(see docs/outputs.md){hints}",
        )
    try:
        cfg = load_config(args.scenario, args.overrides)
    except ConfigError as exc:
        _fail("nsim-replications", exc)
    from sim.experiment.replications import ci_method, sequential_for_config

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
    ap = _parser("nsim-capacity", "Search one capacity for the lowest total cost.")
    ap.add_argument("--param", default="discharge.reablement.capacity")
    ap.add_argument(
        "--values", default="130,145,165,185,210,240", help="comma-separated capacities to try"
    )
    ap.add_argument("--replications", type=_positive, default=5)
    ap.add_argument(
        "--out",
        help="folder for the table and plot (default outputs/capacity/<scenario>/<timestamp>)",
    )
    args = _parse(ap, argv)
    try:
        values = [int(v) for v in args.values.split(",")]
    except ValueError:
        _fail("nsim-capacity", f"--values: got {args.values!r}; allowed: whole numbers, a,b,c")
    try:  # validate every value before running anything
        for v in values:
            load_config(args.scenario, [*args.overrides, f"{args.param}={v}"])
    except ConfigError as exc:
        _fail("nsim-capacity", exc)
    out = output_folder("capacity", args.scenario, args.out, "nsim-capacity")
    from sim.experiment.capacity import capacity_cost_curve
    from sim.outputs.writers import atomic_write
    from sim.report import plots

    curve = capacity_cost_curve(
        lambda v: load_config(args.scenario, [*args.overrides, f"{args.param}={v}"]),
        args.param,
        values,
        replications=args.replications,
    )
    atomic_write(out / "capacity_cost.csv", lambda p: curve.table.to_csv(p, index=False))
    plots.save(
        plots.capacity_cost(curve.table, args.param, curve.best_value), out / "capacity_cost.png"
    )
    print(curve.table.to_string(index=False))
    share = ", ".join(f"{v:g}: {100 * s:.0f}%" for v, s in curve.best_share.items())
    print(
        f"\ncheapest {args.param} = {curve.best_value:g} (share of bootstrap resamples "
        f"in which each value is cheapest: {share}); outputs in {out}"
    )
