"""Risk stratification and weekly multidisciplinary team (MDT) case management.

A risk tool ranks each neighbourhood's residents and flags some for review. It is
imperfect: it finds ``sensitivity`` of the truly high-risk group (by default
people 65+ with moderate or severe frailty living at home), and only
``precision`` of the people it flags are truly high-risk - the rest are other
older residents. Each week the neighbourhood MDT reviews a limited number of
flagged people; those reviewed join the caseload of a case manager or care
navigator if there is room (``staff x caseload_per_staff``) and otherwise wait.
People stay on the caseload for a random time (exponential, mean
``caseload_months``), then return to the pool the tool can flag again.

Case management acts on the crises of people on the caseload: their crisis rate
is multiplied by ``crisis_rate_ratio`` (by thinning) and an extra share of their
crises is managed in the community. The evidence on admissions is largely null
(see configs/config.yaml), so the default rate ratio is 1.

Who is on the caseload depends on whether the model knows people
(:mod:`sim.people`):

* **Strata only** (``people.enabled: false``). People are not simulated one by
  one: the caseload is held as counts per population stratum, and a crisis from
  a stratum belongs to a case-managed person with probability caseload /
  stratum size, decided by the patient's own random number so that paired
  scenarios stay aligned.
* **People.** Real risk tools lean on a person's past emergency use, so the tool
  sees the people with a crisis history. In each stratum it flags as many people
  as before (``sensitivity`` and ``precision`` set how many), but it flags the
  known people first, those with the highest expected crisis rate given their
  history first (the rate the model itself would predict: stratum rate x
  (k + crises so far) / (k + stratum rate x years so far)); the rest of the
  stratum's flags go to people without a history, held as counts as before. Each
  week the MDT reviews the flagged people with a history first, highest
  expected rate first, then (if it has reviews left) people drawn at random from
  the flags without one. A known person joins the caseload as that person: their
  crises, and only theirs, are case-managed, and they come back to the same
  case manager. A member without a history is anonymous until their first
  crisis, which is case-managed with probability anonymous members / people of
  the stratum without a history (the patient's own random number again, which
  also picks which member they were); from then on the member is that person.
  People who die in hospital leave the caseload at once.

``mdt_caseload_crisis_rate_ratio`` compares the caseload's crises with what its
strata's average rates would give: about 1 with strata only (the caseload is a
random share of each stratum), above 1 when case finding finds the people who
come back.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Generator, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final

import numpy as np

from sim.community import CommunityResponse
from sim.components import Component, CostLineSpec
from sim.config.schema import WEEKDAYS
from sim.interventions.base import Intervention
from sim.patient import Draw, Patient
from sim.people import People

if TYPE_CHECKING:
    from sim.components import Site
    from sim.config.schema import CostsConfig, MDTConfig
    from sim.core.window import KpiWindow
    from sim.hooks import Hooks

HOURS_PER_MONTH: Final = 365.25 / 12 * 24
MEETING_HOUR: Final = 13.0


class MDTCaseManagement(Intervention):
    """Neighbourhood MDTs with finite caseloads, acting on case-managed crises."""

    name = "mdt"
    order = 10
    kpi_docs: ClassVar[Mapping[str, tuple[str, str]]] = {
        "mdt_reviews": ("count", "Cases reviewed at neighbourhood MDT meetings."),
        "mdt_caseload_mean": ("patients", "Time-average number of people on MDT caseloads."),
        "mdt_waiting": (
            "patients",
            "Time-average number reviewed and waiting for a caseload place.",
        ),
        "mdt_high_risk_share": (
            "share",
            "Share of the caseload truly high-risk (case-finding precision).",
        ),
        "mdt_staff_utilisation": ("share", "Caseload / caseload capacity of live neighbourhoods."),
        "mdt_case_managed_crises": ("count", "Crises of people on an MDT caseload."),
        "mdt_caseload_expected_crises": (
            "count",
            "Crises the caseload would have had at its strata's average crisis rates "
            "(times the case-management rate ratio): the caseload's strata, time-weighted.",
        ),
        "mdt_caseload_crisis_rate_ratio": (
            "ratio",
            "mdt_case_managed_crises / mdt_caseload_expected_crises: how much more often "
            "than its strata's average the caseload has crises (about 1 without people).",
        ),
    }
    cost_lines = (
        CostLineSpec("mdt_staff_year", "case manager year"),
        CostLineSpec("mdt_case_review", "case reviewed"),
    )
    # case-managed crises are more often managed at home; people with a crisis
    # history are found through the people registry
    uses = ("community", "people")
    community: CommunityResponse
    people: People

    def __init__(self, site: Site, cfg: MDTConfig) -> None:
        super().__init__(site, cfg)
        self.n_mdt_case_managed_crises = self.rec.counter("mdt_case_managed_crises")
        self.n_mdt_reviews = self.rec.counter("mdt_reviews")
        strata = site.strata
        home = ~strata.care_home
        self.high_risk = self.strata_matching(cfg.eligible_ages, cfg.eligible_frailty) & home
        others = home & (strata.age >= 1) & ~self.high_risk
        n_nb = len(strata.names)
        # the flagged pool: true positives and false positives, per stratum
        self.pool = np.zeros(len(strata))
        for nb in range(n_nb):
            in_nb = strata.neighbourhood == nb
            tp = cfg.sensitivity * strata.size * (self.high_risk & in_nb)
            fp_total = tp.sum() * (1 - cfg.precision) / cfg.precision
            fp_w = strata.size * (others & in_nb)
            fp = fp_total * fp_w / fp_w.sum() if fp_w.sum() > 0 else 0 * fp_w
            self.pool += tp + fp
        self.size = strata.size
        self.members = np.zeros(len(strata))  # people on caseload, per stratum
        self.members_l: list[float] = self.members.tolist()
        self.size_l: list[float] = np.maximum(strata.size, 1e-12).tolist()
        self.capacity = cfg.staff * cfg.caseload_per_staff
        self.caseload = [0] * n_nb
        self.staffed: set[int] = set()
        # reviewed and waiting for a place: (stratum, person index or -1 if anonymous)
        self.waiting: list[deque[tuple[int, int]]] = [deque() for _ in range(n_nb)]
        # when each member leaves: (time, member id)
        self.exits: list[list[tuple[float, int]]] = [[] for _ in range(n_nb)]
        self.strata_of_nb = [np.flatnonzero(strata.neighbourhood == nb) for nb in range(n_nb)]
        self.nb_of_stratum = strata.neighbourhood
        #: the strata the risk tool looks at (older people living at home)
        self.in_scope = self.high_risk | others
        self.rng = site.streams.get("mdt.meetings")
        self.caseload_level = self.rec.level("mdt_caseload")
        self.capacity_level = self.rec.level("mdt_capacity")
        self.waiting_level = self.rec.level("mdt_waiting")
        self.true_positive_level = self.rec.level("mdt_caseload_high_risk")
        #: sum over the caseload of its members' strata's crisis rates, a year
        self.stratum_rate_level = self.rec.level("mdt_caseload_stratum_rate")
        self.u_member = Draw("u_mdt", "mdt.member")
        # members: each place on a caseload has an id; its stratum, and its person
        # once known (people only)
        self._next_member = 0
        self.member_stratum: dict[int, int] = {}
        self.member_person: dict[int, int] = {}
        self.person_member: dict[int, int] = {}
        #: people on a caseload or waiting for a place (people only)
        self.listed: set[int] = set()
        #: members of each stratum not yet known as a person (people only)
        self.anonymous: list[list[int]] = [[] for _ in range(len(strata))]
        self.by_person = False  # set in connect
        self.rate_per_year: list[float] = []
        # the decision on the last crisis of someone without a history: its
        # patient id, and the anonymous member it is (-1: none)
        self._first_id = -1
        self._first_member = -1

    def connect(self, links: Mapping[str, Component]) -> None:
        super().connect(links)
        self.community = self.link("community", CommunityResponse)
        people = self.people = self.link("people", People)
        self.rate_per_year = people.rate_per_year
        self.by_person = people.active
        if self.by_person:
            people.on_first.append(self._first_crisis)
            people.on_leave.append(self._person_left)

    def draws(self) -> list[Draw]:
        return [self.u_member]

    def install(self, hooks: Hooks) -> None:
        hooks.crisis_rate.append(self.rate)
        hooks.rate_ceiling = max(hooks.rate_ceiling, self.cfg.crisis_rate_ratio)
        hooks.community.append(self.managed_at_home)

    def processes(self) -> Iterable[Generator[Any, Any, Any]]:
        return (self.meetings(),)

    # ------------------------------------------------------------------ hooks
    def case_managed(self, p: Patient) -> bool:
        """Whether ``p`` is on a caseload now: the person, or (strata only) their
        share of the stratum's caseload."""
        if not self.by_person:
            s = p.stratum
            return self.u_member.of(p) < self.members_l[s] / self.size_l[s]
        j = self.people.index(p.person)
        if j >= 0:
            return j in self.person_member
        return self._anonymous_member(p) >= 0

    def _anonymous_member(self, p: Patient) -> int:
        """For a crisis of someone without a history: the anonymous member of
        their stratum they are, or -1. Decided once per crisis, before the person
        enters the registry (the count of people without a history then drops)."""
        if p.id == self._first_id:
            return self._first_member
        s = p.stratum
        members = self.anonymous[s]
        m = -1
        if members:
            n = len(members)
            # u x unknown < n: a member; its integer part says which one
            x = self.u_member.of(p) * max(self.people.unknown(s), float(n))
            if x < n:
                m = members[int(x)]
        self._first_id, self._first_member = p.id, m
        return m

    def _first_crisis(self, p: Patient, j: int) -> None:
        """Someone's first crisis is kept: an anonymous member becomes person ``j``."""
        m = self._anonymous_member(p)
        if m < 0:
            return
        self.anonymous[p.stratum].remove(m)
        self.member_person[m] = j
        self.person_member[j] = m
        self.listed.add(j)

    def _person_left(self, j: int) -> None:
        """Person ``j`` died: off the caseload now (a wait ends when reached)."""
        m = self.person_member.get(j)
        if m is not None:
            self._leave(int(self.nb_of_stratum[self.member_stratum[m]]), m)

    def rate(self, p: Patient) -> float:
        return self.cfg.crisis_rate_ratio if self.case_managed(p) else 1.0

    def managed_at_home(self, p: Patient) -> bool | None:
        # called at the crisis's own time, right after rate(): the caseload is the same
        if not self.case_managed(p):
            return None
        self.n_mdt_case_managed_crises.add(p.arrival, p.neighbourhood)
        # an extra share of their crises is managed at home by the case manager;
        # the rest meet the base rule like anyone's (None), so under a capacity
        # rule (same-day slots) case management adds to it and never takes away
        community = self.community
        base = community.base_share(p)
        if community.managed_below(p, base + self.cfg.extra_community_share):
            return True if not community.managed_below(p, base) else None
        return None

    # ------------------------------------------------------------------ meetings
    def meetings(self) -> Generator[Any, Any, None]:
        """Weekly: discharge finished cases, fill free places, review new cases."""
        env, clock = self.env, self.site.clock
        day = (WEEKDAYS.index(self.cfg.meeting_day) - clock.start_weekday) % 7
        yield env.timeout(day * 24 + MEETING_HOUR)
        while True:
            # the people the tool can see this week, every neighbourhood at once
            known = self._known_candidates() if self.by_person else None
            for nb in range(len(self.caseload)):
                if self.schedule.live(nb, env.now):
                    self._meeting(nb, known)
            yield env.timeout(7 * 24)

    def _meeting(
        self, nb: int, known: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    ) -> None:
        now = self.env.now
        exits = self.exits[nb]
        while exits and exits[0][0] <= now:
            _, m = heapq.heappop(exits)
            if m in self.member_stratum:  # (one who died has left already)
                self._leave(nb, m)
        if nb not in self.staffed:  # go-live: the team's places become available
            self.staffed.add(nb)
            self.capacity_level.add(self.capacity, now)
        waiting = self.waiting[nb]
        while waiting and self.caseload[nb] < self.capacity:
            self.waiting_level.add(-1, now)
            s, j = waiting.popleft()
            if j >= 0 and not self.people.alive(j):  # died while waiting
                self.listed.discard(j)
                self.pool[s] += 1
                continue
            self._join(nb, s, j)
        idx = self.strata_of_nb[nb]
        whole = np.floor(np.maximum(self.pool[idx], 0.0)).astype(np.int64)
        if known is not None:
            self._review_people(nb, idx, whole, known)
            return
        n = min(self.cfg.reviews_per_meeting, int(whole.sum()))
        if n > 0:
            # people, not fractions: draw without replacement from whole counts
            picks = self.rng.choice(np.repeat(idx, whole), size=n, replace=False)
            self.n_mdt_reviews.add(now, nb, n)
            for s in picks.tolist():
                self._reviewed(nb, s, -1)

    def _known_candidates(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """People with a crisis history the tool looks at and who are not on a
        caseload or waiting: indices, strata and expected rates, highest first."""
        j, s, score = self.people.candidates(self.in_scope, self.env.now)
        if self.listed:
            free = ~np.isin(j, np.fromiter(self.listed, dtype=np.int64))
            j, s, score = j[free], s[free], score[free]
        # by expected rate, highest first (ties: the earlier known person first)
        order = np.lexsort((j, -score))
        return j[order], s[order], score[order]

    def _review_people(
        self,
        nb: int,
        idx: np.ndarray,
        whole: np.ndarray,
        known: tuple[np.ndarray, np.ndarray, np.ndarray],
    ) -> None:
        """Reviews when the tool sees people: flagged people with a history first,
        highest expected rate first, then anonymous flags drawn at random."""
        j_all, s_all, _ = known
        here = self.nb_of_stratum[s_all] == nb
        j_nb, s_nb = j_all[here], s_all[here]
        # each stratum's flags go to its known people first, in order of rate:
        # a person is flagged if fewer than the stratum's flags rank above them
        quota = np.zeros(len(self.pool), dtype=np.int64)
        quota[idx] = whole
        by_stratum = np.argsort(s_nb, kind="stable")  # keeps rate order within each
        grouped = s_nb[by_stratum]
        rank = np.empty(len(s_nb), dtype=np.int64)
        rank[by_stratum] = np.arange(len(grouped)) - np.searchsorted(grouped, grouped)
        flagged = rank < quota[s_nb]
        j_nb, s_nb = j_nb[flagged], s_nb[flagged]
        anonymous = whole - np.bincount(s_nb, minlength=len(self.pool))[idx]
        n = min(self.cfg.reviews_per_meeting, len(j_nb) + int(anonymous.sum()))
        if n <= 0:
            return
        self.n_mdt_reviews.add(self.env.now, nb, n)
        n_known = min(n, len(j_nb))
        for s, j in zip(s_nb[:n_known].tolist(), j_nb[:n_known].tolist(), strict=True):
            self.listed.add(j)
            self._reviewed(nb, s, j)
        if n > n_known:
            picks = self.rng.choice(np.repeat(idx, anonymous), size=n - n_known, replace=False)
            for s in picks.tolist():
                self._reviewed(nb, s, -1)

    def _reviewed(self, nb: int, s: int, j: int) -> None:
        """A flagged person of stratum ``s`` (person ``j``, or -1) has been reviewed:
        onto the caseload if there is room, else to wait."""
        self.pool[s] -= 1
        if self.caseload[nb] < self.capacity:
            self._join(nb, s, j)
        else:
            self.waiting[nb].append((s, j))
            self.waiting_level.add(1, self.env.now)

    def _join(self, nb: int, s: int, j: int = -1) -> None:
        now = self.env.now
        m = self._next_member
        self._next_member += 1
        self.member_stratum[m] = s
        if j >= 0:
            self.member_person[m] = j
            self.person_member[j] = m
        elif self.by_person:
            self.anonymous[s].append(m)
        self.members[s] += 1
        self.members_l[s] += 1
        self.caseload[nb] += 1
        self.caseload_level.add(1, now)
        self.stratum_rate_level.add(self.rate_per_year[s], now)
        if self.high_risk[s]:
            self.true_positive_level.add(1, now)
        months = self.rng.exponential(self.cfg.caseload_months)
        heapq.heappush(self.exits[nb], (now + months * HOURS_PER_MONTH, m))

    def _leave(self, nb: int, m: int) -> None:
        now = self.env.now
        s = self.member_stratum.pop(m)
        j = self.member_person.pop(m, -1)
        if j >= 0:
            del self.person_member[j]
            self.listed.discard(j)
        elif self.by_person:
            self.anonymous[s].remove(m)
        self.members[s] -= 1
        self.members_l[s] -= 1
        self.caseload[nb] -= 1
        self.caseload_level.add(-1, now)
        self.stratum_rate_level.add(-self.rate_per_year[s], now)
        if self.high_risk[s]:
            self.true_positive_level.add(-1, now)
        self.pool[s] += 1  # back in the pool the tool can flag

    # ------------------------------------------------------------------ outputs
    def cost_quantities(
        self, window: KpiWindow, kpis: Mapping[str, float], costs: CostsConfig
    ) -> dict[str, float]:
        per_staff = self.cfg.caseload_per_staff
        staff_years = window.mean("mdt_capacity") / per_staff * window.years if per_staff else 0.0
        return {"mdt_staff_year": staff_years, "mdt_case_review": kpis.get("mdt_reviews", 0.0)}

    def kpis(self, window: KpiWindow) -> dict[str, float]:
        caseload = window.mean("mdt_caseload")
        crises = window.count("mdt_case_managed_crises")
        expected = (
            window.integral_days("mdt_caseload_stratum_rate") / 365.0 * self.cfg.crisis_rate_ratio
        )
        return {
            "mdt_reviews": window.count("mdt_reviews"),
            "mdt_caseload_mean": caseload,
            "mdt_waiting": window.mean("mdt_waiting"),
            "mdt_high_risk_share": window.mean("mdt_caseload_high_risk") / caseload
            if caseload
            else float("nan"),
            "mdt_staff_utilisation": window.utilisation("mdt_caseload", "mdt_capacity"),
            "mdt_case_managed_crises": crises,
            "mdt_caseload_expected_crises": expected,
            "mdt_caseload_crisis_rate_ratio": crises / expected if expected else float("nan"),
        }
