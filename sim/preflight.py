"""What ``nsim`` checks before Hydra starts anything.

Hydra reports a mistake in its own words, with a traceback, and only once it
has created the output folder; in a sweep, a job that fails to compose stops
the jobs after it. So ``nsim`` first composes and validates what it is about to
run, the same way Hydra will:

* a single run: the scenario, every scenario it is compared with, the output
  folder (can it be created? does it hold results of something else?);
* a sweep (``-m``): every job, expanded the way Hydra's basic sweeper does
  (value lists, ``glob()``, ranges), all problems reported together before any
  job is launched, then the plan written to ``sweep.json``.

It also warns about overrides that cannot change the results (see
:mod:`sim.config.checks`) and about sweep jobs whose configurations are
identical. Folders whose names Hydra computes from the clock are resolved here
once and handed to Hydra, so the checks and the run agree on them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.config.errors import ConfigError, ConfigProblem
from sim.config.schema import Config

if TYPE_CHECKING:
    from sim.experiment.sweep import Job

#: job folders of a sweep: number and scenario (named after the scenario asked
#: for, which is known even when its file is broken, rather than the ``name`` the
#: file sets)
SWEEP_SUBDIR = "${hydra.job.num}_${hydra.runtime.choices.scenario}"


class SweepError(Exception):
    """Some jobs of a sweep cannot run; the message lists every problem."""


class Stop(Exception):
    """Stop before running, with a message and an exit status (0: nothing to do)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Plan:
    """What the checks found: extra Hydra overrides, warnings, validated configs."""

    hydra_overrides: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    configs: dict[tuple[str, tuple[str, ...]], Config] = field(default_factory=dict)
    run_dir: Path | None = None
    run_dir_is_new: bool = False
    sweep_dir: Path | None = None
    jobs: list[Job] = field(default_factory=list)


def is_hydra_override(override: str) -> bool:
    key = override.partition("=")[0].lstrip("+~")
    return key == "hydra" or key.startswith(("hydra.", "hydra/"))


def precision_metric_problems(config: Config) -> list[ConfigProblem]:
    """KPI names in ``run.until_precision.metrics`` that no run produces."""
    import difflib

    from sim.outputs import schema

    problems = []
    known = sorted(k for k in schema.KPIS if "*" not in k)
    for i, name in enumerate(config.run.until_precision.metrics):
        if not schema.documented(name):
            close = difflib.get_close_matches(name, known, n=1)
            problems.append(
                ConfigProblem(
                    f"run.until_precision.metrics[{i}]",
                    name,
                    "the name of a KPI (see docs/outputs.md)",
                    f"did you mean {close[0]!r}?" if close else "",
                )
            )
    return problems


def compared_overrides(task_overrides: list[str]) -> list[str]:
    """The command line's overrides that also apply to the compared scenarios: not
    the choice of scenario, the comparison, Hydra's own, or the run's name and
    description (which belong to the scenario run, not to those it is compared with)."""
    own = ("scenario=", "compare=", "name=", "description=")
    return [
        o for o in task_overrides if not o.lstrip("+~").startswith(own) and not is_hydra_override(o)
    ]


def _key_given(overrides: list[str], key: str) -> bool:
    return any(o.partition("=")[0].lstrip("+") == key for o in overrides)


def quote(value: str) -> str:
    """``value`` as a Hydra override value (quoted unless plainly safe)."""
    import re

    if re.fullmatch(r"[\w./:@+-]+", value):
        return value
    if "'" not in value:
        return "'" + value.replace("\\", "\\\\") + "'"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def probe_folder(path: Path) -> str | None:
    """Why ``path`` cannot be used as an output folder, or None if it can.

    The folders it has to create are created and removed again: only trying
    tells, e.g., that nothing can be made under /proc.
    """
    import tempfile

    if path.exists() and not path.is_dir():
        return "it exists and is not a folder"
    created = []
    p = path
    while not p.exists() and p != p.parent:
        created.append(p)
        p = p.parent
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".nsim-probe-", dir=path)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        return exc.strerror or str(exc)
    finally:
        for d in created:  # deepest first
            try:
                d.rmdir()
            except OSError:
                break
    return None


def _folder_problem(key: str, path: Path) -> ConfigProblem | None:
    why = probe_folder(path)
    if why is None:
        return None
    return ConfigProblem(key, str(path), "a folder that can be created and written to", why)


def _existing_results(outdir: Path, batch_hash: str, overwrite: bool) -> Stop | None:
    """A reason not to run into ``outdir``: done already, or results of something else."""
    from sim.experiment.metadata import code_key

    marker = outdir / "run.json"
    if not marker.is_file():
        return None
    try:
        done = json.loads(marker.read_text())
    except (OSError, ValueError):
        done = {}
    same_batch = done.get("batch_hash") == batch_hash
    same_code = done.get("code_key") == code_key()
    if same_batch and same_code:
        return Stop(f"nsim: {outdir} already holds these results; nothing to do", 0)
    if overwrite:
        return None
    if not same_batch:
        return Stop(
            f"nsim: {outdir} holds outputs of another configuration; choose another "
            "hydra.run.dir or pass run.overwrite=true",
            2,
        )
    return Stop(
        f"nsim: {outdir} holds results of this configuration made by another code "
        f"version ({done.get('code_version', 'unknown')}); choose another hydra.run.dir "
        "or pass run.overwrite=true to redo them with this one",
        2,
    )


def check_run(overrides: list[str], config_name: str = "config") -> Plan:
    """Compose and validate a single run and everything it compares; check its folder."""
    from omegaconf import OmegaConf

    from sim.config.loading import (
        available_scenarios,
        compare_problems,
        compose,
        from_mapping,
        scenario_of,
        to_plain,
    )
    from sim.experiment.metadata import config_hash

    plan = Plan()
    problems: list[ConfigProblem] = []
    cfg = compose(overrides, hydra=True, config_name=config_name)  # raises ConfigError
    data = to_plain(cfg)
    try:
        config = from_mapping(data)
    except ConfigError as exc:
        problems += exc.problems
        config = None
    extra = [*compared_overrides(overrides), "compare=[]"]
    datas = [data]
    others: list[Config] = []
    pairs = [(scenario_of(overrides), config)]
    names = [] if config is None else [n for n in config.compare if n != config.name]
    if config is not None and (bad_names := compare_problems(config.compare)):
        problems += bad_names
        names = []
    for name in names:
        try:
            other_data = to_plain(compose([f"scenario={name}", *extra], config_name=config_name))
            other = from_mapping(other_data)
        except ConfigError as exc:
            problems += [
                ConfigProblem(f"{p.path} (in compared scenario {name})", p.value, p.allowed, p.hint)
                for p in exc.problems
            ]
            continue
        datas.append(other_data)
        others.append(other)
        pairs.append((name, other))
        plan.configs[(name, tuple(extra))] = other
    labels: dict[str, str] = {}
    for scenario, c in pairs:
        if c is not None and c.name in labels:  # results are kept by name: they would clash
            problems.append(
                ConfigProblem(
                    f"scenarios/{scenario}.yaml",
                    c.name,
                    "a name no other scenario of this run has",
                    f"scenario {labels[c.name]} is also called {c.name!r}; change 'name:'",
                )
            )
        elif c is not None:
            labels[c.name] = scenario
    if config is not None:
        problems += precision_metric_problems(config)
    from sim.projection import problems as projection_problems

    for c in [config, *others]:
        if c is not None:
            problems += projection_problems(c)
    run_dir = Path(str(OmegaConf.select(cfg, "hydra.run.dir")))
    if (bad := _folder_problem("hydra.run.dir", run_dir)) is not None:
        problems.append(bad)
    if problems:
        raise ConfigError(problems)
    assert config is not None
    plan.run_dir = run_dir
    plan.run_dir_is_new = not run_dir.exists()
    stop = _existing_results(run_dir, config_hash(config, *others), config.run.overwrite)
    if stop is not None:
        raise stop
    plan.hydra_overrides = [f"hydra.run.dir={quote(str(run_dir))}"]
    task = [o for o in overrides if not is_hydra_override(o)]
    plan.warnings = _name_warnings(data, overrides) + _inert(task, datas, available_scenarios())
    return plan


def _inert(overrides: list[str], datas: list[dict[str, Any]], scenarios: list[str]) -> list[str]:
    from sim.config.checks import inert_overrides

    return inert_overrides(overrides, datas, scenarios)


def _name_warnings(data: dict[str, Any], overrides: list[str]) -> list[str]:
    from sim.config.loading import scenario_of

    asked = scenario_of(overrides)
    name = data.get("name")
    if name != asked:
        return [
            f"scenarios/{asked}.yaml sets name: {name}; its outputs and comparisons will "
            f"be labelled {name!r}"
        ]
    return []


def check_sweep(overrides: list[str], command: list[str], config_name: str = "config") -> Plan:
    """Expand a sweep, compose and validate every job, and write its plan.

    Raises:
        SweepError: if any job cannot run (every problem of every job listed).
        ConfigError: if the sweep itself cannot be read (syntax, sweep folder).
    """
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf, open_dict

    from sim.config.checks import effective_hash
    from sim.config.loading import (
        available_scenarios,
        compose,
        config_dir,
        from_mapping,
        scenario_of,
        to_plain,
    )
    from sim.experiment.metadata import config_hash
    from sim.experiment.sweep import Job, write_manifest

    plan = Plan()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        parsed = _parse(overrides, loader)
        fixed = [o.input_line for o in parsed if not o.is_sweep_override()]
        base = compose(fixed, hydra=True, config_name=config_name)
        params = OmegaConf.select(base, "hydra.sweeper.params") or {}
        target = str(OmegaConf.select(base, "hydra.sweeper._target_") or "")
        if not target.endswith("BasicSweeper"):
            plan.warnings.append(f"the jobs of sweeper {target} are not checked before they launch")
            return plan
        params_conf = [f"{k}={v}" for k, v in params.items()]
        parsed = _parse([*params_conf, *overrides], loader)
        varying = {o.get_key_element() for o in parsed if o.is_sweep_override()}
        job_lists = _expand(parsed)
        if not job_lists:
            raise ConfigError(
                ConfigProblem(
                    "sweep",
                    " ".join(o for o in overrides if not is_hydra_override(o)),
                    "overrides that give at least one job (a glob() must match a scenario "
                    "file: " + ", ".join(available_scenarios()) + ")",
                )
            )
        sweep_dir = Path(str(OmegaConf.select(base, "hydra.sweep.dir")))
        own_subdir = not _key_given(overrides, "hydra.sweep.subdir")
        extra = [f"hydra.sweep.subdir={SWEEP_SUBDIR}"] if own_subdir else []
        failures: dict[str, list[int]] = {}
        labels: dict[int, str] = {}
        datas: list[dict[str, Any]] = []
        hashes: dict[str, list[int]] = {}
        for num, job in enumerate(job_lists):
            labels[num] = " ".join(o for o in job if o.partition("=")[0] in varying) or "-"
            try:
                cfg = compose([*job, *extra], hydra=True, config_name=config_name)
                data = to_plain(cfg)
                config = from_mapping(data)
                from sim.projection import problems as projection_problems

                if wrong := precision_metric_problems(config) + projection_problems(config):
                    raise ConfigError(wrong)
            except ConfigError as exc:
                for p in exc.problems:
                    failures.setdefault(str(p), []).append(num)
                folder = f"{num}_{scenario_of(job)}"
            else:
                with open_dict(cfg):
                    cfg.hydra.job.num = num
                folder = str(OmegaConf.select(cfg, "hydra.sweep.subdir"))
                datas.append(data)
                hashes.setdefault(effective_hash(data), []).append(num)
                plan.warnings += _name_warnings(data, job)
                stop = _existing_results(
                    sweep_dir / folder, config_hash(config), config.run.overwrite
                )
                if stop is not None and stop.status != 0:  # 0: finished, the job will skip
                    failures.setdefault(str(stop).removeprefix("nsim: "), []).append(num)
            plan.jobs.append(Job(num, [o for o in job if not is_hydra_override(o)], folder))
    if failures:
        raise SweepError(_sweep_problems(failures, labels, len(job_lists)))
    if (bad := _folder_problem("hydra.sweep.dir", sweep_dir)) is not None:
        raise ConfigError(bad)
    task = [o for o in overrides if not is_hydra_override(o)]
    plan.warnings = list(dict.fromkeys(plan.warnings))
    plan.warnings += _inert(task, datas, available_scenarios())
    plan.warnings += _sweep_only_warnings(task)
    for nums in hashes.values():
        if len(nums) > 1:
            which = ", ".join(f"{n} ({labels[n]})" for n in nums)
            plan.warnings.append(
                f"jobs {which} will give identical results: their configurations are the "
                "same once settings that have no effect are left out"
            )
    plan.sweep_dir = sweep_dir
    plan.hydra_overrides = [f"hydra.sweep.dir={quote(str(sweep_dir))}", *extra]
    write_manifest(sweep_dir, plan.jobs, command, plan.warnings)
    return plan


def _parse(overrides: list[str], loader: Any) -> list[Any]:
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        return OverridesParser.create(config_loader=loader).parse_overrides(overrides)
    except HydraException as exc:
        first = str(exc).strip().splitlines()[0]
        raise ConfigError(
            ConfigProblem(
                "command line",
                overrides,
                "overrides such as beds.acute=380,420 or scenario=glob(*)",
                first,
            )
        ) from exc


def _expand(parsed: list[Any]) -> list[list[str]]:
    """Every job's overrides, in the order (and so with the numbers) Hydra gives them."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.errors import HydraException

    try:
        return [list(job) for job in BasicSweeper.split_arguments(parsed, None)[0]]
    except HydraException as exc:
        raise ConfigError(
            ConfigProblem(
                "command line",
                [o.input_line for o in parsed],
                "sweeps over lists of values, glob(), range() or choice()",
                str(exc).strip().splitlines()[0],
            )
        ) from exc


def _sweep_only_warnings(task: list[str]) -> list[str]:
    out = []
    if _key_given(task, "compare"):
        out.append(
            "compare has no effect in a sweep: each job runs its scenario alone "
            "(nsim-collect SWEEP_DIR compares the jobs, paired by replication)"
        )
    if _key_given(task, "run.n_jobs"):
        out.append(
            "run.n_jobs has no effect in a sweep: the launcher runs jobs in parallel "
            "and each job runs its replications one after another"
        )
    return out


def _sweep_problems(failures: dict[str, list[int]], labels: dict[int, str], total: int) -> str:
    bad_jobs = sorted({n for nums in failures.values() for n in nums})
    lines = [f"nsim: {len(bad_jobs)} of {total} sweep job(s) cannot run; nothing was launched:"]
    for problem, nums in failures.items():
        lines.append(f"  - {problem}")
        if len(nums) == total and total > 1:
            lines.append(f"      in all {total} jobs")
            continue
        for n in nums[:10]:
            lines.append(f"      in job {n}: {labels[n]}")
        if len(nums) > 10:
            lines.append(f"      and {len(nums) - 10} more job(s)")
    return "\n".join(lines)
