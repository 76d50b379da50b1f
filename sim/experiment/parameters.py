"""Parameter sets drawn from the configuration's distributions.

The outer loop of a probabilistic analysis and the designs of a sensitivity
analysis both start from points in the unit cube, one coordinate per parameter
(or per group of parameters that move together), and map each coordinate
through its parameter's inverse distribution function. Doing it that way keeps
designs (Latin hypercube, Sobol, Morris) separate from distributions, and a
truncated distribution is just a narrower slice of ``[0, 1]``.

* :class:`ParameterSpace` lists the uncertain parameters of a configuration;
* :meth:`ParameterSpace.values` maps unit points to parameter values;
* :func:`unit_sample` draws the outer loop's points from a named stream;
* :func:`apply` makes the configuration of one parameter set (validated again,
  so a drawn value the model cannot take is an error naming the parameter).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from sim.config.build import to_dict
from sim.config.errors import ConfigError, ConfigProblem
from sim.config.loading import from_mapping
from sim.config.schema import Config
from sim.config.uncertainty import Distribution, locate
from sim.core.rng import RandomStreams
from sim.experiment.runner import map_jobs, run_kpis


@dataclass(frozen=True)
class Parameter:
    """One uncertain parameter: where it is, its distribution and its point value."""

    key: str  # dotted path of the field, e.g. "treat.home_share"
    dist: Distribution
    point: float  # the configuration's own value
    integer: bool  # a whole-number field (a capacity): draws are rounded

    @cached_property
    def _frozen(self) -> Any:
        """The SciPy distribution (imported here: SciPy is slow to import)."""
        from scipy import stats

        d = self.dist
        if d.dist == "uniform":
            assert d.low is not None and d.high is not None
            return stats.uniform(d.low, d.high - d.low)
        if d.dist == "triangular":
            assert d.low is not None and d.high is not None and d.mode is not None
            width = d.high - d.low
            return stats.triang((d.mode - d.low) / width, d.low, width)
        if d.dist == "beta":
            assert d.mean is not None and d.sd is not None
            k = d.mean * (1 - d.mean) / d.sd**2 - 1
            return stats.beta(d.mean * k, (1 - d.mean) * k)
        if d.dist == "lognormal":
            assert d.median is not None
            return stats.lognorm(d.sigma_log, scale=d.median)
        if d.dist == "gamma":
            assert d.mean is not None and d.sd is not None
            shape = (d.mean / d.sd) ** 2
            return stats.gamma(shape, scale=d.mean / shape)
        raise ValueError(f"no continuous law for {d.dist}")

    @cached_property
    def _cut(self) -> tuple[float, float]:
        """The slice of [0, 1] the bounds leave: (F(lo), F(hi))."""
        if self.dist.dist == "fixed" or self.dist.bounds is None:
            return 0.0, 1.0
        lo, hi = self.dist.bounds
        return float(self._frozen.cdf(lo)), float(self._frozen.cdf(hi))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Values at probabilities ``u`` (the truncated law's inverse CDF)."""
        u = np.asarray(u, dtype=float)
        if self.dist.dist == "fixed":
            assert self.dist.value is not None
            x = np.full(u.shape, float(self.dist.value))
        else:
            a, b = self._cut
            if math.isinf(self.dist.range()[1]):
                # a design's corner (Morris levels reach 1) must not be infinite
                u = np.clip(u, 0.0, 1.0 - 1e-9)
            x = np.asarray(self._frozen.ppf(a + u * (b - a)), dtype=float)
            if self.dist.bounds is not None:  # rounding at the ends of the slice
                x = np.clip(x, *self.dist.bounds)
        if not self.integer:
            return x
        # whole numbers (capacities): rounded, then kept within the range's whole numbers
        lo, hi = self.dist.range()
        return np.clip(np.round(x), math.ceil(lo), math.floor(hi) if math.isfinite(hi) else None)

    def quantile(self, q: float) -> float:
        return float(self.ppf(np.array([q]))[0])

    @property
    def low(self) -> float:
        """Low end for one-way sensitivity: the range's end for uniform and
        triangular laws, the 2.5% quantile otherwise."""
        if self.dist.dist in ("uniform", "triangular", "fixed"):
            return self.quantile(0.0)
        return self.quantile(0.025)

    @property
    def high(self) -> float:
        """High end for one-way sensitivity (see :attr:`low`)."""
        if self.dist.dist in ("uniform", "triangular", "fixed"):
            return self.quantile(1.0)
        return self.quantile(0.975)

    @property
    def group(self) -> str:
        """The name of the unit coordinate it reads (its own key unless grouped)."""
        return self.dist.group or self.key


class ParameterSpace:
    """The uncertain parameters of a configuration, and the coordinates they read.

    Parameters in one ``group`` read one coordinate; every other parameter has
    a coordinate of its own. Coordinates are in the order of first appearance.
    """

    def __init__(self, parameters: list[Parameter]) -> None:
        self.parameters = parameters
        self.groups: list[str] = list(dict.fromkeys(p.group for p in parameters))
        self._index = {g: i for i, g in enumerate(self.groups)}

    @classmethod
    def of(cls, cfg: Config, keys: list[str] | None = None) -> ParameterSpace:
        """The parameters ``cfg.uncertainty.parameters`` describes (or only ``keys``)."""
        tree = cfg.uncertainty.parameters
        wanted = list(tree) if keys is None else keys
        problems = [
            ConfigProblem(
                "--params",
                k,
                "a parameter with a distribution in uncertainty.parameters",
                _no_distribution(cfg, k) or _close(k, list(tree)),
            )
            for k in wanted
            if k not in tree
        ]
        if problems:
            raise ConfigError(problems)
        params = []
        for key in wanted:
            found = locate(cfg, key)
            assert not isinstance(found, str)  # checked when the config was validated
            _, _, value = found
            integer = type(value) is int
            params.append(Parameter(key, tree[key], float(value), integer))
        return cls(params)

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.parameters]

    @property
    def dimension(self) -> int:
        return len(self.groups)

    def values(self, unit: np.ndarray) -> np.ndarray:
        """Parameter values (points x parameters) at unit points (points x groups)."""
        unit = np.atleast_2d(np.asarray(unit, dtype=float))
        if unit.shape[1] != self.dimension:
            raise ValueError(f"unit points have {unit.shape[1]} coordinates, not {self.dimension}")
        cols = [p.ppf(unit[:, self._index[p.group]]) for p in self.parameters]
        return np.column_stack(cols) if cols else np.empty((len(unit), 0))

    def points(self) -> dict[str, float]:
        """Every parameter at the configuration's own value."""
        return {p.key: p.point for p in self.parameters}

    def table(self) -> list[dict[str, Any]]:
        """One row per parameter: key, family, point, low, median, high, group, source."""
        return [
            {
                "parameter": p.key,
                "distribution": p.dist.dist,
                "point": p.point,
                "low": p.low,
                "median": p.quantile(0.5),
                "high": p.high,
                "group": p.dist.group,
                "source": p.dist.source,
            }
            for p in self.parameters
        ]


def _no_distribution(cfg: Config, key: str) -> str:
    """A hint for a numeric field that has no distribution yet."""
    if isinstance(locate(cfg, key), str):
        return ""
    return (
        "the field exists but has no distribution: give it one under "
        "uncertainty.parameters (or, to calibrate it, in the targets file's priors)"
    )


def _close(key: str, keys: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, keys, n=1)
    return f"did you mean {close[0]!r}?" if close else ""


def unit_sample(
    space: ParameterSpace, n: int, sampler: str, seed: int, stream: str = "psa"
) -> np.ndarray:
    """``n`` points in the unit cube, one column per coordinate of ``space``.

    ``lhs`` draws each coordinate from its own named stream (a Latin hypercube's
    columns are independent permutations of the strata), so adding a parameter
    never changes the values another parameter gets. ``sobol`` uses a scrambled
    Sobol sequence over all coordinates (``n`` is best a power of two);
    ``random`` independent uniforms, again one stream per coordinate.
    """
    streams = RandomStreams(seed, 0)
    d = space.dimension
    if sampler == "sobol":
        from scipy.stats import qmc

        rng = streams.get(f"{stream}.sobol")
        return (
            np.asarray(qmc.Sobol(d, scramble=True, seed=rng).random(n)) if d else np.empty((n, 0))
        )
    cols = []
    for g in space.groups:
        rng = streams.get(f"{stream}.group.{g}")
        if sampler == "lhs":
            cols.append((rng.permutation(n) + rng.random(n)) / n)
        elif sampler == "random":
            cols.append(rng.random(n))
        else:
            raise ValueError(f"unknown sampler {sampler!r}: lhs, sobol or random")
    return np.column_stack(cols) if cols else np.empty((n, 0))


def run_points(
    cfgs: Sequence[Config],
    space: ParameterSpace,
    values: np.ndarray,
    replications: int,
    label: str = "point {i}",
    n_jobs: int = 1,
    backend: str = "loky",
    progress: bool | None = None,
) -> list[dict[str, list[dict[str, float]]]]:
    """Run each configuration at every parameter set (a row of ``values``), all with
    the same replications 0..R-1 (common random numbers).

    Returns, per row, each configuration's name -> the KPIs of its replications in
    order. ``label`` (formatted with the row number ``i``) names a set in errors.
    Every set is applied and validated before the first run.
    """
    jobs: list[tuple[Config, int]] = []
    for i, row in enumerate(values):
        point = dict(zip(space.keys, (float(v) for v in row), strict=True))
        for c in cfgs:
            # a distinct name per set lets results come back in any order
            ci = dataclasses.replace(apply(c, point, label.format(i=i)), name=f"{c.name}@{i}")
            jobs += [(ci, r) for r in range(replications)]
    got: dict[tuple[str, int], dict[str, float]] = {}
    desc = label.format(i="").strip() or "points"
    for name, r, kpis in map_jobs(run_kpis, jobs, n_jobs, backend, progress, desc):
        got[(name, r)] = kpis
    return [
        {c.name: [got[(f"{c.name}@{i}", r)] for r in range(replications)] for c in cfgs}
        for i in range(len(values))
    ]


def apply(cfg: Config, values: Mapping[str, float], label: str = "") -> Config:
    """``cfg`` with the parameters in ``values`` set (validated again).

    A value the model cannot take (a draw against a rule between fields, say)
    raises :class:`ConfigError` naming the field, the value and ``label`` (which
    parameter set it came from).
    """
    if not values:
        return cfg
    data = to_dict(cfg)
    for key, value in values.items():
        node = data
        *parents, last = key.split(".")
        for p in parents:
            node = node[p]
        old = node[last]
        node[last] = (
            round(value) if isinstance(old, int) and not isinstance(old, bool) else float(value)
        )
    try:
        return from_mapping(data)
    except ConfigError as exc:
        if not label:
            raise
        problems = [
            ConfigProblem(p.path, p.value, p.allowed, f"{label}; {p.hint}" if p.hint else label)
            for p in exc.problems
        ]
        raise ConfigError(problems) from None
