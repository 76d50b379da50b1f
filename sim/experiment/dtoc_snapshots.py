"""Delayed transfers of care in their pre-2017 published form: monthly snapshots.

Until March 2017 NHS England's monthly delayed transfers of care collection
counted, beside the delayed days of the month, the patients delayed on the last
Thursday of the month, by the agency responsible for the delay (NHS, social
care, both); from April 2017 it kept only the days ("DTOC beds" = delayed days
/ days). Local papers of that era add the twelve snapshots of a year into one
figure: Barnet's table of 2011/12 to 2013/14 (seed document 002) reads 259 for
2011/12, about 21.6 patients at each snapshot.

This module reads that measure off a run's daily census (the ``delayed*``
columns of :func:`sim.outputs.tables.daily_frame`: patients delayed at each
midnight, by attribution), so that the model can be compared with such tables
in their own form:

* :func:`monthly_snapshots`: per replication and calendar month, the patients
  delayed at midnight at the end of the month's last Thursday (``at="end"``,
  the night from Thursday to Friday), or at its start (``at="start"``), if
  that midnight falls in the measured period;
* :func:`yearly_table`: the snapshots added up by financial year (April to
  March), with the number of months, as the local tables give them.
"""

from __future__ import annotations

import calendar
import datetime as _dt
from typing import Final, Literal

import pandas as pd

#: the daily census columns and the table's attribution columns
COLUMNS: Final = {
    "delayed_nhs": "nhs",
    "delayed_social_care": "social_care",
    "delayed_both": "both",
    "delayed": "total",
}
_THURSDAY: Final = 3  # datetime.date.weekday()
_KEYS: Final = ("scenario", "replication", "seed")


def last_thursday(year: int, month: int) -> _dt.date:
    """The last Thursday of a calendar month."""
    last = _dt.date(year, month, calendar.monthrange(year, month)[1])
    return last - _dt.timedelta(days=(last.weekday() - _THURSDAY) % 7)


def monthly_snapshots(daily: pd.DataFrame, at: Literal["end", "start"] = "end") -> pd.DataFrame:
    """Patients delayed on the last Thursday of each month, by attribution.

    ``daily`` is a run's daily table (one replication or many stacked). A row's
    census is taken at the midnight that starts its day, so the snapshot at the
    end of a Thursday is the census of the Friday's row. Months whose snapshot
    midnight is in the warm-up, or after the last day of the run, are left out.

    Returns one row per replication and month: the key columns the daily table
    has (scenario, replication, seed), ``month`` (YYYY-MM), ``snapshot_date``
    (the Thursday), and ``nhs``, ``social_care``, ``both``, ``total``.
    """
    keys = [k for k in _KEYS if k in daily.columns]
    dates = pd.to_datetime(daily["date"]).dt.date
    months = sorted({(d.year, d.month) for d in dates})
    shift = _dt.timedelta(days=1 if at == "end" else 0)
    # the census row of each month's snapshot: the date whose starting midnight it is
    row_date = {last_thursday(y, m) + shift: (y, m) for y, m in months}
    picked = daily.loc[dates.isin(row_date.keys()) & ~daily["warmup"].astype(bool)]
    out = picked[keys].copy()
    ym = [row_date[d] for d in pd.to_datetime(picked["date"]).dt.date]
    out["month"] = [f"{y}-{m:02d}" for y, m in ym]
    out["snapshot_date"] = [last_thursday(y, m).isoformat() for y, m in ym]
    for src, name in COLUMNS.items():
        out[name] = picked[src].to_numpy(dtype=float)
    return out.reset_index(drop=True)


def financial_year(month: str, first_month: int = 4) -> str:
    """The year label ("2012/13") of a month "YYYY-MM" in years starting in
    ``first_month`` (April: the NHS financial year)."""
    y, m = (int(x) for x in month.split("-"))
    start = y if m >= first_month else y - 1
    if first_month == 1:
        return str(start)
    return f"{start}/{(start + 1) % 100:02d}"


def yearly_table(snapshots: pd.DataFrame, first_month: int = 4) -> pd.DataFrame:
    """The monthly snapshots added up by year, per replication: ``year``,
    ``months`` (how many snapshots; 12 for a whole year) and ``nhs``,
    ``social_care``, ``both``, ``total``, as in the local tables of the
    time (which give a part year with its months, e.g. April-July)."""
    keys = [k for k in _KEYS if k in snapshots.columns]
    df = snapshots.assign(year=[financial_year(m, first_month) for m in snapshots["month"]])
    grouped = df.groupby([*keys, "year"], sort=True)
    table = grouped[list(COLUMNS.values())].sum()
    table.insert(0, "months", grouped.size())
    return table.reset_index()
