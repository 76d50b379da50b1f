"""Step-up intermediate care: admission to intermediate care from the community.

Intermediate care is not only a way out of hospital (step-down). People at home
whose needs rise are also referred straight into it by their GP, the
neighbourhood team or urgent community response (step-up), into the same
intermediate-care beds and home reablement that discharged patients wait for.
This service adds that second stream of demand. Referrals come from three
sources:

1. **Crises managed in the community.** Through the ``community_managed`` hook:
   of the crises of people aged 65+ living at home that the community manages the
   same day, a share by eFI frailty band (``community_share``) is followed by a
   referral. The crisis episode ends in the community as before; the referral is
   a new episode of the same person (as a readmission is).
2. **Direct GP and neighbourhood-team referrals.** A Poisson stream at
   ``direct_per_1000_65plus`` referrals per 1,000 registered people aged 65+ a
   year, constant in time. The person is drawn from the strata of people 65+
   living at home, in proportion to head count x ``direct_frailty_weight``.
3. **Other services**, through :meth:`StepUp.refer`, with a patient they have
   already counted into the system and now hand over (urgent community
   response, virtual wards).

Each referral goes to bed-based intermediate care (pathway 2's service) with
probability ``bed_share``, else to home-based reablement (pathway 1's), and waits
at home for a place through the discharge team's
:meth:`~sim.discharge.team.DischargeTeam.place_from_home`: the same queue, served
in order of request, that step-down patients wait in while delayed in hospital.
So step-up and step-down compete for the same places. A wait at home is not a
delayed transfer of care and adds no delayed days; the step-down patients it
holds back do.

A referral that has found no place after ``max_wait_days`` is withdrawn. A share
``to_ae_share`` of those people attend A&E instead, as a new episode that A&E
treats as any other attendance (it may admit them or send them home); the rest
manage without the service. (The flow's direct-admission entry,
``Flow.handle_admission``, counts a new patient into the system and is not used
for a patient already in it.) The stay itself is the discharge team's: its
length, the end of it, and the exit from the system.

Admissions avoided are not counted. Referrals in this model come from people
whose crisis the community already manages, or from people with no crisis in the
model at all, so none of them would have been admitted in the model without
step-up care; a service that diverts people on their way to hospital into step-up
care (through :meth:`StepUp.refer`) counts the admissions it avoids itself.

The places are already paid for by the discharge team's cost lines (every place
under block contracts; every occupied place-day, step-up ones included, under
spot contracts), so the service has no cost line of its own.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal

import numpy as np

from sim.components import Component
from sim.config.blocks import register_block
from sim.config.build import num
from sim.config.schema import FrailtyProbabilities, FrailtyValues
from sim.core.recorder import DailyCount
from sim.population import AGE_65_74

if TYPE_CHECKING:
    from sim.components import Site
    from sim.core.window import KpiWindow
    from sim.discharge.team import DischargeTeam
    from sim.hooks import Hooks
    from sim.patient import Draw, Patient

HOURS_PER_YEAR: Final = 365.0 * 24.0
Setting = Literal["bed", "home"]
#: the discharge pathway whose services each setting uses
PATHWAY_OF_SETTING: Final[dict[str, int]] = {"bed": 2, "home": 1}
SOURCES: Final = ("community", "direct", "other")


def _community_share() -> FrailtyProbabilities:
    return FrailtyProbabilities(fit=0.05, mild=0.10, moderate=0.20, severe=0.30)


def _frailty_weight() -> FrailtyValues:
    return FrailtyValues(fit=1.0, mild=1.64, moderate=2.45, severe=3.16)


@dataclass(frozen=True, slots=True)
class StepUpConfig:
    """Step-up intermediate care: referrals from the community into the places
    step-down patients use (sources and derivations: docs/evidence.md)."""

    #: the settings a planner's form shows first (sim.config.levers.key_levers)
    KEY_LEVERS: ClassVar[tuple[str, ...]] = (
        "enabled",
        "direct_per_1000_65plus",
        "bed_share",
        "max_wait_days",
        "to_ae_share",
    )

    enabled: bool = False
    community_share: FrailtyProbabilities = field(default_factory=_community_share)
    direct_per_1000_65plus: float = num(
        30.0, ge=0, units="referrals per 1,000 registered people aged 65+ a year"
    )
    direct_frailty_weight: FrailtyValues = field(default_factory=_frailty_weight)
    bed_share: float = num(0.2, ge=0, le=1, units="share of referrals to bed-based care")
    max_wait_days: float = num(14.0, gt=0, units="days a referral waits for a place")
    to_ae_share: float = num(0.25, ge=0, le=1, units="share of withdrawn referrals")


register_block("step_up", StepUpConfig)


class StepUp(Component):
    """Referrals from the community into intermediate-care beds and reablement."""

    name = "step_up"
    order = 55
    uses = ("discharge",)
    kpi_docs: ClassVar[Mapping[str, tuple[str, str]]] = {
        "step_up_referrals": ("count", "Step-up intermediate-care referrals, all sources."),
        "step_up_referrals_community": (
            "count",
            "Step-up referrals following a crisis managed in the community.",
        ),
        "step_up_referrals_direct": (
            "count",
            "Step-up referrals made directly by GPs and neighbourhood teams.",
        ),
        "step_up_referrals_other": (
            "count",
            "Step-up referrals handed over by other services (StepUp.refer).",
        ),
        "step_up_starts_bed": (
            "count",
            "Step-up stays started in bed-based intermediate care (pathway 2's service).",
        ),
        "step_up_starts_home": (
            "count",
            "Step-up stays started in home-based reablement (pathway 1's service).",
        ),
        "step_up_mean_wait_days": (
            "days",
            "Mean wait at home from step-up referral to the start of the stay, over stays "
            "started in the period.",
        ),
        "step_up_mean_wait_days_bed": ("days", "The same mean, bed-based stays only."),
        "step_up_mean_wait_days_home": ("days", "The same mean, home-based stays only."),
        "step_up_mean_waiting": (
            "patients",
            "Time-average number of step-up referrals waiting at home for a place.",
        ),
        "step_up_withdrawn": (
            "count",
            "Step-up referrals withdrawn after max_wait_days without a place (the person "
            "managed without the service).",
        ),
        "step_up_to_ae": (
            "count",
            "Step-up referrals withdrawn after max_wait_days whose person attended A&E "
            "instead (a new episode; A&E decides on admission as for any attendance).",
        ),
        "step_up_share_of_starts_bed": (
            "share",
            "Step-up starts / (step-up starts + pathway 2 discharges) in bed-based care; "
            "discharges stand in for step-down starts (they differ by those still waiting "
            "at either end of the period).",
        ),
        "step_up_share_of_starts_home": (
            "share",
            "Step-up starts / (step-up starts + pathway 1 discharges) in home-based care.",
        ),
    }
    discharge: DischargeTeam

    @classmethod
    def build(cls, site: Site, cfg: Any) -> StepUp | None:
        block = cfg.block(cls.name)
        return cls(site, block) if block.enabled else None

    def __init__(self, site: Site, cfg: StepUpConfig) -> None:
        super().__init__(site, cfg)
        self.cfg = cfg
        strata = site.strata
        at_home_65 = (strata.age >= AGE_65_74) & ~strata.care_home
        by_frailty = np.asarray(cfg.community_share.as_tuple())[strata.frailty]
        #: share of managed crises followed by a referral, per stratum
        self.community_share: list[float] = np.where(at_home_65, by_frailty, 0.0).tolist()
        self.follows_up = any(s > 0 for s in self.community_share)
        weights = (
            strata.size
            * at_home_65
            * np.asarray(cfg.direct_frailty_weight.as_tuple())[strata.frailty]
        )
        total = float(weights.sum())
        #: direct referrals an hour (none if nobody 65+ lives at home)
        self.direct_per_hour = (
            cfg.direct_per_1000_65plus * strata.aged_65_plus / 1000.0 / HOURS_PER_YEAR
            if total > 0
            else 0.0
        )
        self.cum_weights = np.cumsum(weights) / total if total > 0 else weights
        self.max_wait_h = cfg.max_wait_days * 24.0
        # the patient's own uniforms: followed up? bed or home? to A&E if withdrawn?
        from sim.patient import Draw  # (the model's modules: see connect)

        self.u_community = Draw("u_step_up_community", "step_up.community")
        self.u_setting = Draw("u_step_up_setting", "step_up.setting")
        self.u_to_ae = Draw("u_step_up_to_ae", "step_up.to_ae")
        rec = self.rec
        self.n_referrals: dict[str, DailyCount] = {
            s: rec.counter(f"step_up_referrals_{s}") for s in SOURCES
        }
        self.n_starts: dict[str, DailyCount] = {
            s: rec.counter(f"step_up_starts_{s}") for s in PATHWAY_OF_SETTING
        }
        self.waits: dict[str, list[tuple[float, float]]] = {
            s: rec.sample_list(f"step_up_wait_days_{s}") for s in PATHWAY_OF_SETTING
        }
        self.n_withdrawn = rec.counter("step_up_withdrawn")
        self.n_to_ae = rec.counter("step_up_to_ae")
        self.waiting = rec.level("step_up_waiting")
        # makers of new episodes, one per source so each keeps its own streams

    def connect(self, links: Mapping[str, Component]) -> None:
        super().connect(links)
        # imported here: validating a config imports this module for its block
        # only, without the model's modules (and SciPy)
        from sim.discharge.team import DischargeTeam

        self.discharge = self.link("discharge", DischargeTeam)

    def draws(self) -> list[Draw]:
        return [self.u_community, self.u_setting, self.u_to_ae]

    def install(self, hooks: Hooks) -> None:
        if self.follows_up:
            hooks.community_managed.append(self.after_community)

    def processes(self) -> Iterable[Generator[Any, Any, Any]]:
        # with no direct referrals nothing is scheduled (so a run with every rate
        # at zero is event for event the run without the service)
        return (self._direct_referrals(),) if self.direct_per_hour > 0 else ()

    # ------------------------------------------------------------------ referrals
    def refer(self, p: Patient, setting: Setting | None = None, source: str = "other") -> None:
        """Refer ``p`` to step-up care now, to ``setting`` (``"bed"`` or ``"home"``;
        None: drawn from ``bed_share`` with the patient's own uniform). ``source``
        names the referrer in the KPIs: other services leave it as ``"other"``.

        The caller has counted ``p`` into the system (``Flow.enter``) and hands the
        patient over: from here the service waits for a place, starts the stay, or
        withdraws the referral, and the patient leaves the system through it.
        """
        if setting is None:
            setting = "bed" if self.u_setting.of(p) < self.cfg.bed_share else "home"
        elif setting not in PATHWAY_OF_SETTING:
            raise ValueError(f"step-up setting {setting!r}: expected 'bed' or 'home'")
        if source not in self.n_referrals:
            raise ValueError(f"step-up referral source {source!r}: expected one of {SOURCES}")
        now = self.env.now
        self.n_referrals[source].add(now, p.neighbourhood)
        self.rec.log(now, p.id, p.person, "step_up_referral", f"{source}, {setting}")
        self.env.process(self._wait(p, setting))

    def after_community(self, p: Patient) -> None:
        """The community has managed ``p``'s crisis: refer a share of people to
        step-up care, as a new episode of the same person."""
        if self.u_community.of(p) >= self.community_share[p.stratum]:
            return
        q = self._new_episode("community", p.person, p.stratum)
        self.rec.log(self.env.now, q.id, q.person, "step_up_after_crisis", f"episode {p.id}")
        self.refer(q, source="community")

    def _direct_referrals(self) -> Generator[Any, Any, None]:
        """Poisson stream of direct referrals from GPs and neighbourhood teams."""
        streams = self.site.streams
        gaps = streams.get("step_up.direct.gaps")
        who = streams.get("step_up.direct.stratum")
        mean_gap_h = 1.0 / self.direct_per_hour
        last = len(self.cum_weights) - 1
        while True:
            yield self.env.timeout(float(gaps.exponential(mean_gap_h)))
            stratum = min(int(np.searchsorted(self.cum_weights, who.random(), side="right")), last)
            pid = self.site.flow.next_id()
            p = self._new_episode("direct", pid, stratum, pid)
            self.refer(p, source="direct")

    def _new_episode(self, source: str, person: int, stratum: int, pid: int = -1) -> Patient:
        """A new patient counted into the system now, with draws of its own from
        streams kept for ``source`` (so one source's episodes never shift another's,
        nor the crises')."""
        factory = self.site.episode_factory(f"step_up/{source}/")
        flow = self.site.flow
        p = factory.make_one(flow.next_id() if pid < 0 else pid, person, stratum, self.env.now)
        flow.enter(p)
        return p

    # ------------------------------------------------------------------ waiting
    def _wait(self, p: Patient, setting: str) -> Generator[Any, Any, None]:
        """Wait at home for a place, then start the stay; or withdraw."""
        env = self.env
        asked = env.now
        self.waiting.add(1, asked)
        # the discharge team's wait for a place from home gives up at a deadline
        # (it is written for a readmission that comes first): here, the longest wait
        discharge = self.discharge
        svc = yield from discharge.place_from_home(
            p, PATHWAY_OF_SETTING[setting], asked + self.max_wait_h
        )
        now = env.now
        self.waiting.add(-1, now)
        if svc is None:
            self._withdraw(p)
            return
        self.n_starts[setting].add(now, p.neighbourhood)
        self.waits[setting].append((now, (now - asked) / 24.0))
        self.rec.log(now, p.id, p.person, "step_up_start", svc.name)
        # not from hospital: no readmission to book
        discharge.start_downstream_stay(p, svc, None, from_hospital=False)

    def _withdraw(self, p: Patient) -> None:
        """No place within ``max_wait_days``: the person attends A&E (a share) or
        manages without the service."""
        flow, now = self.site.flow, self.env.now
        if self.u_to_ae.of(p) < self.cfg.to_ae_share:
            self.n_to_ae.add(now, p.neighbourhood)
            flow.exit(p, "step_up_to_ae")
            q = self._new_episode("to_ae", p.person, p.stratum)
            self.rec.log(now, q.id, q.person, "step_up_failed_attendance", f"episode {p.id}")
            flow.handle_attendance(q)
        else:
            self.n_withdrawn.add(now, p.neighbourhood)
            flow.exit(p, "step_up_withdrawn")

    # ------------------------------------------------------------------ results
    def in_system(self) -> dict[str, int]:
        return {"step_up_waiting": int(self.waiting.value)}

    def kpis(self, window: KpiWindow) -> dict[str, float]:
        count = window.count
        k: dict[str, float] = {
            f"step_up_referrals_{s}": count(f"step_up_referrals_{s}") for s in SOURCES
        }
        k["step_up_referrals"] = sum(k[f"step_up_referrals_{s}"] for s in SOURCES)
        waits = {s: window.samples(f"step_up_wait_days_{s}") for s in PATHWAY_OF_SETTING}
        every = np.concatenate(list(waits.values()))
        k["step_up_mean_wait_days"] = float(every.mean()) if every.size else float("nan")
        for s, pathway in PATHWAY_OF_SETTING.items():
            starts = count(f"step_up_starts_{s}")
            k[f"step_up_starts_{s}"] = starts
            k[f"step_up_mean_wait_days_{s}"] = (
                float(waits[s].mean()) if waits[s].size else float("nan")
            )
            both = starts + count(f"discharges_p{pathway}")
            k[f"step_up_share_of_starts_{s}"] = starts / both if both else float("nan")
        k["step_up_mean_waiting"] = window.mean("step_up_waiting")
        k["step_up_withdrawn"] = count("step_up_withdrawn")
        k["step_up_to_ae"] = count("step_up_to_ae")
        return k
