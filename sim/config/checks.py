"""Overrides that cannot change a run: say so before hours are spent on it.

A planner who sweeps ``pace.capacity=10,20`` while PACE is switched off gets
two identical runs and no hint why. These checks look at the final, composed
configuration (plain data): an override of a field inside a block whose
``enabled`` is false, or of a field read only in another mode, cannot affect the
results. They return warnings; they never stop a run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: fields read only when another field has a given value: field -> (that field, value)
ONLY_WHEN: dict[str, tuple[str, object]] = {
    "demand.direct_admissions_per_day": ("demand.mode", "direct_admissions"),
}

#: overrides that choose what runs rather than set a value of the model
_NOT_VALUES = ("scenario", "compare", "hydra")


def _get(data: Mapping[str, Any], parts: Sequence[str]) -> Any:
    node: Any = data
    for part in parts:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def override_key(override: str) -> str | None:
    """The dotted key an override sets, or None for deletions, groups and Hydra's own."""
    key, sep, _ = override.partition("=")
    key = key.strip().lstrip("+")
    if not sep or key.startswith("~") or "/" in key:
        return None
    if key.split(".")[0] in _NOT_VALUES:
        return None
    return key


def why_inert(data: Mapping[str, Any], key: str) -> str | None:
    """Why setting ``key`` cannot change a run of ``data``, or None if it can."""
    parts = key.split(".")
    for i in range(1, len(parts)):
        block = _get(data, parts[:i])
        if isinstance(block, Mapping) and block.get("enabled") is False and parts[i] != "enabled":
            name = ".".join(parts[:i])
            return f"{name}.enabled is false"
    for field, (switch, value) in ONLY_WHEN.items():
        if key == field or key.startswith(field + "."):
            actual = _get(data, switch.split("."))
            if actual != value:
                return f"it is read only when {switch} is {value} (here it is {actual})"
    return None


def inert_overrides(
    overrides: Iterable[str], configs: Sequence[Mapping[str, Any]], scenarios: Iterable[str] = ()
) -> list[str]:
    """Warnings for overrides that change none of ``configs`` (plain data).

    Args:
        overrides: As given, e.g. ``["pace.capacity=10,20"]`` (a sweep's value
            list is kept in the message).
        configs: Every configuration the overrides apply to (the scenario and
            those compared with it, or every job of a sweep).
        scenarios: Names of the scenario files, to suggest one that switches a
            block on.
    """
    names = set(scenarios)
    out = []
    for override in overrides:
        key = override_key(override)
        if key is None or not configs:
            continue
        reasons = [why_inert(data, key) for data in configs]
        if not all(reasons):
            continue
        reason = reasons[0]
        hint = ""
        block = key.split(".")[0]
        if reason and reason.startswith(f"{block}.enabled") and block in names:
            hint = f"; switch it on with scenario={block} or {block}.enabled=true"
        out.append(f"{override.strip()} has no effect: {reason}{hint}")
    return out


def effective(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` without what cannot affect a run: the settings inside a block that
    is switched off, and fields read only in another mode. Two configurations
    with equal effective data give identical results."""

    def strip(node: Any) -> Any:
        if not isinstance(node, Mapping):
            return node
        if node.get("enabled") is False:
            return {"enabled": False}
        return {k: strip(v) for k, v in node.items()}

    out = strip(data)
    for field, (switch, value) in ONLY_WHEN.items():
        if _get(out, switch.split(".")) != value:
            *parents, last = field.split(".")
            parent = _get(out, parents)
            if isinstance(parent, dict):
                parent.pop(last, None)
    return out


def effective_hash(data: Mapping[str, Any]) -> str:
    """Hash of :func:`effective` data, leaving out settings that do not change results
    (``run.n_jobs``, ``run.overwrite``)."""
    import hashlib
    import json

    eff = effective(data)
    run = eff.get("run")
    if isinstance(run, dict):
        eff["run"] = {k: v for k, v in run.items() if k not in ("n_jobs", "overwrite")}
    return hashlib.sha256(json.dumps(eff, sort_keys=True, default=str).encode()).hexdigest()[:16]
