"""What the evidence does not know: distributions on parameters, for the outer loop.

A point value in a scenario (TREAT sends 25% of its would-be admissions home) is
one reading of evidence that is often mixed. The ``uncertainty`` block says how
uncertain each such value is, as a probability distribution, so that a
probabilistic sensitivity analysis (PSA) can draw whole parameter sets and run
each, and a one-way or global sensitivity analysis knows each parameter's range.

Distributions are written under ``uncertainty.parameters`` in the same nesting as
the fields they describe::

    uncertainty:
      parameters:
        treat:
          home_share: {dist: beta, mean: 0.18, sd: 0.09, bounds: [0, 0.4]}

Any numeric field of the configuration (a core block or a service's) can carry
one. The families are those a planner meets in economic evaluation:

* ``fixed``: ``value``;
* ``uniform``: ``low``, ``high``; ``triangular``: ``low``, ``mode``, ``high``;
* ``beta`` (shares, probabilities): ``mean``, ``sd``;
* ``lognormal`` (rate ratios, durations): ``median`` with ``sigma`` (of the
  log) or ``ci95: [lo, hi]``, the 2.5% and 97.5% quantiles (a reported ratio and
  its 95% confidence interval);
* ``gamma`` (durations, costs): ``mean``, ``sd``.

Each may be truncated to ``bounds: [lo, hi]``. Parameters with the same
``group`` share one uniform draw, so they move together (the age bands of one
rate, two ratios that must stay ordered). This module only validates; the
numbers are drawn by :mod:`sim.experiment.parameters`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sim.config.errors import ConfigProblem

if TYPE_CHECKING:
    from sim.config.build import _Builder

Family = Literal["fixed", "uniform", "triangular", "beta", "lognormal", "gamma"]

#: the settings each family needs (``lognormal`` needs ``median`` and one of
#: ``sigma`` or ``ci95``)
NEEDS: dict[str, tuple[str, ...]] = {
    "fixed": ("value",),
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "beta": ("mean", "sd"),
    "lognormal": ("median",),
    "gamma": ("mean", "sd"),
}
_SHAPE = ("value", "low", "mode", "high", "mean", "sd", "median", "sigma", "ci95")


@dataclass(frozen=True, slots=True)
class Distribution:
    """The uncertainty of one parameter (see the module docstring for families)."""

    dist: Family
    value: float | None = None
    low: float | None = None
    mode: float | None = None
    high: float | None = None
    mean: float | None = None
    sd: float | None = None
    median: float | None = None
    sigma: float | None = None
    ci95: tuple[float, float] | None = None
    bounds: tuple[float, float] | None = None
    group: str = ""
    source: str = ""

    def support(self) -> tuple[float, float]:
        """The smallest and largest value a draw can take (before ``bounds``)."""
        if self.dist == "fixed":
            assert self.value is not None
            return self.value, self.value
        if self.dist in ("uniform", "triangular"):
            assert self.low is not None and self.high is not None
            return self.low, self.high
        if self.dist == "beta":
            return 0.0, 1.0
        return 0.0, math.inf

    def range(self) -> tuple[float, float]:
        """The support, cut to ``bounds``."""
        lo, hi = self.support()
        if self.bounds is not None:
            lo, hi = max(lo, self.bounds[0]), min(hi, self.bounds[1])
        return lo, hi

    def check(self, path: str) -> list[ConfigProblem]:
        problems: list[ConfigProblem] = []

        def bad(name: str, allowed: str, hint: str = "") -> None:
            problems.append(ConfigProblem(f"{path}.{name}", getattr(self, name), allowed, hint))

        needs = NEEDS[self.dist]
        for name in needs:
            if getattr(self, name) is None:
                bad(name, f"a number (a {self.dist} distribution needs {', '.join(needs)})")
        allowed = set(needs) | ({"sigma", "ci95"} if self.dist == "lognormal" else set())
        for name in _SHAPE:
            if name not in allowed and getattr(self, name) is not None:
                bad(
                    name,
                    f"left out: not a setting of a {self.dist} distribution "
                    f"(its settings: {', '.join(sorted(allowed))})",
                )
        if problems:
            return problems
        if self.dist in ("uniform", "triangular"):
            assert self.low is not None and self.high is not None
            if not self.low < self.high:
                bad("high", f"a number above low ({self.low})")
            elif self.dist == "triangular":
                assert self.mode is not None
                if not self.low <= self.mode <= self.high:
                    bad("mode", f"a number from low to high ({self.low} to {self.high})")
        elif self.dist == "beta":
            assert self.mean is not None and self.sd is not None
            if not 0 < self.mean < 1:
                bad("mean", "a number between 0 and 1 (exclusive)")
            elif not 0 < self.sd < math.sqrt(self.mean * (1 - self.mean)):
                limit = math.sqrt(self.mean * (1 - self.mean))
                bad("sd", f"a number above 0 and below sqrt(mean (1 - mean)) = {limit:.4g}")
        elif self.dist == "lognormal":
            assert self.median is not None
            if not self.median > 0:
                bad("median", "a number above 0")
            if (self.sigma is None) == (self.ci95 is None):
                bad("sigma", "exactly one of sigma and ci95")
            elif self.sigma is not None and not self.sigma > 0:
                bad("sigma", "a number above 0 (the standard deviation of the log)")
            elif self.ci95 is not None and not 0 < self.ci95[0] < self.median < self.ci95[1]:
                bad("ci95", f"[lo, hi] with 0 < lo < median ({self.median}) < hi")
        elif self.dist == "gamma":
            assert self.mean is not None and self.sd is not None
            if not self.mean > 0:
                bad("mean", "a number above 0")
            if not self.sd > 0:
                bad("sd", "a number above 0")
        if self.bounds is not None:
            lo, hi = self.bounds
            s_lo, s_hi = self.support()
            if not lo < hi:
                bad("bounds", "[lo, hi] with lo < hi")
            elif hi <= s_lo or lo >= s_hi:
                bad(
                    "bounds",
                    f"an interval overlapping the distribution's values ({s_lo:g} to {s_hi:g})",
                )
        return problems

    @property
    def sigma_log(self) -> float:
        """The lognormal's standard deviation of the log."""
        if self.sigma is not None:
            return self.sigma
        assert self.ci95 is not None
        # the 2.5% and 97.5% quantiles are 1.96 sigma either side of the log median;
        # an asymmetric interval uses the wider side, so the spread is not understated
        assert self.median is not None
        lo, hi = self.ci95
        return max(math.log(self.median / lo), math.log(hi / self.median)) / 1.959964


@dataclass(frozen=True)
class ParameterTree(Mapping[str, Distribution]):
    """Distributions by the dotted path of the field they describe.

    Written in YAML nested like the configuration itself; a mapping with a
    ``dist`` key is a distribution, any other mapping goes one level down.
    """

    items_: tuple[tuple[str, Distribution], ...] = ()

    def __getitem__(self, key: str) -> Distribution:
        for k, v in self.items_:
            if k == key:
                return v
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self.items_)

    def __len__(self) -> int:
        return len(self.items_)

    @classmethod
    def from_plain(cls, builder: _Builder, value: Any, path: str) -> Any:
        """Build from nested YAML data, recording problems with ``builder``."""
        if not isinstance(value, Mapping):
            return builder.fail(path, value, "a mapping of block -> field -> distribution")
        found: list[tuple[str, Distribution]] = []

        def walk(node: Mapping[str, Any], prefix: str) -> None:
            for key, sub in node.items():
                here = f"{prefix}.{key}" if prefix else str(key)
                where = f"{path}.{here}"
                if isinstance(sub, Mapping) and "dist" in sub:
                    dist = builder.build(Distribution, sub, where)
                    if isinstance(dist, Distribution):
                        found.append((here, dist))
                elif isinstance(sub, Mapping):
                    walk(sub, here)
                else:
                    builder.fail(
                        where,
                        sub,
                        "a distribution ({dist: ..., ...}) or a mapping of fields below it",
                    )

        walk(value, "")
        return cls(tuple(found))

    def to_plain(self) -> dict[str, Any]:
        """The nested plain data this was built from."""
        from sim.config.build import to_dict

        out: dict[str, Any] = {}
        for key, dist in self.items_:
            node = out
            *parents, last = key.split(".")
            for p in parents:
                node = node.setdefault(p, {})
            node[last] = {k: v for k, v in to_dict(dist).items() if v not in (None, "")}
        return out


@dataclass(frozen=True)
class ParameterSets:
    """Whole parameter sets to draw from, as a table: the plausible sets a
    calibration found. Written ``{columns: [key, ...], rows: [[value, ...], ...]}``.

    A PSA draws its sets' values for these columns from the rows (each row about
    equally often), so what the calibration learnt about how parameters go
    together is kept; the columns need no distribution.
    """

    columns: tuple[str, ...] = ()
    rows: tuple[tuple[float, ...], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.rows)

    @classmethod
    def from_plain(cls, builder: _Builder, value: Any, path: str) -> Any:
        if value is None or value == {}:
            return cls()
        if not isinstance(value, Mapping) or set(value) != {"columns", "rows"}:
            return builder.fail(path, value, "a mapping {columns: [key, ...], rows: [[...], ...]}")
        cols, rows = value["columns"], value["rows"]
        if not isinstance(cols, (list, tuple)) or not all(isinstance(c, str) for c in cols):
            return builder.fail(f"{path}.columns", cols, "a list of parameter keys")
        if len(set(cols)) != len(cols):
            return builder.fail(f"{path}.columns", cols, "each key once")
        out = []
        for i, row in enumerate(rows if isinstance(rows, (list, tuple)) else [rows]):
            ok = isinstance(row, (list, tuple)) and len(row) == len(cols)
            if not ok or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                for v in row
            ):
                return builder.fail(
                    f"{path}.rows[{i}]", row, f"a list of {len(cols)} finite numbers"
                )
            out.append(tuple(float(v) for v in row))
        return cls(tuple(cols), tuple(out))

    def to_plain(self) -> dict[str, Any]:
        return {"columns": list(self.columns), "rows": [list(r) for r in self.rows]}


@dataclass(frozen=True, slots=True)
class UncertaintyConfig:
    """Parameter uncertainty and the probabilistic analysis that uses it.

    Attributes:
        method: ``none`` (parameters at their point values) or ``psa`` (an outer
            loop over parameter sets drawn from ``parameters``).
        draws: Parameter sets in the PSA.
        replications_per_draw: Replications of each set (two or more separate
            the variance due to parameters from the variance due to chance).
        sampler: ``lhs`` (Latin hypercube, one stream per parameter group, so
            adding a parameter leaves the others' draws unchanged), ``sobol``
            (scrambled Sobol sequence over all groups) or ``random``.
        parameters: The distributions, by field.
        wtp_max_per_admission: Top of the willingness-to-pay axis (GBP per
            emergency admission avoided) of the acceptability curve.
        wtp_max_per_bed_day: The same per acute bed day saved.
        sets: Whole parameter sets (a calibration's plausible sets) the PSA
            draws its values for their columns from, instead of independent
            distributions.
        tornado: Also run the one-way sensitivity of each compared scenario's
            headline effects (admissions, bed days, delayed days, total cost) to
            every parameter group, for the report's tornado charts.
    """

    method: Literal["none", "psa"] = "none"
    draws: int = 200
    replications_per_draw: int = 2
    sampler: Literal["lhs", "sobol", "random"] = "lhs"
    parameters: ParameterTree = field(default_factory=ParameterTree)
    wtp_max_per_admission: float = 10000.0
    wtp_max_per_bed_day: float = 1000.0
    tornado: bool = False
    sets: ParameterSets = field(default_factory=ParameterSets)

    def check(self, path: str) -> list[ConfigProblem]:
        problems = []
        if self.draws < 2:
            problems.append(ConfigProblem(f"{path}.draws", self.draws, "a whole number >= 2"))
        if self.replications_per_draw < 1:
            problems.append(
                ConfigProblem(
                    f"{path}.replications_per_draw",
                    self.replications_per_draw,
                    "a whole number >= 1",
                )
            )
        for name in ("wtp_max_per_admission", "wtp_max_per_bed_day"):
            if not getattr(self, name) > 0:
                problems.append(
                    ConfigProblem(f"{path}.{name}", getattr(self, name), "a number > 0")
                )
        if self.method == "psa" and not self.parameters and not self.sets:
            problems.append(
                ConfigProblem(
                    f"{path}.parameters",
                    {},
                    "at least one distribution when method is psa",
                )
            )
        return problems


def locate(root: Any, key: str) -> tuple[Any, dataclasses.Field[Any], Any] | str:
    """The dataclass holding field ``key`` (dotted, from the root config), the
    field, and its value; or a sentence saying why ``key`` names no numeric field."""
    from typing import get_type_hints

    parts = key.split(".")
    node = root
    for i, part in enumerate(parts):
        where = ".".join(parts[:i]) or "the top level"
        if i == 0 and part in ("run", "uncertainty", "costs_index"):
            return f"{part} settings are how the model is run, not a parameter of it"
        if i == 0 and hasattr(root, "block"):
            try:
                child = root.block(part)
            except KeyError:
                return f"{part!r} is not a block of the configuration"
            if i == len(parts) - 1:
                return f"{part!r} is a block, not a number"
            node = child
            continue
        if not dataclasses.is_dataclass(node):
            return f"{where} is not a block with fields"
        fields = {f.name: f for f in dataclasses.fields(node)}
        if part not in fields:
            import difflib

            close = difflib.get_close_matches(part, list(fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            return f"{where} has no field {part!r}{hint}"
        value = getattr(node, part)
        if i == len(parts) - 1:
            tp = get_type_hints(type(node))[part]
            if tp not in (int, float) or isinstance(value, bool):
                return f"{key} is not a single number (it holds {value!r})"
            return node, fields[part], value
        node = value
    return f"{key} names no field"


def field_range(f: dataclasses.Field[Any]) -> tuple[float, float, bool, bool]:
    """A numeric field's bounds from its metadata: (lo, hi, lo_open, hi_open)."""
    meta = f.metadata
    lo, lo_open = -math.inf, False
    hi, hi_open = math.inf, False
    if meta.get("ge") is not None:
        lo = float(meta["ge"])
    if meta.get("gt") is not None:
        lo, lo_open = float(meta["gt"]), True
    if meta.get("le") is not None:
        hi = float(meta["le"])
    if meta.get("lt") is not None:
        hi, hi_open = float(meta["lt"]), True
    return lo, hi, lo_open, hi_open


def parameter_problems(root: Any, tree: ParameterTree, path: str) -> list[ConfigProblem]:
    """Each distribution must name a numeric field, and its values must be ones
    the field accepts."""
    problems = []
    groups: dict[str, list[str]] = {}
    for key, dist in tree.items():
        where = f"{path}.parameters.{key}"
        found = locate(root, key)
        if isinstance(found, str):
            problems.append(
                ConfigProblem(where, dist.dist, "a numeric field of the configuration", found)
            )
            continue
        _, f, _ = found
        lo, hi, lo_open, hi_open = field_range(f)
        d_lo, d_hi = dist.range()
        below = d_lo < lo or (
            lo_open and d_lo <= lo and dist.dist in ("fixed", "uniform", "triangular")
        )
        above = d_hi > hi or (
            hi_open and d_hi >= hi and dist.dist in ("fixed", "uniform", "triangular")
        )
        if below or above:
            from sim.config.build import _bounds_text

            problems.append(
                ConfigProblem(
                    where,
                    f"{dist.dist} from {d_lo:g} to {d_hi:g}",
                    f"values the field takes ({_bounds_text(f.metadata)})",
                    "truncate it with bounds: [lo, hi]",
                )
            )
        if dist.group:
            groups.setdefault(dist.group, []).append(key)
    for group, keys in groups.items():
        if group in tree and group not in keys:
            problems.append(
                ConfigProblem(
                    f"{path}.parameters.{keys[0]}.group",
                    group,
                    "a group name that is not another parameter's key",
                    f"{group} is a parameter of its own; its draw would be shared by mistake",
                )
            )
    return problems


def set_problems(
    root: Any, sets: ParameterSets, tree: ParameterTree, path: str
) -> list[ConfigProblem]:
    """Each column of the parameter sets must name a numeric field, and a group
    must be drawn wholly from the sets or wholly from its distributions (else the
    members would no longer move together)."""
    problems = []
    for i, key in enumerate(sets.columns):
        found = locate(root, key)
        if isinstance(found, str):
            problems.append(
                ConfigProblem(f"{path}.sets.columns[{i}]", key, "a numeric field", found)
            )
    cols = set(sets.columns) if sets else set()
    members: dict[str, list[str]] = {}
    for key, dist in tree.items():
        if dist.group:
            members.setdefault(dist.group, []).append(key)
    for group, keys in members.items():
        inside = [k for k in keys if k in cols]
        if inside and len(inside) < len(keys):
            problems.append(
                ConfigProblem(
                    f"{path}.sets.columns",
                    list(sets.columns),
                    f"every member of group {group!r} or none ({', '.join(keys)})",
                    "a group's members share one draw; some from the sets and some from "
                    "their distributions would not",
                )
            )
    return problems
