"""Urgent community response (UCR): a clinician at home within two hours.

When an adult's health or independence suddenly gets worse - a fall without
serious injury, a long-term condition flaring up, confusion or delirium, a
sudden loss of mobility - and they would otherwise probably go to hospital in
the next day, their GP, NHS 111, the ambulance service, their care home (or they
themselves, through 111) can ask a UCR team to see them at home. A nurse,
therapist or paramedic assesses them, starts treatment, sorts out equipment or
care, and either keeps them at home or sends them on. NHS England made the
two-hour response a national standard from April 2022: at least 70% of two-hour
referrals reached within two hours, a service at least 08:00-20:00 seven days a
week in every integrated care system (sources: docs/evidence.md, "Urgent
community response").

In the model a UCR team is a finite number of responders on an hourly rota
(weekdays and weekends), serving referrals first come, first served:

1. **Referral.** The community offers each crisis it did not manage and that is
   on its way to A&E, with who would refer it (``crisis_referral`` hook; sources
   ``gp``, ``nhs111``, ``ambulance``, ``care_home``). The referrer sends it to
   UCR with probability ``referral_share[source] x age_share[age band]`` (the
   patient's own uniform): UCR suits older people's falls and frailty crises,
   and each referrer uses it to a different extent.
2. **Acceptance.** The team's triage accepts a referral only if a responder can
   reach the person within ``max_wait_hours`` (a queue too long, or the team off
   duty): otherwise the person goes to A&E at once, as without UCR. The queue
   is :class:`~sim.core.resources.RotaQueue`, which knows on arrival when each
   referral will be started.
3. **Response.** A responder travels (``travel_minutes``) and spends
   ``visit_hours`` with the person (assessment and the first care); the person
   is *reached* when the responder arrives, and the two-hour standard counts
   referrals reached within ``target_hours`` of the referral.
4. **Outcome**, at the end of the visit. A share stays at home: of those A&E
   would have sent home, ``home_share_in_time`` when reached within the target,
   ``home_share_late`` when later; of those A&E would have admitted, the same
   times ``admitted_home_ratio`` (the sicker are more often sent on). Of the
   others, ``virtual_ward_share`` are offered a bed on a virtual ward
   (``community_step_up`` hook); the rest, and those the virtual ward cannot
   take, attend A&E from the end of the visit.

Counterfactuals use the same patient's numbers, so they are exact in paired
runs: an admission is avoided when UCR keeps at home someone A&E would have
admitted (:meth:`EmergencyDepartment.decides_admit`, the same draw A&E reads;
those handed to a virtual ward are counted apart, as the ward counts them too),
and an ambulance conveyance when someone UCR kept out of A&E would have arrived
by ambulance (:meth:`CommunityResponse.by_ambulance`).

Every decision reads the patient's own uniforms: one column read in three parts
(referred? kept home? offered a virtual ward?) and one for the visit's length,
turned into hours only for those referred. So a scenario with UCR sees the same
patients as its baseline, and a team with no staff changes nothing but its own
KPIs. The team is costed per staffed responder-hour (``staff_hour``: staffed
whether busy or not), and each person kept at home for the short support that
follows (``follow_up``), both paid by community health services.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Final

from sim.components import Component, CostLineSpec, Site
from sim.config.blocks import register_block
from sim.config.build import num
from sim.config.errors import ConfigProblem
from sim.config.schema import AgeProbabilities, CostLine, CostsConfig, Duration

if TYPE_CHECKING:
    from sim.ae import EmergencyDepartment
    from sim.community import CommunityResponse
    from sim.core.calls import Call
    from sim.core.distributions import UnitSampler
    from sim.core.level import DeferredLevel, Level
    from sim.core.recorder import DailyCount
    from sim.core.resources import RotaQueue
    from sim.core.window import KpiWindow
    from sim.hooks import Hooks
    from sim.patient import Draw, DrawPart, Patient

#: who refers a crisis to UCR (the community's referral sources)
SOURCES: Final = ("gp", "nhs111", "ambulance", "care_home")
HOURS_PER_WEEK: Final = 168
#: the hook's name for UCR when it offers a person a bed at home
STEP_UP_SOURCE: Final = "ucr"


def _day_rota() -> tuple[int, ...]:
    # 08:00-20:00 (the national minimum), 2 responders on duty (sized for the
    # default borough: docs/evidence.md, "Urgent community response")
    return tuple(2 if 8 <= h < 20 else 0 for h in range(24))


@dataclass(frozen=True, slots=True)
class ReferralShares:
    """Share of each referrer's unmanaged crises it sends to UCR (before ``age_share``)."""

    gp: float = num(0.0, ge=0, le=1, units="share of crises a GP saw and could not manage")
    nhs111: float = num(0.0, ge=0, le=1, units="share of crises NHS 111 refers on")
    ambulance: float = num(0.0, ge=0, le=1, units="share of crises an ambulance attends")
    care_home: float = num(0.0, ge=0, le=1, units="share of care-home residents' crises")

    def of(self, source: str) -> float:
        share: float = getattr(self, source)
        return share


def _referral_shares() -> ReferralShares:
    return ReferralShares(gp=0.25, nhs111=0.40, ambulance=0.10, care_home=0.30)


def _age_shares() -> AgeProbabilities:
    return AgeProbabilities(age_0_64=0.1, age_65_74=0.8, age_75_84=1.0, age_85_plus=1.0)


def _rota_problems(path: str, rota: tuple[int, ...]) -> list[ConfigProblem]:
    if len(rota) != 24 or any(v < 0 for v in rota):
        return [ConfigProblem(path, list(rota), "24 staff numbers >= 0, one per hour from 00:00")]
    return []


@dataclass(frozen=True, slots=True)
class UrgentCommunityResponseConfig:
    """Two-hour urgent community response (sources and derivations: docs/evidence.md)."""

    #: the settings a planner's form shows first (sim.config.levers.key_levers)
    KEY_LEVERS: ClassVar[tuple[str, ...]] = (
        "enabled",
        "travel_minutes",
        "max_wait_hours",
        "home_share_in_time",
        "home_share_late",
        "admitted_home_ratio",
        "virtual_ward_share",
    )

    enabled: bool = False
    referral_share: ReferralShares = field(default_factory=_referral_shares)
    age_share: AgeProbabilities = field(default_factory=_age_shares)
    #: responders on duty by hour from 00:00, weekdays; weekends the same unless given
    rota: tuple[int, ...] = field(default_factory=_day_rota)
    rota_weekend: tuple[int, ...] | None = None
    travel_minutes: float = num(25.0, ge=0, le=240, units="minutes to reach the person")
    #: the responder's time with the person: assessment and first care
    visit_hours: Duration = field(
        default_factory=lambda: Duration(mean=1.5, distribution="lognormal", cv=0.5)
    )
    max_wait_hours: float = num(
        4.0, gt=0, le=168, units="hours from referral to reaching the person, else A&E"
    )
    target_hours: float = num(2.0, gt=0, units="hours: the national two-hour standard")
    home_share_in_time: float = num(
        0.9, ge=0, le=1, units="share kept at home, reached in time, A&E would not admit"
    )
    home_share_late: float = num(
        0.8, ge=0, le=1, units="share kept at home, reached late, A&E would not admit"
    )
    admitted_home_ratio: float = num(
        0.6, ge=0, le=1, units="ratio of the home share for those A&E would admit"
    )
    virtual_ward_share: float = num(
        0.3, ge=0, le=1, units="share of those not kept home offered a virtual-ward bed"
    )
    #: one staffed responder-hour (salary, on-costs, overheads)
    staff_hour: CostLine = field(
        default_factory=lambda: CostLine(
            unit_cost=50.0, holder="community_health", budget="pooled", price_year="2013/14"
        )
    )
    #: the short support at home (up to ~48 hours) that follows a visit for
    #: someone kept at home (not the responders' time: other community staff)
    follow_up: CostLine = field(
        default_factory=lambda: CostLine(
            unit_cost=250.0, holder="community_health", budget="pooled", price_year="2020/21"
        )
    )

    def check(self, path: str) -> list[ConfigProblem]:
        problems = _rota_problems(f"{path}.rota", self.rota)
        if self.rota_weekend is not None:
            problems += _rota_problems(f"{path}.rota_weekend", self.rota_weekend)
        if self.home_share_late > self.home_share_in_time:
            problems.append(
                ConfigProblem(
                    f"{path}.home_share_late",
                    self.home_share_late,
                    f"<= home_share_in_time ({self.home_share_in_time}): a later response "
                    "cannot keep more people at home",
                )
            )
        if self.max_wait_hours * 60.0 < self.travel_minutes:
            problems.append(
                ConfigProblem(
                    f"{path}.max_wait_hours",
                    self.max_wait_hours,
                    f"at least the travel time ({self.travel_minutes} minutes): otherwise "
                    "no referral is ever accepted",
                )
            )
        return problems


register_block("urgent_community_response", UrgentCommunityResponseConfig)


class UrgentCommunityResponse(Component):
    """A UCR team on a rota that takes crises on their way to A&E."""

    name = "urgent_community_response"
    order = 45  # offered referrals before any later service at the same hook
    uses = ("ae", "community")
    kpi_docs: ClassVar[Mapping[str, tuple[str, str]]] = {
        "ucr_referrals": (
            "count",
            "Crises referred to urgent community response (all sources), accepted or not.",
        ),
        **{f"ucr_referrals_{s}": ("count", f"UCR referrals with source {s}.") for s in SOURCES},
        "ucr_not_accepted": (
            "count",
            "UCR referrals not accepted because no responder could reach the person within "
            "max_wait_hours (team off duty or queue too long): they went to A&E at once.",
        ),
        "ucr_responses": ("count", "UCR referrals accepted (a responder sent)."),
        "ucr_2h_performance": (
            "share",
            "Share of accepted UCR referrals reached within target_hours (two hours) of the "
            "referral: the national standard is at least 70%.",
        ),
        "ucr_mean_response_hours": (
            "hours",
            "Mean hours from UCR referral to a responder reaching the person (accepted referrals).",
        ),
        "ucr_kept_home": ("count", "People UCR kept at home after its visit."),
        "ucr_to_virtual_ward": (
            "count",
            "People UCR handed to a virtual ward (community_step_up) after its visit.",
        ),
        "ucr_to_ae": ("count", "People UCR sent on to A&E after its visit."),
        "ucr_admissions_avoided": (
            "count",
            "People UCR kept at home whom A&E would have admitted (the same patient's "
            "admission draw).",
        ),
        "ucr_admissions_avoided_virtual_ward": (
            "count",
            "People UCR handed to a virtual ward whom A&E would have admitted. The ward "
            "counts them too (vw_admissions_avoided): UCR's whole effect is "
            "ucr_admissions_avoided plus this, the two services' is ucr_admissions_avoided "
            "plus the ward's.",
        ),
        "ucr_conveyances_avoided": (
            "count",
            "People kept at home or handed to a virtual ward by UCR who would have arrived "
            "at A&E by ambulance.",
        ),
        "ucr_staffed_hours": ("hours", "UCR responder-hours on the rota."),
        "ucr_utilisation": ("share", "UCR responders' busy time / staffed time."),
    }
    cost_lines = (
        CostLineSpec("ucr_staff_hour", "staffed responder-hour"),
        CostLineSpec("ucr_follow_up", "person supported at home after a visit"),
    )
    ae: EmergencyDepartment
    community: CommunityResponse

    @classmethod
    def build(cls, site: Site, cfg: Any) -> UrgentCommunityResponse | None:
        block: UrgentCommunityResponseConfig = cfg.block(cls.name)
        return cls(site, block) if block.enabled else None

    def __init__(self, site: Site, cfg: UrgentCommunityResponseConfig) -> None:
        # the model's modules are imported when the model is built: validating a
        # config imports this module for its block only (and without SciPy)
        from sim.core.calls import Call
        from sim.core.distributions import sampler
        from sim.core.resources import RotaQueue
        from sim.patient import Draw, DrawPart, per_stratum

        super().__init__(site, cfg)
        self.cfg = cfg
        self._call: type[Call] = Call
        clock = site.clock
        weekend = cfg.rota_weekend if cfg.rota_weekend is not None else cfg.rota
        #: responders on duty in each hour of the week, from hour 0 of the run
        self.staff: list[int] = [
            (weekend if clock.weekday(h // 24) >= 5 else cfg.rota)[h % 24]
            for h in range(HOURS_PER_WEEK)
        ]
        rec = self.rec
        self.busy: DeferredLevel = rec.deferred_level("busy:ucr")
        self.staffed: DeferredLevel = rec.deferred_level("staffed:ucr")
        # no end of run: a referral is accepted only if reached within
        # max_wait_hours, so the queue never runs on past the horizon by much
        self.queue: RotaQueue = RotaQueue(self.staff, self.busy)
        self.in_response: Level = rec.level("ucr_in_response")
        #: referral probability by source, then by stratum (age band)
        self.source_share = {s: cfg.referral_share.of(s) for s in SOURCES}
        self.age_share: list[float] = per_stratum(site.strata, cfg.age_share.as_tuple()).tolist()
        self.travel_h = cfg.travel_minutes / 60.0
        self.max_wait_h = cfg.max_wait_hours
        self.target_h = cfg.target_hours
        self.visit_unit: UnitSampler = sampler(cfg.visit_hours)
        self.visit_mean_h = cfg.visit_hours.mean
        # the patient's own uniforms: referred? kept home? offered a virtual ward?
        # (parts of one column), and the visit's length (a column of its own, at
        # full resolution; turned into hours only for those referred)
        self.u_choices: Draw = Draw("u_ucr_choices", "ucr.choices")
        self.u_refer: DrawPart = DrawPart(self.u_choices, 0, 4)
        self.u_home: DrawPart = DrawPart(self.u_choices, 1, 4)
        self.u_ward: DrawPart = DrawPart(self.u_choices, 2, 4)
        self.u_visit: Draw = Draw("u_ucr_visit", "ucr.visit")
        self.n_referrals: dict[str, DailyCount] = {
            s: rec.counter(f"ucr_referrals_{s}") for s in SOURCES
        }
        self.n_not_accepted = rec.counter("ucr_not_accepted")
        self.n_responses = rec.counter("ucr_responses")
        self.n_home = rec.counter("ucr_kept_home")
        self.n_ward = rec.counter("ucr_to_virtual_ward")
        self.n_ae = rec.counter("ucr_to_ae")
        self.n_avoided = rec.counter("ucr_admissions_avoided")
        self.n_avoided_ward = rec.counter("ucr_admissions_avoided_virtual_ward")
        self.n_conveyances = rec.counter("ucr_conveyances_avoided")
        self.response_hours = rec.sample_list("ucr_response_hours")
        self._after_visit = self._visit_done

    def connect(self, links: Mapping[str, Component]) -> None:
        from sim.ae import EmergencyDepartment
        from sim.community import CommunityResponse

        super().connect(links)
        self.ae = self.link("ae", EmergencyDepartment)
        self.community = self.link("community", CommunityResponse)

    def draws(self) -> list[Draw]:
        return [self.u_choices, self.u_visit]

    def install(self, hooks: Hooks) -> None:
        hooks.crisis_referral.append(self.refer)

    def processes(self) -> Iterable[Generator[Any, Any, Any]]:
        # a team never on duty schedules nothing (its run is event for event the
        # run without it)
        return (self._roster(),) if max(self.staff) > 0 else ()

    def _roster(self) -> Generator[Any, Any, None]:
        """Book the staffed level's changes a week ahead, once a week (for
        utilisation and the cost of staffed hours)."""
        env, staff, staffed = self.env, self.staff, self.staffed
        on_duty = 0
        week = 0
        while True:
            t0 = week * float(HOURS_PER_WEEK)
            for h in range(HOURS_PER_WEEK):
                if staff[h] != on_duty:
                    staffed.add(staff[h] - on_duty, t0 + h)
                    on_duty = staff[h]
            week += 1
            yield env.timeout(float(HOURS_PER_WEEK))

    # ------------------------------------------------------------------ the flow
    def refer(self, p: Patient, source: str) -> bool:
        """``crisis_referral`` hook: True if UCR takes ``p`` over (a responder is
        on the way); False leaves the crisis to go on to A&E unchanged."""
        share = self.source_share.get(source)
        if share is None:
            raise ValueError(f"UCR referral source {source!r}: expected one of {SOURCES}")
        if self.u_refer.of(p) >= share * self.age_share[p.stratum]:
            return False
        env = self.env
        now = env.now
        nb = p.neighbourhood
        self.n_referrals[source].add(now, nb)
        travel = self.travel_h
        start = self.queue.first_start(now, now + self.max_wait_h - travel)
        if start == math.inf:
            self.n_not_accepted.add(now, nb)
            self.rec.log(now, p.id, p.person, "ucr_not_accepted", source)
            return False
        busy_h = travel + self.visit_mean_h * self.visit_unit.one(self.u_visit.of(p))
        booked = self.queue.start(now, busy_h)
        if booked != start:  # the queue's two answers must agree
            raise RuntimeError(f"UCR queue started a referral at {booked}, expected {start}")
        wait = start + travel - now
        self.n_responses.add(now, nb)
        self.response_hours.append((now, wait))
        self.in_response.add(1, now)
        if self.rec.events is not None:  # (no string built when nothing is logged)
            self.rec.log(now, p.id, p.person, "ucr_referral", f"{source}, {wait:.2f} h to reach")
        # the outcome at the end of the visit; the call carries how long they waited
        self._call(env, start + busy_h, self._after_visit, p, wait)
        return True

    def _visit_done(self, call: Call) -> None:
        """The visit ends: home, a virtual ward, or A&E from now."""
        p: Patient = call.p
        env, site = self.env, self.site
        now, nb = env.now, p.neighbourhood
        self.in_response.add(-1, now)
        cfg = self.cfg
        would_admit = self.ae.decides_admit(p)
        home = cfg.home_share_in_time if call.u <= self.target_h else cfg.home_share_late
        if would_admit:
            home *= cfg.admitted_home_ratio
        if self.u_home.of(p) < home:
            self.n_home.add(now, nb)
            if would_admit:
                self.n_avoided.add(now, nb)
            self._conveyance_avoided(p, now)
            self.rec.log(now, p.id, p.person, "ucr_kept_home")
            site.flow.exit(p, "ucr_home")
            return
        if self.u_ward.of(p) < cfg.virtual_ward_share and site.hooks.step_up(p, STEP_UP_SOURCE):
            # the virtual ward owns the patient from here, and counts the admission
            # it avoids among its own
            self.n_ward.add(now, nb)
            if would_admit:
                self.n_avoided_ward.add(now, nb)
            self._conveyance_avoided(p, now)
            self.rec.log(now, p.id, p.person, "ucr_to_virtual_ward")
            return
        self.n_ae.add(now, nb)
        self.rec.log(now, p.id, p.person, "ucr_to_ae")
        p.arrival = now  # A&E measures its waits from here
        site.flow.handle_attendance(p)

    def _conveyance_avoided(self, p: Patient, t: float) -> None:
        """Someone UCR kept out of A&E: count the ambulance that would have brought them."""
        if self.community.by_ambulance(p):
            self.n_conveyances.add(t, p.neighbourhood)

    # ------------------------------------------------------------------ results
    def in_system(self) -> dict[str, int]:
        return {"ucr_in_response": int(self.in_response.value)}

    def kpis(self, window: KpiWindow) -> dict[str, float]:
        from sim.core.window import mean_or_nan

        count = window.count
        k: dict[str, float] = {f"ucr_referrals_{s}": count(f"ucr_referrals_{s}") for s in SOURCES}
        k["ucr_referrals"] = sum(k[f"ucr_referrals_{s}"] for s in SOURCES)
        waits = window.samples("ucr_response_hours")
        k["ucr_not_accepted"] = count("ucr_not_accepted")
        k["ucr_responses"] = count("ucr_responses")
        k["ucr_2h_performance"] = (
            float((waits <= self.target_h).mean()) if waits.size else float("nan")
        )
        k["ucr_mean_response_hours"] = mean_or_nan(waits)
        for name in (
            "ucr_kept_home",
            "ucr_to_virtual_ward",
            "ucr_to_ae",
            "ucr_admissions_avoided",
            "ucr_admissions_avoided_virtual_ward",
            "ucr_conveyances_avoided",
        ):
            k[name] = count(name)
        k["ucr_staffed_hours"] = window.integral_days("staffed:ucr") * 24.0
        k["ucr_utilisation"] = window.utilisation("busy:ucr", "staffed:ucr")
        return k

    def cost_quantities(
        self, window: KpiWindow, kpis: Mapping[str, float], costs: CostsConfig
    ) -> dict[str, float]:
        return {
            "ucr_staff_hour": kpis.get("ucr_staffed_hours", 0.0),
            "ucr_follow_up": kpis.get("ucr_kept_home", 0.0),
        }

    def cost_line(self, name: str, costs: CostsConfig) -> CostLine:
        return self.cfg.staff_hour if name == "ucr_staff_hour" else self.cfg.follow_up
