"""The ``nsim`` command: a Hydra application around the Python API.

``nsim`` runs the default (baseline scenario, one simulated year, a few
replications), prints a KPI table with 95% confidence intervals and writes every
output to the run's folder (``outputs/<scenario>/<timestamp>/``). Any value can be
overridden the Hydra way::

    nsim run.years=2 beds.acute=450
    nsim scenario=baseline run.replications=10 run.n_jobs=2

Configuration errors stop the run before any simulation, with a message naming
the field, the value and what is allowed (exit status 2).
"""

from __future__ import annotations

import sys
from typing import Any

from sim.config.errors import ConfigError


def _task(cfg: Any) -> None:
    from hydra.core.hydra_config import HydraConfig

    from sim.config.loading import from_mapping, to_plain
    from sim.experiment.runner import run
    from sim.outputs.report import kpi_table

    try:
        config = from_mapping(to_plain(cfg))
    except ConfigError as exc:
        print(f"nsim: {exc}", file=sys.stderr)
        sys.exit(2)
    outdir = HydraConfig.get().runtime.output_dir
    run_cfg = config.run
    print(
        f"nsim: scenario {config.name!r}: {run_cfg.replications} replications of "
        f"{run_cfg.years:g} year(s) after {run_cfg.warmup_days} warm-up days, "
        f"seed {run_cfg.seed}",
        file=sys.stderr,
    )
    result = run(config, progress=sys.stderr.isatty())
    result.save(outdir)
    print(f"\nScenario: {config.name} - {config.description}")
    print(f"{len(result.replications)} replications, measured over {run_cfg.measured_days} days\n")
    print(kpi_table(result.summary()))
    for note in result.warnings():
        print(f"note: {note}")
    print(f"\nOutputs written to {outdir}")


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
