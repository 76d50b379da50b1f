"""Turn plain mappings (parsed YAML) into frozen, validated dataclasses.

The model never sees a Hydra ``DictConfig``. This module walks a dataclass's type
hints and converts a nested ``dict`` into instances, checking as it goes:

* unknown keys are rejected, with the closest valid name suggested;
* every value is checked against its annotated type (``int``, ``float``, ``bool``,
  ``str``, ``Literal``, ``tuple[...]``, nested dataclasses, ``X | None``);
* numeric fields may carry bounds through ``field(metadata=...)`` (see :func:`num`);
* a dataclass may define ``check(self, path) -> list[ConfigProblem]`` for relations
  between its fields (probabilities summing to one, hours within a day, ...).

All problems found are reported together in one :class:`ConfigError`.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

from sim.config.errors import ConfigError, ConfigProblem

T = TypeVar("T")

_MISSING = object()


def num(
    default: Any = dataclasses.MISSING,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    units: str = "",
    **kwargs: Any,
) -> Any:
    """A dataclass field holding a number with optional bounds and units."""
    meta = {"ge": ge, "gt": gt, "le": le, "lt": lt, "units": units}
    if default is not dataclasses.MISSING and isinstance(default, (list, dict, tuple)):
        return dataclasses.field(default_factory=lambda: default, metadata=meta, **kwargs)
    return dataclasses.field(default=default, metadata=meta, **kwargs)


def _bounds_text(meta: Mapping[str, Any]) -> str:
    parts = []
    if meta.get("ge") is not None:
        parts.append(f">= {meta['ge']}")
    if meta.get("gt") is not None:
        parts.append(f"> {meta['gt']}")
    if meta.get("le") is not None:
        parts.append(f"<= {meta['le']}")
    if meta.get("lt") is not None:
        parts.append(f"< {meta['lt']}")
    text = " and ".join(parts)
    if meta.get("units"):
        text = f"{text} ({meta['units']})" if text else f"in {meta['units']}"
    return text


def _check_bounds(value: float, meta: Mapping[str, Any]) -> bool:
    ge, gt, le, lt = meta.get("ge"), meta.get("gt"), meta.get("le"), meta.get("lt")
    return not (
        (ge is not None and value < ge)
        or (gt is not None and value <= gt)
        or (le is not None and value > le)
        or (lt is not None and value >= lt)
    )


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(tp))
    if origin is tuple:
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list in brackets, each item {_type_name(args[0])}"
        return f"a list of {len(args)} values in brackets"
    if dataclasses.is_dataclass(tp):
        return "a mapping with fields " + ", ".join(f.name for f in dataclasses.fields(tp))
    if tp is type(None):
        return "null"
    if tp is float:
        return "a number"
    if tp is int:
        return "a whole number"
    if tp is bool:
        return "true or false"
    if tp is str:
        return "a string"
    return getattr(tp, "__name__", str(tp))


class _Builder:
    def __init__(self) -> None:
        self.problems: list[ConfigProblem] = []

    def fail(self, path: str, value: Any, allowed: str, hint: str = "") -> Any:
        self.problems.append(ConfigProblem(path, value, allowed, hint))
        return _MISSING

    def convert(self, tp: Any, value: Any, path: str, meta: Mapping[str, Any]) -> Any:
        if isinstance(tp, type) and hasattr(tp, "from_plain"):
            # a type that reads its own plain data (e.g. a tree of distributions)
            return tp.from_plain(self, value, path)
        origin = get_origin(tp)
        if origin in (typing.Union, types.UnionType):
            args = get_args(tp)
            if value is None and type(None) in args:
                return None
            non_none = [a for a in args if a is not type(None)]
            if len(non_none) == 1:
                return self.convert(non_none[0], value, path, meta)
            trials = []
            for arg in non_none:
                trial = _Builder()
                out = trial.convert(arg, value, path, meta)
                if not trial.problems:
                    return out
                trials.append((arg, trial))
            # a mapping given for the one mapping-shaped alternative: its own problems
            # (shares that do not sum to 1, ...) say more than "allowed: a or b"
            shaped = [t for a, t in trials if dataclasses.is_dataclass(a)]
            if isinstance(value, Mapping) and len(shaped) == 1:
                self.problems.extend(shaped[0].problems)
                return _MISSING
            bounds = _bounds_text(meta)
            names = [
                f"{_type_name(a)} {bounds}" if a in (int, float) and bounds else _type_name(a)
                for a in args
            ]
            return self.fail(path, value, " or ".join(names))
        if origin is Literal:
            allowed = get_args(tp)
            if value in allowed:
                return value
            hint = ""
            if isinstance(value, str):
                close = difflib.get_close_matches(value, [str(a) for a in allowed], n=1)
                if close:
                    hint = f"did you mean {close[0]!r}?"
            return self.fail(path, value, _type_name(tp), hint)
        if origin is tuple:
            if not isinstance(value, (list, tuple)):
                # a single value where a list belongs: show how the list is written
                hint = f"did you mean [{value}]?" if isinstance(value, (str, int, float)) else ""
                return self.fail(path, value, _type_name(tp), hint)
            args = get_args(tp)
            if len(args) == 2 and args[1] is Ellipsis:
                items = [
                    self.convert(args[0], v, f"{path}[{i}]", meta) for i, v in enumerate(value)
                ]
            else:
                if len(value) != len(args):
                    return self.fail(path, value, f"exactly {len(args)} values")
                items = [
                    self.convert(a, v, f"{path}[{i}]", meta)
                    for i, (a, v) in enumerate(zip(args, value, strict=True))
                ]
            return tuple(items)
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            return self.build(tp, value, path)
        if tp is bool:
            if isinstance(value, bool):
                return value
            return self.fail(path, value, "true or false")
        if tp is int:
            if isinstance(value, bool) or not (
                isinstance(value, int) or (isinstance(value, float) and value.is_integer())
            ):
                return self.fail(path, value, "a whole number " + _bounds_text(meta))
            value = int(value)
            if not _check_bounds(value, meta):
                return self.fail(path, value, "a whole number " + _bounds_text(meta))
            return value
        if tp is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return self.fail(path, value, "a number " + _bounds_text(meta))
            value = float(value)
            if not math.isfinite(value) or not _check_bounds(value, meta):
                return self.fail(path, value, "a finite number " + _bounds_text(meta))
            return value
        if tp is str:
            if isinstance(value, str):
                return value
            return self.fail(path, value, "a string")
        raise TypeError(f"unsupported config type {tp!r} at {path}")  # programming error

    def build(self, cls: type[Any], data: Any, path: str) -> Any:
        """An instance of ``cls`` from ``data``, or ``_MISSING`` once a problem is recorded."""
        where = path or "config"
        if dataclasses.is_dataclass(data) and isinstance(data, cls):
            return data
        if not isinstance(data, Mapping):
            return self.fail(where, data, _type_name(cls))
        hints = get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
        kwargs: dict[str, Any] = {}
        extra = _service_blocks(cls, path, data, fields)
        if extra:
            data = {k: v for k, v in data.items() if k not in extra}
            kwargs["services"] = {
                name: self.build(schema, value, name) for name, (schema, value) in extra.items()
            }
        for key in data:
            if key not in fields:
                close = difflib.get_close_matches(str(key), list(fields), n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}?" if close else ""
                allowed = "one of the fields " + ", ".join(fields)
                self.fail(f"{path}.{key}" if path else str(key), data[key], allowed, hint)
        for name, f in fields.items():
            sub = f"{path}.{name}" if path else name
            if name in data:
                out = self.convert(hints[name], data[name], sub, f.metadata)
                if out is not _MISSING:
                    kwargs[name] = out
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                self.fail(sub, None, f"a required value ({_type_name(hints[name])})")
        if len(kwargs) != sum(1 for n in fields if n in data) + bool(extra) or any(
            n not in data
            and fields[n].default is dataclasses.MISSING
            and fields[n].default_factory is dataclasses.MISSING
            for n in fields
        ):
            return _MISSING
        try:
            obj = cls(**kwargs)
        except (TypeError, ValueError) as exc:
            return self.fail(where, dict(data), str(exc))
        check = getattr(obj, "check", None)
        if callable(check):
            self.problems.extend(check(path))
        return obj


def _service_blocks(
    cls: type[Any], path: str, data: Mapping[str, Any], fields: Mapping[str, Any]
) -> dict[str, tuple[type[Any], Any]]:
    """Top-level keys of the root config that are registered service blocks."""
    if path or "services" not in fields:
        return {}
    unknown = [k for k in data if k not in fields]
    if not unknown:
        return {}
    from sim.config.blocks import registered

    blocks = registered()
    return {k: (blocks[k], data[k]) for k in unknown if k in blocks}


def build(cls: type[T], data: Mapping[str, Any]) -> T:
    """Build and validate a dataclass tree from a mapping.

    Args:
        cls: The root dataclass type.
        data: Plain nested mappings and lists, e.g. from ``OmegaConf.to_container``.

    Raises:
        ConfigError: listing every invalid or unknown field with its path.
    """
    builder = _Builder()
    out = builder.build(cls, data, "")
    if builder.problems:
        raise ConfigError(builder.problems)
    assert out is not _MISSING
    return out


def to_dict(obj: Any) -> Any:
    """Plain-data view of a config dataclass tree (tuples become lists)."""
    if hasattr(obj, "to_plain"):
        return obj.to_plain()
    if dataclasses.is_dataclass(obj):
        out = {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        services = out.pop("services", None)
        if isinstance(services, Mapping):  # service blocks are written at the top level
            out.update(services)
        elif services is not None:
            out["services"] = services
        return out
    if isinstance(obj, Mapping):
        return {k: to_dict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    return obj
