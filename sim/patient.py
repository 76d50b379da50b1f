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

from collections.abc import Sequence
from dataclasses import dataclass, field

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

    Random attributes declared by components (:class:`Draw`) are set as plain
    attributes; the fields below are the state every component may read.
    """

    def __init__(self, pid: int, person: int, stratum: int, strata: Strata, t: float) -> None:
        self.id = pid
        self.person = person
        self.stratum = stratum
        self.neighbourhood = int(strata.neighbourhood[stratum])
        self.age = int(strata.age[stratum])
        self.frailty = int(strata.frailty[stratum])
        self.care_home = bool(strata.care_home[stratum])
        self.older = self.age >= AGE_65_74
        self.arrival = t
        self.readmission = False
        self.pathway = -1
        self.los_multiplier = 1.0
        self.t_bed = -1.0
        self.t_fit = -1.0
        self.delay_hours = 0.0
        self.flags: set[str] = set()

    def __repr__(self) -> str:
        return f"Patient(id={self.id}, stratum={self.stratum}, arrival={self.arrival:.2f})"


@dataclass
class _Block:
    units: dict[str, list[float]]
    pos: int = 0
    size: int = 0


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
    _scales: list[tuple[str, list[float] | None, float]] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        names = [d.attr for d in self.draws]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate patient attributes in draws: {names}")
        for d in self.draws:
            if isinstance(d.scale, (int, float)):
                self._scales.append((d.attr, None, float(d.scale)))
            else:
                self._scales.append((d.attr, [float(x) for x in d.scale], 1.0))

    def draw_units(self, n: int) -> dict[str, list[float]]:
        """``n`` rows of unscaled draws (uniforms or mean-one variates), as lists."""
        out: dict[str, list[float]] = {}
        for d in self.draws:
            u = self.streams.get(self.prefix + d.stream).random(n)
            out[d.attr] = (d.sampler.from_uniform(u) if d.sampler is not None else u).tolist()
        return out

    def make(
        self, pid: int, person: int, stratum: int, t: float, units: dict[str, list[float]], i: int
    ) -> Patient:
        """Create a patient from row ``i`` of a batch of draws."""
        p = Patient(pid, person, stratum, self.strata, t)
        d = p.__dict__
        for attr, per_stratum, scalar in self._scales:
            value = units[attr][i]
            d[attr] = value * (per_stratum[stratum] if per_stratum is not None else scalar)
        return p

    def make_one(self, pid: int, person: int, stratum: int, t: float) -> Patient:
        """Create a patient from a pre-drawn block (for sources of few patients)."""
        blk = self._block
        if blk is None or blk.pos >= blk.size:
            blk = self._block = _Block(self.draw_units(self.block_size), 0, self.block_size)
        p = self.make(pid, person, stratum, t, blk.units, blk.pos)
        blk.pos += 1
        return p


def per_stratum(strata: Strata, by_age: Sequence[float], care_home: float | None = None,
                by_frailty: Sequence[float] | None = None) -> np.ndarray:
    """Expand age-band (and optional frailty, care-home) values to one per stratum.

    Frailty values multiply; ``care_home`` replaces the value for care-home strata.
    """
    out = np.asarray(by_age, dtype=float)[strata.age]
    if by_frailty is not None:
        out = out * np.asarray(by_frailty, dtype=float)[strata.frailty]
    if care_home is not None:
        out = np.where(strata.care_home, care_home, out)
    return out
