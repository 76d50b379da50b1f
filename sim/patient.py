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

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from simpy.events import Process

from sim.core.distributions import UnitSampler
from sim.core.rng import RandomStreams
from sim.population import AGE_65_74, Strata


@dataclass
class Draw:
    """One random attribute of a patient.

    Attributes:
        attr: Attribute of the :class:`Patient` it sets: one of
            :data:`DRAW_FIELDS`, or a new name (an extension's draw, kept in
            ``Patient.extra_draws``).
        stream: Name of the random stream it is drawn from.
        sampler: Mean-one duration family, or ``None`` to keep the raw uniform.
        scale: Multiplier per stratum (e.g. mean stay in hours), or one number.
    """

    attr: str
    stream: str
    sampler: UnitSampler | None = None
    scale: Sequence[float] | np.ndarray | float = 1.0


#: The random attributes every patient carries, in the order of the columns of
#: a :class:`DrawBlock`. Each is declared by the component that reads it (a :class:`Draw`
#: in its ``draws()``) and drawn from its own stream; one not declared by any
#: component of the model (an intervention switched off) is NaN.
DRAW_FIELDS: tuple[str, ...] = (
    # community response
    "u_community",  # managed in the community?
    "u_ambulance",  # arrives at A&E by ambulance?
    # A&E
    "triage_h",  # triage, hours
    "assess_h",  # clinician assessment, hours
    "decision_h",  # investigations and decision, hours
    "u_admit",  # admitted?
    # acute beds
    "los_h",  # acute stay until medically fit, hours
    "u_death",  # dies in hospital?
    # discharge
    "u_pathway",  # pathway P0-P3
    "u_attribution",  # who delays are attributed to (picks from attribution shares)
    "assessment_h",  # discharge assessment, hours
    "u_weekend",  # can leave the ward at a weekend?
    "u_weekend_service",  # accepted by a downstream service at a weekend?
    "u_stay_1",  # stay in reablement (uniform, converted on use)
    "u_stay_2",  # stay in intermediate care (uniform)
    "u_stay_3",  # stay in a care home (uniform)
    "u_other_delay",  # which other cause of delay, if any (funding, choice, ...)?
    "u_other_delay_days",  # how long it lasts (uniform, converted on use)
    "u_nursing",  # a care-home placement in a nursing home?
    "u_arrange",  # time to arrange the start of a downstream place (uniform)
    "u_plan_ahead",  # assessed ahead of the end of the acute stay?
    # readmission
    "u_readmit",  # readmitted within the window?
    "u_readmit_time",  # when (uniform)
    # interventions
    "u_mdt",  # on an MDT caseload?
    "u_care_home_cover",  # covered by the care-home programme?
    "u_care_home_admit",  # admission avoided by the care-home programme?
    "u_treat",  # sent home by TREAT?
    "treat_h",  # TREAT assessment, hours
    "u_treat_support",  # TREAT support at home (uniform)
    "u_pace_support",  # PACE support at home (uniform)
)


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
    Random draws are listed in :data:`DRAW_FIELDS`; draws declared by
    components outside the model's own (extensions) are in :attr:`extra_draws`.
    """

    __slots__ = (
        "age",
        "arrival",
        "assess_h",
        "assessment_h",
        "care_home",
        "case_managed",
        "decision_h",
        "delay_hours",
        "ever_delayed",
        "extra_draws",
        "frailty",
        "id",
        "los_h",
        "los_multiplier",
        "neighbourhood",
        "older",
        "pathway",
        "person",
        "planned",
        "readmission",
        "readmit_ratio",
        "stratum",
        "t_bed",
        "t_fit",
        "treat_h",
        "triage_h",
        "u_admit",
        "u_ambulance",
        "u_arrange",
        "u_attribution",
        "u_care_home_admit",
        "u_care_home_cover",
        "u_community",
        "u_death",
        "u_mdt",
        "u_nursing",
        "u_other_delay",
        "u_other_delay_days",
        "u_pace_support",
        "u_pathway",
        "u_plan_ahead",
        "u_readmit",
        "u_readmit_time",
        "u_stay_1",
        "u_stay_2",
        "u_stay_3",
        "u_treat",
        "u_treat_support",
        "u_weekend",
        "u_weekend_service",
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
    case_managed: bool  # on an MDT caseload when the crisis arose
    ever_delayed: bool  # has been a delayed transfer of care in this episode
    pathway: int  # discharge pathway 0-3 once decided, else -1
    los_multiplier: float  # on the acute stay (TREAT-assessed stays are shorter)
    readmit_ratio: float  # on the readmission probability (PACE)
    t_bed: float  # when the patient got an acute bed, else -1
    t_fit: float  # when declared medically fit, else -1
    delay_hours: float  # delayed transfer of care so far
    planned: Process | None  # a discharge assessment asked for ahead of fitness
    # random draws, in the order of DRAW_FIELDS
    u_community: float
    u_ambulance: float
    triage_h: float
    assess_h: float
    decision_h: float
    u_admit: float
    los_h: float
    u_death: float
    u_pathway: float
    u_attribution: float
    assessment_h: float
    u_weekend: float
    u_weekend_service: float
    u_stay_1: float
    u_stay_2: float
    u_stay_3: float
    u_other_delay: float
    u_other_delay_days: float
    u_nursing: float
    u_arrange: float
    u_plan_ahead: float
    u_readmit: float
    u_readmit_time: float
    u_mdt: float
    u_care_home_cover: float
    u_care_home_admit: float
    u_treat: float
    treat_h: float
    u_treat_support: float
    u_pace_support: float
    extra_draws: dict[str, float] | None

    def __init__(
        self,
        id: int,
        person: int,
        stratum: int,
        arrival: float,
        info: StratumInfo,
        block: DrawBlock,
        i: int,
    ) -> None:
        """A patient whose draws are entry ``i`` of ``block``'s columns."""
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
        self.case_managed = False
        self.ever_delayed = False
        self.pathway = -1
        self.los_multiplier = 1.0
        self.readmit_ratio = 1.0
        self.t_bed = -1.0
        self.t_fit = -1.0
        self.delay_hours = 0.0
        self.planned = None
        # column k holds DRAW_FIELDS[k] (a test checks every field)
        c = block.columns
        self.u_community = c[0][i]
        self.u_ambulance = c[1][i]
        self.triage_h = c[2][i]
        self.assess_h = c[3][i]
        self.decision_h = c[4][i]
        self.u_admit = c[5][i]
        self.los_h = c[6][i]
        self.u_death = c[7][i]
        self.u_pathway = c[8][i]
        self.u_attribution = c[9][i]
        self.assessment_h = c[10][i]
        self.u_weekend = c[11][i]
        self.u_weekend_service = c[12][i]
        self.u_stay_1 = c[13][i]
        self.u_stay_2 = c[14][i]
        self.u_stay_3 = c[15][i]
        self.u_other_delay = c[16][i]
        self.u_other_delay_days = c[17][i]
        self.u_nursing = c[18][i]
        self.u_arrange = c[19][i]
        self.u_plan_ahead = c[20][i]
        self.u_readmit = c[21][i]
        self.u_readmit_time = c[22][i]
        self.u_mdt = c[23][i]
        self.u_care_home_cover = c[24][i]
        self.u_care_home_admit = c[25][i]
        self.u_treat = c[26][i]
        self.treat_h = c[27][i]
        self.u_treat_support = c[28][i]
        self.u_pace_support = c[29][i]
        self.extra_draws = block.extra(i) if block.extra_names else None

    def __repr__(self) -> str:
        return f"Patient(id={self.id}, stratum={self.stratum}, arrival={self.arrival:.2f})"


class DrawBlock:
    """Scaled draws for a block of patients-to-be, one list per attribute.

    Column k holds :data:`DRAW_FIELDS` [k] for every patient of the block (all
    NaN for a field no component declared), then come the extensions' draws
    (``extra_names``). Patients read their entry when they are made, so no
    row of draws is ever built.
    """

    __slots__ = ("columns", "extra_names")

    def __init__(self, columns: list[list[float]], extra_names: tuple[str, ...]) -> None:
        self.columns = columns
        self.extra_names = extra_names

    def extra(self, i: int) -> dict[str, float]:
        """Entry ``i`` of the extensions' draws, by name."""
        first = len(DRAW_FIELDS)
        return {name: self.columns[first + k][i] for k, name in enumerate(self.extra_names)}


class PatientFactory:
    """Creates patients with their random attributes.

    Args:
        strata: Population strata.
        streams: The replication's random streams.
        draws: Attributes declared by the model's components.
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
        names = [d.attr for d in draws]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate patient attributes in draws: {names}")
        bad = [n for n in names if not n.isidentifier()]
        if bad:
            raise ValueError(f"draw attributes must be identifiers, got {bad}")
        by_name = {d.attr: d for d in draws}
        # draws in column order: the declared fields, then the extensions'
        self._column_draws: list[Draw | None] = [by_name.get(n) for n in DRAW_FIELDS]
        self.extra_names = tuple(n for n in names if n not in DRAW_FIELDS)
        taken = [n for n in self.extra_names if hasattr(Patient, n)]
        if taken:
            raise ValueError(f"draw attributes {taken} are patient fields, not new draws")
        self._column_draws += [by_name[n] for n in self.extra_names]
        self._scale = [
            None
            if d is None
            else np.full(len(strata), float(d.scale))
            if isinstance(d.scale, (int, float))
            else np.asarray(d.scale, dtype=float)
            for d in self._column_draws
        ]
        # columns whose scale is 1 for every stratum (most uniforms) are not scaled
        self._unit_scale = [sc is not None and bool(np.all(sc == 1.0)) for sc in self._scale]
        # the scales as lists, for one patient at a time (make_one): indexing a
        # list gives a float, where indexing an array makes a NumPy scalar
        self._scale_lists: list[list[float] | None] = [
            None if sc is None or unit else sc.tolist()
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

    def _unit_columns(self, n: int, keep: np.ndarray | None = None) -> list[np.ndarray | None]:
        """``n`` unscaled draws per attribute, uniforms or mean-one variates, of
        which the entries ``keep`` (all if None) are returned (None for a field no
        component declared). Every stream moves on by ``n`` numbers either way."""
        cols: list[np.ndarray | None] = []
        # streams are consumed in the components' order of declaration
        drawn: dict[str, np.ndarray] = {}
        for d in self.draws:
            u = self.streams.get(self.prefix + d.stream).random(n)
            if keep is not None:
                u = u[keep]  # before converting: candidates thinned away need no variate
            drawn[d.attr] = d.sampler.from_uniform(u) if d.sampler is not None else u
        for rd in self._column_draws:
            cols.append(None if rd is None else drawn[rd.attr])
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
        nan = [math.nan] * len(strata)
        columns: list[list[float]] = []
        for c, sc, unit in zip(cols, self._scale, self._unit_scale, strict=True):
            if c is None or sc is None:  # (both None together: no component declared it)
                columns.append(nan)
            elif unit:  # x * 1.0 is x: nothing to scale
                columns.append(c.tolist())
            else:
                columns.append((c * sc[strata]).tolist())
        return DrawBlock(columns, self.extra_names)

    def make(
        self, pid: int, person: int, stratum: int, t: float, block: DrawBlock, i: int
    ) -> Patient:
        """Create a patient with entry ``i`` of a block from :meth:`draw_block`."""
        return Patient(pid, person, stratum, t, self.info[stratum], block, i)

    def make_one(self, pid: int, person: int, stratum: int, t: float) -> Patient:
        """Create a patient from pre-drawn draws (for sources of few patients).

        Unscaled draws are made a block at a time and scaled here for the
        patient's stratum, which is not known in advance.
        """
        if self._unit is None or self._unit_pos >= self.block_size:
            n = self.block_size
            self._unit = [
                [math.nan] * n if c is None else c.tolist() for c in self._unit_columns(n)
            ]
            self._unit_pos = 0
        i = self._unit_pos
        self._unit_pos += 1
        one = [
            [v[i] if sc is None else v[i] * sc[stratum]]
            for v, sc in zip(self._unit, self._scale_lists, strict=True)
        ]
        return self.make(pid, person, stratum, t, DrawBlock(one, self.extra_names), 0)


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
