"""People, not only strata: who has a crisis, and who comes back.

Emergency care is used very unevenly. In England in 2016-17 a quarter of the
people who attended a major A&E came more than once and made half of all
attendances; about one in a hundred came six times or more (Greenfield et al.
2020). The strata of :mod:`sim.population` (neighbourhood x age band x eFI
frailty band x care home) explain part of that: an 85-year-old with severe
frailty has crises several times as often as a fit 40-year-old. The rest is
between people of the same stratum: long-term conditions, mental health,
alcohol, living alone. Services that target people - case finding and case
management, frequent-attender services - act on exactly that difference, and a
model in which every crisis is a new person cannot represent them.

The model: each resident *i* of stratum *s* has a crisis-rate multiplier *Z_i*
drawn once from a gamma distribution of mean 1 and shape *k_s* (variance
*1/k_s*); their crises are a Poisson process of rate *lambda_s Z_i*. Over a
period of length *T* a person's count of crises is then negative binomial with
mean *lambda_s T* and shape *k_s* (the gamma-Poisson mixture), the usual model of
over-dispersed counts of health care use.

No resident is a process or an object. Crises are still generated stratum by
stratum, at the stratum's total rate *lambda_s N_s*, exactly as without people
(:mod:`sim.demand`), so aggregate demand, thinning by interventions and common
random numbers are unchanged. Each crisis is then *attributed* to a person:

* the people of the stratum who have had a crisis since the run began are
  *known*; the registry (:class:`Registry`) holds their multipliers in arrays,
  one entry per person, never an object per person. Lay the known people's *Z*
  end to end on the interval [0, N_s): each occupies a segment as long as their
  *Z*; the rest of the interval stands for everyone else;
* a crisis draws one uniform *u* (the patient draw ``people.who``); the point
  *u N_s* falls in some known person's segment with probability *Z_i / N_s*,
  which is their share of the stratum's rate: that person has the crisis. So
  each known person has crises at exactly *lambda_s Z_i*;
* otherwise the crisis is the first of a new person, whose multiplier is drawn
  from its distribution given a first crisis at time *t* (years since the run
  started) and none before it: gamma with shape *k_s + 1* and rate
  *k_s + lambda_s t*, from a second uniform (``people.frailty``) by inversion
  (:class:`GammaQuantile`), so that paired runs give the same person the same
  multiplier. The people
  not yet known have crises at rate *lambda_s (N_s - sum of known Z)*, which
  in expectation is their number times *lambda_s E[Z | no crisis by t]*: the
  unknown rest of the stratum behaves, on average, as the people it stands for.

A known person's segment is found by binary search over the running sums of
the stratum's segments (``bisect``, in C), and a new person's segment goes on
the end, so both cost O(log n) and O(1). The registry grows by one entry per
person with a crisis history (a few arrays of 8-byte numbers), and no larger
than the number of people who have ever had a crisis: memory and time grow
linearly with the population.

Identity is decided before interventions read a crisis's person (MDT case
management thins case-managed people's crises), and a candidate crisis thinned
away creates and counts nobody: :meth:`People.identify` only looks, and
:meth:`People.commit` records the crisis once it is kept.

Approximations, said aloud:

* **A small stratum that fills up.** When the known people's multipliers add up
  to more than the stratum's head count (a care-home stratum has ten to thirty
  residents a neighbourhood; their weights approach *N_s* as nearly all of them
  become known), the point is drawn on [0, W) instead, W being the known total:
  every known person's rate is scaled down by *N_s / W*, so the stratum keeps
  its crisis rate and no new people arrive until deaths free weight.
* **Who leaves.** People who die in hospital leave the registry: their segment
  stays, but a point that falls in it is a new person (the stratum's head count
  is fixed, so someone else takes their place). When departed weight pushes the
  total over *N_s*, the stratum's segments are rebuilt without them. Nobody else
  leaves: people stay in their stratum for the whole run (no ageing, moving or
  death at home), and their multiplier never changes. Over runs of several years
  this overstates how long frequent attenders remain frequent (emergency use
  regresses towards the mean: Roland et al. 2005).
* **The clock of the posterior** uses the stratum's average rate times the time
  since the start; the hour, weekday and month profiles average out within days.
* With a population projection (:mod:`sim.projection`) each year's head counts
  *N_s* are those of that year; the rate per person is the same in every year.

People with a crisis history have person ids ``PERSON_BASE + registry index``,
so readmissions and every later episode of the person find them without a look-up
table; everyone else keeps the episode id of their first episode as person id.
``people.enabled: false`` leaves every crisis a new person, as before, and does
nothing else: no draws, no KPIs, no work on any path.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar, Final

import numpy as np
from scipy.special import gammaincinv

from sim.components import Component
from sim.patient import Draw, Patient, per_stratum

if TYPE_CHECKING:
    from sim.components import Site
    from sim.config.schema import PeopleConfig
    from sim.core.window import KpiWindow
    from sim.demand import CrisisDemand

HOURS_PER_YEAR: Final = 365.0 * 24.0
#: person ids of people with a crisis history start here (episode ids never get
#: near it: a run would need a trillion episodes)
PERSON_BASE: Final = 1 << 40
#: A&E attendances in a year that make a frequent attender ("more than four a
#: year": Locker et al. 2007; the same threshold in Jelinek et al. 2008)
FREQUENT_ATTENDANCES: Final = 5
#: the measured period is cut into years of this many days for frequent attenders
DAYS_PER_PERIOD: Final = 365
#: steps of the table a gamma quantile is interpolated in, and how many steps at
#: each end are computed exactly instead (where the quantile bends too fast)
QUANTILE_STEPS: Final = 4096
QUANTILE_EXACT_STEPS: Final = 32


class GammaQuantile:
    """Quantile function of gamma(``a``, 1), for one uniform at a time.

    SciPy's inverse of the incomplete gamma function costs a few microseconds a
    call from Python, about as much as the rest of a crisis's people work, so
    the quantile is interpolated linearly in a table of :data:`QUANTILE_STEPS`
    equal steps of the uniform, computed in one vectorised call. The relative
    error is below 1e-4 (the curvature is largest near 0 and 1, where the outer
    :data:`QUANTILE_EXACT_STEPS` steps at each end call SciPy instead).
    """

    def __init__(self, a: float) -> None:
        self.a = a
        u = np.arange(QUANTILE_STEPS + 1) / QUANTILE_STEPS
        self.table: list[float] = gammaincinv(a, u).tolist()

    def __call__(self, u: float) -> float:
        x = u * QUANTILE_STEPS
        i = int(x)
        if i < QUANTILE_EXACT_STEPS or i >= QUANTILE_STEPS - QUANTILE_EXACT_STEPS:
            return float(gammaincinv(self.a, u))
        lo = self.table[i]
        return lo + (x - i) * (self.table[i + 1] - lo)


class Registry:
    """People with a crisis history, stratum by stratum, in flat arrays.

    Args:
        size: Head count of each stratum (people, may be fractional).
        rate_per_year: Crisis rate of each stratum per person-year (*lambda_s*).
        shape: Gamma shape *k_s* of each stratum's multipliers; None: every
            multiplier is 1 (no heterogeneity, identities only).
    """

    def __init__(
        self,
        size: Sequence[float],
        rate_per_year: Sequence[float],
        shape: Sequence[float] | None,
    ) -> None:
        n = len(size)
        self.size: list[float] = [float(x) for x in size]
        self.rate: list[float] = [float(x) for x in rate_per_year]
        self.heterogeneity = shape is not None
        self.shape: list[float] = [float(x) for x in shape] if shape is not None else [0.0] * n
        # the quantile function of gamma(k + 1) of each stratum (one per shape)
        by_shape: dict[float, GammaQuantile] = {}
        self.quantile: list[GammaQuantile | None] = [None] * n
        if self.heterogeneity:
            for s, k in enumerate(self.shape):
                if self.size[s] > 0 and self.rate[s] > 0:  # no crises: no table
                    q = by_shape.get(k)
                    if q is None:
                        q = by_shape[k] = GammaQuantile(k + 1.0)
                    self.quantile[s] = q
        # per stratum: running sums of the segments, and whose each segment is
        self.cum: list[array[float]] = [array("d") for _ in range(n)]
        self.owner: list[array[int]] = [array("q") for _ in range(n)]
        #: per stratum: multipliers of people who left, still in the segments
        self.departed: list[float] = [0.0] * n
        #: per stratum: known people still in the registry
        self.alive_count: list[int] = [0] * n
        # per person
        self.stratum: array[int] = array("q")
        self.z: array[float] = array("d")
        self.alive = bytearray()
        #: crises since the run started
        self.crises: array[int] = array("q")

    def __len__(self) -> int:
        return len(self.z)

    def identify(self, s: int, u: float) -> int:
        """The known person of stratum ``s`` whom uniform ``u`` points at, or -1
        for someone without a crisis history (changes nothing)."""
        cum = self.cum[s]
        n = len(cum)
        if n == 0:
            return -1
        w = cum[n - 1]
        size = self.size[s]
        # the stratum's interval, or the known total if that has outgrown it
        target = u * (size if size > w else w)
        if target >= w:
            return -1
        j = self.owner[s][bisect_right(cum, target)]
        return j if self.alive[j] else -1  # a departed person's segment: someone new

    def multiplier_at_first_crisis(self, s: int, t_hours: float, u: float) -> float:
        """A new person's multiplier given a first crisis at ``t_hours`` (and none
        before): gamma(k + 1, rate k + lambda t), by inversion of uniform ``u``."""
        q = self.quantile[s]
        if q is None:
            return 1.0
        k = self.shape[s]
        return q(u) / (k + self.rate[s] * t_hours / HOURS_PER_YEAR)

    def add(self, s: int, z: float) -> int:
        """A new person of stratum ``s`` with multiplier ``z`` and one crisis; their index."""
        j = len(self.z)
        self.stratum.append(s)
        self.z.append(z)
        self.alive.append(1)
        self.crises.append(1)
        cum = self.cum[s]
        w = (cum[len(cum) - 1] if len(cum) else 0.0) + z
        cum.append(w)
        self.owner[s].append(j)
        self.alive_count[s] += 1
        if w > self.size[s] and self.departed[s] > 0.0:
            self._compact(s)
        return j

    def leave(self, j: int) -> None:
        """Person ``j`` leaves (died): no more crises of theirs."""
        if not self.alive[j]:
            return
        self.alive[j] = 0
        s = self.stratum[j]
        self.alive_count[s] -= 1
        self.departed[s] += self.z[j]
        cum = self.cum[s]
        if cum[len(cum) - 1] > self.size[s]:
            self._compact(s)

    def _compact(self, s: int) -> None:
        """Rebuild stratum ``s``'s segments without the people who left."""
        cum: array[float] = array("d")
        owner: array[int] = array("q")
        w = 0.0
        z, alive = self.z, self.alive
        for j in self.owner[s]:
            if alive[j]:
                w += z[j]
                cum.append(w)
                owner.append(j)
        self.cum[s], self.owner[s] = cum, owner
        self.departed[s] = 0.0

    def known_weight(self, s: int) -> float:
        """Sum of the multipliers of stratum ``s``'s known people still here."""
        cum = self.cum[s]
        return (cum[len(cum) - 1] if len(cum) else 0.0) - self.departed[s]

    def nbytes(self) -> int:
        """Memory held by the registry's arrays, in bytes."""
        per_stratum = sum(a.buffer_info()[1] * a.itemsize for a in self.cum) + sum(
            a.buffer_info()[1] * a.itemsize for a in self.owner
        )
        per_person = sum(
            a.buffer_info()[1] * a.itemsize for a in (self.stratum, self.z, self.crises)
        )
        return per_stratum + per_person + len(self.alive)


class People(Component):
    """Person-level heterogeneity: attributes each crisis to a person, keeps
    their history, and reports repeat use (see the module docstring)."""

    name = "people"
    kpi_docs: ClassVar[Mapping[str, tuple[str, str]]] = {
        "people_with_crisis": (
            "people",
            "People with at least one crisis in the measured period.",
        ),
        "people_crises_per_person": (
            "crises",
            "Crises in the measured period per person with at least one.",
        ),
        "people_share_2plus_crises": (
            "share",
            "Share of the people with a crisis in the measured period who had two or more.",
        ),
        "people_ae_attenders": (
            "people",
            "People with a crisis history who attended A&E in a year of the measured period, "
            "mean over its whole years (as for frequent attenders).",
        ),
        "people_ae_attenders_once_share": (
            "share",
            "Share of those attenders who attended once in the year (England 2016-17: "
            "73.5%, Greenfield et al. 2020).",
        ),
        "people_frequent_attenders": (
            "people",
            "People with 5 or more A&E attendances in a year of the measured period "
            "(Locker et al. 2007), mean over its whole years (a period shorter than a "
            "year counts as one, and then under-counts).",
        ),
        "people_frequent_attender_share": (
            "share",
            "Share of those years' A&E attendances made by frequent attenders.",
        ),
        "people_repeat_admissions": (
            "count",
            "Emergency admissions (bed starts) of people admitted before in the run, "
            "30-day readmissions included.",
        ),
        "people_repeat_admission_share": (
            "share",
            "Repeat admissions / bed starts of people with a crisis history.",
        ),
        "people_known": (
            "people",
            "People with a crisis history in the registry at the end of the run "
            "(alive; the people the model holds as entries rather than in strata).",
        ),
    }

    def __init__(self, site: Site, cfg: PeopleConfig, demand: CrisisDemand) -> None:
        super().__init__(site, cfg)
        strata = site.strata
        #: whether crises are attributed to people (crises mode only: a stream of
        #: direct admissions has no population behind it)
        self.active = bool(cfg.enabled) and not demand.direct
        size = strata.size
        with np.errstate(divide="ignore", invalid="ignore"):
            rate_pp = np.where(size > 0, demand.stratum_rate_per_year / size, 0.0)
        #: crisis rate per person-year of each stratum
        self.rate_per_year: list[float] = rate_pp.tolist()
        shape = per_stratum(strata, cfg.shape.as_tuple(), care_home=cfg.care_home_shape)
        self.shape: list[float] = shape.tolist()
        self.heterogeneity = bool(cfg.heterogeneity)
        self.registry = Registry(
            size.tolist(), self.rate_per_year, self.shape if cfg.heterogeneity else None
        )
        # a population projection: the head counts of each year (None: fixed)
        self._demand = demand
        self._year_sizes = demand.year_sizes
        self._day = -1
        self.u_who = Draw("u_people_who", "people.who")
        self.u_frailty = Draw("u_people_frailty", "people.frailty")
        #: told of each new person once their first crisis is kept: f(patient, index)
        self.on_first: list[Callable[[Patient, int], None]] = []
        #: told of each person who leaves the registry: f(index)
        self.on_leave: list[Callable[[int], None]] = []
        run = site.run
        self.start_h = run.warmup_days * 24.0
        measured_days = run.total_days - run.warmup_days
        #: years of the measured period for frequent attenders (a shorter period: one)
        self.n_periods = max(measured_days // DAYS_PER_PERIOD, 1)
        self.period_h = DAYS_PER_PERIOD * 24.0
        self.attendances: list[int] = [0] * self.n_periods
        self.attenders: list[int] = [0] * self.n_periods
        self.attenders_once: list[int] = [0] * self.n_periods
        self.fa_people: list[int] = [0] * self.n_periods
        self.fa_attendances: list[int] = [0] * self.n_periods
        # per person: crises in the measured period; bed starts since the start;
        # the period of their last attendance and their attendances in it
        self.crises_measured: array[int] = array("q")
        self.admissions: array[int] = array("q")
        self.att_period: array[int] = array("q")
        self.att_count: array[int] = array("q")
        self.n_admissions = self.rec.counter("people_admissions")
        self.n_repeat = self.rec.counter("people_repeat_admissions")

    def draws(self) -> list[Draw]:
        if not self.active:
            return []
        return [self.u_who, self.u_frailty] if self.heterogeneity else [self.u_who]

    # ------------------------------------------------------------------ identity
    @staticmethod
    def index(person: int) -> int:
        """Registry index of ``person``, or -1 if they have no crisis history."""
        return person - PERSON_BASE if person >= PERSON_BASE else -1

    def identify(self, p: Patient) -> int:
        """Who has crisis ``p``: a known person's index (``p.person`` is set to
        them), or -1 for a first crisis. Records nothing: see :meth:`commit`."""
        if self._year_sizes is not None:
            day = int(p.arrival // 24.0)
            if day != self._day:
                self._new_day(day)
        j = self.registry.identify(p.stratum, self.u_who.of(p))
        if j >= 0:
            p.person = PERSON_BASE + j
        return j

    def _new_day(self, day: int) -> None:
        """Head counts of the projected year of ``day``."""
        self._day = day
        sizes = self._year_sizes
        assert sizes is not None
        self.registry.size = sizes[self._demand.year_of(day)].tolist()

    def commit(self, p: Patient, j: int) -> None:
        """Crisis ``p`` is kept: record it for person ``j`` (from :meth:`identify`),
        or enter a new person into the registry."""
        reg = self.registry
        if j < 0:
            s = p.stratum
            u = self.u_frailty.of(p) if self.heterogeneity else 0.0
            j = reg.add(s, reg.multiplier_at_first_crisis(s, p.arrival, u))
            self.crises_measured.append(0)
            self.admissions.append(0)
            self.att_period.append(-1)
            self.att_count.append(0)
            p.person = PERSON_BASE + j
            for f in self.on_first:
                f(p, j)
        else:
            reg.crises[j] += 1
        if p.arrival >= self.start_h:
            self.crises_measured[j] += 1

    def attended(self, p: Patient) -> None:
        """``p`` attends A&E now (any episode: a crisis, a readmission, ...)."""
        t = self.env.now
        if t < self.start_h:
            return
        y = int((t - self.start_h) // self.period_h)
        if y >= self.n_periods:  # the part-year after the last whole one
            return
        self.attendances[y] += 1
        j = self.index(p.person)
        if j < 0:
            return
        if self.att_period[j] != y:
            self._close_period(j)
            self.att_period[j] = y
            self.att_count[j] = 0
        self.att_count[j] += 1

    def _close_period(self, j: int) -> None:
        """Count person ``j``'s attendances in their last year with any."""
        y, c = self.att_period[j], self.att_count[j]
        if y < 0:
            return
        self.attenders[y] += 1
        if c == 1:
            self.attenders_once[y] += 1
        elif c >= FREQUENT_ATTENDANCES:
            self.fa_people[y] += 1
            self.fa_attendances[y] += c

    def admitted(self, p: Patient) -> None:
        """``p`` has just got an acute bed (an emergency admission)."""
        j = self.index(p.person)
        if j < 0:
            return
        t = self.env.now
        self.n_admissions.add(t, p.neighbourhood)
        if self.admissions[j] > 0:
            self.n_repeat.add(t, p.neighbourhood)
        self.admissions[j] += 1

    def died(self, p: Patient) -> None:
        """``p`` died in hospital: the person leaves the registry."""
        j = self.index(p.person)
        if j < 0 or not self.registry.alive[j]:
            return
        self.registry.leave(j)
        for f in self.on_leave:
            f(j)

    # ------------------------------------------------------------------ for case finding
    def alive(self, j: int) -> bool:
        return bool(self.registry.alive[j])

    def unknown(self, s: int) -> float:
        """People of stratum ``s`` without a crisis history (expected head count
        less the known people still here)."""
        reg = self.registry
        return max(reg.size[s] - reg.alive_count[s], 0.0)

    def candidates(
        self, in_scope: np.ndarray, t_hours: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Known people still here in the strata ``in_scope`` (a mask): their
        indices, strata and expected crisis rates per year given their history.

        The rate is the mean of the person's rate given their stratum and their
        count *n* of crises since the start: *lambda_s (k_s + n) / (k_s + lambda_s
        t)*, the gamma posterior (with no heterogeneity, the stratum's rate).
        """
        reg = self.registry
        strata = np.array(reg.stratum, dtype=np.int64)
        keep = in_scope[strata] & (np.frombuffer(bytes(reg.alive), dtype=np.uint8) > 0)
        idx = np.flatnonzero(keep)
        s = strata[idx]
        lam = np.asarray(self.rate_per_year)[s]
        if self.heterogeneity:
            k = np.asarray(self.shape)[s]
            n = np.array(reg.crises, dtype=np.int64)[idx]
            score = lam * (k + n) / (k + lam * t_hours / HOURS_PER_YEAR)
        else:
            score = lam
        return idx, s, score

    # ------------------------------------------------------------------ outputs
    def kpis(self, window: KpiWindow) -> dict[str, float]:
        if not self.active:
            return {}
        crises = np.array(self.crises_measured, dtype=np.int64)
        with_crisis = int((crises > 0).sum())
        attenders = np.array(self.attenders, dtype=float)
        once = np.array(self.attenders_once, dtype=float)
        fa_people = np.array(self.fa_people, dtype=float)
        fa_att = np.array(self.fa_attendances, dtype=float)
        # each person's last year with attendances is still open: count it here
        periods = np.array(self.att_period, dtype=np.int64)
        counts = np.array(self.att_count, dtype=np.int64)
        open_ = periods >= 0
        np.add.at(attenders, periods[open_], 1.0)
        np.add.at(once, periods[open_ & (counts == 1)], 1.0)
        frequent = open_ & (counts >= FREQUENT_ATTENDANCES)
        np.add.at(fa_people, periods[frequent], 1.0)
        np.add.at(fa_att, periods[frequent], counts[frequent].astype(float))
        attendances = float(sum(self.attendances))
        admissions = window.count("people_admissions")
        repeat = window.count("people_repeat_admissions")
        nan = float("nan")
        return {
            "people_with_crisis": float(with_crisis),
            "people_crises_per_person": float(crises.sum()) / with_crisis if with_crisis else nan,
            "people_share_2plus_crises": float((crises >= 2).sum()) / with_crisis
            if with_crisis
            else nan,
            "people_ae_attenders": float(attenders.mean()),
            "people_ae_attenders_once_share": float(once.sum() / attenders.sum())
            if attenders.sum()
            else nan,
            "people_frequent_attenders": float(fa_people.mean()),
            "people_frequent_attender_share": float(fa_att.sum()) / attendances
            if attendances
            else nan,
            "people_repeat_admissions": repeat,
            "people_repeat_admission_share": repeat / admissions if admissions else nan,
            "people_known": float(sum(self.registry.alive_count)),
        }

    def nbytes(self) -> int:
        """Memory held by the people's arrays, in bytes (registry and counts)."""
        own = sum(
            a.buffer_info()[1] * a.itemsize
            for a in (self.crises_measured, self.admissions, self.att_period, self.att_count)
        )
        return self.registry.nbytes() + own
