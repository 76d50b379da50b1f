"""Patients and the random draws that describe them.

A patient exists only while in an active episode (A&E, a bed, a downstream
service); the registered population behind them is held as strata. When an
episode starts, the patient receives every random number the episode may need:
uniforms for decisions (admit? which pathway? readmitted?) and mean-one variates
for durations (triage, length of stay, ...). Components declare what they need
as :class:`Draw` items; the :class:`PatientFactory` draws them in vectorised
batches, one named stream per item.

Drawing everything up front is what makes common random numbers work: patient
*k* of day *d* carries the same numbers into every scenario, whatever the queues
and interventions do to the order of events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from sim.core.distributions import UnitSampler
from sim.core.rng import RandomStreams
from sim.population import AGE_65_74, Strata


@dataclass
class Draw:
    """One random attribute of a patient.

    Attributes:
        attr: Attribute name set on the :class:`Patient`.
        stream: Name of the random stream it is drawn from.
        sampler: Mean-one duration family, or ``None`` to keep the raw uniform.
        scale: Multiplier per stratum (e.g. mean stay in hours), or one number.
    """

    attr: str
    stream: str
    sampler: UnitSampler | None = None
    scale: Sequence[float] | float = 1.0


class Patient:
    """A person in an active episode of care.

    The fields below are the state every component may read; the random
    attributes declared by components (:class:`Draw`) are attributes too. The
    :class:`PatientFactory` makes a subclass with a slot for each of them, for
    the model's set of draws, so a patient has no instance dictionary.
    """

    __slots__ = ()

    #: state every episode starts with (flags, a set, is added per patient)
    DEFAULTS: ClassVar[dict[str, Any]] = {
        "readmission": False,
        "pathway": -1,
        "los_multiplier": 1.0,
        "readmit_ratio": 1.0,
        "t_bed": -1.0,
        "t_fit": -1.0,
        "delay_hours": 0.0,
    }

    id: int
    person: int
    stratum: int
    neighbourhood: int
    age: int
    frailty: int
    care_home: bool
    older: bool
    arrival: float
    flags: set[str]

    def __repr__(self) -> str:
        return f"Patient(id={self.id}, stratum={self.stratum}, arrival={self.arrival:.2f})"


@dataclass
class _Block:
    rows: list[tuple[float, ...]]
    pos: int = 0

    @property
    def size(self) -> int:
        return len(self.rows)


@dataclass
class PatientFactory:
    """Creates patients with their random attributes.

    Args:
        strata: Population strata.
        streams: The replication's random streams.
        draws: Attributes declared by the model's components.
        prefix: Stream-name prefix, so that different sources of patients (new
            crises, readmissions) use disjoint streams.
    """

    strata: Strata
    streams: RandomStreams
    draws: list[Draw]
    prefix: str = ""
    block_size: int = 512
    _block: _Block | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.names = tuple(d.attr for d in self.draws)
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"duplicate patient attributes in draws: {self.names}")
        self._scale = [
            np.full(len(self.strata), float(d.scale))
            if isinstance(d.scale, (int, float))
            else np.asarray(d.scale, dtype=float)
            for d in self.draws
        ]
        self._cls, self._fill = _patient_class(self.names)
        s = self.strata
        self.info = [
            (
                int(s.neighbourhood[i]),
                int(s.age[i]),
                int(s.frailty[i]),
                bool(s.care_home[i]),
                int(s.age[i]) >= AGE_65_74,
            )
            for i in range(len(s))
        ]

    def _unit_columns(self, n: int) -> list[np.ndarray]:
        """``n`` unscaled draws per attribute: uniforms or mean-one variates."""
        cols = []
        for d in self.draws:
            u = self.streams.get(self.prefix + d.stream).random(n)
            cols.append(d.sampler.from_uniform(u) if d.sampler is not None else u)
        return cols

    def draw_rows(
        self, strata: np.ndarray, keep: np.ndarray | None = None
    ) -> list[tuple[float, ...]]:
        """One row of draws, scaled for each patient's stratum, per patient-to-be.

        Every candidate in ``strata`` consumes its draws (so each keeps its place
        in every stream); rows are made only for the candidates in ``keep``
        (indices), or for all of them.
        """
        cols = self._unit_columns(len(strata))
        if keep is not None:
            strata = strata[keep]
            cols = [c[keep] for c in cols]
        if len(strata) == 0:
            return []
        scaled = [c * sc[strata] for c, sc in zip(cols, self._scale, strict=True)]
        return list(zip(*(c.tolist() for c in scaled), strict=True))

    def make(
        self, pid: int, person: int, stratum: int, t: float, row: tuple[float, ...]
    ) -> Patient:
        """Create a patient with a row of draws from :meth:`draw_rows`."""
        p = object.__new__(self._cls)
        self._fill(p, pid, person, stratum, t, self.info[stratum], row)
        return p

    def make_one(self, pid: int, person: int, stratum: int, t: float) -> Patient:
        """Create a patient from a pre-drawn block (for sources of few patients).

        Unscaled draws are made a block at a time and scaled here for the
        patient's stratum, which is not known in advance.
        """
        blk = self._block
        if blk is None or blk.pos >= blk.size:
            cols = self._unit_columns(self.block_size)
            blk = self._block = _Block(list(zip(*(c.tolist() for c in cols), strict=True)))
        unit_row = blk.rows[blk.pos]
        blk.pos += 1
        row = tuple(v * sc[stratum] for v, sc in zip(unit_row, self._scale, strict=True))
        return self.make(pid, person, stratum, t, row)


#: a patient's fields in the order :meth:`PatientFactory.make` fills them
_FIELDS = ("id", "person", "stratum", "arrival")
_INFO = ("neighbourhood", "age", "frailty", "care_home", "older")


def _patient_class(
    names: tuple[str, ...],
) -> tuple[type[Patient], Callable[..., None]]:
    """A :class:`Patient` subclass with a slot for every field and draw, and a
    function that fills them all.

    Patients are made by the hundred thousand. The function is a few
    assignment statements, made from source text the way :mod:`dataclasses`
    makes ``__init__``: faster than setting attributes in a loop, and with no
    instance dictionary a patient takes half the memory.
    """
    reserved = set(Patient.DEFAULTS) | set(Patient.__annotations__)
    bad = [n for n in names if not n.isidentifier() or n in reserved]
    if bad:
        raise ValueError(f"draw attributes must be new identifiers, got {bad}")
    defaults = tuple(Patient.DEFAULTS)
    slots = (*_FIELDS, *_INFO, "flags", *defaults, *names)
    cls = type("Patient", (Patient,), {"__slots__": slots})

    def targets(attrs: tuple[str, ...]) -> str:
        return "".join(f"p.{a}, " for a in attrs)

    lines = [
        "def fill(p, id, person, stratum, arrival, info, row):",
        f"    {targets(_FIELDS)}= id, person, stratum, arrival",
        f"    {targets(_INFO)}= info",
        f"    {targets(defaults)}= DEFAULTS",
        "    p.flags = set()",
    ]
    if names:
        lines.append(f"    {targets(names)}= row")
    namespace: dict[str, Any] = {"DEFAULTS": tuple(Patient.DEFAULTS.values())}
    exec("\n".join(lines) + "\n", namespace)
    return cls, namespace["fill"]


def per_stratum(
    strata: Strata,
    by_age: Sequence[float],
    care_home: float | None = None,
    by_frailty: Sequence[float] | None = None,
) -> np.ndarray:
    """Expand age-band (and optional frailty, care-home) values to one per stratum.

    Frailty values multiply; ``care_home`` replaces the value for care-home strata.
    """
    out = np.asarray(by_age, dtype=float)[strata.age]
    if by_frailty is not None:
        out = out * np.asarray(by_frailty, dtype=float)[strata.frailty]
    if care_home is not None:
        out = np.where(strata.care_home, care_home, out)
    return out
