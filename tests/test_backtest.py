"""Back-tests: results of small fixed-seed runs equal the stored expected tables.

A failure means results changed. If that was intended, regenerate the tables
with ``python -m tests.backtest --regenerate`` and commit them with the change.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.backtest import EXPECTED, SCENARIOS, kpi_table


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_results_match_stored_expected_kpis(scenario: str) -> None:
    # "events" counts SimPy events: it describes the implementation, not a result
    expected = pd.read_csv(EXPECTED / f"{scenario}.csv").drop(columns="events")
    actual = kpi_table(scenario).drop(columns="events")
    missing = set(expected.columns) ^ set(actual.columns)
    assert not missing, f"KPI columns changed: {sorted(missing)}"
    pd.testing.assert_frame_equal(
        actual[expected.columns].reset_index(drop=True),
        expected,
        check_dtype=False,
        rtol=1e-9,
        atol=1e-6,
        obj=f"{scenario} KPIs (regenerate with: python -m tests.backtest --regenerate)",
    )
