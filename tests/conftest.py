"""Shared configurations for the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
