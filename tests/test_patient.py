"""Patients carry the draws their components declared, each under its own name."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.config import load_config
from sim.core.rng import RandomStreams
from sim.model import CareSystemModel
from sim.patient import DRAW_FIELDS, Draw, DrawBlock, Patient, PatientFactory, StratumInfo

INFO = StratumInfo(neighbourhood=2, age=3, frailty=1, care_home=False, older=True)


def test_each_column_of_draws_fills_its_own_field() -> None:
    """Column k of a block lands in DRAW_FIELDS[k], for every entry: Patient.__init__
    and the list of fields agree, so no draw is read under another's name."""
    columns = [[100.0 * k + i for i in range(3)] for k in range(len(DRAW_FIELDS))]
    block = DrawBlock(columns, ())
    for i in range(3):
        p = Patient(7, 7, 0, 1.5, INFO, block, i)
        assert [getattr(p, name) for name in DRAW_FIELDS] == [c[i] for c in columns]
        assert p.extra_draws is None


def test_every_core_draw_is_declared_by_a_component() -> None:
    """With every intervention on, each field of DRAW_FIELDS has a component that
    declares it (none is left as NaN), and each has a stream of its own."""
    model = CareSystemModel(load_config("integrated", ["run.years=0.01", "run.warmup_days=0"]))
    draws = model.factory.draws
    assert sorted(d.attr for d in draws) == sorted(DRAW_FIELDS)
    assert len({d.stream for d in draws}) == len(draws)


def test_draws_of_components_switched_off_are_nan() -> None:
    """The baseline has no TREAT: its draws are NaN, not numbers from nowhere."""
    model = CareSystemModel(load_config("baseline", ["run.years=0.01", "run.warmup_days=0"]))
    block = model.factory.draw_block(np.array([0, 1, 2]))
    p = model.factory.make(1, 1, 0, 0.0, block, 0)
    assert math.isnan(p.u_treat) and math.isnan(p.treat_h)
    assert 0 < p.u_admit < 1 and p.los_h > 0


def test_an_extension_draw_is_kept_by_name_and_scaled_by_stratum() -> None:
    """A draw that is not one of the model's own goes to ``extra_draws``, from its
    own stream and scaled for the patient's stratum, whichever way the patient is
    made: a block of patients-to-be, or one at a time (readmissions)."""
    cfg = load_config("baseline", ["run.years=0.01", "run.warmup_days=0"])
    model = CareSystemModel(cfg)
    scale = [10.0 + s for s in range(len(model.strata))]
    draws = [*model.factory.draws, Draw("u_extension", "test.extension", scale=scale)]

    def factory() -> PatientFactory:
        return PatientFactory(model.strata, RandomStreams(1, 0), draws)

    strata = [5, 17]
    block = factory().draw_block(np.array(strata))
    one_by_one = factory()  # the same streams from the start
    unit = RandomStreams(1, 0).get("test.extension").random(2)
    for i, s in enumerate(strata):
        p = factory().make(1, 1, s, 0.0, block, i)
        q = one_by_one.make_one(2, 2, s, 0.0)
        assert p.extra_draws is not None and q.extra_draws is not None
        assert p.extra_draws["u_extension"] == q.extra_draws["u_extension"] == unit[i] * scale[s]
        assert p.los_h == q.los_h


def test_an_extension_draw_may_not_reuse_a_patient_field() -> None:
    """A component declaring a draw named like patient state is refused."""
    model = CareSystemModel(load_config("baseline", ["run.years=0.01", "run.warmup_days=0"]))
    with pytest.raises(ValueError, match="pathway"):
        PatientFactory(model.strata, model.streams, [Draw("pathway", "test.pathway")])
