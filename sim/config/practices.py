"""GP practice list sizes turned into the borough's neighbourhoods.

Everyone in England who is registered with a GP belongs to one practice's list,
and the list is the denominator that neighbourhood health planning starts from:
a neighbourhood is a group of practices (a Primary Care Network, or a few) of
roughly 30,000-50,000 registered patients. NHS England (formerly NHS Digital)
publishes the lists every month as the official statistics *Patients Registered
at a GP Practice*, a snapshot of the national registration database (NHAIS until
March 2024, the Personal Demographics Service since), one CSV file per cut:

https://digital.nhs.uk/data-and-information/publications/statistical/patients-registered-at-a-gp-practice

The model needs, per neighbourhood, the registered population and its split
across four age bands, ``age_0_64``, ``age_65_74``, ``age_75_84`` and
``age_85_plus`` (``population.neighbourhoods`` in ``configs/config.yaml``). Four
bands because the model's rates (crises, A&E attendance and admission, length of
stay, death) and the eFI frailty mix, which is measured from 65, are given per
band: 0-64 is the working-age population with little frailty, and the three older
bands are where demand for beds and discharge support rises steeply.

Layouts read
------------
Column names are matched case-insensitively, with spaces or hyphens taken for
underscores. Lines that are blank (or only commas) or start with ``#`` are
skipped, and so is a line that repeats the header, so two files joined end to
end (the female and the male single-year files) read as one.

1. **NHS England, 5-year age groups** (``gp-reg-pat-prac-quin-age.csv``): one row
   per organisation x sex x age group, columns ``PUBLICATION``, ``EXTRACT_DATE``,
   ``ORG_TYPE``, ``ORG_CODE``, ``ONS_CODE``, ``POSTCODE``, ``SEX``,
   ``AGE_GROUP_5``, ``NUMBER_OF_PATIENTS``. ``SEX`` is ``ALL``, ``MALE`` or
   ``FEMALE``; ``AGE_GROUP_5`` is ``0_4``, ``5_9``, ... ``90_94``, ``95+`` or
   ``ALL``. In the file seen, ``SEX=ALL`` appears only with ``AGE_GROUP_5=ALL``,
   so the bands come from the male and female rows added up. The file also holds
   PCNs, sub-ICB locations, ICBs and regions: only ``ORG_TYPE`` ``GP`` rows are
   read.
2. **NHS England, single year of age** (``gp-reg-pat-prac-sing-age-male.csv``,
   ``-female.csv``; ``-all.csv`` for persons): ``PUBLICATION``, ``EXTRACT_DATE``,
   ``ORG_TYPE``, ``ORG_CODE``, ``POSTCODE``, ``SEX``, ``AGE`` (``0`` ... ``94``,
   ``95+``, ``ALL``), ``NUMBER_OF_PATIENTS``. A file of one sex alone is refused
   (it would halve the population): join the male and female files, or use the
   persons file.
3. **The project's own table**: ``practice_code``, ``practice_name`` (optional),
   ``neighbourhood`` (optional), ``age_0_64``, ``age_65_74``, ``age_75_84``,
   ``age_85_plus`` (counts of registered patients), one row per practice.

In the NHS layouts a practice's bands come from its ``SEX=ALL`` age rows when it
has any, else from the sum of its other sexes' rows (``MALE``, ``FEMALE`` and,
where a file has it, ``UNKNOWN``). Age groups must cover every age once (no gap,
no overlap) and each must fall wholly in one model band: ``60_64`` counts to
0-64, ``65_69`` and ``70_74`` to 65-74, ``75_79`` and ``80_84`` to 75-84, ``85_89``
and above to 85+; a group across a band's limit (``60_69``, ``65+``) is an error.
``ALL`` rows are not added in: they check the groups' sum, which must agree
exactly. An optional ``neighbourhood`` (and ``PRACTICE_NAME``) column may be
added to the NHS layouts too.

Sources of the column names
---------------------------
* The publication's metadata page (``.../patients-registered-at-a-gp-practice/
  metadata``, read through a mirror) lists the single-year files' fields and
  says the ages run 0 to 94, then ``95+``, with ``ALL`` for every age.
* A published 5-year file (October 2017) kept as test data by OpenPrescribing
  (github.com/ebmdatalab/openprescribing, ``pipeline/e2e-test-data/data-2/
  patient_list_size/2017_10/gp-reg-pat-prac-quin-age.csv``) gives the 5-year
  header and values above.
* Not confirmed, accepted as plausible variants: ``CODE`` or ``PRACTICE_CODE``
  for the practice (``CODE`` and ``TYPE`` head the totals file
  ``gp-reg-pat-prac-all.csv``, which has no ages and so cannot be used here),
  ``AGE_GROUP`` for ``AGE_GROUP_5``, a pair ``AGE_GROUP_START`` /
  ``AGE_GROUP_END`` (an empty or ``+`` end is open-ended), group labels written
  ``0-4`` or ``0 to 4`` or ``95 and over``, and the sex labels ``MALES``,
  ``FEMALES`` and ``UNKNOWN`` (which a third-party pipeline for the 2020 files
  expects) as well as ``PERSONS``, ``INDETERMINATE`` and ``M``/``F``/``U``/``I``.

Uploaded files
--------------
A web app calls :func:`read_practices` on a file a planner uploads, so the file
is treated as hostile: every way it can be wrong ends in a
:class:`~sim.config.errors.ConfigError` (never another exception) that names the
source, the line and column, the offending value (cut to 60 characters) and what
is allowed, up to 20 problems at a time. Text must be UTF-8 (a byte-order mark is
allowed); a file that is not UTF-8 is read as Windows-1252, which is what Excel
writes when a planner saves "CSV" on Windows. Latin-1 is not used as a fallback:
it accepts any bytes at all, so binary junk would be read as text. NUL bytes and
control characters other than tab and line ends are refused anywhere in the file.
Practice codes are 1 to 10 letters and digits. Names have runs of white space
made one space and must be printable (no bidirectional overrides or zero-width
characters); a practice name has at most 100 characters, a neighbourhood name at
most 60 and no ``${``, which the configuration (OmegaConf) would read as a
reference to another value.

API
---
:func:`read_practices` reads a file's content into :class:`Practice` records
(:func:`read_stream` reads it from an open file, taking no more than the limit);
:func:`neighbourhoods` groups them into the dicts ``population.neighbourhoods``
takes, with age shares that sum to exactly 1.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Final

from sim.config.errors import ConfigError, ConfigProblem
from sim.config.schema import AGE_BANDS

# A 5-year file's row is ~60 bytes and a practice has 43 of them (~2.6 kB), so
# 5 MB holds ~1,900 practices: a whole NHS region (London has ~1,200). Anything
# larger is not a planner's borough, and refusing it before parsing bounds the
# memory and time an upload can cost the server (a few seconds at worst).
MAX_BYTES: Final = 5_000_000
#: England has ~6,300 practices; a borough has tens, a region ~1,200
MAX_PRACTICES: Final = 2_000
#: largest count accepted in one cell or for one practice: no practice comes near
#: a million patients, so this stops only junk
MAX_COUNT: Final = 1_000_000
#: problems listed before the rest of a broken file is left unread
MAX_PROBLEMS: Final = 20
#: a value is shown cut to this many characters (a hostile value cannot flood a page)
SHOWN_CHARS: Final = 60
#: longest line (all its values) accepted; real lines are under 200 characters
MAX_LINE_CHARS: Final = 2_000
#: longest practice name and neighbourhood name
MAX_NAME_CHARS: Final = 100
MAX_NEIGHBOURHOOD_CHARS: Final = 60
#: first age of each model band (the last is open-ended)
BAND_START: Final = (0, 65, 75, 85)
#: ages above this are not ages
MAX_AGE: Final = 130

LAYOUTS: Final = (
    "NHS England 5-year age groups (gp-reg-pat-prac-quin-age.csv: ORG_CODE, SEX, "
    "AGE_GROUP_5, NUMBER_OF_PATIENTS); NHS England single year of age "
    "(gp-reg-pat-prac-sing-age-*.csv: ORG_CODE, SEX, AGE, NUMBER_OF_PATIENTS); or "
    "practice_code, practice_name, neighbourhood, age_0_64, age_65_74, age_75_84, "
    "age_85_plus"
)

_CODE_ALIASES: Final = ("ORG_CODE", "CODE", "PRACTICE_CODE")
_TYPE_ALIASES: Final = ("ORG_TYPE", "TYPE")
_NAME_ALIASES: Final = ("PRACTICE_NAME", "ORG_NAME", "NAME")
_AREA_ALIASES: Final = ("NEIGHBOURHOOD", "NEIGHBORHOOD")
_AGE_ALIASES: Final = ("AGE_GROUP_5", "AGE_GROUP", "AGE")
_COUNT: Final = "NUMBER_OF_PATIENTS"
_WIDE_BANDS: Final = tuple(b.upper() for b in AGE_BANDS)
#: sex labels (upper case) and the sex they count to; ALL is persons
_SEXES: Final = {
    "ALL": "ALL",
    "PERSONS": "ALL",
    "MALE": "MALE",
    "MALES": "MALE",
    "M": "MALE",
    "FEMALE": "FEMALE",
    "FEMALES": "FEMALE",
    "F": "FEMALE",
    "UNKNOWN": "UNKNOWN",
    "NOT KNOWN": "UNKNOWN",
    "INDETERMINATE": "UNKNOWN",
    "U": "UNKNOWN",
    "I": "UNKNOWN",
}
_TOTAL_LABELS: Final = ("ALL", "ALL AGES", "TOTAL")
_CODE_RE: Final = re.compile(r"[A-Za-z0-9]{1,10}")
# [0-9], not \d: \d and str.isdigit() also match digits int() refuses, such as "²"
_COUNT_RE: Final = re.compile(r"([0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,9})(?:\.0*)?")
_AGE_RE: Final = re.compile(r"[0-9]{1,3}")
_RANGE_RE: Final = re.compile(r"([0-9]{1,3})\s*(?:_|-|–|to)\s*([0-9]{1,3})")
_OPEN_RE: Final = re.compile(r"([0-9]{1,3})\s*(?:\+|plus|and over|and older)")
#: control characters other than tab, CR and LF (C0, DEL and C1), and lone
#: surrogates (only a str can hold them; they cannot be written out as UTF-8)
_CONTROL_RE: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_END_RE: Final = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Practice:
    """One GP practice's registered patients by model age band.

    Attributes:
        code: ODS practice code, upper case (e.g. ``Y90001``).
        name: Practice name ("" when the file does not say).
        neighbourhood: Neighbourhood named in the file ("" when it does not say).
        counts: Registered patients in age_0_64, age_65_74, age_75_84, age_85_plus.
    """

    code: str
    name: str
    neighbourhood: str
    counts: tuple[int, int, int, int]

    @property
    def registered(self) -> int:
        """All registered patients."""
        return sum(self.counts)


# ----------------------------------------------------------------------------- problems
def _shown(value: str) -> str:
    """A value as shown in a message: at most :data:`SHOWN_CHARS` characters."""
    return value if len(value) <= SHOWN_CHARS else value[: SHOWN_CHARS - 3] + "..."


def _clean_source(source: str) -> str:
    # the source is often the uploaded file's own name, so it is hostile too
    text = "".join(c for c in " ".join(str(source).split()) if c.isprintable())
    return _shown(text) or "uploaded file"


class _Problems:
    """Problems of one file, each placed at its line (and column or practice)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[ConfigProblem] = []

    def add(self, where: str, value: object, allowed: str, hint: str = "") -> None:
        path = f"{self.source}, {where}" if where else self.source
        if isinstance(value, str):
            value = _shown(value)
        self.items.append(ConfigProblem(path, value, allowed, hint))
        if len(self.items) >= MAX_PROBLEMS:
            self.raise_if_any()

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(self.items)


def _fail(source: str, where: str, value: object, allowed: str, hint: str = "") -> ConfigError:
    bad = _Problems(source)
    bad.add(where, value, allowed, hint)
    return ConfigError(bad.items)


# ----------------------------------------------------------------------------- text
def _line_at(text: str, pos: int) -> int:
    return len(_LINE_END_RE.findall(text, 0, pos)) + 1


def _byte_line(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def _line_text(text: str, line: int) -> str:
    """Line ``line`` (from 1) of the text, cut short; "" past the end."""
    pos = 0
    for _ in range(line - 1):
        m = _LINE_END_RE.search(text, pos)
        if m is None:
            return ""
        pos = m.end()
    m = _LINE_END_RE.search(text, pos, pos + SHOWN_CHARS + 1)
    return text[pos : m.start() if m else pos + SHOWN_CHARS + 1]


def _decode(data: bytes | str, source: str) -> str:
    """The file's text, refused when it is too big, binary or not UTF-8/Windows-1252."""
    if isinstance(data, str):
        # a str is counted in characters: each is at least one byte of UTF-8
        if len(data) > MAX_BYTES:
            raise _fail(source, "", f"{len(data):,} characters", _size_rule())
        text = data.removeprefix("\ufeff")
    else:
        if len(data) > MAX_BYTES:
            raise _fail(source, "", f"{len(data):,} bytes", _size_rule())
        nul = data.find(b"\x00")
        if nul >= 0:
            raise _fail(
                source,
                f"line {_byte_line(data, nul)}",
                "NUL byte",
                "a CSV text file",
                "the file is binary, or UTF-16 (Excel's 'Unicode text'): save it as CSV UTF-8",
            )
        raw = data.removeprefix(b"\xef\xbb\xbf")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            try:
                text = raw.decode("cp1252")
            except UnicodeDecodeError:
                bad = raw[exc.start : exc.start + 8]
                raise _fail(
                    source,
                    f"line {_byte_line(raw, exc.start)}",
                    repr(bad),
                    "UTF-8 text (or Windows-1252, as Excel saves CSV)",
                    "the file is binary or in another encoding: save it as CSV UTF-8",
                ) from None
    ctrl = _CONTROL_RE.search(text)
    if ctrl:
        raise _fail(
            source,
            f"line {_line_at(text, ctrl.start())}",
            f"character U+{ord(ctrl.group()):04X}",
            "text without control characters (tab and line ends only)",
            "the file is binary, or not a CSV file",
        )
    return text


def _size_rule() -> str:
    return (
        f"a file of at most {MAX_BYTES:,} bytes (about a whole NHS region's practices); "
        "cut it down to the borough's practices"
    )


def _records(text: str, bad: _Problems) -> Iterator[tuple[int, list[str]]]:
    """(start line, values) of each non-blank, non-comment CSV record."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # a quote left open reads on to the end of the file: nothing after it can be read
            bad.add(
                f"line {start}",
                _line_text(text, start),
                "CSV values, each quoted value closed on its line, each at most "
                f"{MAX_LINE_CHARS:,} characters",
                str(exc),
            )
            return
        if not any(c.strip() for c in row) or row[0].lstrip().startswith("#"):
            continue
        if sum(len(c) for c in row) + len(row) > MAX_LINE_CHARS:
            bad.add(
                f"line {start}",
                ",".join(row),
                f"a line of at most {MAX_LINE_CHARS:,} characters",
            )
            continue
        yield start, row


def _clean(text: str) -> str:
    """Surrounding space removed and runs of space inside made one."""
    return " ".join(text.split())


def _name_problem(value: str, limit: int) -> str:
    """Why a name cannot be used ("" if it can)."""
    if len(value) > limit:
        return f"at most {limit} characters"
    if not value.isprintable():
        return "printable characters only"
    if "${" in value:
        return "no '${' (the configuration would read it as a reference to another value)"
    return ""


def _header_key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip()).upper()


# ----------------------------------------------------------------------------- values
def _count(cell: str) -> int | None:
    """A count of patients, or None if the cell is not one."""
    m = _COUNT_RE.fullmatch(cell.strip())
    if not m:
        return None
    value = int(m.group(1).replace(",", ""))
    return value if value <= MAX_COUNT else None


_COUNT_RULE: Final = f"a whole number of patients from 0 to {MAX_COUNT:,}"


def _span(label: str) -> tuple[int, int | None] | None:
    """The ages (first, last; None for an open top group) of an age label, or None
    if the label is neither an age nor an age group."""
    text = label.strip().lower()
    if _AGE_RE.fullmatch(text):
        return int(text), int(text)
    m = _RANGE_RE.fullmatch(text)
    if m:
        return int(m.group(1)), int(m.group(2))
    m = _OPEN_RE.fullmatch(text)
    if m:
        return int(m.group(1)), None
    return None


def _band(age: int) -> int:
    return max(b for b, s in enumerate(BAND_START) if s <= age)


def _span_text(lo: int, hi: int | None) -> str:
    return f"{lo}+" if hi is None else (str(lo) if lo == hi else f"{lo}-{hi}")


# ----------------------------------------------------------------------------- reading
def read_practices(data: bytes | str, source: str = "uploaded file") -> list[Practice]:
    """Read a practice-level CSV (any layout in the module docstring).

    Args:
        data: The file's content (bytes as uploaded, or text).
        source: How the file is named in messages (e.g. the upload's file name).

    Returns:
        The practices in the order the file first lists them.

    Raises:
        ConfigError: every problem found (at most :data:`MAX_PROBLEMS`), each naming
            the source, the line, the value and what is allowed.
    """
    source = _clean_source(source)
    text = _decode(data, source)
    bad = _Problems(source)
    records = _records(text, bad)
    first = next(records, None)
    if first is None:
        bad.raise_if_any()
        raise _fail(source, "line 1", "", "a header line and one or more rows (the file is empty)")
    line, header = first
    keys = [_header_key(h) for h in header]
    dupes = sorted({k for k in keys if k and keys.count(k) > 1})
    for k in dupes:
        bad.add(f"line {line}", k, "each column once", "this column is given more than once")
    bad.raise_if_any()
    if any(k in _WIDE_BANDS for k in keys) and not any(k in _AGE_ALIASES for k in keys):
        return _read_wide(header, keys, line, records, bad)
    if any(k in _AGE_ALIASES or k == "AGE_GROUP_START" for k in keys) or _COUNT in keys:
        return _read_long(header, keys, line, records, bad)
    raise _fail(
        source,
        f"line {line}",
        ",".join(header),
        f"a header line of one of these layouts: {LAYOUTS}",
    )


def read_stream(stream: BinaryIO, source: str = "uploaded file") -> list[Practice]:
    """:func:`read_practices` on an open binary file, reading no more than the limit."""
    return read_practices(stream.read(MAX_BYTES + 1), source)


def _column(keys: list[str], aliases: Sequence[str]) -> int:
    for a in aliases:
        if a in keys:
            return keys.index(a)
    return -1


@dataclass
class _Acc:
    """What the rows of one practice add up to, while reading."""

    line: int
    name: str = ""
    neighbourhood: str = ""
    area_line: int = 0
    #: sex -> counts per model band, from the age-group rows
    bands: dict[str, list[int]] = field(default_factory=dict)
    #: sex -> (first age, last age or None, line) of each age-group row
    spans: dict[str, list[tuple[int, int | None, int]]] = field(default_factory=dict)
    #: sex -> (count, line) of the all-ages row
    totals: dict[str, tuple[int, int]] = field(default_factory=dict)


class _Reader:
    """Shared parts of both readers: codes, names, neighbourhoods and the practice limit."""

    def __init__(self, header: list[str], keys: list[str], bad: _Problems) -> None:
        self.header = header
        self.keys = keys
        self.bad = bad
        self.accs: dict[str, _Acc] = {}
        self.code_c = _column(keys, _CODE_ALIASES)
        self.name_c = _column(keys, _NAME_ALIASES)
        self.area_c = _column(keys, _AREA_ALIASES)

    def where(self, line: int, col: int) -> str:
        # the column's canonical name: the header's own spelling may hold any character
        return f"line {line}, column {self.keys[col]}"

    def fit(self, line: int, row: list[str]) -> list[str] | None:
        """The row's values, one per column (extra empty values at the end dropped)."""
        n = len(self.header)
        if len(row) > n and not any(c.strip() for c in row[n:]):
            row = row[:n]
        if len(row) != n:
            self.bad.add(
                f"line {line}",
                ",".join(row),
                f"{n} values, one per column of the header",
                f"the line has {len(row)}",
            )
            return None
        if _header_key(row[0]) == self.keys[0] and [_header_key(c) for c in row] == self.keys:
            return None  # the header again: two files joined end to end
        return row

    def code(self, line: int, row: list[str]) -> str | None:
        cell = row[self.code_c].strip()
        if not _CODE_RE.fullmatch(cell):
            self.bad.add(
                self.where(line, self.code_c),
                cell,
                "a practice code of 1 to 10 letters and digits (e.g. Y90001)",
            )
            return None
        return cell.upper()

    def practice(self, line: int, code: str) -> _Acc:
        acc = self.accs.get(code)
        if acc is None:
            if len(self.accs) >= MAX_PRACTICES:
                self.bad.add(
                    f"line {line}",
                    code,
                    f"at most {MAX_PRACTICES:,} practices in one file",
                    "cut the file down to the borough's practices",
                )
                self.bad.raise_if_any()
            acc = self.accs[code] = _Acc(line)
        return acc

    def names(self, line: int, row: list[str], acc: _Acc) -> None:
        """The practice's name and neighbourhood from this row, if the file has them."""
        if self.name_c >= 0 and not acc.name:
            name = _clean(row[self.name_c])
            why = _name_problem(name, MAX_NAME_CHARS)
            if why:
                self.bad.add(self.where(line, self.name_c), name, f"a practice name: {why}")
            else:
                acc.name = name
        if self.area_c >= 0:
            area = _clean(row[self.area_c])
            why = _name_problem(area, MAX_NEIGHBOURHOOD_CHARS)
            if why:
                self.bad.add(self.where(line, self.area_c), area, f"a neighbourhood name: {why}")
            elif acc.area_line and area != acc.neighbourhood:
                self.bad.add(
                    self.where(line, self.area_c),
                    area,
                    f"the practice's neighbourhood as on line {acc.area_line} "
                    f"({_shown(acc.neighbourhood)!r})",
                    "a practice belongs to one neighbourhood",
                )
            elif not acc.area_line:
                acc.neighbourhood, acc.area_line = area, line

    def count(self, line: int, row: list[str], col: int) -> int | None:
        cell = row[col].strip()
        value = _count(cell)
        if value is None:
            self.bad.add(self.where(line, col), cell, _COUNT_RULE)
        return value

    def finish(self, counts: dict[str, tuple[int, int, int, int]], line: int) -> list[Practice]:
        out: list[Practice] = []
        for code, acc in self.accs.items():
            if code not in counts:
                continue
            total = sum(counts[code])
            if total > MAX_COUNT:
                self.bad.add(
                    f"line {acc.line}, practice {code}",
                    total,
                    f"at most {MAX_COUNT:,} registered patients in one practice",
                )
                continue
            out.append(Practice(code, acc.name, acc.neighbourhood, counts[code]))
        self.bad.raise_if_any()
        if not out:
            raise _fail(
                self.bad.source, f"line {line}", "", "one or more practices after the header"
            )
        return out


def _read_wide(
    header: list[str],
    keys: list[str],
    line: int,
    records: Iterator[tuple[int, list[str]]],
    bad: _Problems,
) -> list[Practice]:
    """The project's table: one row per practice, one column per model band."""
    r = _Reader(header, keys, bad)
    band_c = [_column(keys, (b,)) for b in _WIDE_BANDS]
    if r.code_c < 0:
        bad.add(f"line {line}", ",".join(header), "a column practice_code (or ORG_CODE, CODE)")
    for b, c in enumerate(band_c):
        if c < 0:
            bad.add(f"line {line}", ",".join(header), f"a column {AGE_BANDS[b]}", "missing")
    bad.raise_if_any()
    counts: dict[str, tuple[int, int, int, int]] = {}
    for n, raw in records:
        row = r.fit(n, raw)
        if row is None:
            continue
        code = r.code(n, row)
        values = [r.count(n, row, c) for c in band_c]
        if code is None:
            continue
        if code in r.accs:
            bad.add(
                r.where(n, r.code_c),
                code,
                "one row per practice",
                f"practice {code} is also on line {r.accs[code].line}",
            )
            continue
        acc = r.practice(n, code)
        r.names(n, row, acc)
        if all(v is not None for v in values):
            a, b, c, d = (v or 0 for v in values)
            counts[code] = (a, b, c, d)
    bad.raise_if_any()
    return r.finish(counts, line)


def _read_long(
    header: list[str],
    keys: list[str],
    line: int,
    records: Iterator[tuple[int, list[str]]],
    bad: _Problems,
) -> list[Practice]:
    """The NHS England layouts: one row per practice x sex x age (group)."""
    r = _Reader(header, keys, bad)
    age_c = _column(keys, _AGE_ALIASES)
    start_c = _column(keys, ("AGE_GROUP_START",))
    end_c = _column(keys, ("AGE_GROUP_END",))
    sex_c = _column(keys, ("SEX",))
    type_c = _column(keys, _TYPE_ALIASES)
    count_c = _column(keys, (_COUNT,))
    shown = ",".join(header)
    if r.code_c < 0:
        bad.add(f"line {line}", shown, "a column ORG_CODE (or CODE, PRACTICE_CODE)", "missing")
    if age_c < 0 and (start_c < 0 or end_c < 0):
        bad.add(
            f"line {line}",
            shown,
            "a column AGE_GROUP_5 (5-year groups) or AGE (single years), or "
            "AGE_GROUP_START and AGE_GROUP_END",
            "missing",
        )
    if count_c < 0:
        bad.add(f"line {line}", shown, "a column NUMBER_OF_PATIENTS", "missing")
    bad.raise_if_any()
    types_seen: set[str] = set()
    sexes_seen: set[str] = set()
    #: (code, sex, first age, last age) -> line, to find a row given twice
    seen: dict[tuple[str, str, int, int | None], int] = {}
    for n, raw in records:
        row = r.fit(n, raw)
        if row is None:
            continue
        if type_c >= 0:
            kind = row[type_c].strip().upper()
            if kind and kind != "GP":
                if len(types_seen) < 10:
                    types_seen.add(_shown(kind))
                continue  # a PCN, ICB or region total, not a practice
        code = r.code(n, row)
        sex = "ALL"
        if sex_c >= 0:
            label = _clean(row[sex_c]).upper()
            sex = _SEXES.get(label, "")
            if not sex:
                bad.add(r.where(n, sex_c), label, "ALL, MALE, FEMALE or UNKNOWN")
        age = _age_of(r, n, row, age_c, start_c, end_c)
        value = r.count(n, row, count_c)
        if code is None or not sex or age is None or value is None:
            continue
        acc = r.practice(n, code)
        r.names(n, row, acc)
        sexes_seen.add(sex)
        col = age_c if age_c >= 0 else start_c
        if isinstance(age, str):  # all ages
            if sex in acc.totals:
                bad.add(
                    r.where(n, col),
                    "ALL",
                    f"one all-ages row per practice and sex (practice {code}, SEX {sex})",
                    f"also on line {acc.totals[sex][1]}",
                )
            else:
                acc.totals[sex] = (value, n)
            continue
        lo, hi = age
        key = (code, sex, lo, hi)
        if key in seen:
            bad.add(
                r.where(n, col),
                _span_text(lo, hi),
                f"one row per practice, sex and age (practice {code}, SEX {sex})",
                f"also on line {seen[key]}",
            )
            continue
        seen[key] = n
        acc.spans.setdefault(sex, []).append((lo, hi, n))
        acc.bands.setdefault(sex, [0, 0, 0, 0])[_band(lo)] += value
    bad.raise_if_any()
    if not r.accs:
        found = ", ".join(repr(k) for k in sorted(types_seen))
        hint = f"ORG_TYPE values found: {found}" if types_seen else ""
        raise _fail(bad.source, f"line {line}", "", "rows for GP practices (ORG_TYPE GP)", hint)
    return r.finish(_long_counts(r, sexes_seen), line)


def _age_of(
    r: _Reader, n: int, row: list[str], age_c: int, start_c: int, end_c: int
) -> tuple[int, int | None] | str | None:
    """The row's ages as (first, last or None), "ALL" for all ages, None if invalid."""
    if age_c >= 0:
        col, label = age_c, _clean(row[age_c])
        if label.upper() in _TOTAL_LABELS:
            return "ALL"
        span = _span(label)
    else:
        col = start_c
        first, last = _clean(row[start_c]), _clean(row[end_c])
        label = f"{first} to {last}" if last else first
        if first.upper() in _TOTAL_LABELS:
            return "ALL"
        # an empty end, or one such as "95+", is the open top group
        span = _span(f"{first}+" if not last or last.endswith("+") else f"{first}-{last}")
    if span is None or span[0] > MAX_AGE or (span[1] is not None and span[1] > MAX_AGE):
        r.bad.add(
            r.where(n, col),
            label,
            "an age (0 to 130), an age group (0_4, 60_64, 85_89) or an open top group "
            "(95+), or ALL",
        )
        return None
    lo, hi = span
    if hi is not None and hi < lo:
        r.bad.add(r.where(n, col), label, "an age group whose first age is not above its last")
        return None
    if _band(lo) != (3 if hi is None else _band(hi)):
        limit = BAND_START[_band(lo) + 1]
        r.bad.add(
            r.where(n, col),
            label,
            "an age group within one of the model's bands (0-64, 65-74, 75-84, 85+)",
            f"the group crosses the band limit at {limit}: give it in smaller groups",
        )
        return None
    return lo, hi


def _gaps(spans: list[tuple[int, int | None, int]]) -> str:
    """What is wrong with how the age groups cover the ages ("" if each age is
    covered once, from 0 to an open top group)."""
    expected: float = 0
    for lo, hi, line in sorted(spans, key=lambda s: (s[0], s[2])):
        if lo > expected:
            return f"no row for ages {int(expected)}-{lo - 1}"
        if lo < expected:
            return f"ages {_span_text(lo, hi)} (line {line}) overlap another group"
        expected = math.inf if hi is None else hi + 1
    if expected != math.inf:
        return f"no row for ages {int(expected)}+ (the top group)"
    return ""


def _long_counts(r: _Reader, sexes_seen: set[str]) -> dict[str, tuple[int, int, int, int]]:
    """Each practice's four band counts, checked against its own all-ages rows."""
    bad = r.bad
    if "ALL" not in sexes_seen and len(sexes_seen & {"MALE", "FEMALE"}) == 1:
        (only,) = sexes_seen & {"MALE", "FEMALE"}
        raise _fail(
            bad.source,
            "",
            f"only SEX {only}",
            "rows for both sexes (MALE and FEMALE) or for SEX ALL",
            "the single-year files come one per sex: join the female and male files "
            "into one (the second file's header line is skipped)",
        )
    no_ages = [c for c, a in r.accs.items() if not a.spans]
    if no_ages and len(no_ages) == len(r.accs):
        raise _fail(
            bad.source,
            f"line {r.accs[no_ages[0]].line}",
            "ALL",
            "rows by age or age group (the file holds all-ages totals only)",
            "use gp-reg-pat-prac-quin-age.csv or the single-year-of-age files",
        )
    counts: dict[str, tuple[int, int, int, int]] = {}
    for code, acc in r.accs.items():
        where = f"line {acc.line}, practice {code}"
        if not acc.spans:
            bad.add(where, "ALL", "rows by age or age group for every practice")
            continue
        problems = False
        for sex, spans in acc.spans.items():
            why = _gaps(spans)
            if why:
                bad.add(
                    f"{where}, SEX {sex}",
                    why,
                    "age groups that cover every age once, from 0 to an open top group such as 95+",
                )
                problems = True
        parts = [s for s in acc.bands if s != "ALL"]
        if "ALL" not in acc.bands and not {"MALE", "FEMALE"} <= set(parts):
            bad.add(
                where,
                f"SEX {' and '.join(sorted(parts))} only",
                "age rows for SEX ALL, or for both MALE and FEMALE",
            )
            continue
        if problems:
            continue
        summed = [sum(acc.bands[s][b] for s in parts) for b in range(4)]
        bands = acc.bands.get("ALL", summed)
        if parts and "ALL" in acc.bands and {"MALE", "FEMALE"} <= set(parts) and summed != bands:
            bad.add(
                where,
                f"{sum(summed):,} by sex",
                f"age rows by sex that add up to the SEX ALL age rows ({sum(bands):,})",
            )
            continue
        for sex, (total, line) in acc.totals.items():
            mine = sum(bands) if sex == "ALL" else sum(acc.bands.get(sex, [0]))
            if (sex == "ALL" or sex in acc.bands) and mine != total:
                bad.add(
                    f"line {line}, practice {code}, SEX {sex}",
                    total,
                    f"the all-ages count equal to the sum of the age rows ({mine:,})",
                )
        a, b, c, d = bands
        counts[code] = (a, b, c, d)
    bad.raise_if_any()
    return counts


# ----------------------------------------------------------------------------- grouping
def neighbourhoods(
    practices: Sequence[Practice], groups: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Group practices into neighbourhoods, as ``population.neighbourhoods`` takes them.

    Args:
        practices: From :func:`read_practices`.
        groups: Practice code -> neighbourhood name. A practice not in it keeps the
            neighbourhood its file gives; a name "" leaves the practice out.

    Returns:
        In the order first seen: ``{"name", "registered", "age_shares"}`` with the
        shares rounded to 6 decimals and summing to exactly 1 (``math.fsum``).

    Raises:
        ConfigError: a practice with no neighbourhood, a bad name, a code in
            ``groups`` that is not a practice, or a neighbourhood with no patients.
    """
    bad = _Problems("neighbourhoods")
    known = {p.code.upper() for p in practices}
    chosen: dict[str, str] = {}
    refused: set[str] = set()  # reported once, as a bad name, not again as missing
    for key, value in groups.items():
        code = str(key).strip().upper()
        # a key that is not a code may hold anything: it is shown only as a (quoted) value
        where = f"groups[{code}]" if _CODE_RE.fullmatch(code) else "groups"
        if code not in known:
            bad.add(where, str(key), "the code of a practice in the file")
            continue
        if not isinstance(value, str):
            bad.add(where, repr(value), "a neighbourhood name (text), or '' to leave it out")
            refused.add(code)
            continue
        name = _clean(value)
        why = _name_problem(name, MAX_NEIGHBOURHOOD_CHARS)
        if why:
            bad.add(where, name, f"a neighbourhood name: {why}")
            refused.add(code)
            continue
        chosen[code] = name
    totals: dict[str, list[int]] = {}
    members: dict[str, list[str]] = {}
    missing: list[str] = []
    for p in practices:
        code = p.code.upper()
        name = chosen.get(code, p.neighbourhood)
        if (code in chosen and not name) or code in refused:
            continue  # left out on purpose, or its name is already reported
        if not name:
            missing.append(code)
            continue
        counts = totals.setdefault(name, [0, 0, 0, 0])
        for b in range(4):
            counts[b] += p.counts[b]
        members.setdefault(name, []).append(code)
    if missing:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if missing[10:] else "")
        bad.add(
            "",
            shown,
            "a neighbourhood for every practice: in groups, or a neighbourhood column",
            "map a practice to '' to leave it out",
        )
    lower: dict[str, str] = {}
    for name in totals:
        if name.lower() in lower:
            bad.add(
                "",
                name,
                f"neighbourhood names that differ by more than case ({lower[name.lower()]!r})",
            )
        lower.setdefault(name.lower(), name)
    for name, counts in totals.items():
        if sum(counts) == 0:
            bad.add(
                f"neighbourhood {_shown(name)!r}",
                0,
                "a neighbourhood with registered patients",
                f"its practices: {', '.join(members[name][:10])}",
            )
    if not totals and not bad.items:
        bad.add("", "", "one or more neighbourhoods (every practice is left out)")
    bad.raise_if_any()
    return [
        {"name": name, "registered": sum(counts), "age_shares": _shares(counts)}
        for name, counts in totals.items()
    ]


def _shares(counts: Sequence[int]) -> dict[str, float]:
    """Shares of the four bands, rounded to 6 decimals and summing to exactly 1.0."""
    total = sum(counts)
    return exact_shares([c / total for c in counts])


def exact_shares(fractions: Sequence[float]) -> dict[str, float]:
    """Four band shares that sum to 1 up to rounding, rounded to 6 decimals and
    summing to exactly 1.0 (as the config's check and a reader adding them see it).

    The largest share takes up the rounding: it becomes 1 less the others, which
    keeps it within a millionth of its own rounded value."""
    shares = [round(f, 6) for f in fractions]
    big = max(range(len(shares)), key=lambda b: shares[b])
    others = [s for b, s in enumerate(shares) if b != big]
    # the nearest 6-decimal float first (tidy in YAML); if floating point leaves the
    # sum a hair off 1, the correctly rounded 1 - sum(others), which always lands on 1
    shares[big] = round(1.0 - math.fsum(others), 6)
    if math.fsum(shares) != 1.0:
        shares[big] = math.fsum([1.0, *(-s for s in others)])
    return dict(zip(AGE_BANDS, shares, strict=True))
