"""Patients carry the draws their components declared, each under its own name."""

from __future__ import annotations

import math

import numpy as np

from sim.config import load_config
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


def test_an_extension_draw_is_kept_by_name() -> None:
    """A draw that is not one of the model's own goes to ``extra_draws``, from its
    own stream, for both ways of making patients."""
    cfg = load_config("baseline", ["run.years=0.01", "run.warmup_days=0"])
    model = CareSystemModel(cfg)
    draws = [*model.factory.draws, Draw("u_extension", "test.extension", scale=2.0)]
    factory = PatientFactory(model.strata, model.streams, draws, prefix="x/")
    p = factory.make(1, 1, 5, 0.0, factory.draw_block(np.array([5])), 0)
    q = factory.make_one(2, 2, 5, 0.0)
    for patient in (p, q):
        assert patient.extra_draws is not None
        assert 0 < patient.extra_draws["u_extension"] < 2
    assert p.extra_draws is not None and q.extra_draws is not None
    assert p.extra_draws["u_extension"] != q.extra_draws["u_extension"]
