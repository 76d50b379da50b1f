"""Calibration: which parameter values reproduce a borough's observed figures.

A planner knows some figures of the real borough for a period (last year's
emergency admissions and A&E attendances, the mean length of stay, bed
occupancy, delayed days by attribution) and wants the model to reproduce them
before it predicts anything. Some parameters are uncertain, each with a prior
(its distribution under ``uncertainty.parameters``); calibration asks which of
their values are consistent with the figures, and rules out the rest.

Method: history matching (Craig et al. 1997; Vernon, Goldstein & Bower 2010;
Andrianakis et al. 2015), with the simulator itself in place of an emulator,
since a short run is cheap.

**Targets.** A YAML file the planner fills from published figures::

    scenario: baseline          # optional; a scenario given on the command line wins
    period_days: 365            # the period the counts cover (default 365)
    targets:
      emergency_admissions: {observed: 21000, sd: 800}     # sd: observation uncertainty
      ae_attendances: {observed: 78000, tolerance: 0.05}   # relative, taken as 2 sd
      mean_los_days: {observed: 6.1, sd: 0.3}
    priors:                     # optional: distributions for parameters to fit that
      discharge:                # have none in uncertainty.parameters (same format)
        reablement:
          capacity: {dist: uniform, low: 120, high: 240}

Each key of ``targets`` is a KPI (docs/outputs.md). Totals over the measured
period (KPIs counted in patients, days, hours or GBP, such as
``emergency_admissions``, ``bed_days``, ``dtoc_days``) are rescaled from the
model's measured days (``run.measured_days``) to ``period_days``; means, rates
and shares (``mean_los_days``, ``mean_bed_occupancy``) are compared as they are.
KPIs of the whole run or of its last moment (``patients_created``, ``end_*``,
``events``) describe the run, not the borough, and are refused.

**Implausibility.** For a parameter set x and target j::

    I_j(x) = |z_j - m_j(x)| / sqrt(V_obs,j + V_run,j (1 + 1/R) + V_disc,j)

``z`` is the observed figure; ``m(x)`` the mean of R replications at x (the
same replications at every point: common random numbers, which remove much,
though not all, of the chance difference between points); ``V_obs = sd^2``,
how far the published figure may be from the true one (recording and
definitions; a relative tolerance t gives sd = t |z| / 2); ``V_run`` the
variance of one run, the chance variation of a year: the observed year is one
such run of the real system, and ``m(x)`` a mean of R (hence ``1 + 1/R``).
``V_run`` is pooled over the wave's points (the mean of each point's
between-replication variance, overloaded points left out), since two or three
replications give a point's own estimate too few degrees of freedom.
``V_disc = (discrepancy z)^2`` is the model discrepancy, how far the best
model may stand from reality (0 by default). Totals of a run shorter than
``period_days`` are scaled up, and their variance with them (by the square of
the factor, more than a count's variance grows with its period): calibrate on
runs as long as the period where possible.

A point is non-implausible when ``max_j I_j(x) < 3`` (the cutoff):
Pukelsheim's three-sigma rule, that any unimodal distribution holds at least
95% of its mass within 3 sd of its mean. A point whose runs are overloaded (a
queue for beds or a downstream service growing without bound,
:func:`sim.experiment.checks.overloads`) is ruled out whatever its
implausibility: its figures depend on the run's length rather than on the year,
and its replications spread so widely that ``V_sim`` would otherwise let it
through (found calibrating Barnet's delays: points with too few reablement
places passed with means three times the observed figure).

**Waves.** Points live in the unit cube, one coordinate per parameter group
(:class:`~sim.experiment.parameters.ParameterSpace`), mapped to values through
each prior's inverse distribution function, so wave 1, a Latin hypercube over
the whole cube (stream ``calibration.wave1`` of ``run.seed``), samples the
priors. Each later wave draws a Latin hypercube inside the bounding box of the
previous wave's non-implausible points, widened on each side by 10% of its
width, and by at least one stratum of the design that found them (the edge of
the region lies somewhere before the next design point, about a stratum away;
and a box round one point is not empty), clipped to [0, 1]. The plausible set is
every non-implausible point of every wave. A wave with no non-implausible point
stops the matching, and the targets that could not be reached are reported
(:attr:`CalibrationResult.unreachable`), never dropped in silence: each target
no point came within the cutoff of, with the closest simulated value; or, if
each can be met alone but not together, those over the cutoff at the best point.

**Result.** :class:`CalibrationResult` holds every point run (wave, unit
coordinates, parameter values, per target the simulated mean, sd and
implausibility, the maximum, plausible or not), the plausible set, the best
point (the smallest maximum implausibility) and a fit table (:meth:`fit`).

**The calibrated scenario** (:func:`write_scenario`) is a Hydra scenario file
like those in ``configs/scenario/``: the settings of the scenario and overrides
calibrated (as differences from ``configs/config.yaml``, run settings left
out), each fitted parameter at its best value, and for each fitted parameter an
``uncertainty.parameters`` entry ``{dist: uniform, low, high}`` over its
plausible values (``fixed`` if they are one value) so that a PSA draws from the
calibrated range. :func:`sim.config.load_config` takes a scenario *name*, not a
path: it checks the name against the files of ``configs/scenario/`` (the Hydra
config group, in the config folder ``NSIM_CONFIG_DIR`` names, if set) and
composes ``scenario=<name>``. So the file is written where asked (``nsim-calibrate``:
its output folder) and is used once copied there as ``<name>.yaml``.

Limits: the plausible set is a sample of the region not ruled out, not a
weighted posterior. The calibrated distributions are independent uniform ranges
(parameters of one group still move together), so a trade-off between fitted
parameters (more admissions, shorter stays) widens each range rather than
pairing them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config.build import to_dict
from sim.config.errors import ConfigError, ConfigProblem
from sim.config.loading import from_mapping
from sim.config.schema import Config
from sim.experiment.checks import overloads
from sim.experiment.parameters import ParameterSpace, apply, run_points, unit_sample
from sim.experiment.runner import run_kpis

#: KPIs that describe the run rather than the borough over a period
WHOLE_RUN = (
    "patients_created",
    "patients_exited",
    "patients_in_system_end",
    "events",
    "delayed_at_end",
    "end_*",
    "*_at_end",
)
#: units of KPIs that add up over the measured period (rescaled to period_days)
TOTAL_UNITS = ("count", "days", "hours")
TOP_KEYS = ("scenario", "period_days", "targets", "priors")
TARGET_KEYS = ("observed", "sd", "tolerance")


# ------------------------------------------------------------------ targets
@dataclass(frozen=True)
class Target:
    """One observed figure and how uncertain it is."""

    kpi: str
    observed: float  # over the targets' period
    sd: float  # observation sd (a tolerance t gives t |observed| / 2)
    tolerance: float | None = None  # as written, if given instead of sd
    total: bool = False  # a total over the period: rescaled from the model's measured days


@dataclass(frozen=True)
class Targets:
    """A targets file: the figures, their period, and priors to add."""

    path: Path
    targets: tuple[Target, ...]
    period_days: float = 365.0
    scenario: str | None = None
    priors: Mapping[str, Any] = field(default_factory=dict)  # nested, as uncertainty.parameters

    @property
    def kpis(self) -> list[str]:
        return [t.kpi for t in self.targets]

    def scale(self, cfg: Config) -> dict[str, float]:
        """Factor from a model KPI to the targets' period, per target (1 for means)."""
        f = self.period_days / cfg.run.measured_days
        return {t.kpi: f if t.total else 1.0 for t in self.targets}


def is_total(kpi: str) -> bool:
    """True if ``kpi`` adds up over the measured period (a count, days, hours, GBP)."""
    from sim.outputs import schema

    u = schema.unit(kpi) or ""
    words = kpi.split("_")
    return (u in TOTAL_UNITS or u.startswith("GBP")) and "mean" not in words and "p95" not in words


def _whole_run(kpi: str) -> bool:
    import fnmatch

    return any(fnmatch.fnmatch(kpi, pat) for pat in WHOLE_RUN)


class _Lines:
    """Line numbers of the keys of a YAML document, for messages."""

    def __init__(self, text: str, file: str) -> None:
        import yaml

        self.file = file
        try:
            self.root: Any = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            self.root = None

    def line(self, path: str) -> int | None:
        import yaml

        node, found = self.root, None
        for part in path.split("."):
            if not isinstance(node, yaml.MappingNode):
                break
            for k, v in node.value:
                if str(k.value) == part:
                    found, node = k.start_mark.line + 1, v
                    break
            else:
                break
        return found

    def where(self, path: str, extra: str = "") -> str:
        n = self.line(path)
        text = f"{self.file}, line {n}" if n else self.file
        return f"{text}; {extra}" if extra else text


def _number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def load_targets(path: str | Path) -> Targets:
    """Read and check a targets file (see the module docstring for its format).

    Raises:
        ConfigError: every problem at once, each naming the field (such as
            ``targets.emergency_admissions.sd``), the value, what is allowed, and
            the file and line.
    """
    import difflib

    import yaml

    from sim.config.loading import _yaml_problem
    from sim.outputs import schema

    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            ConfigProblem("targets file", file, "a readable YAML file", exc.strerror or str(exc))
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(_yaml_problem(exc, path)) from None
    except yaml.YAMLError as exc:
        raise ConfigError(ConfigProblem(file, None, "valid YAML", str(exc))) from None
    lines = _Lines(text, file)
    problems: list[ConfigProblem] = []

    def bad(where: str, value: object, allowed: str, hint: str = "") -> None:
        problems.append(ConfigProblem(where, value, allowed, lines.where(where, hint)))

    if not isinstance(data, Mapping):
        raise ConfigError(
            ConfigProblem("targets file", data, "a mapping with a 'targets' section", file)
        )
    for key in data:
        if key not in TOP_KEYS:
            close = difflib.get_close_matches(str(key), TOP_KEYS, n=1)
            bad(
                str(key),
                data[key],
                "one of " + ", ".join(TOP_KEYS),
                f"did you mean {close[0]!r}?" if close else "",
            )
    scenario = data.get("scenario")
    if scenario is not None and not isinstance(scenario, str):
        bad("scenario", scenario, "a scenario name")
    period = data.get("period_days", 365)
    if not (_number(period) and period > 0):
        bad("period_days", period, "a number of days > 0 (the period the counts cover)")
    priors = data.get("priors") or {}
    if not isinstance(priors, Mapping):
        bad(
            "priors",
            priors,
            "a mapping of block -> field -> distribution, as uncertainty.parameters",
        )
        priors = {}
    raw = data.get("targets")
    found: list[Target] = []
    if not isinstance(raw, Mapping) or not raw:
        bad("targets", raw, "a mapping of KPI name -> {observed: ..., sd: ...} (at least one)")
        raw = {}
    known = sorted(k for k in schema.all_kpis() if "*" not in k)
    for kpi, spec in raw.items():
        where = f"targets.{kpi}"
        kpi = str(kpi)
        if not schema.documented(kpi):
            close = difflib.get_close_matches(kpi, known, n=1)
            bad(
                where,
                kpi,
                "a KPI name (docs/outputs.md)",
                f"did you mean {close[0]!r}?" if close else "",
            )
            continue
        if _whole_run(kpi):
            bad(where, kpi, "a KPI measured over the period (not one of the whole run or its end)")
            continue
        if not isinstance(spec, Mapping):
            bad(
                where,
                spec,
                "a mapping {observed: <number>, sd: <number>} or "
                "{observed: <number>, tolerance: <share>}",
            )
            continue
        for k in spec:
            if k not in TARGET_KEYS:
                bad(f"{where}.{k}", spec[k], "one of observed, sd, tolerance")
        observed = spec.get("observed")
        sd, tol = spec.get("sd"), spec.get("tolerance")
        ok = True
        if observed is None:
            bad(f"{where}.observed", None, "a number: the observed figure (missing)")
            ok = False
        elif not _number(observed):
            bad(f"{where}.observed", observed, "a number: the observed figure")
            ok = False
        elif schema.non_negative(kpi) and observed < 0:
            bad(f"{where}.observed", observed, f"a number >= 0 ({kpi} cannot be negative)")
            ok = False
        elif schema.unit(kpi) == "share" and observed > 1:
            bad(
                f"{where}.observed",
                observed,
                f"a share from 0 to 1 ({kpi} is a share: 0.9, not 90)",
            )
            ok = False
        if (sd is None) == (tol is None):
            both = "both given" if sd is not None else "neither given"
            bad(
                f"{where}.sd",
                sd,
                f"exactly one of sd (a number > 0) and tolerance (a relative share > 0), {both}",
            )
            ok = False
        elif sd is not None and not (_number(sd) and sd > 0):
            bad(f"{where}.sd", sd, "a number > 0 (the observation's standard deviation)")
            ok = False
        elif tol is not None and not (_number(tol) and tol > 0):
            bad(f"{where}.tolerance", tol, "a number > 0 (relative: 0.05 = within 5%)")
            ok = False
        elif tol is not None and ok and observed == 0:
            bad(
                f"{where}.tolerance",
                tol,
                "an sd instead: a tolerance is relative to the observed figure, which is 0",
            )
            ok = False
        if ok:
            z = float(spec["observed"])
            s = float(sd) if sd is not None else float(tol or 0.0) * abs(z) / 2
            found.append(Target(kpi, z, s, None if tol is None else float(tol), is_total(kpi)))
    if problems:
        raise ConfigError(problems)
    return Targets(path, tuple(found), float(period), scenario, dict(priors))


# ------------------------------------------------------------------ setting up
def with_priors(cfg: Config, targets: Targets) -> Config:
    """``cfg`` with the targets file's ``priors`` added to ``uncertainty.parameters``
    (a prior replaces the configuration's distribution of the same field)."""
    if not targets.priors:
        return cfg
    data = to_dict(cfg)
    tree = data["uncertainty"].setdefault("parameters", {})
    _merge(tree, targets.priors)
    try:
        return from_mapping(data)
    except ConfigError as exc:
        import yaml

        file = str(targets.path)
        try:
            lines = _Lines(targets.path.read_text(encoding="utf-8"), file)
        except (OSError, yaml.YAMLError):
            lines = _Lines("", file)
        problems = []
        for p in exc.problems:
            where = p.path.replace("uncertainty.parameters", "priors", 1)
            problems.append(ConfigProblem(where, p.value, p.allowed, lines.where(where, p.hint)))
        raise ConfigError(problems) from None


def _merge(dst: dict[str, Any], src: Mapping[str, Any]) -> None:
    """Merge nested distributions: a distribution replaces what was there whole."""
    for key, sub in src.items():
        if (
            isinstance(sub, Mapping)
            and "dist" not in sub
            and isinstance(dst.get(key), dict)
            and "dist" not in dst[key]
        ):
            _merge(dst[key], sub)
        else:
            dst[key] = dict(sub) if isinstance(sub, Mapping) else sub


def prepare(cfg: Config, targets: Targets, params: Sequence[str]) -> tuple[Config, ParameterSpace]:
    """The configuration to fit (priors added) and the space of ``params``, checked
    before anything long runs: every parameter has a distribution, and a one-day
    run produces every target KPI (a service's KPIs need the service enabled).

    Raises:
        ConfigError: naming the parameter, prior or target.
    """
    cfg = with_priors(cfg, targets)
    if not params:
        raise ConfigError(ConfigProblem("--params", "", "at least one parameter to fit"))
    twice = sorted({p for p in params if list(params).count(p) > 1})
    if twice:
        raise ConfigError(
            ConfigProblem(
                "--params",
                list(params),
                "each parameter once",
                "listed more than once: " + ", ".join(twice),
            )
        )
    space = ParameterSpace.of(cfg, list(params))
    day = dataclasses.replace(cfg.run, warmup_days=0, years=1 / 365, event_log=False)
    _, _, kpis = run_kpis((dataclasses.replace(cfg, run=day), 0))
    missing = [k for k in targets.kpis if k not in kpis]
    if missing:
        raise ConfigError(
            [
                ConfigProblem(
                    f"targets.{k}",
                    k,
                    f"a KPI the scenario {cfg.name!r} produces",
                    f"{targets.path}; is its service enabled?",
                )
                for k in missing
            ]
        )
    return cfg, space


def _check_options(
    points: int, replications: int, waves: int, cutoff: float, discrepancy: float
) -> None:
    problems = []
    if points < 2:
        problems.append(ConfigProblem("points", points, "a whole number >= 2"))
    if replications < 2:
        problems.append(
            ConfigProblem(
                "replications",
                replications,
                "a whole number >= 2",
                "the between-replication variance needs two",
            )
        )
    if waves < 1:
        problems.append(ConfigProblem("waves", waves, "a whole number >= 1"))
    if not (math.isfinite(cutoff) and cutoff > 0):
        problems.append(ConfigProblem("cutoff", cutoff, "a number > 0 (3: the three-sigma rule)"))
    if not (math.isfinite(discrepancy) and discrepancy >= 0):
        problems.append(
            ConfigProblem(
                "discrepancy",
                discrepancy,
                "a number >= 0 (0.05: model discrepancy sd 5% of observed)",
            )
        )
    if problems:
        raise ConfigError(problems)


# ------------------------------------------------------------------ result
@dataclass(frozen=True)
class Unreachable:
    """A target the model could not reach, and why."""

    target: str
    observed: float
    min_implausibility: float  # over every point run
    closest: float  # simulated mean at the point of least implausibility for this target
    reason: str


def unit_column(group: str) -> str:
    return f"unit:{group}"


@dataclass
class CalibrationResult:
    """Every point run, and what follows: plausible set, best point, fit, failures."""

    config: Config  # the configuration fitted (the targets file's priors added)
    targets: Targets
    space: ParameterSpace
    points: pd.DataFrame  # one row per point (see the module docstring)
    replications: int
    cutoff: float
    discrepancy: float
    scale: dict[str, float]  # target -> factor from the model's KPI to the period
    unreachable: list[Unreachable] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def plausible(self) -> pd.DataFrame:
        """The non-implausible points of every wave."""
        return self.points[self.points["plausible"]].reset_index(drop=True)

    @property
    def best(self) -> pd.Series:
        """The plausible point with the smallest maximum implausibility (of every
        point, if none is plausible)."""
        pool = self.plausible if not self.plausible.empty else self.points
        k = int(np.argmin(pool["max_implausibility"].to_numpy(dtype=float)))
        return pool.iloc[k]

    def best_values(self) -> dict[str, float]:
        b = self.best
        return {k: float(b[k]) for k in self.space.keys}

    def ranges(self) -> dict[str, tuple[float, float]]:
        """Each fitted parameter's lowest and highest plausible value."""
        ok = self.plausible
        return {k: (float(ok[k].min()), float(ok[k].max())) for k in self.space.keys}

    def fit(self) -> pd.DataFrame:
        """One row per target: observed, its sd, the simulated mean at the best point
        and its implausibility, the 2.5%-97.5% range of the simulated means over
        the plausible points, and whether the best point is within the cutoff."""
        b, ok = self.best, self.plausible
        rows = []
        for t in self.targets.targets:
            col = ok[f"{t.kpi}:mean"].to_numpy(dtype=float)
            rows.append(
                {
                    "target": t.kpi,
                    "observed": t.observed,
                    "observed_sd": t.sd,
                    "best": float(b[f"{t.kpi}:mean"]),
                    "best_implausibility": float(b[f"{t.kpi}:I"]),
                    "plausible_low": float(np.quantile(col, 0.025)) if len(col) else np.nan,
                    "plausible_high": float(np.quantile(col, 0.975)) if len(col) else np.nan,
                    "within": "yes" if float(b[f"{t.kpi}:I"]) < self.cutoff else "no",
                    "scale": self.scale[t.kpi],
                }
            )
        return pd.DataFrame(rows)

    def posterior(self) -> dict[str, dict[str, Any]]:
        """Per fitted parameter, the distribution over its plausible values: uniform
        from the lowest to the highest (fixed if one value), its group kept."""
        ok = self.plausible
        if ok.empty:
            raise ValueError("no plausible point: there is no calibrated range")
        n, m = len(ok), len(self.points)
        source = (
            f"calibrated to {self.targets.path.name} ({n} plausible of {m} points, "
            "history matching)"
        )
        out: dict[str, dict[str, Any]] = {}
        for p in self.space.parameters:
            lo, hi = self.ranges()[p.key]
            lo, hi = _sig(lo), _sig(hi)
            d: dict[str, Any] = (
                {"dist": "fixed", "value": lo}
                if lo >= hi
                else {"dist": "uniform", "low": lo, "high": hi}
            )
            if p.dist.group:
                d["group"] = p.dist.group
            d["source"] = source
            out[p.key] = d
        return out


def _sig(x: float) -> float:
    """``x`` to 6 significant figures (whole numbers stay whole)."""
    return float(f"{x:.6g}")


# ------------------------------------------------------------------ matching
def history_match(
    cfg: Config,
    targets: Targets,
    params: Sequence[str],
    points: int = 40,
    replications: int = 2,
    waves: int = 2,
    cutoff: float = 3.0,
    discrepancy: float = 0.0,
    n_jobs: int = 1,
    backend: str = "loky",
    progress: bool | None = None,
) -> CalibrationResult:
    """History-match ``params`` of ``cfg`` to ``targets`` (method: module docstring).

    Args:
        cfg: The validated configuration to fit (its ``run`` settings are used
            for every run: keep them those the calibrated scenario will be run with).
        targets: From :func:`load_targets`.
        params: Keys of ``uncertainty.parameters`` (or of the targets' priors).
        points: Points per wave.
        replications: Replications per point (the same ones at every point).
        waves: Waves at most.
        cutoff: Largest implausibility of a plausible point.
        discrepancy: Model discrepancy sd as a share of each observed figure.
        n_jobs, backend, progress: As :func:`sim.experiment.runner.map_jobs`.

    Raises:
        ConfigError: before any run, for a bad option, parameter, prior or target.
    """
    _check_options(points, replications, waves, cutoff, discrepancy)
    cfg, space = prepare(cfg, targets, params)
    scale = targets.scale(cfg)
    box = np.tile([0.0, 1.0], (space.dimension, 1))
    frames: list[pd.DataFrame] = []
    notes: list[str] = []
    cols = [unit_column(g) for g in space.groups]
    for wave in range(1, waves + 1):
        unit = unit_sample(space, points, "lhs", cfg.run.seed, stream=f"calibration.wave{wave}")
        unit = box[:, 0] + unit * (box[:, 1] - box[:, 0])
        table = _run_wave(
            cfg,
            space,
            targets,
            scale,
            unit,
            wave,
            replications,
            cutoff,
            discrepancy,
            n_jobs,
            backend,
            progress,
        )
        frames.append(table)
        ok = table[table["plausible"]]
        if ok.empty:
            if wave < waves:
                notes.append(f"wave {wave} found no plausible point of {points}: stopped there")
            break
        box = _next_box(ok[cols].to_numpy(dtype=float), box, points)
    runs = pd.concat(frames, ignore_index=True)
    result = CalibrationResult(
        cfg, targets, space, runs, replications, cutoff, discrepancy, scale, notes=notes
    )
    result.unreachable = _unreachable(result)
    return result


def _run_wave(
    cfg: Config,
    space: ParameterSpace,
    targets: Targets,
    scale: Mapping[str, float],
    unit: np.ndarray,
    wave: int,
    replications: int,
    cutoff: float,
    discrepancy: float,
    n_jobs: int,
    backend: str,
    progress: bool | None,
) -> pd.DataFrame:
    """Run every point of a wave with the same replications; one row per point."""
    values = space.values(unit)
    label = "point {i} of calibration wave " + str(wave)
    runs = run_points([cfg], space, values, replications, label, n_jobs, backend, progress)
    each = [pd.DataFrame(at[cfg.name]) for at in runs]
    over = [overloads(e, cfg.run.measured_days) for e in each]
    # the variance of one run, per target: the mean over the wave's points (not
    # overloaded) of each point's variance between its replications, which is
    # unbiased (a median of such estimates with one degree of freedom would be
    # less than half the variance). With two or three replications a point's own
    # estimate is too rough to trust alone
    steady = [e for e, o in zip(each, over, strict=True) if not o] or each
    v_run = {
        t.kpi: float(
            np.nanmean(
                [np.var(e[t.kpi].to_numpy(dtype=float) * scale[t.kpi], ddof=1) for e in steady]
            )
        )
        for t in targets.targets
    }
    rows = []
    for i, e in enumerate(each):
        row: dict[str, Any] = {"wave": wave, "point": i}
        row.update({unit_column(g): float(unit[i, k]) for k, g in enumerate(space.groups)})
        row.update({k: float(values[i, j]) for j, k in enumerate(space.keys)})
        worst = 0.0
        for t in targets.targets:
            x = e[t.kpi].to_numpy(dtype=float) * scale[t.kpi]
            mean, sd = float(np.mean(x)), float(np.std(x, ddof=1))
            # the observed year is one run of the real system, compared with the mean
            # of R runs: its own chance variation (v_run) and the mean's (v_run / R)
            v_sim = v_run[t.kpi] * (1 + 1 / replications)
            v = t.sd**2 + v_sim + (discrepancy * t.observed) ** 2
            imp = abs(t.observed - mean) / math.sqrt(v)
            if not math.isfinite(imp):  # a KPI with no value (no patient left a bed)
                imp = math.inf
            row[f"{t.kpi}:mean"], row[f"{t.kpi}:sd"], row[f"{t.kpi}:I"] = mean, sd, imp
            worst = max(worst, imp)
        row["max_implausibility"] = worst
        row["overload"] = "; ".join(o.note() for o in over[i])
        # an overloaded point is ruled out whatever its implausibility: its queue's
        # growth makes its figures depend on the run's length, and its replications
        # spread so widely that the variance term would otherwise let it through
        row["plausible"] = worst < cutoff and not over[i]
        rows.append(row)
    return pd.DataFrame(rows)


def _next_box(ok: np.ndarray, box: np.ndarray, n: int) -> np.ndarray:
    """The next wave's box: the non-implausible points' bounding box, widened by 10%
    of its width and at least one stratum of the last design, within [0, 1]."""
    lo, hi = ok.min(axis=0), ok.max(axis=0)
    stratum = (box[:, 1] - box[:, 0]) / n
    pad = np.maximum(0.1 * (hi - lo), stratum)
    return np.column_stack([np.clip(lo - pad, 0.0, 1.0), np.clip(hi + pad, 0.0, 1.0)])


def _unreachable(result: CalibrationResult) -> list[Unreachable]:
    """Why no point is plausible, per target (empty when some point is)."""
    runs = result.points
    if runs["plausible"].any():
        return []
    out = []
    for t in result.targets.targets:
        imp = runs[f"{t.kpi}:I"].to_numpy(dtype=float)
        means = runs[f"{t.kpi}:mean"].to_numpy(dtype=float)
        k = int(np.argmin(imp))
        if imp[k] < result.cutoff:
            continue
        finite = means[np.isfinite(means)]
        if len(finite) and (finite < t.observed).all():
            side = (
                "below the observed figure at every point: the fitted parameters' priors "
                "do not reach it"
            )
        elif len(finite) and (finite > t.observed).all():
            side = (
                "above the observed figure at every point: the fitted parameters' priors "
                "do not reach it"
            )
        else:
            side = "on both sides of the observed figure, but never within the cutoff"
        out.append(
            Unreachable(
                t.kpi,
                t.observed,
                float(imp[k]),
                float(means[k]),
                f"no point came within {result.cutoff:g} sd (least implausibility {imp[k]:.3g}, "
                f"closest simulated {means[k]:.4g} vs observed {t.observed:.4g}); "
                f"the model is {side}",
            )
        )
    if out:
        return out
    matched = runs[runs["max_implausibility"] < result.cutoff]
    if not matched.empty:  # every point that met the figures was overloaded
        note = str(matched["overload"].iloc[0])
        return [
            Unreachable(
                t.kpi,
                t.observed,
                float(matched[f"{t.kpi}:I"].min()),
                float(matched[f"{t.kpi}:mean"].iloc[0]),
                f"met only at points where the system is overloaded ({len(matched)} points; "
                f"e.g. {note}); such a point cannot stand for a year's steady figures",
            )
            for t in result.targets.targets
        ]
    # each target can be met alone, not all at once
    b = result.best
    for t in result.targets.targets:
        worst = float(b[f"{t.kpi}:I"])
        if worst >= result.cutoff:
            lone = float(runs[f"{t.kpi}:I"].min())
            out.append(
                Unreachable(
                    t.kpi,
                    t.observed,
                    lone,
                    float(b[f"{t.kpi}:mean"]),
                    f"met alone at some point (least implausibility {lone:.3g}) but not together "
                    f"with the other targets: at the best point it is {worst:.3g} "
                    f"(simulated {float(b[f'{t.kpi}:mean']):.4g} vs observed {t.observed:.4g})",
                )
            )
    return out


# ------------------------------------------------------------------ scenario
#: settings of how the model is run, or of what a scenario is compared with,
#: that a calibrated scenario does not carry
_NOT_WRITTEN = ("name", "description", "compare", "run")


def scenario_data(result: CalibrationResult, name: str) -> dict[str, Any]:
    """The calibrated scenario as plain data: name, description and its differences
    from ``configs/config.yaml`` (checked by building the configuration)."""
    from sim.config.loading import load_config

    if result.plausible.empty:
        raise ValueError("no plausible point: there is no calibrated scenario to write")
    best = {k: _sig(v) for k, v in result.best_values().items()}
    ok = result.plausible
    data = to_dict(apply(result.config, best, "the best point"))
    # the plausible sets themselves, for the PSA to draw whole (keeping how the
    # fitted parameters go together); the ranges below serve the sensitivity tools
    keys = [p.key for p in result.space.parameters]
    data["uncertainty"]["sets"] = {
        "columns": keys,
        "rows": [[_sig(float(v)) for v in row] for row in ok[keys].to_numpy(dtype=float)],
    }
    tree = data["uncertainty"].setdefault("parameters", {})
    for key, dist in result.posterior().items():
        node = tree
        *parents, last = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = dist
    data["name"] = name
    data["description"] = (
        f"{result.config.description.rstrip('.')}; calibrated to "
        f"{result.targets.path.name} by history matching ({len(ok)} plausible of "
        f"{len(result.points)} points)."
    )
    from_mapping(data)  # what is written is a valid configuration
    base = to_dict(load_config("baseline"))
    diff = _diff(
        {k: v for k, v in base.items() if k not in _NOT_WRITTEN},
        {k: v for k, v in data.items() if k not in _NOT_WRITTEN},
    )
    return {"name": name, "description": data["description"], **diff}


def _diff(base: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """What ``new`` changes in ``base``, as a Hydra merge would need it: mappings by
    key; a distribution whole, with ``null`` for the settings it drops."""
    out: dict[str, Any] = {}
    for key, value in new.items():
        old = base.get(key)
        if value == old:
            continue
        if isinstance(value, Mapping) and isinstance(old, Mapping):
            if "dist" in value:
                out[key] = {**dict(value), **{k: None for k in old if k not in value}}
            else:
                sub = _diff(old, value)
                if sub:
                    out[key] = sub
        else:
            out[key] = value
    return out


def write_scenario(result: CalibrationResult, path: str | Path, name: str | None = None) -> Path:
    """Write the calibrated scenario file (see the module docstring) to ``path``.

    ``name`` (default ``<scenario>_calibrated``) is its ``name:``; to load it with
    ``load_config(name)`` copy the file to ``configs/scenario/<name>.yaml``.
    Raises ValueError if no point is plausible.
    """
    import yaml

    from sim.outputs.writers import atomic_write

    path = Path(path)
    name = name or f"{result.config.name}_calibrated"
    data = scenario_data(result, name)
    b, ok = result.best, result.plausible
    run = result.config.run
    lines = [
        "# @package _global_",
        "#",
        f"# {name}: {result.config.name!r} calibrated by history matching to",
        f"# {result.targets.path} (nsim-calibrate).",
        "#",
        "# Changes: the fitted parameters at the best point (smallest maximum implausibility, "
        f"{float(b['max_implausibility']):.3g}):",
    ]
    lo_hi = result.ranges()
    for k, v in result.best_values().items():
        lo, hi = lo_hi[k]
        lines.append(f"#   {k} = {_sig(v):g} (plausible {lo:.4g} to {hi:.4g})")
    lines += [
        "# uncertainty.sets holds the plausible parameter sets, which a PSA",
        "# (uncertainty.method=psa) draws whole; uncertainty.parameters gives each fitted",
        "# parameter a uniform range over its plausible values, for the sensitivity tools.",
        "# The other settings below are those of the scenario and overrides calibrated.",
        f"# Why: {len(ok)} of {len(result.points)} points were plausible (every target within "
        f"{result.cutoff:g} sd) for",
        "#   " + ", ".join(result.targets.kpis) + ".",
        f"# Calibrated on runs of {run.years:g} years after {run.warmup_days} warm-up days, "
        f"seed {run.seed},",
        f"# {result.replications} replications a point; run it with the same or longer runs.",
        f"# Use: copy to configs/scenario/{name}.yaml, then `nsim scenario={name}`.",
    ]
    text = (
        "\n".join(lines)
        + "\n"
        + yaml.safe_dump(
            data, sort_keys=False, default_flow_style=None, width=1000, allow_unicode=True
        )
    )
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))
    return path
