"""Levers: the settings of a configuration block, described for a planner's form.

A scenario is the baseline borough with some settings changed: an intervention
switched on, its staff or capacity raised, its effect made larger or smaller
for a sensitivity run. A planner makes those changes in the web app, one form
per block (``treat``, ``pace``, ``beds``, ``discharge.reablement``, ...), and
should see, beside each setting, what it means, what values the model accepts
and what the evidence says (the row of ``docs/evidence.md``: default, range,
source, status). A :class:`Lever` is that description of one setting; nothing
here runs the model.

Everything comes from the schema (:mod:`sim.config.schema` and the blocks that
services register, :mod:`sim.config.blocks`): the type of each field gives its
kind (a whole number, a number, a switch, a choice among the ``Literal`` words,
free text), ``num(ge=, gt=, le=, lt=, units=)`` its bounds and units, the
field's name its label. Nested blocks (a calendar, a duration, a cost line) are
flattened into dotted paths; lists and mappings are not levers.

:meth:`Lever.problem` applies the rule the configuration loader applies (the
same conversion and bounds, then the block's and the whole configuration's own
checks, with only this value changed), so a form refuses exactly what a YAML
file would be refused for.

A block may name its few main levers in a ``KEY_LEVERS`` class constant on its
schema (relative dotted paths, e.g. ``("enabled", "staff", "calendar.weekend_share")``);
:func:`key_levers` uses it, or else the block's first-level settings. The
constant sits on the schema because a component owns its own configuration:
the service that adds a block says which of its settings matter, beside the
fields themselves, and no list here has to follow it.

API: :func:`levers`, :func:`key_levers`, :func:`lever` and :func:`set_value`
(a dotted path set in plain nested data, as the app builds a scenario's
overrides).
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args, get_origin, get_type_hints

# the loader's own converter (as sim.config.uncertainty uses it): a form's value
# is checked by the code that checks a YAML file's, not by a copy of its rules
from sim.config.build import _Builder, to_dict
from sim.config.errors import ConfigError, ConfigProblem
from sim.config.evidence import EvidenceRow, load_evidence, lookup
from sim.config.schema import Config

#: the kinds of lever a form shows
Kind = Literal["int", "float", "bool", "choice", "text"]

#: words spelt out in labels
_WORDS = {
    "ae": "A&E",
    "ari": "ARI",
    "chc": "CHC",
    "cv": "CV",
    "gp": "GP",
    "los": "LOS",
    "mdt": "MDT",
    "nhs": "NHS",
    "nhs111": "NHS 111",
    "p0": "P0",
    "p1": "P1",
    "p2": "P2",
    "p3": "P3",
    "pace": "PACE",
    "treat": "TREAT",
    "ucr": "UCR",
    "100k": "100,000",
    "1000": "1,000",
    "65plus": "65+",
}
_BANDS = {
    "age_0_64": "0-64",
    "age_65_74": "65-74",
    "age_75_84": "75-84",
    "age_85_plus": "85+",
}


@dataclass(frozen=True)
class Lever:
    """One setting of a configuration, as a form shows it."""

    #: dotted path in the configuration, e.g. ``treat.staff``
    path: str
    #: human label from the field's name (within its block), units appended if any
    label: str
    kind: Kind
    #: the value in the configuration it was read from
    value: Any
    #: the allowed words of a choice; for a number that may also be a word (a
    #: place count or ``steady_state``), the words
    choices: tuple[Any, ...] = ()
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    units: str = ""
    evidence: EvidenceRow | None = None
    #: ``None`` (null in YAML: "not set") is allowed too
    optional: bool = False
    #: the field's type, as the schema declares it
    annotation: Any = field(default=None, repr=False, compare=False)
    #: plain data of the whole configuration the lever was read from, shared by
    #: the levers of one call; read, never changed
    base: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)

    def problem(self, value: Any) -> str | None:
        """Why ``value`` cannot be set here, in the loader's words, or None.

        First the field's own rule (type, choices, bounds); then, if the lever
        knows its configuration, that configuration's checks with only this
        value changed (relations such as "admissions cannot fall more than
        conveyances", or a bound set by another block). The second step builds
        a whole configuration: some tens of milliseconds.
        """
        meta = {"ge": self.ge, "gt": self.gt, "le": self.le, "lt": self.lt, "units": self.units}
        if self.annotation is not None:
            builder = _Builder()
            builder.convert(self.annotation, value, self.path, meta)
            if builder.problems:
                return self._message(builder.problems)
        if self.base is not None:
            from sim.config.loading import from_mapping

            try:
                from_mapping(_replaced(self.base, _parts(self.path), value))
            except ConfigError as exc:
                return self._message(exc.problems)
        return None

    def _message(self, problems: list[ConfigProblem]) -> str:
        texts = []
        for p in problems:
            if p.path == self.path:
                text = f"allowed: {p.allowed}" + (f" ({p.hint})" if p.hint else "")
            else:  # another setting that this value would make wrong
                text = str(p)
            if text not in texts:
                texts.append(text)
        return "; ".join(texts)


# --------------------------------------------------------------------------- paths
_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _parts(path: str) -> list[str | int]:
    """``a.b[2].c`` or ``a.b.2.c`` -> ``["a", "b", 2, "c"]``."""
    parts: list[str | int] = []
    for name, index in _SEGMENT.findall(path):
        if index:
            parts.append(int(index))
        elif name.isdigit():
            parts.append(int(name))
        else:
            parts.append(name)
    if not parts:
        raise ValueError(f"empty configuration path {path!r}")
    return parts


def set_value(data: MutableMapping[str, Any], path: str, value: Any) -> None:
    """Set dotted ``path`` to ``value`` in plain nested config data, creating
    mappings on the way (a block the YAML left out gets its schema's defaults
    for the rest). A number in the path indexes an existing list."""
    parts = _parts(path)
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, list) and isinstance(part, int):
            node = node[part]
            continue
        if not isinstance(node, MutableMapping):
            where = ".".join(str(p) for p in parts[:i]) or "the top level"
            raise TypeError(f"cannot set {path!r}: {where} is not a mapping")
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        node = child
    last = parts[-1]
    if isinstance(node, list) and isinstance(last, int):
        node[last] = value
        return
    if not isinstance(node, MutableMapping):
        raise TypeError(f"cannot set {path!r}: its parent is not a mapping")
    node[last] = value


def _replaced(data: Any, parts: list[str | int], value: Any) -> Any:
    """A copy of ``data`` with ``value`` at ``parts``, sharing every other branch."""
    if not parts:
        return value
    head, rest = parts[0], parts[1:]
    if isinstance(data, list) and isinstance(head, int):
        out_list = list(data)
        out_list[head] = _replaced(data[head], rest, value)
        return out_list
    out = dict(data) if isinstance(data, Mapping) else {}
    out[head] = _replaced(out.get(head), rest, value)
    return out


# --------------------------------------------------------------------------- schema
_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    """The resolved field types of a schema class (read once per class)."""
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = get_type_hints(cls)
    return hints


def _union_args(tp: Any) -> tuple[Any, ...] | None:
    if get_origin(tp) in (typing.Union, types.UnionType):
        return get_args(tp)
    return None


def _is_collection(tp: Any) -> bool:
    origin = get_origin(tp) or tp
    return isinstance(origin, type) and issubclass(origin, (tuple, list, dict, Mapping))


_SCALARS: dict[Any, Kind] = {bool: "bool", int: "int", float: "float", str: "text"}


def _scalar(tp: Any, value: Any) -> tuple[Kind, tuple[Any, ...], bool] | None:
    """(kind, choices, optional) of a field holding one setting; None if it holds
    a nested block (or its value is one), a list or a mapping."""
    args = _union_args(tp)
    alternatives = [a for a in args if a is not type(None)] if args else [tp]
    optional = args is not None and type(None) in args
    words: list[Any] = []
    kinds: list[Kind] = []
    for alt in alternatives:
        if get_origin(alt) is Literal:
            words.extend(get_args(alt))
        elif alt in _SCALARS:
            kinds.append(_SCALARS[alt])
        elif isinstance(alt, type) and dataclasses.is_dataclass(alt):
            if isinstance(value, alt):
                return None  # given as a mapping (attribution shares): its fields
            # else a word or number here; the mapping form is not one setting
        else:
            return None
    if not kinds and words:
        return "choice", tuple(words), optional
    if len(kinds) == 1:
        return kinds[0], tuple(words), optional
    return None


def _label(relative: list[str], units: str) -> str:
    words = []
    for name in relative:
        if name in _BANDS:
            words.append(_BANDS[name])
            continue
        words.append(" ".join(_WORDS.get(w, w) for w in name.split("_")))
    text = ": ".join(words)
    text = text[:1].upper() + text[1:]
    if not units or units.lower() in text.lower().split():
        return text  # "Days saved", not "Days saved (days)"
    return f"{text} ({units})"


def _block(cfg: Config, block: str) -> Any:
    parts = block.split(".")
    obj = cfg.block(parts[0])
    for part in parts[1:]:
        if not dataclasses.is_dataclass(obj) or part not in {
            f.name for f in dataclasses.fields(obj)
        }:
            raise KeyError(f"no config block {block!r}")
        obj = getattr(obj, part)
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        raise KeyError(f"{block!r} is a setting, not a config block")
    return obj


def _walk(
    obj: Any,
    path: str,
    relative: list[str],
    depth: int,
    rows: Mapping[str, EvidenceRow],
    base: Mapping[str, Any],
) -> list[Lever]:
    out: list[Lever] = []
    hints = _hints(type(obj))
    for f in dataclasses.fields(obj):
        if not f.init:
            continue
        tp = hints[f.name]
        value = getattr(obj, f.name)
        sub = f"{path}.{f.name}"
        here = [*relative, f.name]
        scalar = _scalar(tp, value)
        if scalar is not None:
            kind, choices, optional = scalar
            meta = f.metadata
            units = str(meta.get("units") or "")
            out.append(
                Lever(
                    path=sub,
                    label=_label(here, units),
                    kind=kind,
                    value=value,
                    choices=choices,
                    ge=meta.get("ge"),
                    gt=meta.get("gt"),
                    le=meta.get("le"),
                    lt=meta.get("lt"),
                    units=units,
                    evidence=lookup(sub, rows),
                    optional=optional,
                    annotation=tp,
                    base=base,
                )
            )
        elif dataclasses.is_dataclass(value) and not _is_collection(tp) and len(here) < depth:
            # a nested block, or the mapping form of a field that may also be a
            # word (an attribution given as shares)
            out += _walk(value, sub, here, depth, rows, base)
    return out


def levers(cfg: Config, block: str, depth: int = 2) -> list[Lever]:
    """Every setting of ``block`` (``"treat"``, ``"discharge.reablement"``, a
    service's block) that a form can show, in schema order.

    Nested blocks are flattened into dotted paths down to ``depth`` levels below
    ``block`` (``treat.calendar.start_hour`` is level 2); lists, tuples and
    mappings are left out. Values are those of ``cfg``.
    """
    obj = _block(cfg, block)
    return _walk(obj, block, [], depth, load_evidence(), to_dict(cfg))


def lever(cfg: Config, path: str) -> Lever:
    """The lever of one setting, e.g. ``"treat.calendar.weekend_share"``."""
    block = path.split(".")[0]
    for found in levers(cfg, block, depth=path.count(".")):
        if found.path == path:
            return found
    raise KeyError(f"{path!r} is not a setting a form can show (a number, switch, choice or text)")


def key_levers(cfg: Config, block: str) -> list[Lever]:
    """The few main levers of ``block``: those its schema's ``KEY_LEVERS`` names,
    in that order, or else its first-level settings."""
    obj = _block(cfg, block)
    names: tuple[str, ...] | None = getattr(type(obj), "KEY_LEVERS", None)
    if not names:
        return levers(cfg, block, depth=1)
    deepest = max(n.count(".") + 1 for n in names)
    found = {lv.path: lv for lv in levers(cfg, block, depth=deepest)}
    out = []
    for name in names:
        path = f"{block}.{name}"
        if path not in found:
            raise KeyError(
                f"{type(obj).__name__}.KEY_LEVERS names {name!r}, which is not a setting "
                f"of block {block!r} a form can show"
            )
        out.append(found[path])
    return out
