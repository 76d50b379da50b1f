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

People are not simulated one by one: the caseload is held as counts per
population stratum, and a crisis from a stratum belongs to a case-managed person
with probability caseload / stratum size, decided by the patient's own random
number so that paired scenarios stay aligned.
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
    }
    cost_lines = (
        CostLineSpec("mdt_staff_year", "case manager year"),
        CostLineSpec("mdt_case_review", "case reviewed"),
    )
    uses = ("community",)  # case-managed crises are more often managed at home
    community: CommunityResponse

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
        self.waiting: list[deque[int]] = [deque() for _ in range(n_nb)]
        self.exits: list[list[tuple[float, int]]] = [[] for _ in range(n_nb)]
        self.strata_of_nb = [np.flatnonzero(strata.neighbourhood == nb) for nb in range(n_nb)]
        self.rng = site.streams.get("mdt.meetings")
        self.caseload_level = self.rec.level("mdt_caseload")
        self.capacity_level = self.rec.level("mdt_capacity")
        self.waiting_level = self.rec.level("mdt_waiting")
        self.true_positive_level = self.rec.level("mdt_caseload_high_risk")
        self.u_member = Draw("u_mdt", "mdt.member")

    def connect(self, links: Mapping[str, Component]) -> None:
        super().connect(links)
        self.community = self.link("community", CommunityResponse)

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
        """Whether ``p`` is on a caseload now (their share of the stratum's caseload)."""
        s = p.stratum
        return self.u_member.of(p) < self.members_l[s] / self.size_l[s]

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
            for nb in range(len(self.caseload)):
                if self.schedule.live(nb, env.now):
                    self._meeting(nb)
            yield env.timeout(7 * 24)

    def _meeting(self, nb: int) -> None:
        now = self.env.now
        exits = self.exits[nb]
        while exits and exits[0][0] <= now:
            _, s = heapq.heappop(exits)
            self._leave(nb, s)
        if nb not in self.staffed:  # go-live: the team's places become available
            self.staffed.add(nb)
            self.capacity_level.add(self.capacity, now)
        waiting = self.waiting[nb]
        while waiting and self.caseload[nb] < self.capacity:
            self.waiting_level.add(-1, now)
            self._join(nb, waiting.popleft())
        idx = self.strata_of_nb[nb]
        whole = np.floor(np.maximum(self.pool[idx], 0.0)).astype(np.int64)
        n = min(self.cfg.reviews_per_meeting, int(whole.sum()))
        if n > 0:
            # people, not fractions: draw without replacement from whole counts
            picks = self.rng.choice(np.repeat(idx, whole), size=n, replace=False)
            self.n_mdt_reviews.add(now, nb, n)
            for s in picks.tolist():
                self.pool[s] -= 1
                if self.caseload[nb] < self.capacity:
                    self._join(nb, s)
                else:
                    waiting.append(s)
                    self.waiting_level.add(1, now)

    def _join(self, nb: int, s: int) -> None:
        now = self.env.now
        self.members[s] += 1
        self.members_l[s] += 1
        self.caseload[nb] += 1
        self.caseload_level.add(1, now)
        if self.high_risk[s]:
            self.true_positive_level.add(1, now)
        months = self.rng.exponential(self.cfg.caseload_months)
        heapq.heappush(self.exits[nb], (now + months * HOURS_PER_MONTH, s))

    def _leave(self, nb: int, s: int) -> None:
        now = self.env.now
        self.members[s] -= 1
        self.members_l[s] -= 1
        self.caseload[nb] -= 1
        self.caseload_level.add(-1, now)
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
        return {
            "mdt_reviews": window.count("mdt_reviews"),
            "mdt_caseload_mean": caseload,
            "mdt_waiting": window.mean("mdt_waiting"),
            "mdt_high_risk_share": window.mean("mdt_caseload_high_risk") / caseload
            if caseload
            else float("nan"),
            "mdt_staff_utilisation": window.utilisation("mdt_caseload", "mdt_capacity"),
            "mdt_case_managed_crises": window.count("mdt_case_managed_crises"),
        }
