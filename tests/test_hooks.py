"""Interventions plug into the flow through hooks, without editing the core model.

Each test registers a small component through ``extensions`` and checks, with
common random numbers against the same run without it, that the flow changes the
way the hook says.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any, ClassVar

import numpy as np
import pytest

from sim.components import Component, WiringError
from sim.config import load_config
from sim.hooks import Hooks
from sim.model import CareSystemModel
from sim.outputs.kpis import compute_kpis
from sim.patient import Draw, Patient

QUICK = ["run.years=0.1", "run.warmup_days=10"]


def _kpis(extensions=()) -> dict[str, float]:
    model = CareSystemModel(load_config("baseline", QUICK), 0, extensions=list(extensions))
    return compute_kpis(model, model.run())


class HalveCrises(Component):
    """Halves every person's crisis rate (thinning)."""

    def install(self, hooks: Hooks) -> None:
        hooks.crisis_rate.append(lambda p: 0.5)


class AvoidOldestAdmissions(Component):
    """Sends every 85+ patient home from A&E instead of admitting them."""

    def draws(self) -> list[Draw]:
        return [Draw("u_test_hook", "test.hook")]

    def install(self, hooks: Hooks) -> None:
        hooks.before_admission.append(self.assess)

    def assess(self, p: Patient) -> Generator[Any, Any, bool]:
        yield self.env.timeout(0.5)
        if p.age == 3:
            self.site.flow.exit(p, "sent_home_by_test")
            return True
        return False


class ShorterStays(Component):
    def install(self, hooks: Hooks) -> None:
        hooks.los.append(lambda p: 0.8)


def test_crisis_rate_hook_thins_demand() -> None:
    """Halving the rate keeps each crisis of the run without the hook with
    probability 1/2 (thinning on common random numbers), so the crises kept are
    Binomial(n, 1/2) of its n (about 11,500): standard deviation sqrt(n) / 2.
    Four of them (a correct model fails with probability 6e-5) is a ratio
    within 0.019 of one half."""
    base, half = _kpis(), _kpis([HalveCrises])
    n = base["crises"]
    assert abs(half["crises"] - n / 2) < 4 * np.sqrt(n) / 2, (half["crises"], n)
    assert half["patients_created"] == half["patients_exited"] + half["patients_in_system_end"]


def test_before_admission_hook_avoids_admissions() -> None:
    """The hook acts at the decision to admit, so nothing before it changes: with
    common random numbers the same crises arise and the same ones are managed in
    the community. A&E can only see fewer attendances (fewer patients admitted,
    so fewer readmissions come back through it), and admissions fall."""
    base, treat = _kpis(), _kpis([AvoidOldestAdmissions])
    assert treat["crises"] == base["crises"]
    assert treat["community_managed"] == base["community_managed"]
    assert treat["ae_attendances"] <= base["ae_attendances"]
    assert treat["emergency_admissions"] < base["emergency_admissions"]
    assert treat["patients_created"] == treat["patients_exited"] + treat["patients_in_system_end"]


def test_los_hook_shortens_stays() -> None:
    """The hook cuts clinical stays by a fifth. Delays (about 3% of bed days) and
    stays already under way at the start are not cut, so bed days fall by less
    (16% in this run), but by more than half the cut: a hook reaching only half
    the stays would fail. Common random numbers: the same crises."""
    base, short = _kpis(), _kpis([ShorterStays])
    assert short["crises"] == base["crises"]
    assert short["bed_days"] < 0.9 * base["bed_days"]


class _Recorder(Component):
    """Notes, at the community hook, the order in which components are asked."""

    seen: ClassVar[list[str]] = []

    def install(self, hooks: Hooks) -> None:
        hooks.community.append(self.note)

    def note(self, p: Patient) -> bool | None:
        if len(self.seen) < 2:
            self.seen.append(self.name)
        return None


class _Early(_Recorder):
    name = "early"
    order = 1


class _Late(_Recorder):
    name = "late"
    order = 2


def test_hooks_run_in_declared_order_whatever_the_list_order() -> None:
    """Two components on one hook point run by their declared ``order``, whichever
    comes first in the list the model is given."""
    for extensions in ([_Early, _Late], [_Late, _Early]):
        _Recorder.seen.clear()
        model = CareSystemModel(load_config("baseline", QUICK), 0, extensions=extensions)
        model.run()
        assert _Recorder.seen == ["early", "late"]


class _NeedsGhost(Component):
    name = "needs_ghost"
    uses = ("ghost",)


class _Sneaky(Component):
    name = "sneaky"

    def connect(self, links: Mapping[str, Component]) -> None:
        super().connect(links)
        self.link("acute", Component)  # not declared in `uses`


def test_a_missing_or_undeclared_connection_stops_the_model_before_the_run() -> None:
    """A component using one the model lacks, or reaching for one it did not
    declare, is an error when the model is built, naming both."""
    cfg = load_config("baseline", QUICK)
    with pytest.raises(WiringError, match=r"needs_ghost.*ghost"):
        CareSystemModel(cfg, 0, extensions=[_NeedsGhost])
    with pytest.raises(WiringError, match=r"sneaky.*acute.*uses"):
        CareSystemModel(cfg, 0, extensions=[_Sneaky])
