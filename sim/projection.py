"""The years ahead: the registered population changing by age band, year by year.

A borough's demand grows and ages. The Office for National Statistics'
subnational population projections (SNPP) give, for every local authority in
England, the projected resident population by sex and single year of age for
each mid-year over 25 years; planners use them to ask what the next five years
bring. The model holds the population as strata (neighbourhood x age band x eFI
frailty band x care-home residence, :mod:`sim.population`), so a projection acts
on the strata's sizes:

* measured year *k* (k = 1, 2, ...) takes each age band's strata from the
  configured population scaled by *value(base year + k - 1) / value(base year)*
  of that band in the table; the warm-up has the base year's population. The
  change is stepwise, at the start of each measured year (a 365-day block from
  the end of warm-up): one population per year, so each year of the per-year
  outputs has one population to set its rates against;
* older bands carry more frailty in the configured eFI mix (Clegg et al. 2016),
  so a population that ages becomes frailer without any further assumption;
  ``frailty_shift_per_year`` can add a drift within each 65+ band: that share of
  the people in each eFI band (own home) move one band up each year;
* the crisis rate per person of each stratum is unchanged, so a stratum's
  crises scale with its size; the neighbourhoods keep their share of each band.

The table is a CSV file in one of two layouts (``configs/projections/README.md``):

* **bands**: a ``year`` column and one column per age band (``age_0_64``,
  ``age_65_74``, ``age_75_84``, ``age_85_plus``, or ``0-64``, ``65-74``,
  ``75-84``, ``85+``): counts or an index, used only as ratios to the base year;
* **ONS**: the SNPP's own files (``2022 SNPP Population persons.csv``): columns
  ``AREA_CODE``, ``AREA_NAME``, ``COMPONENT``, ``SEX``, ``AGE_GROUP`` and one per
  year; single years of age (``0`` ... ``89``, ``90 and over``) or groups
  (``85-89``, ``90+``) are summed into the bands, over the areas named in
  ``population.projection.areas`` (City of London and Hackney for the default
  borough), persons only where the file has them.

Lines starting with ``#`` are comments. A file that cannot be used stops the run
before it starts with a :class:`~sim.config.errors.ConfigError` naming the file,
the line, the column, the value and what is allowed.

What does not follow the projection: the expected flows (:mod:`sim.flows`), the
interventions' eligible populations (MDT case finding, PACE, care-home support),
step-up referral rates, the care-home residents behind per-resident rates and the
pooled budget's per-head envelope all use the configured (base-year) population.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import hashlib
import io
import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np

from sim.config.errors import ConfigError, ConfigProblem
from sim.config.schema import AGE_BANDS

if TYPE_CHECKING:
    from sim.config.schema import Config, ProjectionConfig, RunConfig
    from sim.population import Strata

#: a measured year of the run, in days (the per-year outputs use the same blocks)
DAYS_PER_YEAR: Final = 365
#: first age of each band (the last band is open-ended)
BAND_START: Final = (0, 65, 75, 85)
#: column names a bands table may use for each band, after lower-casing
BAND_ALIASES: Final = (
    ("age_0_64", "0-64", "0_64"),
    ("age_65_74", "65-74", "65_74"),
    ("age_75_84", "75-84", "75_84"),
    ("age_85_plus", "85+", "85_plus", "85 and over"),
)
#: problems listed before the rest of a broken file is left unread
MAX_PROBLEMS: Final = 20
_YEAR = re.compile(r"^\d{4}$")


@dataclass(frozen=True)
class ProjectionTable:
    """A projection read from a file: one value per year and age band.

    Attributes:
        source: The file it was read from (as shown in messages).
        years: Consecutive calendar years.
        values: Array (years x 4 bands): people, or an index.
    """

    source: str
    years: tuple[int, ...]
    values: np.ndarray

    def growth(self, base_year: int, n_years: int, field: str) -> np.ndarray:
        """Each band's value in ``n_years`` years from ``base_year`` (0: the first
        year of the table) over its value in the base year (array years x 4).

        Raises:
            ConfigError: the table does not cover the years, or a band is empty in
                the base year (nothing to scale).
        """
        first, last = self.years[0], self.years[-1]
        base = base_year or first
        end = base + n_years - 1
        if not first <= base <= last:
            raise ConfigError(
                ConfigProblem(
                    f"{field}.base_year",
                    base_year,
                    f"a year the projection table covers ({first}-{last}) or 0 for {first}",
                    f"table {self.source}",
                )
            )
        if end > last:
            raise ConfigError(
                ConfigProblem(
                    "run.years",
                    n_years,
                    f"at most {last - base + 1} measured years from {base} (the projection "
                    f"table {self.source} ends in {last})",
                    f"{field}.base_year moves the start; a longer table adds years",
                )
            )
        rows = self.values[base - first : end - first + 1]
        at_base = rows[0]
        empty = [AGE_BANDS[b] for b in range(len(AGE_BANDS)) if not at_base[b] > 0]
        if empty:
            raise ConfigError(
                ConfigProblem(
                    f"{self.source}, year {base}",
                    dict(zip(AGE_BANDS, at_base.tolist(), strict=True)),
                    "a value above 0 for every age band in the base year (they are scaled "
                    "by their ratio to it)",
                    f"empty: {', '.join(empty)}",
                )
            )
        out: np.ndarray = rows / at_base
        return out


# ----------------------------------------------------------------------------- files
def resolve(file: str) -> Path:
    """Where the table ``file`` is: as given if absolute; else in the current folder
    if it is there, else in the configs folder (``NSIM_CONFIG_DIR`` or the
    checkout's ``configs/``), where the built-in tables are."""
    path = Path(file).expanduser()
    if path.is_absolute() or path.is_file():
        return path
    from sim.config.loading import config_dir

    try:
        in_configs = config_dir() / path
    except ConfigError:  # no configs folder: the current folder is all there is
        return path
    return in_configs if in_configs.is_file() else path


def load(
    file: str, areas: Sequence[str] = (), field: str = "population.projection"
) -> ProjectionTable:
    """The projection table in ``file`` (read once per file version and areas).

    Raises:
        ConfigError: every problem found (at most :data:`MAX_PROBLEMS`), each naming
            the file, line, column and value and what is allowed.
    """
    path = resolve(file)
    try:
        stat = path.stat()
    except OSError:
        tried = [str(Path(file))]
        if not Path(file).is_absolute():
            from sim.config.loading import config_dir

            with contextlib.suppress(ConfigError):
                tried.append(str(config_dir() / file))
        raise ConfigError(
            ConfigProblem(
                f"{field}.file",
                file,
                "a projection table (CSV) that exists",
                "looked for " + " and ".join(tried),
            )
        ) from None
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, tuple(areas), field)
    table = _CACHE.get(key)
    if table is None:
        table = read(path, areas, field, shown=file)
        _CACHE[key] = table
    return table


_CACHE: dict[tuple[str, int, int, tuple[str, ...], str], ProjectionTable] = {}


def digest(file: str) -> str:
    """SHA-256 of the table ``file`` (its content, for the configuration hash), or
    ``"missing"`` when it cannot be read."""
    try:
        return hashlib.sha256(resolve(file).read_bytes()).hexdigest()
    except OSError:
        return "missing"


def read(
    path: Path, areas: Sequence[str] = (), field: str = "population.projection", shown: str = ""
) -> ProjectionTable:
    """Read and check a projection table (either layout; see the module docstring)."""
    source = shown or str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # Excel's CSVs start with a BOM
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            ConfigProblem(f"{field}.file", source, "a readable CSV file (UTF-8)", str(exc))
        ) from None
    rows = [
        (n, row)
        for n, row in enumerate(csv.reader(io.StringIO(text)), start=1)
        if row and any(c.strip() for c in row) and not row[0].lstrip().startswith("#")
    ]
    if not rows:
        raise ConfigError(
            ConfigProblem(source, "", "a header line and one row per year (the file is empty)")
        )
    line, header = rows[0]
    names = [h.strip() for h in header]
    lower = [h.lower() for h in names]
    if "age_group" in lower:
        return _read_ons(source, names, rows[1:], areas, field)
    if "year" in lower:
        return _read_bands(source, names, rows[1:])
    raise ConfigError(
        ConfigProblem(
            f"{source}, line {line}",
            ",".join(names),
            "a header with 'year' and one column per age band (age_0_64, age_65_74, "
            "age_75_84, age_85_plus), or an ONS projection table's header (AREA_CODE, "
            "AREA_NAME, SEX, AGE_GROUP and one column per year)",
        )
    )


class _Problems:
    """Problems of one file, each placed at its line and column."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[ConfigProblem] = []

    def add(self, line: int, column: str, value: object, allowed: str, hint: str = "") -> None:
        where = f"{self.source}, line {line}" + (f", column {column}" if column else "")
        self.items.append(ConfigProblem(where, value, allowed, hint))
        if len(self.items) >= MAX_PROBLEMS:
            self.raise_if_any()

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(self.items)


def _number(text: str) -> float | None:
    try:
        value = float(text.replace(",", "").strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _read_bands(
    source: str, names: list[str], rows: list[tuple[int, list[str]]]
) -> ProjectionTable:
    """The bands layout: ``year`` and one column per age band."""
    lower = [n.lower() for n in names]
    bad = _Problems(source)
    cols: list[int] = []
    for b, aliases in enumerate(BAND_ALIASES):
        found = [i for i, n in enumerate(lower) if n in aliases]
        if len(found) != 1:
            bad.add(
                1,
                AGE_BANDS[b],
                ",".join(names),
                f"one column for age band {AGE_BANDS[b]} (named {' or '.join(aliases)})",
                "missing" if not found else "given more than once",
            )
        cols.append(found[0] if found else -1)
    bad.raise_if_any()
    year_col = lower.index("year")
    years: list[int] = []
    values: list[list[float]] = []
    for line, row in rows:
        if len(row) != len(names):
            bad.add(line, "", ",".join(row), f"{len(names)} values, one per column of the header")
            continue
        cell = row[year_col].strip()
        year = int(cell) if _YEAR.match(cell) else None
        if year is None:
            bad.add(line, names[year_col], cell, "a calendar year such as 2025")
        elif years and year != years[-1] + 1:
            bad.add(
                line,
                names[year_col],
                year,
                f"{years[-1] + 1}: one row per year, consecutive and in order",
            )
        rec: list[float] = []
        for b, c in enumerate(cols):
            v = _number(row[c])
            if v is None:
                bad.add(
                    line,
                    names[c],
                    row[c].strip(),
                    f"a number >= 0 for {AGE_BANDS[b]} (people, or an index)",
                )
                v = 0.0
            rec.append(v)
        if year is not None:
            years.append(year)
            values.append(rec)
    if not rows:
        bad.add(1, "", ",".join(names), "at least one row after the header")
    bad.raise_if_any()
    return ProjectionTable(source, tuple(years), np.asarray(values, dtype=float))


def _age_band(label: str) -> tuple[int, ...] | None:
    """The bands an ONS age group falls in (several if it straddles a band's limit;
    None if it is not an age group; () for a total such as "All ages")."""
    text = label.strip().lower()
    if text in ("all ages", "all", "total"):
        return ()
    m = re.fullmatch(r"(\d+)\s*(?:\+|and over|and older|plus)", text)
    if m:
        lo, hi = int(m.group(1)), 200
    else:
        m = re.fullmatch(r"(\d+)\s*(?:-|to)\s*(\d+)", text)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
        elif text.isdigit():
            lo = hi = int(text)
        else:
            return None
    if hi < lo:
        return None
    first = max(b for b, s in enumerate(BAND_START) if s <= lo)
    last = max(b for b, s in enumerate(BAND_START) if s <= hi)
    return tuple(range(first, last + 1))


def _read_ons(
    source: str,
    names: list[str],
    rows: list[tuple[int, list[str]]],
    areas: Sequence[str],
    field: str,
) -> ProjectionTable:
    """The ONS layout: rows by area, sex and age; one column per year."""
    upper = [n.upper() for n in names]
    bad = _Problems(source)
    year_cols = [i for i, n in enumerate(names) if _YEAR.match(n)]
    if not year_cols:
        bad.add(1, "", ",".join(names), "one column per year (headed 2022, 2023, ...)")
    years = [int(names[i]) for i in year_cols]
    if any(b != a + 1 for a, b in itertools.pairwise(years)):
        bad.add(1, "", ",".join(names[i] for i in year_cols), "consecutive years, in order")
    bad.raise_if_any()

    def col(name: str) -> int:
        return upper.index(name) if name in upper else -1

    age_c, code_c, name_c = col("AGE_GROUP"), col("AREA_CODE"), col("AREA_NAME")
    sex_c, comp_c = col("SEX"), col("COMPONENT")
    body = [(n, r) for n, r in rows if len(r) == len(names)]
    for n, r in rows:
        if len(r) != len(names):
            bad.add(n, "", ",".join(r), f"{len(names)} values, one per column of the header")
    if comp_c >= 0:  # a components-of-change file also holds births, deaths, migration
        body = [(n, r) for n, r in body if r[comp_c].strip().lower() == "population"]
    if sex_c >= 0 and any(r[sex_c].strip().lower() == "persons" for _, r in body):
        body = [(n, r) for n, r in body if r[sex_c].strip().lower() == "persons"]

    def area_of(r: list[str]) -> tuple[str, str]:
        return (
            r[code_c].strip() if code_c >= 0 else "",
            r[name_c].strip() if name_c >= 0 else "",
        )

    present = sorted({area_of(r) for _, r in body})
    if areas:
        wanted = {a.strip().lower() for a in areas}
        known = {x.lower() for pair in present for x in pair if x}
        for a in areas:
            if a.strip().lower() not in known:
                labels = sorted({x for pair in present for x in pair if x})
                close = difflib.get_close_matches(a, labels, n=1)
                bad.add(
                    1,
                    "AREA_CODE/AREA_NAME",
                    a,
                    f"an area of the table (listed in {field}.areas)",
                    f"did you mean {close[0]!r}?"
                    if close
                    else f"the table has {len(labels)} areas",
                )
        bad.raise_if_any()
        body = [(n, r) for n, r in body if any(x.lower() in wanted for x in area_of(r) if x)]
    elif len(present) > 1:
        shown = ", ".join(f"{c} {nm}".strip() for c, nm in present[:4])
        raise ConfigError(
            ConfigProblem(
                f"{field}.areas",
                [],
                f"the areas to add up (codes or names): the table {source} holds "
                f"{len(present)} areas",
                f"e.g. [{present[0][0] or present[0][1]}]; the first: {shown}",
            )
        )
    totals = np.zeros((len(years), len(AGE_BANDS)))
    seen = [False] * len(AGE_BANDS)
    for n, r in body:
        label = r[age_c].strip() if age_c >= 0 else ""
        bands = _age_band(label)
        if bands is None:
            bad.add(n, names[age_c], label, "an age (0, 1, ...), a group (85-89) or 'N and over'")
            continue
        if len(bands) > 1:
            bad.add(
                n,
                names[age_c],
                label,
                "an age group within one band (0-64, 65-74, 75-84, 85+)",
                "split it at the band's limit",
            )
            continue
        if not bands:
            continue  # a total: the bands are summed from the ages
        for j, c in enumerate(year_cols):
            v = _number(r[c])
            if v is None:
                bad.add(n, names[c], r[c].strip(), "a number of people >= 0")
                continue
            totals[j, bands[0]] += v
        seen[bands[0]] = True
    missing = [AGE_BANDS[b] for b in range(len(AGE_BANDS)) if not seen[b]]
    if missing and not bad.items:
        bad.add(
            1,
            names[age_c] if age_c >= 0 else "AGE_GROUP",
            ", ".join(missing),
            "rows for every age band (ages 0 to 90 and over)",
            f"none found for the areas {list(areas)}" if areas else "",
        )
    bad.raise_if_any()
    return ProjectionTable(source, tuple(years), totals)


# ----------------------------------------------------------------------------- the run
def measured_years(run: RunConfig) -> int:
    """Years of the measured period, counting a part year as one."""
    return max(1, math.ceil(run.measured_days / DAYS_PER_YEAR))


def year_of_day(day: int, warmup_days: int, n_years: int) -> int:
    """Measured year (0 = the first, warm-up included) that simulation day ``day`` is in."""
    if day < warmup_days:
        return 0
    return min((day - warmup_days) // DAYS_PER_YEAR, n_years - 1)


def is_on(proj: ProjectionConfig) -> bool:
    """Does ``proj`` change the population over the years?"""
    return bool(proj.file) or any(v > 0 for v in proj.frailty_shift_per_year.as_tuple())


def growth(proj: ProjectionConfig, run: RunConfig) -> np.ndarray:
    """Each measured year's size of each age band relative to the base year
    (years x 4); all ones without a table."""
    n = measured_years(run)
    if not proj.file:
        return np.ones((n, len(AGE_BANDS)))
    table = load(proj.file, proj.areas)
    return table.growth(proj.base_year, n, "population.projection")


def frailty_mix(mix: np.ndarray, shift: float, years: int) -> np.ndarray:
    """An eFI mix (fit, mild, moderate, severe) after ``years`` years in which
    ``shift`` of each band moves one band up (severe stays severe)."""
    out = np.asarray(mix, dtype=float)
    for _ in range(years):
        moved = out[:-1] * shift
        out = out.copy()
        out[:-1] -= moved
        out[1:] += moved
    return out


def population_by_year(
    strata: Strata, proj: ProjectionConfig | None, run: RunConfig
) -> np.ndarray | None:
    """Each stratum's size in each measured year (years x strata), or None when
    the population stays as configured.

    Sizes are the configured ones scaled by their age band's growth; with a
    frailty shift, each (neighbourhood, 65+ band) group living at home keeps its
    total and has its eFI mix moved ``k - 1`` years along in year ``k``.
    """
    if proj is None or not is_on(proj):
        return None
    g = growth(proj, run)
    sizes = strata.size[np.newaxis, :] * g[:, strata.age]
    shifts = proj.frailty_shift_per_year.as_tuple()
    for age, shift in enumerate(shifts):
        if shift <= 0 or age == 0:
            continue
        for nb in range(len(strata.names)):
            rows = np.flatnonzero(
                (strata.age == age) & (strata.neighbourhood == nb) & ~strata.care_home
            )
            total = float(strata.size[rows].sum())
            if total <= 0:
                continue
            # one row per frailty band, in band order (sim.population builds them so)
            mix = np.zeros(4)
            mix[strata.frailty[rows]] = strata.size[rows] / total
            for y in range(sizes.shape[0]):
                moved = frailty_mix(mix, shift, y)
                sizes[y, rows] = total * g[y, age] * moved[strata.frailty[rows]]
    out: np.ndarray = sizes
    return out


def configured(flow: object) -> ProjectionConfig | None:
    """The projection block of the model behind a site's flow (the model holds the
    whole configuration; a component is given only its own block)."""
    cfg = getattr(flow, "cfg", None)
    population = getattr(cfg, "population", None)
    proj = getattr(population, "projection", None)
    return proj


def problems(cfg: Config) -> list[ConfigProblem]:
    """What is wrong with ``cfg``'s projection table for its run (empty if nothing):
    the checks a model build would stop on, for before the run starts."""
    proj = cfg.population.projection
    if not proj.file or cfg.demand.mode == "direct_admissions":
        return []
    try:
        growth(proj, cfg.run)
    except ConfigError as exc:
        return list(exc.problems)
    return []
