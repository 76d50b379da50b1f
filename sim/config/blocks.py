"""Config blocks that services declare in their own modules.

The built-in blocks are fields of :class:`~sim.config.schema.Config`. A service
added later keeps its block's schema (a frozen dataclass, with the same
``num(...)`` bounds and ``check`` method as every other block) in its own
module and registers it here with :func:`register_block`; a scenario then
writes the block at the top level like any other, and the validated block is
``cfg.block(name)``.

Registration happens when the service's module is imported. Before it
validates a config, the loader asks :func:`discover` to import the service
packages once (by name, through :mod:`importlib`): this plugin lookup is the one
place the config layer reaches into the model's modules, and it imports them
only to read their schemas.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

_BLOCKS: dict[str, type[Any]] = {}
#: the module whose import registers every built-in service's block
SERVICES_MODULE = "sim.services"
_discovered = False


def register_block(name: str, schema: type[Any]) -> None:
    """Declare the config block ``name`` with its schema (a dataclass type)."""
    from dataclasses import fields, is_dataclass

    from sim.config.schema import Config

    if not is_dataclass(schema):
        raise TypeError(f"the schema of block {name!r} must be a dataclass, got {schema!r}")
    if name in {f.name for f in fields(Config)}:
        raise ValueError(f"{name!r} is already a block of the core config")
    old = _BLOCKS.get(name)
    if old is not None and old.__qualname__ != schema.__qualname__:
        raise ValueError(f"block {name!r} is registered twice ({old!r} and {schema!r})")
    _BLOCKS[name] = schema


def unregister_block(name: str) -> None:
    """Forget a block (tests that declare a throw-away service)."""
    _BLOCKS.pop(name, None)


def registered() -> Mapping[str, type[Any]]:
    """The registered blocks, by name."""
    discover()
    return dict(_BLOCKS)


def discover() -> None:
    """Import the service packages once, so their blocks are registered."""
    global _discovered
    if not _discovered:
        _discovered = True
        importlib.import_module(SERVICES_MODULE).import_block_modules()
