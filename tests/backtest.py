"""Back-tests: stored expected KPI tables for small fixed-seed runs.

``tests/expected/<scenario>.csv`` holds the KPI table of a small run of each
back-test scenario. ``tests/test_backtest.py`` reruns them and fails on any
difference, so a change that alters results cannot slip through unnoticed.
When a change is meant to alter results, regenerate the tables deliberately and
commit them with the change, saying why::

    python -m tests.backtest --regenerate
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from sim.config import load_config
from sim.experiment import run

EXPECTED = Path(__file__).resolve().parent / "expected"
SCENARIOS = ("baseline", "treat", "pace")
SETTINGS = ["run.years=0.1", "run.warmup_days=20", "run.replications=2", "run.seed=42"]


def kpi_table(scenario: str) -> pd.DataFrame:
    """The KPI table of the back-test run of ``scenario``."""
    return run(load_config(scenario, SETTINGS)).kpis


def regenerate() -> list[Path]:
    EXPECTED.mkdir(exist_ok=True)
    paths = []
    for scen in SCENARIOS:
        path = EXPECTED / f"{scen}.csv"
        kpi_table(scen).to_csv(path, index=False, float_format="%.12g")
        paths.append(path)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--regenerate",
        action="store_true",
        help="rewrite tests/expected/*.csv from the current code",
    )
    args = ap.parse_args()
    if args.regenerate:
        for p in regenerate():
            print(f"wrote {p}")
    else:
        ap.print_help()


if __name__ == "__main__":
    main()
