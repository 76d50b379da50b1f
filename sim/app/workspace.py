"""Where the app keeps files: one private folder per browser session, one shared library.

Served to a team, the app must keep one planner's work from another's: each
browser session gets a folder named by a random token that only that session
holds, and everything it saves or runs goes there. The token rides in the page's
address (``?w=...``) so that reloading the page, or opening the address again,
finds the same work; like any link that grants access, it should be shared only
with whoever may see that work. A scenario or a run reaches
other people only when its owner saves it to the shared library on purpose.
No name typed into a form ever becomes a path: names are checked against
:data:`NAME` (letters, digits and underscores) before they are joined to a
folder, and the folders themselves are fixed here.

Layout under the data folder (``NSIM_APP_DATA``, or ``nsim-app --data``)::

    sessions/<token>/scenarios/<name>.yaml    a session's own scenario files
    sessions/<token>/runs/<key>/              a session's runs (sim.app.jobs)
    library/scenarios/<name>.yaml             saved for everyone
    library/runs/<key>/                       runs saved for everyone
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

#: a scenario name: it becomes a file name and a Hydra config name, so nothing else
NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
#: a session token (made here, never typed)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
#: sessions untouched for longer than this are removed when the app starts
MAX_AGE_DAYS = 14


def default_root() -> Path:
    """The app's data folder: ``NSIM_APP_DATA``, else a folder in the user's cache."""
    env = os.environ.get("NSIM_APP_DATA")
    if env:
        return Path(env).resolve()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "neighbourhood-sim" / "app"


def name_problem(name: str, taken_by_library: bool = False) -> str | None:
    """Why ``name`` cannot name a scenario, or None."""
    if not NAME.fullmatch(name):
        return (
            f"{name[:40]!r} is not allowed: use 1-40 lower-case letters, digits and "
            "underscores, starting with a letter (e.g. my_borough)"
        )
    if taken_by_library:
        return f"{name!r} is a scenario of the project's library: choose another name"
    return None


@dataclass(frozen=True)
class Workspace:
    """One browser session's folders, and the shared library's."""

    root: Path
    token: str

    @classmethod
    def new(cls, root: Path | None = None) -> Workspace:
        """A fresh private workspace under ``root`` (folders made now)."""
        ws = cls((root or default_root()).resolve(), secrets.token_urlsafe(18))
        for folder in (ws.scenarios, ws.runs, ws.library_scenarios, ws.library_runs):
            folder.mkdir(parents=True, exist_ok=True)
        return ws

    @classmethod
    def reopen(cls, root: Path, token: str) -> Workspace | None:
        """The workspace of ``token`` if it exists under ``root`` (a page reloaded, or
        its address opened again); None for anything else, made-up tokens included."""
        if not _TOKEN.fullmatch(token):
            return None
        ws = cls(root.resolve(), token)
        return ws if ws.scenarios.is_dir() and ws.runs.is_dir() else None

    def __post_init__(self) -> None:
        if not _TOKEN.fullmatch(self.token):
            raise ValueError("a workspace token is made by Workspace.new")

    @property
    def private(self) -> Path:
        return self.root / "sessions" / self.token

    @property
    def scenarios(self) -> Path:
        return self.private / "scenarios"

    @property
    def runs(self) -> Path:
        return self.private / "runs"

    @property
    def library_scenarios(self) -> Path:
        return self.root / "library" / "scenarios"

    @property
    def library_runs(self) -> Path:
        return self.root / "library" / "runs"

    def scenario_dirs(self) -> list[Path]:
        """Folders searched for scenario files after the project's own (own first)."""
        return [self.scenarios, self.library_scenarios]

    def own_scenarios(self) -> list[str]:
        return sorted(p.stem for p in self.scenarios.glob("*.yaml"))

    def library_scenario_names(self) -> list[str]:
        return sorted(p.stem for p in self.library_scenarios.glob("*.yaml"))

    def scenario_path(self, name: str) -> Path:
        """This session's file for scenario ``name`` (checked name)."""
        if not NAME.fullmatch(name):
            raise ValueError(f"not a scenario name: {name[:40]!r}")
        return self.scenarios / f"{name}.yaml"

    def share(self, name: str) -> Path:
        """Move this session's scenario ``name`` to the shared library."""
        src = self.scenario_path(name)
        dst = self.library_scenarios / src.name
        if dst.exists():
            raise FileExistsError(f"the shared library already has a scenario {name!r}")
        os.replace(src, dst)
        return dst

    def share_run(self, key: str) -> Path:
        """Copy this session's finished run ``key`` to the shared library."""
        if not re.fullmatch(r"[a-f0-9]{8,64}", key):
            raise ValueError(f"not a run key: {key[:40]!r}")
        src, dst = self.runs / key, self.library_runs / key
        if not dst.exists():
            tmp = self.library_runs / f".{key}-{secrets.token_hex(4)}"
            shutil.copytree(src, tmp)
            os.replace(tmp, dst)
        return dst

    def touch(self) -> None:
        """Mark the session as in use (old sessions are pruned)."""
        self.private.mkdir(parents=True, exist_ok=True)
        os.utime(self.private)


def prune(root: Path, max_age_days: float = MAX_AGE_DAYS) -> int:
    """Remove session folders untouched for ``max_age_days``; return how many."""
    cutoff = time.time() - max_age_days * 86400
    removed = 0
    sessions = root / "sessions"
    if not sessions.is_dir():
        return 0
    for folder in sessions.iterdir():
        if folder.is_dir() and _TOKEN.fullmatch(folder.name) and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed
