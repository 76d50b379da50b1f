"""Scenario files written from the app's forms, checked before they are saved.

A scenario the app saves is an ordinary scenario file, the same as one written
by hand in ``scenarios/``: the ``# @package _global_`` header, a comment saying
what it is, a ``defaults`` list composing the scenarios it builds on (a
borough, the library's interventions), its name and description, and only the
settings that differ from what it builds on. ``nsim scenario=<name>`` runs it
with ``NSIM_SCENARIO_PATH`` pointing at its folder, or copied into
``scenarios/``.

Nothing is written until the file composes and validates: the draft is
composed from a staging folder with the project's own loader, and its problems
(``ConfigProblem``, naming the field, the value and what is allowed) are
returned for the form to show next to the field. Form values become YAML data,
never Hydra overrides, and text that OmegaConf would interpolate (``${...}``)
is refused, so a value cannot reach the environment or another file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sim.app.workspace import NAME, Workspace
from sim.config import Config
from sim.config.errors import ConfigError, ConfigProblem
from sim.config.loading import library_scenarios, load_config, scenario_path


@dataclass
class Draft:
    """A scenario being edited: what it builds on and the settings it changes."""

    name: str
    description: str
    bases: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def data(self) -> dict[str, Any]:
        """The file's content as plain data (defaults first, like a hand-written file)."""
        out: dict[str, Any] = {}
        if self.bases:
            out["defaults"] = [f"/scenario/{b}@_here_" for b in self.bases] + ["_self_"]
        out["name"] = self.name
        out["description"] = self.description
        out.update(self.settings)
        return out

    def yaml(self, when: dt.date | None = None) -> str:
        """The scenario file's text."""
        day = (when or dt.date.today()).isoformat()
        lines = ["# @package _global_", "#", f"# {self.name}: written by nsim-app on {day}."]
        if self.bases:
            lines.append("# Builds on " + ", ".join(self.bases) + " (in that order).")
        for text in self.note.splitlines():
            lines.append(f"# {text}".rstrip())
        data = self.data()
        body = ""
        if "defaults" in data:  # a list a reader scans: one item a line, as by hand
            body = yaml.safe_dump({"defaults": data.pop("defaults")}, default_flow_style=False)
        # one top-level key at a time: dumped together, a mapping of plain values would
        # come out as one flow mapping ({name: ..., description: ...}) after the list
        for key, value in data.items():
            nested = isinstance(value, (dict, list))
            body += yaml.safe_dump(
                {key: value},
                sort_keys=False,
                default_flow_style=None if nested else False,
                allow_unicode=True,
                width=90,
            )
        return "\n".join(lines) + "\n" + body


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _strings(k, path)
            yield from _strings(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]")


def _shape_problems(
    draft: Draft, library: Sequence[str], own: Sequence[str], shared: Sequence[str]
) -> list[ConfigProblem]:
    problems = []
    if not NAME.fullmatch(draft.name):
        problems.append(
            ConfigProblem(
                "name",
                draft.name[:40],
                "1-40 lower-case letters, digits and underscores, starting with a letter",
            )
        )
    elif draft.name in library:
        problems.append(
            ConfigProblem("name", draft.name, "a name not used by the project's library")
        )
    elif draft.name in shared:
        problems.append(ConfigProblem("name", draft.name, "a name not used in the shared library"))
    for base in draft.bases:
        if base == draft.name:
            problems.append(ConfigProblem("builds on", base, "other scenarios than itself"))
        elif base not in library and base not in own:
            problems.append(ConfigProblem("builds on", base, "a scenario that exists"))
    for where, text in _strings(draft.data(), ""):
        if "${" in text:
            problems.append(
                ConfigProblem(
                    where or "text",
                    text[:60],
                    "text without '${' (it would be read as a reference to another setting)",
                )
            )
        if any(ord(c) < 32 and c not in "\t" for c in text):
            problems.append(ConfigProblem(where or "text", text[:60], "text on one line"))
    return problems


def check(draft: Draft, ws: Workspace) -> tuple[Config | None, list[ConfigProblem]]:
    """Compose and validate ``draft`` as if saved; the config, or the problems."""
    library = library_scenarios()
    shared = ws.library_scenario_names()
    problems = _shape_problems(draft, library, [*ws.own_scenarios(), *shared], shared)
    if problems:
        return None, problems
    with _staged(draft, ws) as dirs, scenario_path(dirs):
        try:
            return load_config(draft.name, ["compare=[]"]), []
        except ConfigError as exc:
            return None, list(exc.problems)


def save(draft: Draft, ws: Workspace) -> tuple[Path | None, list[ConfigProblem]]:
    """Write ``draft`` to the session's scenarios if it validates (atomically)."""
    cfg, problems = check(draft, ws)
    if cfg is None:
        return None, problems
    path = ws.scenario_path(draft.name)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(draft.yaml(), encoding="utf-8")
    os.replace(tmp, path)
    return path, []


@contextlib.contextmanager
def _staged(draft: Draft, ws: Workspace) -> Iterator[list[Path]]:
    """Scenario folders as if ``draft`` were saved: a staging copy of the session's
    folder with the draft in it, then the shared library."""
    tmp = Path(tempfile.mkdtemp(prefix="nsim-draft-"))
    try:
        for p in ws.scenarios.glob("*.yaml"):
            if p.stem != draft.name:
                shutil.copy2(p, tmp / p.name)
        (tmp / f"{draft.name}.yaml").write_text(draft.yaml(), encoding="utf-8")
        yield [tmp, ws.library_scenarios]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def changed(new: Mapping[str, Any], old: Mapping[str, Any]) -> dict[str, Any]:
    """The part of ``new`` that differs from ``old`` (nested mappings compared key by key)."""
    out: dict[str, Any] = {}
    for key, value in new.items():
        before = old.get(key) if isinstance(old, Mapping) else None
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            sub = changed(value, before)
            if sub:
                out[key] = sub
        elif _plain(value) != _plain(before):
            out[key] = value
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def load_yaml(path: Path) -> dict[str, Any]:
    """A scenario file's data (without its comments)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return data if isinstance(data, dict) else {}


def dependencies(name: str, folders: Sequence[Path]) -> list[Path]:
    """The files of ``name`` and of every scenario it builds on, found in ``folders``
    (the project's own scenarios are not listed: every checkout has them)."""
    out: list[Path] = []
    todo = [name]
    while todo:
        n = todo.pop()
        path = next((f / f"{n}.yaml" for f in folders if (f / f"{n}.yaml").is_file()), None)
        if path is None or path in out:
            continue
        out.append(path)
        for item in load_yaml(path).get("defaults", []) or []:
            if isinstance(item, str) and item.startswith("/scenario/"):
                todo.append(item.removeprefix("/scenario/").partition("@")[0])
    return out
