"""Patients carry the draws their components declared; each component reads its own."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import load_config
from sim.core.rng import RandomStreams
from sim.model import CareSystemModel
from sim.patient import Draw, PatientFactory

QUICK = ["run.years=0.01", "run.warmup_days=0"]


def test_every_draw_has_its_own_column_and_stream() -> None:
    """With every intervention on, each declared draw reads its own column (the
    factory numbers them in declaration order) and has a stream of its own."""
    model = CareSystemModel(load_config("integrated", QUICK))
    draws = model.factory.draws
    assert [d.column for d in draws] == list(range(len(draws)))
    assert len({d.stream for d in draws}) == len(draws)
    assert len({d.name for d in draws}) == len(draws)
    block = model.factory.draw_block(np.array([0, 1, 2]))
    p = model.factory.make(1, 1, 0, 0.0, block, 2)
    assert [d.of(p) for d in draws] == block.rows[2]


def test_components_switched_off_add_no_draws() -> None:
    """The baseline has no TREAT: its draws are not on the patient at all, and the
    core draws read sensible values."""
    model = CareSystemModel(load_config("baseline", QUICK))
    names = {d.name for d in model.factory.draws}
    assert "u_treat" not in names and "treat_h" not in names
    block = model.factory.draw_block(np.array([0, 1, 2]))
    p = model.factory.make(1, 1, 0, 0.0, block, 0)
    assert len(p.draws) == len(model.factory.draws)
    assert 0 < model.ae.u_admit.of(p) < 1 and model.acute.los_h.of(p) > 0


def test_a_new_draw_is_scaled_by_stratum_however_the_patient_is_made() -> None:
    """A component's draw comes from its own stream, scaled for the patient's
    stratum, whether the patient is made from a block of patients-to-be or one at a
    time (readmissions), and adding it leaves the other draws unchanged."""
    cfg = load_config("baseline", QUICK)
    model = CareSystemModel(cfg)
    scale = [10.0 + s for s in range(len(model.strata))]
    extra = Draw("u_extension", "test.extension", scale=scale)
    los = model.acute.los_h
    draws = [*model.factory.draws, extra]

    def factory() -> PatientFactory:
        return PatientFactory(model.strata, RandomStreams(1, 0), draws)

    strata = [5, 17]
    block = factory().draw_block(np.array(strata))
    one_by_one = factory()  # the same streams from the start
    unit = RandomStreams(1, 0).get("test.extension").random(2)
    for i, s in enumerate(strata):
        p = factory().make(1, 1, s, 0.0, block, i)
        q = one_by_one.make_one(2, 2, s, 0.0)
        assert extra.of(p) == extra.of(q) == unit[i] * scale[s]
        assert los.of(p) == los.of(q)


def test_a_draw_declared_twice_or_sharing_a_stream_is_refused() -> None:
    """Two draws of one name, or two on one stream (they would be the same numbers),
    stop the model at start-up."""
    model = CareSystemModel(load_config("baseline", QUICK))
    with pytest.raises(ValueError, match="declared twice"):
        PatientFactory(model.strata, model.streams, [Draw("a", "s1"), Draw("a", "s2")])
    with pytest.raises(ValueError, match="more than one draw"):
        PatientFactory(model.strata, model.streams, [Draw("a", "s1"), Draw("b", "s1")])


def test_a_draw_never_handed_to_a_factory_cannot_be_read() -> None:
    """A draw a component forgot to declare has no column: reading it fails loudly
    instead of returning another draw's number."""
    model = CareSystemModel(load_config("baseline", QUICK))
    block = model.factory.draw_block(np.array([0]))
    p = model.factory.make(1, 1, 0, 0.0, block, 0)
    with pytest.raises(IndexError):
        Draw("forgotten", "test.forgotten").of(p)
