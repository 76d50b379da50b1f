"""Shared configurations for the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sim.config import load_config
from sim.config.schema import Config

#: Everything but the acute beds switched off: Poisson admissions, exponential
#: stays of one day for everyone, no deaths - an M/M/c queue (or M/M/c/c loss).
TEXTBOOK = [
    "demand.mode=direct_admissions",
    "demand.time_varying=false",
    "community.enabled=false",
    "ae.enabled=false",
    "discharge.enabled=false",
    "readmission.enabled=false",
    "acute.los_distribution=exponential",
    "acute.los_mean_days={age_0_64: 1, age_65_74: 1, age_75_84: 1, age_85_plus: 1}",
    "acute.los_frailty_multiplier={fit: 1, mild: 1, moderate: 1, severe: 1}",
    "acute.los_care_home_multiplier=1",
    "acute.death_probability={age_0_64: 0, age_65_74: 0, age_75_84: 0, age_85_plus: 0}",
]

#: A tiny run for tests of the command line (outputs, not results).
TINY = ["run.replications=2", "run.years=0.03", "run.warmup_days=2"]
ROOT = Path(__file__).resolve().parents[1]


def nsim(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the ``nsim`` command (as ``python -m sim.cli``) in ``cwd``, with ``env``
    added to the environment."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "sim.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


#: A short run of the whole default system (for tests that need every stage).
SHORT = ["run.years=0.25", "run.warmup_days=30", "run.replications=2"]


def textbook(beds: int, per_day: float, *extra: str) -> Config:
    return load_config(
        "baseline",
        [*TEXTBOOK, f"beds.acute={beds}", f"demand.direct_admissions_per_day={per_day}", *extra],
    )


@pytest.fixture(scope="session")
def short_baseline() -> Config:
    return load_config("baseline", SHORT)


#: a borough small enough that a year's replication takes well under a second (for the
#: web app's tests); ``report`` false saves the report's charts, about 12 s a run
def tiny_home(report: bool = True) -> str:
    return (
        "# @package _global_\n"
        "# A small borough for quick tests: one neighbourhood, one process.\n"
        "name: tiny_home\n"
        "description: One small neighbourhood.\n"
        "run:\n"
        "  years: 0.5  # a request's years replace it\n"
        "  warmup_days: 2\n"
        "  n_jobs: 1\n"
        "population:\n"
        "  neighbourhoods:\n"
        "    - {name: Only, registered: 15000}\n" + ("" if report else "report: false\n")
    )


#: builds on the small borough and on a library scenario
TINY_TREAT = """\
# @package _global_
defaults:
  - /scenario/tiny_home@_here_
  - /scenario/treat@_here_
  - _self_
name: tiny_treat
description: The small borough with TREAT.
"""
#: Chromium on a closed network, as root: no background connections, no sandbox
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def start_app(data: Path, log: Any = subprocess.DEVNULL) -> tuple[subprocess.Popen[bytes], str]:
    """``nsim-app`` on a free local port with its own data folder, once it answers its
    health check (90 s at most); the process leads its own group (stop it with killpg)."""
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim.app.launch",
            "--headless",
            "--port",
            str(port),
            "--address",
            "127.0.0.1",
            "--data",
            str(data),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("nsim-app did not start")
