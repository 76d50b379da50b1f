"""The evidence behind each default of the configuration, read from ``docs/evidence.md``.

Every default in ``configs/config.yaml`` has a row in ``docs/evidence.md``: the
value, the range to vary it over in sensitivity and uncertainty analysis, its
source (a short key such as ``[Wright13]``, expanded under the document's
Sources), a status code (Q quoted from the source, S secondary, R recalled or
assumed, C calibrated, D derived by arithmetic) and how it was derived. The two
files are kept together by hand. A planner changing a lever in the web app sees
that row beside it, so they know how far the number is from a source and which
range the evidence supports.

The rows sit in Markdown tables whose first column is headed ``parameter``; the
other columns are found by their headers (``default``, ``range``, ``source``,
``status``, ``how derived``), which may carry a qualifier (the unit costs table
heads them ``default (source year)`` and ``range (2023/24)`` and adds columns of
its own, kept in :attr:`EvidenceRow.extra`). The parameter cell names the
configuration path in backticks, in these forms:

* ``population.frailty_65_74``: one setting (or a mapping of settings: its
  fields share the row);
* ``population.neighbourhoods[*].registered`` or ``partners[].fixed_share``:
  the field of every item of a list; ``neighbourhoods[SW2].age_shares``: of one
  named item;
* several names in one cell, separated by commas or slashes
  (``people.shape.age_65_74``, ``age_75_84``): a later name without a block of its
  own is a sibling of the first;
* a bare name (``travel_minutes``) in a table whose rows began with a full
  path (``urgent_community_response.enabled``) belongs to that table's block;
* a cell with no name in backticks (``(rule) waits``) describes a modelling
  rule, not a setting, and is skipped.

Cells keep their Markdown (backticks, links, citation keys) as text.

API: :func:`load_evidence` reads the rows (cached while the file is unchanged;
an empty mapping if there is no file), :func:`lookup` finds the row of a
configuration path (list items and fields of mappings included) and
:func:`evidence_path` says which file is read.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

#: environment variable naming another evidence file
EVIDENCE_ENV = "NSIM_EVIDENCE"

#: Config paths the document writes under a shorter name: (config prefix, document
#: prefix). docs/evidence.md gives the discharge block's ``other_delays`` a section
#: and table of its own, as if it were a top-level block.
ALIASES: tuple[tuple[str, str], ...] = (("discharge.other_delays", "other_delays"),)


@dataclass(frozen=True)
class EvidenceRow:
    """One row of an evidence table, for one configuration path."""

    #: the configuration path, as the document writes it (``[*]`` for any list item)
    parameter: str
    default: str
    range: str
    source: str
    #: status code(s): Q, S, R, C, D, sometimes qualified ("Q (total) / R (split)")
    status: str
    #: how the default was derived ("how derived")
    derived: str
    #: the heading the table sits under
    section: str
    #: line of the row in the file (1-based)
    line: int = 0
    #: further columns of the table, (header, cell), e.g. ("restated 2023/24", "179.77")
    extra: tuple[tuple[str, str], ...] = ()


def evidence_path() -> Path:
    """The evidence file: ``$NSIM_EVIDENCE``, else ``docs/evidence.md`` of the checkout."""
    env = os.environ.get(EVIDENCE_ENV)
    if env:
        return Path(env)
    # as sim.config.loading.config_dir: the checkout holding the sim package
    return Path(__file__).resolve().parents[2] / "docs" / "evidence.md"


# --------------------------------------------------------------------------- reading
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_CODE = re.compile(r"`([^`]+)`")
#: a configuration path: dotted names, each with an optional [index], [name], [*] or []
_NAME = re.compile(r"^[A-Za-z_]\w*(\[[^\]\s]*\])?(\.[A-Za-z_]\w*(\[[^\]\s]*\])?)*$")
#: the standard columns, by the first words of their headers
_COLUMNS = {
    "parameter": "parameter",
    "default": "default",
    "range": "range",
    "source": "source",
    "status": "status",
    "how derived": "derived",
}


def _cells(line: str) -> list[str]:
    """The cells of a Markdown table row (``\\|`` is a pipe inside a cell)."""
    text = line.strip()
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|") and not text.endswith("\\|"):
        text = text[:-1]
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", text)]


def _column(header: str) -> str | None:
    """The standard column a header names (``range (2023/24)`` -> ``range``), if any."""
    base = header.split("(")[0].strip().lower()
    return _COLUMNS.get(base)


@dataclass
class _Table:
    section: str
    header: list[str]
    rows: list[tuple[int, list[str]]]


def _tables(text: str) -> Iterator[_Table]:
    """The tables whose first column is headed ``parameter``, outside code blocks."""
    lines = text.splitlines()
    section = ""
    fence = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        opened = _FENCE.match(line)
        if fence:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = ""
            i += 1
            continue
        if opened:
            fence = opened.group(1)
            i += 1
            continue
        heading = _HEADING.match(line)
        if heading:
            section = heading.group(2)
            i += 1
            continue
        if (
            line.lstrip().startswith("|")
            and i + 1 < len(lines)
            and _SEPARATOR.match(lines[i + 1])
            and _column(_cells(line)[0]) == "parameter"
        ):
            table = _Table(section, _cells(line), [])
            i += 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                table.rows.append((i + 1, _cells(lines[i])))
                i += 1
            yield table
            continue
        i += 1


def _names(cell: str) -> list[str]:
    """The configuration paths named in a parameter cell, as written."""
    return [n.replace("[]", "[*]") for n in _CODE.findall(cell) if _NAME.match(n.strip())]


def _first(name: str) -> str:
    return name.split(".")[0].split("[")[0]


def _parent(name: str) -> str:
    return name.rpartition(".")[0]


def parse_evidence(text: str) -> list[EvidenceRow]:
    """Every parameter named in the evidence tables of ``text``, one row each, in order.

    A table row naming several parameters gives one :class:`EvidenceRow` per
    parameter, each with the row's cells and line.
    """
    tables = list(_tables(text))
    # the blocks whose names open a table: a name starting with one of these is a
    # full path, any other is relative to the table it is in
    blocks = set()
    for table in tables:
        named = (names for _, cells in table.rows if cells and (names := _names(cells[0])))
        opening = next(named, None)
        if opening:
            blocks.add(_first(opening[0]))
    out: list[EvidenceRow] = []
    for table in tables:
        columns = [_column(h) for h in table.header]
        prefix = ""
        for line, cells in table.rows:
            names = _names(cells[0]) if cells else []
            if not names:
                continue  # a rule or a note, not a setting
            first = names[0]
            if _first(first) in blocks:
                prefix = prefix or _parent(first)  # the first full path sets the table's block
            elif prefix:
                first = f"{prefix}.{first}"  # a bare name: the table's block
            full = [first]
            for name in names[1:]:
                if "." in name and _first(name) in blocks:
                    full.append(name)
                else:  # a sibling of the first name
                    full.append(f"{_parent(first)}.{name}" if "." in first else name)
            values = {"default": "", "range": "", "source": "", "status": "", "derived": ""}
            extra = []
            for column, header, cell in zip(columns, table.header, cells, strict=False):
                if column == "parameter":
                    continue
                if column is None:
                    extra.append((header, cell))
                elif not values[column]:
                    values[column] = cell
            for name in full:
                out.append(
                    EvidenceRow(
                        parameter=name,
                        section=table.section,
                        line=line,
                        extra=tuple(extra),
                        **values,
                    )
                )
    return out


_CACHE: dict[Path, tuple[tuple[int, int], dict[str, EvidenceRow]]] = {}
_LOCK = threading.Lock()


def load_evidence(path: Path | None = None) -> dict[str, EvidenceRow]:
    """The evidence rows by parameter (the first row wins if one is named twice).

    Read again only when the file's modification time or size changes. A missing
    file gives an empty mapping: the rest of the tool works without it.
    """
    file = (path or evidence_path()).resolve()
    try:
        st = file.stat()
    except OSError:
        return {}
    stamp = (st.st_mtime_ns, st.st_size)
    with _LOCK:
        cached = _CACHE.get(file)
    if cached is None or cached[0] != stamp:
        try:
            text = file.read_text(encoding="utf-8")
        except OSError:
            return {}
        rows: dict[str, EvidenceRow] = {}
        for row in parse_evidence(text):
            rows.setdefault(row.parameter, row)
        cached = (stamp, rows)
        with _LOCK:
            _CACHE[file] = cached
    return dict(cached[1])  # a copy: callers may change theirs


# --------------------------------------------------------------------------- finding
_INDEX = re.compile(r"\.(\d+)(?=\.|\[|$)")
_BRACKET = re.compile(r"\[[^\]]*\]")


def _normal(path: str) -> str:
    """``a.b.3.c`` and ``a.b[]`` written as the document does: ``a.b[3].c``, ``a.b[*]``."""
    path = path.strip().strip("`").strip()
    return _INDEX.sub(r"[\1]", path).replace("[]", "[*]")


def _wildcards(path: str) -> list[str]:
    """``path``, then with its list indexes made ``[*]`` (fewest first)."""
    spans = [m.span() for m in _BRACKET.finditer(path)]
    found = [path]
    for count in range(1, len(spans) + 1):
        for chosen in itertools.combinations(spans, count):
            text = path
            for start, end in reversed(chosen):
                text = text[:start] + "[*]" + text[end:]
            if text not in found:
                found.append(text)
    return found


def _aliased(path: str) -> list[str]:
    out = [path]
    for config, doc in ALIASES:
        if path == config or path.startswith(config + ".") or path.startswith(config + "["):
            out.append(doc + path[len(config) :])
    return out


def _ancestors(path: str) -> list[str]:
    """``path`` and the paths of the settings that contain it, innermost first."""
    found = [path]
    while True:
        # a.b[3].c -> a.b[3] -> a.b -> a
        path = path[: path.rfind("[")] if path.endswith("]") else path.rpartition(".")[0]
        if not path:
            return found
        found.append(path)


def lookup(path: str, rows: Mapping[str, EvidenceRow] | None = None) -> EvidenceRow | None:
    """The evidence row of configuration path ``path``, if there is one.

    Tried in order: the path itself; with its list indexes as ``[*]``
    (``population.neighbourhoods.3.registered`` and ``...[3]...`` find
    ``population.neighbourhoods[*].registered``); then the same for the setting
    that contains it, outwards, so a field of a mapping finds the mapping's row
    (``population.frailty_65_74.fit`` -> ``population.frailty_65_74``).
    ``rows`` defaults to :func:`load_evidence`.
    """
    table = load_evidence() if rows is None else rows
    if not table:
        return None
    for outer in _ancestors(_normal(path)):
        for name in _aliased(outer):
            for candidate in _wildcards(name):
                row = table.get(candidate)
                if row is not None:
                    return row
    return None
