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

Before Hydra starts, :mod:`sim.preflight` composes and validates everything the
command will run (every job of a sweep), so a mistake stops it with a message
naming the field, the value and what is allowed (exit status 2), before any
folder is made or job launched.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.config.errors import ConfigError
from sim.preflight import Plan, Stop

if TYPE_CHECKING:
    import pandas as pd

    from sim.config.schema import Config
    from sim.experiment.psa import PsaResult
    from sim.experiment.runner import RunResult
    from sim.experiment.sensitivity import OneWayResult

#: what the checks before the run found (the run happens in this process)
_PLAN = Plan()

USAGE = """\
nsim - simulate an integrated neighbourhood care system and compare scenarios

usage: nsim [scenario=NAME] [compare=[A,B,...]] [KEY=VALUE ...]
       nsim -m KEY=V1,V2 [KEY=VALUE ...]       a sweep: one job per combination

common commands:
  nsim                                         the baseline against the scenario library
  nsim compare=[]                              the baseline alone
  nsim scenario=treat compare=[] treat.staff=3 one scenario, one setting changed
  nsim compare=[treat,pace] run.replications=10 beds.acute=420
  nsim hydra.run.dir=my-run                    choose the output folder (rerun to resume)
  nsim -m scenario=pace beds.acute=380,420 pace.capacity=10,20
  nsim -m 'scenario=glob(*)'                   every scenario, as a sweep

scenarios ({scenario_dir}):
  {scenarios}

outputs:
  a run:   outputs/<scenario>/<date>_<time>/  - kpis.csv, summary.csv, comparison.csv,
           effects.csv, report.html, run.json (what ran, with which code), cli.log
  a sweep: multirun/<date>_<time>/<job>_<scenario>/, with the plan in sweep.json;
           nsim-collect multirun/<date>_<time> gathers it into one table

every setting:
  nsim --cfg job                               print the whole configuration
  nsim --cfg job --package beds                one block of it
  {config_file}   the defaults, each with its source
  nsim --hydra-help                            Hydra's own options (launchers, logging)

related commands (each has --help): nsim-collect, nsim-warmup, nsim-replications,
nsim-capacity
"""


def usage() -> str:
    """The short help text (``nsim --help``)."""
    from sim.config.loading import available_scenarios, config_dir

    try:
        cdir = config_dir()
        names = ", ".join(available_scenarios())
    except ConfigError as exc:
        return USAGE.format(scenario_dir="?", scenarios=str(exc), config_file="config.yaml")
    return USAGE.format(
        scenario_dir=(cdir / "scenario").resolve(),
        scenarios=names,
        config_file=cdir / "config.yaml",
    )


class _Tee:
    """A console stream that also appends what it prints to the run's log file.

    Progress bars (redrawn with carriage returns) go to the console only.
    """

    def __init__(self, console: Any, log: Any) -> None:
        self.console = console
        self.log = log
        self._after_bar = False

    def write(self, text: str) -> int:
        self.console.write(text)
        if "\r" in text:
            self._after_bar = True
        elif not (self._after_bar and text == "\n"):
            self.log.write(text)
            self._after_bar = False
        return len(text)

    def flush(self) -> None:
        self.console.flush()
        self.log.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console, name)


@contextlib.contextmanager
def _console_log(path: Path) -> Iterator[None]:
    """Copy everything printed to stdout and stderr into ``path`` (the run's cli.log)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as log:
        out, err = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Tee(out, log), _Tee(err, log)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            sys.stdout, sys.stderr = out, err


@contextlib.contextmanager
def _job(
    outdir: Path, log_name: str, multirun: bool, job_num: int, overrides: list[str]
) -> Iterator[None]:
    """Run a job's body: logged to cli.log; a failure stops it cleanly.

    In a sweep a failure is recorded in the job's folder (``failed.json``) and
    the other jobs carry on; alone, it ends the command with exit status 2 for
    a mistake in the configuration.
    """
    from sim.experiment.sweep import clear_failure, record_failure

    if multirun:
        clear_failure(outdir)
    status = 0
    with _console_log(outdir / log_name):
        try:
            yield
        except (ConfigError, Stop) as exc:
            text = str(exc) if isinstance(exc, Stop) else f"nsim: {exc}"
            if multirun:
                record_failure(outdir, exc, overrides)
                print(f"nsim: job {job_num} did not run: {text}", file=sys.stderr)
            else:
                print(text, file=sys.stderr)
                status = exc.status if isinstance(exc, Stop) else 2
        except Exception as exc:
            if not multirun:
                raise
            record_failure(outdir, exc, overrides)
            print(
                f"nsim: job {job_num} failed ({type(exc).__name__}: {exc}); the traceback "
                f"is in {outdir / 'failed.json'}",
                file=sys.stderr,
            )
    if status:
        if _PLAN.run_dir_is_new:
            _remove_empty_run(outdir, log_name)
        sys.exit(status)


def _remove_empty_run(outdir: Path, log_name: str) -> None:
    """Remove a run folder that holds nothing but Hydra's records (nothing ran)."""
    import shutil

    if all(p.name in (".hydra", log_name) for p in outdir.iterdir()):
        shutil.rmtree(outdir, ignore_errors=True)


def _load(name: str, overrides: list[str]) -> Config:
    """A compared scenario's configuration (as checked before the run, if it was)."""
    from sim.config.loading import load_config

    cached = _PLAN.configs.get((name, tuple(overrides)))
    return cached if cached is not None else load_config(name, overrides)


def _hydra_job(cfg: Any) -> None:
    """What Hydra runs for each job: :func:`_task`, logged, with failures handled."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    hc = HydraConfig.get()
    multirun = hc.mode == RunMode.MULTIRUN
    outdir = Path(hc.runtime.output_dir)
    task_overrides = list(hc.overrides.task)
    num = hc.job.num if multirun else 0
    with _job(outdir, f"{hc.job.name}.log", multirun, num, task_overrides):
        _task(cfg, outdir, multirun, task_overrides)


def _task(cfg: Any, outdir: Path, multirun: bool, task_overrides: list[str]) -> None:
    """Run the scenario (and those compared with it), print and write the results."""
    from sim.config.loading import compare_problems, from_mapping, to_plain
    from sim.experiment.metadata import code_key, code_version, config_hash
    from sim.experiment.runner import run_many
    from sim.preflight import compared_overrides
    from sim.report.format import kpi_table

    started = time.perf_counter()
    for warning in _PLAN.warnings:
        print(f"nsim: warning: {warning}", file=sys.stderr)
    config = from_mapping(to_plain(cfg))
    extra = [*compared_overrides(task_overrides), "compare=[]"]
    names = [] if multirun else [n for n in config.compare if n != config.name]
    if names and (problems := compare_problems(config.compare)):
        raise ConfigError(problems)
    others = [_load(n, extra) for n in names]
    run_cfg = config.run

    # the batch as asked for on the command line (before any precision rule)
    batch: dict[str, Any] = {
        "batch_hash": config_hash(config, *others),
        "code_key": code_key(),
        "code_version": code_version(),
    }
    if _already_done(outdir, batch, run_cfg.overwrite):
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
    psa = _psa(config, others, outdir, n_jobs) if config.uncertainty.method == "psa" else None
    tornadoes = _tornadoes(config, others, outdir, n_jobs) if config.uncertainty.tornado else {}
    if method:
        batch["replications_method"] = method
    if config.report:  # before run.json, whose presence marks the folder complete
        from sim.report.html import write as write_report

        write_report(
            outdir / "report.html",
            results,
            config.name,
            title=f"neighbourhood-sim: {config.name}",
            psa=psa,
            tornadoes=tornadoes,
        )
    effects = None
    if others:
        effects = _write_comparison(results, config.name, outdir, batch, started)
    else:
        main.save(outdir, overwrite=True, extra_meta=batch)
    from sim.flows import offered_loads

    print(f"\nScenario: {config.name} - {config.description}")
    print(f"{len(main.replications)} replications, measured over {run_cfg.measured_days} days")
    print(offered_loads(config).summary() + "\n")
    print(kpi_table(main.summary()))
    for note in [*main.warnings(), main.end_state()]:
        if note:
            print(f"note: {note}")
    if effects is not None:
        from sim.report.effects import effects_table

        print()
        print(effects_table(effects, config.name))
    if psa is not None:
        from sim.report.uncertainty import psa_text

        print()
        print(psa_text(psa))
    if config.report:
        print(f"\nReport: {outdir / 'report.html'}")
    print(f"\nOutputs written to {outdir}")


def _psa(config: Config, others: list[Config], outdir: Path, n_jobs: int) -> PsaResult:
    """Run the probabilistic sensitivity analysis and write its tables to ``psa/``."""
    from sim.experiment.psa import run_psa
    from sim.outputs.writers import write_table

    unc = config.uncertainty
    print(
        f"nsim: probabilistic sensitivity analysis: {unc.draws} parameter sets x "
        f"{unc.replications_per_draw} replications x {1 + len(others)} scenario(s), "
        f"{len(set(unc.parameters) | set(unc.sets.columns))} uncertain parameters",
        file=sys.stderr,
    )
    psa = run_psa([config, *others], baseline=config.name, n_jobs=n_jobs)
    for stem, table in psa.tables().items():
        write_table(table, outdir / "psa", stem)
    return psa


def _tornadoes(
    config: Config, others: list[Config], outdir: Path, n_jobs: int
) -> dict[str, OneWayResult]:
    """One-way sensitivity of each compared scenario's headline effects (``psa/``)."""
    from sim.experiment.sensitivity import TORNADO_METRICS, one_way
    from sim.outputs.writers import write_table

    out = {}
    for other in others:
        print(f"nsim: one-way sensitivity of {other.name}'s effects", file=sys.stderr)
        res = one_way(
            other,
            list(TORNADO_METRICS),
            config,
            replications=config.uncertainty.replications_per_draw,
            n_jobs=n_jobs,
        )
        write_table(res.table(), outdir / "psa", f"oneway_{other.name}")
        out[other.name] = res
    return out


def _replications_by_precision(
    config: Config, others: list[Config], cache: Path
) -> tuple[Config, list[Config], str]:
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

    def with_n(c: Config) -> Config:
        return dataclasses.replace(c, run=dataclasses.replace(c.run, replications=n))

    return with_n(config), [with_n(o) for o in others], method


def _already_done(outdir: Path, batch: dict[str, Any], overwrite: bool) -> bool:
    """True if ``outdir`` holds finished outputs of this batch and code (resume: skip).

    Outputs of a different configuration or code version are never replaced
    silently: that stops the job unless ``run.overwrite=true``. (The checks
    before the run say the same; this is for a job Hydra runs on its own.)
    """
    import shutil

    from sim.preflight import _existing_results

    stop = _existing_results(outdir, batch["batch_hash"], overwrite)
    if stop is not None and stop.status == 0:
        print(str(stop), file=sys.stderr)
        return True
    if stop is not None:
        raise stop
    # no finished outputs of this batch here: clear what an earlier run left (the
    # outputs of another batch with run.overwrite=true, or of a run that stopped
    # before writing run.json), keeping the cache and Hydra's records
    if outdir.is_dir():
        for child in outdir.iterdir():
            if child.name not in (".hydra", "cli.log", ".replications"):
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    return False


def _write_comparison(
    results: dict[str, RunResult],
    baseline: str,
    outdir: Path,
    batch: dict[str, Any],
    started: float,
) -> pd.DataFrame:
    """Write every scenario's outputs and the paired comparison; return the effects."""
    import json

    import pandas as pd

    from sim.experiment.compare import compare, headline
    from sim.experiment.metadata import batch_metadata
    from sim.outputs.writers import atomic_write, write_table

    for name, res in results.items():
        res.save(outdir / "scenarios" / name, overwrite=True, extra_meta=batch)
    kpis = pd.concat([r.kpis for r in results.values()], ignore_index=True)
    comparison = compare(kpis, baseline)
    effects = headline(comparison, baseline)
    write_table(comparison, outdir, "comparison")
    write_table(effects, outdir, "effects")
    meta = batch_metadata(results, baseline, batch, time.perf_counter() - started)
    # written last: its presence marks the comparison as complete
    atomic_write(outdir / "run.json", lambda p: p.write_text(json.dumps(meta, indent=2)))
    return effects


def _hydra_args(argv: list[str]) -> Any:
    from hydra._internal.utils import get_args_parser

    parser = get_args_parser()
    parser.prog = "nsim"
    return parser.parse_args(argv)


def _with_overrides(argv: list[str], extra: list[str]) -> list[str]:
    """``argv`` with each of ``extra`` replacing an override of the same key, or added."""
    out = list(argv)
    for item in extra:
        key = item.partition("=")[0]
        at = [i for i, a in enumerate(out) if a.partition("=")[0].lstrip("+") == key]
        if at:
            out[at[-1]] = item
        else:
            out.append(item)
    return out


def _preflight(argv: list[str]) -> tuple[list[str], bool]:
    """Check what ``argv`` asks for; return the arguments for Hydra and if it is a sweep.

    Exits with status 2 (and the project's message) on a mistake, 0 when the
    results are already there.
    """
    from sim.preflight import SweepError, check_run, check_sweep

    global _PLAN
    args = _hydra_args(argv)
    if (
        args.hydra_help
        or args.info
        or args.shell_completion
        or args.experimental_rerun
        or args.config_path
        or args.config_dir
    ):
        return argv, False  # Hydra's own business
    name = args.config_name or "config"
    try:
        if args.cfg:
            if not args.multirun:  # show the configuration, once it composes
                from sim.config.loading import compose

                compose(args.overrides, hydra=True, config_name=name)
            return argv, False
        if args.multirun:
            _PLAN = check_sweep(args.overrides, ["nsim", *argv], config_name=name)
        else:
            _PLAN = check_run(args.overrides, config_name=name)
    except ConfigError as exc:
        print(f"nsim: {exc}", file=sys.stderr)
        sys.exit(2)
    except SweepError as exc:
        print(str(exc), file=sys.stderr)
        sys.exit(2)
    except Stop as exc:
        print(str(exc), file=sys.stderr)
        sys.exit(exc.status)
    if args.multirun:
        for warning in _PLAN.warnings:
            print(f"nsim: warning: {warning}", file=sys.stderr)
    return _with_overrides(argv, _PLAN.hydra_overrides), bool(args.multirun)


def _sweep_outcome(sweep_dir: Path) -> int:
    """Print how the sweep's jobs ended; exit status 1 if any failed or did not finish."""
    from sim.experiment.sweep import states, summary_line, table

    all_states = states(sweep_dir)
    bad = [s for s in all_states if s.state != "finished"]
    print(f"\nnsim: sweep in {sweep_dir}: {summary_line(all_states)}", file=sys.stderr)
    if bad:
        print(table(bad), file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``nsim`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "-h" in argv or "--help" in argv:
        print(usage())
        return
    from sim.config.loading import config_dir, searchpath_override

    try:
        cdir = config_dir()
    except ConfigError as exc:
        print(f"nsim: {exc}", file=sys.stderr)
        sys.exit(2)
    hydra_argv, multirun = _preflight(argv)
    try:  # scenario folders outside the project (NSIM_SCENARIO_PATH), for Hydra's own loading
        extra = searchpath_override()
    except ConfigError as exc:
        print(f"nsim: {exc}", file=sys.stderr)
        sys.exit(2)
    hydra_argv = _with_overrides(hydra_argv, extra)
    import hydra

    app = hydra.main(config_path=str(cdir), config_name="config", version_base="1.3")(_hydra_job)
    sys.argv = [sys.argv[0], *hydra_argv]
    app()
    if multirun and _PLAN.sweep_dir is not None:
        status = _sweep_outcome(_PLAN.sweep_dir)
        if status:
            sys.exit(status)


if __name__ == "__main__":
    main()
