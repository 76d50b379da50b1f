"""Back-test against Barnet's delayed transfers of care (seed document 002), in their own form.

Seed 002 (section 9.5.1) gives delayed transfers of care at Barnet's NHS
organisations (Barnet, Royal Free, Edgware and Finchley Memorial hospitals) by
year and attribution. The figures are the monthly collection's snapshots -
patients delayed on the last Thursday of each month - added up over the year
(docs/evidence.md, "Back-test: seed 002 delayed transfers"). The model gives
the same table from its daily census (:mod:`sim.experiment.dtoc_snapshots`),
for ``scenarios/barnet_like.yaml`` over the financial year 2012/13.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from sim.config import load_config
from sim.experiment import run
from sim.experiment.dtoc_snapshots import (
    financial_year,
    last_thursday,
    monthly_snapshots,
    yearly_table,
)

#: seed 002, "Delayed Transfer of Care, NHS Organisations, Barnet" (whole years;
#: 2013/14 covers April-July only: 68 / 18 / 0 / 86)
SEED_002 = {
    "2011/12": {"nhs": 200, "social_care": 54, "both": 5, "total": 259},
    "2012/13": {"nhs": 185, "social_care": 57, "both": 1, "total": 243},
}
#: the measured year is the financial year 2012/13: 35 warm-up days end on 31
#: March 2012; 4 replications
SETTINGS = ["run.start_date=2012-02-26", "run.years=1", "run.replications=4"]
#: the model's yearly total may be this factor above or below a seed year
TOTAL_FACTOR = 1.5
#: and its NHS and social-care shares this many percentage points away
SHARE_POINTS = 12.0


def test_last_thursday_of_a_month() -> None:
    assert last_thursday(2012, 4) == dt.date(2012, 4, 26)
    assert last_thursday(2013, 2) == dt.date(2013, 2, 28)  # the month's last day
    assert last_thursday(2012, 5) == dt.date(2012, 5, 31)
    assert financial_year("2012-04") == "2012/13"
    assert financial_year("2013-03") == "2012/13"
    assert financial_year("2013-04") == "2013/14"


def test_snapshots_read_the_census_of_thursday_night() -> None:
    """The census of the Friday's row is the midnight that ends the Thursday; a
    snapshot in the warm-up, or after the run, is left out; a year adds them."""
    dates = pd.date_range("2012-03-25", "2012-05-05").date
    n = len(dates)
    daily = pd.DataFrame(
        {
            "replication": 0,
            "date": [d.isoformat() for d in dates],
            "warmup": [d < dt.date(2012, 4, 1) for d in dates],
            "delayed_nhs": range(n),
            "delayed_social_care": [2 * i for i in range(n)],
            "delayed_both": 1,
        }
    )
    daily["delayed"] = daily["delayed_nhs"] + daily["delayed_social_care"] + 1
    snap = monthly_snapshots(daily)
    # March's (29th) is in the warm-up and May's (31st) after the run
    assert snap["month"].tolist() == ["2012-04"]
    assert snap["snapshot_date"].tolist() == ["2012-04-26"]
    friday = list(dates).index(dt.date(2012, 4, 27))
    assert snap.loc[0, ["nhs", "social_care", "both", "total"]].tolist() == [
        friday,
        2 * friday,
        1,
        3 * friday + 1,
    ]
    thursday = monthly_snapshots(daily, at="start")
    assert thursday.loc[0, "nhs"] == friday - 1
    year = yearly_table(snap)
    assert year.loc[0, ["year", "months", "total"]].tolist() == ["2012/13", 1, 3 * friday + 1]


@pytest.fixture(scope="module")
def barnet() -> pd.DataFrame:
    """The model's seed-002 table for 2012/13: the mean over replications."""
    daily = run(load_config("barnet_like", SETTINGS), n_jobs=2).daily
    table = yearly_table(monthly_snapshots(daily))
    assert (table["year"] == "2012/13").all() and (table["months"] == 12).all()
    return table[["nhs", "social_care", "both", "total"]].mean()


@pytest.mark.parametrize("year", SEED_002)
def test_barnet_like_delayed_patients_match_seed_002(barnet: pd.Series, year: str) -> None:
    """The model's year of snapshots against each whole year of the table.

    Total within a factor of 1.5: the mean of 4 replications has a standard
    error of about 13% (a year's 12 snapshots vary between replications with a
    standard deviation of ~60, about 25%, measured); the scenario was
    calibrated to this table read as mean delayed patients, and in the model
    the Thursday-night census runs ~15% below the day-and-night average (the
    weekend build-up is gone by Friday); and the calibration allowed 10%. Two
    standard errors and these add up to about 50%.

    NHS and social-care shares within 12 points: a replication's NHS share
    varies with a standard deviation of 6 points (measured), so the mean of 4
    by 3; 3 standard errors, plus the 3 points the table's own years spread
    (NHS 76.1% to 79.1%). "Both" is not checked: the model attributes by fixed
    shares per reason (about 5% both), where Barnet recorded 0.4-2%; the
    calibration left it out for that reason.
    """
    seed = SEED_002[year]
    ratio = barnet["total"] / seed["total"]
    assert 1 / TOTAL_FACTOR < ratio < TOTAL_FACTOR, (year, barnet.to_dict())
    for who in ("nhs", "social_care"):
        model_share = 100 * barnet[who] / barnet["total"]
        seed_share = 100 * seed[who] / seed["total"]
        assert abs(model_share - seed_share) < SHARE_POINTS, (year, who, model_share)
