"""The ``nsim`` command: a Hydra application around the Python API.

``nsim`` runs the selected scenario (baseline by default) and, as paired
differences with common random numbers, every scenario listed in ``compare``
(the baseline compares itself with the scenario library). It prints a KPI table
with 95% confidence intervals and the effects of each scenario, and writes every
output to the run's folder (``outputs/<scenario>/<timestamp>/``). Any value can be
overridden the Hydra way::

    nsim                                   # baseline vs the scenario library
    nsim compare=[]                        # baseline alone
    nsim scenario=treat compare=[]         # one scenario
    nsim compare=[treat,pace] beds.acute=420 run.replications=10
    nsim -m scenario=treat,pace            # a Hydra sweep (see nsim-collect)

Configuration errors stop the run before any simulation, with a message naming
the field, the value and what is allowed (exit status 2).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.config.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd


def _compared_overrides(task_overrides: list[str]) -> list[str]:
    """The command line's overrides that also apply to the compared scenarios."""
    return [o for o in task_overrides if not o.lstrip("+~").startswith(("scenario=", "compare="))]


def _task(cfg: Any) -> None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from sim.config.loading import from_mapping, load_config, to_plain
    from sim.experiment.runner import run_many
    from sim.outputs.report import kpi_table

    hc = HydraConfig.get()
    multirun = hc.mode == RunMode.MULTIRUN
    try:
        config = from_mapping(to_plain(cfg))
        extra = _compared_overrides(list(hc.overrides.task))
        names = [] if multirun else [n for n in config.compare if n != config.name]
        others = [load_config(n, [*extra, "compare=[]"]) for n in names]
    except ConfigError as exc:
        print(f"nsim: {exc}", file=sys.stderr)
        sys.exit(2)
    outdir = Path(hc.runtime.output_dir)
    run_cfg = config.run
    from sim.experiment.metadata import config_hash

    # the batch as asked for on the command line (before any precision rule)
    batch = {"batch_hash": config_hash(config, *others)}
    if _already_done(outdir, batch["batch_hash"], run_cfg.overwrite):
        return
    # a sweep already runs jobs in parallel: keep each job's replications serial
    n_jobs = 1 if multirun else run_cfg.n_jobs
    print(
        f"nsim: {1 + len(others)} scenario(s) x {run_cfg.replications} replications of "
        f"{run_cfg.years:g} year(s) after {run_cfg.warmup_days} warm-up days, seed "
        f"{run_cfg.seed}",
        file=sys.stderr,
    )
    cache = outdir / ".replications"
    method = None
    if run_cfg.until_precision.enabled:
        config, others, method = _replications_by_precision(config, others, cache)
    results = run_many([config, *others], n_jobs=n_jobs, cache_dir=cache)
    main = results[config.name]
    if method:
        batch["replications_method"] = method
    effects = None
    if others:
        effects = _write_comparison(results, config.name, outdir, batch)
    else:
        main.save(outdir, overwrite=True, extra_meta=batch)
    print(f"\nScenario: {config.name} - {config.description}")
    print(f"{len(main.replications)} replications, measured over {run_cfg.measured_days} days\n")
    print(kpi_table(main.summary()))
    for note in main.warnings():
        print(f"note: {note}")
    if effects is not None:
        from sim.experiment.compare import effects_table

        print()
        print(effects_table(effects, config.name))
    if config.report:
        from sim.report.html import write as write_report

        write_report(
            outdir / "report.html", results, config.name, title=f"neighbourhood-sim: {config.name}"
        )
        print(f"\nReport: {outdir / 'report.html'}")
    print(f"\nOutputs written to {outdir}")


def _replications_by_precision(config, others: list, cache: Path) -> tuple:
    """Choose the number of replications with the sequential algorithm (reusing runs)."""
    import dataclasses

    from sim.experiment.replications import sequential_for_config

    prec = config.run.until_precision
    res = sequential_for_config(
        config, prec.metrics, prec.target, cache, max_replications=prec.max_replications
    )
    n = res.n_solution or res.replications_run
    verdict = "met" if res.met else "NOT met"
    method = (
        f"Hoad-Robinson-Davies sequential algorithm: target +/-{100 * prec.target:g}% "
        f"for {', '.join(prec.metrics)} {verdict} with {n} replications"
    )
    print(f"nsim: {method}", file=sys.stderr)

    def with_n(c):
        return dataclasses.replace(c, run=dataclasses.replace(c.run, replications=n))

    return with_n(config), [with_n(o) for o in others], method


def _already_done(outdir: Path, batch_hash: str, overwrite: bool) -> bool:
    """True if ``outdir`` holds finished outputs of these configs (resume: skip).

    Outputs of a different configuration are never replaced silently: that is an
    error unless ``run.overwrite=true``.
    """
    import json
    import shutil

    marker = outdir / "run.json"
    if not marker.exists():
        return False
    done = json.loads(marker.read_text()).get("batch_hash")
    if done == batch_hash:
        print(f"nsim: {outdir} already holds these results; nothing to do", file=sys.stderr)
        return True
    if not overwrite:
        print(
            f"nsim: {outdir} holds outputs of another configuration; choose another "
            "hydra.run.dir or pass run.overwrite=true",
            file=sys.stderr,
        )
        sys.exit(2)
    for child in outdir.iterdir():
        if child.name not in (".hydra", "cli.log"):
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    return False


def _write_comparison(results: dict, baseline: str, outdir: Path, batch: dict) -> pd.DataFrame:
    """Write every scenario's outputs and the paired comparison; return the effects."""
    import json

    import pandas as pd

    from sim.experiment.compare import compare, headline
    from sim.outputs.writers import atomic_write, write_table

    for name, res in results.items():
        res.save(outdir / "scenarios" / name, overwrite=True, extra_meta=batch)
    kpis = pd.concat([r.kpis for r in results.values()], ignore_index=True)
    comparison = compare(kpis, baseline)
    effects = headline(comparison, baseline)
    write_table(comparison, outdir, "comparison")
    write_table(effects, outdir, "effects")
    # written last: its presence marks the comparison as complete
    atomic_write(outdir / "run.json", lambda p: p.write_text(json.dumps(batch, indent=2)))
    return effects


def main() -> None:
    """Entry point of the ``nsim`` console script."""
    import hydra

    from sim.config.loading import config_dir

    try:
        cdir = config_dir()
    except ConfigError as exc:
        print(f"nsim: {exc}", file=sys.stderr)
        sys.exit(2)
    app = hydra.main(config_path=str(cdir), config_name="config", version_base="1.3")(_task)
    app()


if __name__ == "__main__":
    main()
