"""Tidy tables of one replication: daily time series, neighbourhoods, event log.

Every row carries the keys ``scenario``, ``replication`` and ``seed`` so that
tables from many runs can be stacked and compared.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.config.schema import WEEKDAYS

if TYPE_CHECKING:
    from sim.model import CareSystemModel

#: levels shown in the daily table, with their column names
DAILY_LEVELS = {
    "beds_occupied": "beds_occupied",
    "boarding": "boarding",
    "in_ae": "in_ae",
    "delayed": "delayed",
    "delayed_nhs": "delayed_nhs",
    "delayed_social_care": "delayed_social_care",
    "delayed_both": "delayed_both",
    "awaiting_review": "awaiting_review",
    "awaiting_discharge": "awaiting_discharge",
    # past the discharge-ready date (today's measure), all and by pathway
    "nctr": "nctr",
    "nctr_p0": "nctr_p0",
    "nctr_p1": "nctr_p1",
    "nctr_p2": "nctr_p2",
    "nctr_p3": "nctr_p3",
}

#: daily counts summed over neighbourhoods
DAILY_COUNTS = (
    "crises",
    "community_managed",
    "ae_attendances",
    "emergency_admissions",
    "readmissions_30d",
    "admissions_diverted",
    "delayed_patients",
    "discharges_p0",
    "discharges_p1",
    "discharges_p2",
    "discharges_p3",
)

#: counts reported per neighbourhood over the measured period
NEIGHBOURHOOD_COUNTS = (
    "crises",
    "community_managed",
    "ae_attendances",
    "ae_attendances_65plus",
    "emergency_admissions",
    "emergency_admissions_65plus",
    "readmissions_30d",
    "delayed_patients",
)


def keys(model: CareSystemModel) -> dict[str, str | int]:
    """The columns that open every table: scenario, replication, seed."""
    return {
        "scenario": model.cfg.name,
        "replication": model.replication,
        "seed": model.cfg.run.seed,
    }


def daily_frame(model: CareSystemModel) -> pd.DataFrame:
    """One row per simulated day: midnight census, daily mean and peak, and counts."""
    rec = model.recorder
    value, area, peak = rec.census()
    days = rec.days
    col = {n: i for i, n in enumerate(rec.level_names)}
    data: dict[str, object] = {"day": np.arange(days)}
    data["date"] = [model.clock.date(d).isoformat() for d in range(days)]
    data["weekday"] = [WEEKDAYS[model.clock.weekday(d)] for d in range(days)]
    data["warmup"] = np.arange(days) < model.cfg.run.warmup_days
    levels = dict(DAILY_LEVELS)
    for svc in model.discharge.services.values():
        levels[f"service:{svc.name}"] = f"{svc.name}_occupied"
    for level, name in levels.items():
        i = col[level]
        data[name] = value[:days, i]
        data[f"{name}_mean"] = (area[1 : days + 1, i] - area[:days, i]) / 24.0
        data[f"{name}_peak"] = peak[1 : days + 1, i]
    visits = model.discharge.visits
    if visits is not None:
        # pathway 1 visit slots: the visits booked on each day (a day's ledger is
        # its census, mean and peak alike)
        booked = visits.booked[:days].astype(float)
        for suffix in ("", "_mean", "_peak"):
            data[f"{visits.name}_occupied{suffix}"] = booked
    counts = rec.count_arrays()
    for name in DAILY_COUNTS:
        arr = counts.get(name)
        data[name] = arr.sum(axis=1) if arr is not None else np.zeros(days, dtype=np.int64)
    df = pd.DataFrame(data)
    for k, v in reversed(keys(model).items()):
        df.insert(0, k, v)
    return df


def neighbourhood_frame(model: CareSystemModel) -> pd.DataFrame:
    """Per-neighbourhood counts over the measured period, with rates per 1,000."""
    W = model.cfg.run.warmup_days
    years = model.cfg.run.measured_days / 365.0
    strata = model.strata
    counts = model.recorder.count_arrays()
    data: dict[str, object] = {
        "neighbourhood": list(strata.names),
        "registered": strata.registered_by_neighbourhood(),
        "aged_65_plus": strata.aged_65_plus_by_neighbourhood(),
    }
    reg = np.asarray(data["registered"], dtype=float)
    for name in NEIGHBOURHOOD_COUNTS:
        arr = counts.get(name)
        total = arr[W:].sum(axis=0) if arr is not None else np.zeros(len(strata.names))
        data[name] = total
        with np.errstate(divide="ignore", invalid="ignore"):
            data[f"{name}_per_1000_pop"] = np.where(reg > 0, total / years / reg * 1000, np.nan)
    df = pd.DataFrame(data)
    for k, v in reversed(keys(model).items()):
        df.insert(0, k, v)
    return df


def events_frame(model: CareSystemModel) -> pd.DataFrame | None:
    """Patient-level event log, if ``run.event_log`` is on."""
    events = model.recorder.events
    if events is None:
        return None
    df = pd.DataFrame(events, columns=["time_hours", "patient_id", "person_id", "event", "detail"])
    for k, v in reversed(keys(model).items()):
        df.insert(0, k, v)
    return df
