"""Patients and the random draws that describe them.

A patient exists only while in an active episode (A&E, a bed, a downstream
service); the registered population behind them is held as strata. When an
episode starts, the patient receives every random number the episode may need:
uniforms for decisions (admit? which pathway? readmitted?) and mean-one variates
for durations (triage, length of stay, ...). Components declare what they need
as :class:`Draw` objects and read them back with ``draw.of(patient)``; the
:class:`PatientFactory` draws them in vectorised batches, one named stream each.

Drawing everything up front is what makes common random numbers work: patient
*k* of day *d* carries the same numbers into every scenario, whatever the queues
and interventions do to the order of events.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
from simpy.events import Process

from sim.population import AGE_65_74, Strata

if TYPE_CHECKING:  # (annotations only: validating a config imports this without SciPy)
    from sim.core.distributions import UnitSampler
    from sim.core.rng import RandomStreams

#: the column of a draw not yet handed to a factory: reading it fails loudly
#: (an IndexError) rather than returning another draw's value
UNASSIGNED: Final = 1 << 30


class Draw:
    """One random attribute of a patient, declared by the component that reads it.

    A component makes its draws when it is built, returns them from its
    ``draws()``, and reads a patient's value with :meth:`of`. The factory gives
    each draw a column of the patient's row of draws; no list of fields is kept
    anywhere else, so a new component's draws need no edit of this module.

    Attributes:
        name: Label (for messages and the event log); unique in a model.
        stream: Name of the random stream it is drawn from.
        sampler: Mean-one duration family, or ``None`` to keep the raw uniform.
        scale: Multiplier per stratum (e.g. mean stay in hours), or one number.
        column: Index into :attr:`Patient.draws`, set by the factory.
    """

    def __init__(
        self,
        name: str,
        stream: str,
        sampler: UnitSampler | None = None,
        scale: Sequence[float] | np.ndarray | float = 1.0,
    ) -> None:
        self.name = name
        self.stream = stream
        self.sampler = sampler
        self.scale = scale
        self.column: int = UNASSIGNED

    def of(self, p: Patient) -> float:
        """This draw's value for patient ``p``."""
        return p.draws[self.column]

    def set(self, p: Patient, value: float) -> None:
        """Give ``p`` another value of this draw (a patient found in a bed at the
        start has a residual stay, not a whole one)."""
        p.draws[self.column] = value

    def __repr__(self) -> str:
        return f"Draw({self.name!r}, stream={self.stream!r}, column={self.column})"


class DrawPart:
    """One of a few uniforms read from the decimal digits of one draw.

    The digits of a uniform number are independent and uniform, so the first
    ``digits`` of them, the next ``digits``, and so on, are independent uniforms
    at a resolution of 10**-digits (each read at the middle of its interval, so
    never 0 or 1). A service that needs several numbers for the few patients it
    sees (which kind of care, how many visits) reads them all from one column of
    the patient's row: the row, built for every patient-to-be, stays short, and
    every part is still the patient's own number in every scenario (common
    random numbers). A double carries about 15.9 decimal digits: keep
    ``(index + 1) * digits`` at 12 or less.
    """

    def __init__(self, draw: Draw, index: int, digits: int) -> None:
        if (index + 1) * digits > 12:
            raise ValueError(f"part {index} of {digits} digits reads past the 12th digit")
        self.draw = draw
        self.shift = 10.0 ** (index * digits)
        self.scale = 10.0**digits

    def of(self, p: Patient) -> float:
        """This part's uniform for patient ``p``."""
        x = p.draws[self.draw.column] * self.shift
        x = (x - math.floor(x)) * self.scale
        return (math.floor(x) + 0.5) / self.scale


@dataclass(frozen=True)
class StratumInfo:
    """What a patient's stratum says about them."""

    neighbourhood: int
    age: int
    frailty: int
    care_home: bool
    older: bool  # aged 65 or over


class Patient:
    """A person in an active episode of care.

    Every attribute is declared here, so a patient is a fixed record (no
    instance dictionary) that a type checker, and a compiler, can see through.
    It holds who the person is and where the episode has got to; the random
    numbers the components need are in :attr:`draws`, read through each
    component's :class:`Draw` objects.
    """

    __slots__ = (
        "age",
        "arrival",
        "care_home",
        "draws",
        "ever_delayed",
        "frailty",
        "id",
        "los_multiplier",
        "neighbourhood",
        "nhs_funded",
        "older",
        "pathway",
        "person",
        "planned",
        "readmission",
        "readmit_ratio",
        "stratum",
        "t_bed",
    )

    # who, from the stratum
    id: int  # episode id
    person: int  # the person (a readmission is a new episode of the same person)
    stratum: int
    neighbourhood: int
    age: int  # index into AGE_BANDS
    frailty: int  # index into FRAILTY_BANDS
    care_home: bool
    older: bool
    arrival: float  # when the episode started, hours
    # the episode so far
    readmission: bool
    ever_delayed: bool  # has been a delayed transfer of care in this episode
    pathway: int  # discharge pathway 0-3 once decided, else -1
    los_multiplier: float  # on the acute stay (e.g. shorter after a rapid assessment)
    readmit_ratio: float  # on the readmission probability (e.g. supported discharge)
    t_bed: float  # when the patient got an acute bed, else -1
    nhs_funded: float  # share of onward care the NHS funds (continuing healthcare)
    planned: Process | None  # a discharge assessment asked for ahead of fitness
    draws: list[float]  # one value per declared Draw, in column order

    def __init__(
        self,
        id: int,
        person: int,
        stratum: int,
        arrival: float,
        info: StratumInfo,
        draws: list[float],
    ) -> None:
        self.id = id
        self.person = person
        self.stratum = stratum
        self.arrival = arrival
        self.neighbourhood = info.neighbourhood
        self.age = info.age
        self.frailty = info.frailty
        self.care_home = info.care_home
        self.older = info.older
        self.readmission = False
        self.ever_delayed = False
        self.pathway = -1
        self.los_multiplier = 1.0
        self.readmit_ratio = 1.0
        self.t_bed = -1.0
        self.nhs_funded = 0.0
        self.planned = None
        self.draws = draws

    def __repr__(self) -> str:
        return f"Patient(id={self.id}, stratum={self.stratum}, arrival={self.arrival:.2f})"


class DrawBlock:
    """Scaled draws for a block of patients-to-be: one row per patient.

    The rows are built in one go by NumPy (``tolist`` of a patients-by-draws
    array), so making a patient takes its row as it is, with no Python loop
    over the draws; each patient then owns its row and no block outlives its
    patients.
    """

    __slots__ = ("rows",)

    def __init__(self, rows: list[list[float]]) -> None:
        self.rows = rows


class PatientFactory:
    """Creates patients with their random attributes.

    Args:
        strata: Population strata.
        streams: The replication's random streams.
        draws: Draws declared by the model's components; each is given its
            column here (the same in every factory of a model: the list's order).
        prefix: Stream-name prefix, so that different sources of patients (new
            crises, readmissions) use disjoint streams.
    """

    block_size = 512

    def __init__(
        self, strata: Strata, streams: RandomStreams, draws: list[Draw], prefix: str = ""
    ) -> None:
        self.strata = strata
        self.streams = streams
        self.draws = draws
        self.prefix = prefix
        # unscaled draws for make_one, and the next unused entry
        self._unit: list[list[float]] | None = None
        self._unit_pos = 0
        names = [d.name for d in draws]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"draws declared twice in one model: {dupes}")
        streams_used = [d.stream for d in draws]
        shared = sorted({n for n in streams_used if streams_used.count(n) > 1})
        if shared:
            raise ValueError(f"random streams used by more than one draw: {shared}")
        for k, d in enumerate(draws):
            if d.column not in (UNASSIGNED, k):
                raise ValueError(f"{d!r} already belongs to a factory with other draws")
            d.column = k
        self._scale = [
            np.full(len(strata), float(d.scale))
            if isinstance(d.scale, (int, float))
            else np.asarray(d.scale, dtype=float)
            for d in draws
        ]
        # columns whose scale is 1 for every stratum (most uniforms) are not scaled
        self._unit_scale = [bool(np.all(sc == 1.0)) for sc in self._scale]
        # the scales as lists, for one patient at a time (make_one): indexing a
        # list gives a float, where indexing an array makes a NumPy scalar
        self._scale_lists: list[list[float] | None] = [
            None if unit else sc.tolist()
            for sc, unit in zip(self._scale, self._unit_scale, strict=True)
        ]
        self.info = [
            StratumInfo(
                int(strata.neighbourhood[i]),
                int(strata.age[i]),
                int(strata.frailty[i]),
                bool(strata.care_home[i]),
                int(strata.age[i]) >= AGE_65_74,
            )
            for i in range(len(strata))
        ]

    def _unit_columns(self, n: int, keep: np.ndarray | None = None) -> list[np.ndarray]:
        """``n`` unscaled draws per declared draw, uniforms or mean-one variates, of
        which the entries ``keep`` (all if None) are returned. Every stream moves on
        by ``n`` numbers either way."""
        cols: list[np.ndarray] = []
        # streams are consumed in the components' order of declaration
        for d in self.draws:
            u = self.streams.get(self.prefix + d.stream).random(n)
            if keep is not None:
                u = u[keep]  # before converting: candidates thinned away need no variate
            cols.append(d.sampler.from_uniform(u) if d.sampler is not None else u)
        return cols

    def draw_block(self, strata: np.ndarray, keep: np.ndarray | None = None) -> DrawBlock:
        """Draws for patients-to-be, scaled for each one's stratum.

        Every candidate in ``strata`` consumes its draws (so each keeps its place
        in every stream); entries are made only for the candidates in ``keep``
        (indices), or for all of them, in that order.
        """
        cols = self._unit_columns(len(strata), keep)
        if keep is not None:
            strata = strata[keep]
        table = np.empty((len(strata), len(cols)))
        for k, (c, sc, unit) in enumerate(zip(cols, self._scale, self._unit_scale, strict=True)):
            # x * 1.0 is x: unit-scaled columns are copied as they are
            table[:, k] = c if unit else c * sc[strata]
        return DrawBlock(table.tolist())

    def make(
        self, pid: int, person: int, stratum: int, t: float, block: DrawBlock, i: int
    ) -> Patient:
        """Create a patient with entry ``i`` of a block from :meth:`draw_block`."""
        return Patient(pid, person, stratum, t, self.info[stratum], block.rows[i])

    def make_one(self, pid: int, person: int, stratum: int, t: float) -> Patient:
        """Create a patient from pre-drawn draws (for sources of few patients).

        Unscaled draws are made a block at a time and scaled here for the
        patient's stratum, which is not known in advance.
        """
        if self._unit is None or self._unit_pos >= self.block_size:
            self._unit = [c.tolist() for c in self._unit_columns(self.block_size)]
            self._unit_pos = 0
        i = self._unit_pos
        self._unit_pos += 1
        row = [
            v[i] if sc is None else v[i] * sc[stratum]
            for v, sc in zip(self._unit, self._scale_lists, strict=True)
        ]
        return Patient(pid, person, stratum, t, self.info[stratum], row)


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
