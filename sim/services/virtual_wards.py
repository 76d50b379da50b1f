"""Virtual wards (hospital at home): acute care at home in place of an acute bed.

A virtual ward gives people who would otherwise be in hospital acute-level care
where they live (their home or care home) for a short spell, usually up to two
weeks: daily review by a community multidisciplinary team with a consultant or
GP in charge, remote monitoring, and quick access to tests, treatment and, when
needed, the hospital. NHS England asked every integrated care system to build
them from 2022, starting with two pathways, acute respiratory infection (ARI)
and frailty; local services may call them hospital at home. Capacity is counted
in "beds": the number of patients the team can hold at once. The national
ambition is 40-50 beds per 100,000 GP-registered adults (16+), kept above 80%
occupied. Patients come onto a virtual ward in two ways: *step-up*, instead of
an admission, and *step-down*, leaving an acute bed early. Whether step-up
avoids admissions is debated (the wards may take people who would not have been
admitted); the model counts an admission as avoided only when the patient's own
A&E decision would have admitted them.

The model has three routes onto the ward, all competing for the same finite
number of beds:

1. **Step-up from the community** (``community_step_up`` hook). A service
   treating a person at home who would otherwise go to A&E (urgent community
   response; no GP route is modelled yet) offers them with :meth:`VirtualWards.step_up`. If a bed is
   free the ward takes the patient over. The admission counts as avoided only
   if A&E would have admitted this patient (``ae.decides_admit``): the same
   uniform that decides it in every scenario.
2. **Step-up from A&E** (``before_admission`` hook). Of the patients A&E has
   decided to admit, a share per stratum is suitable and offered a virtual bed
   instead: ``frailty_share`` by eFI band for people aged 65+ (the frailty
   pathway) plus ``ari_share`` for every adult (the ARI pathway; in the 0-64
   band only ``adult_share_0_64`` of it, as children are not on adult wards).
   Taken, it is an admission avoided.
3. **Step-down from an acute bed** (``early_discharge`` hook, as PACE). A share
   ``step_down_share`` (by age) of inpatients who will go home without new care
   needs (pathway 0) and will not die in hospital may leave
   ``step_down_days_early`` days before they would be medically fit: acute bed
   days saved. Those on pathways 1-3 need a service the ward does not provide.

There is no queue: if no bed is free, the patient goes the usual way (admitted,
or kept in the acute bed) and is counted as turned away. With Poisson offers the
ward is an Erlang loss system, whose share turned away depends on the mean stay
only, not on its distribution (the tests check it against Erlang B).

**The stay.** Its length is drawn per patient from ``stay_days``. A share
``escalation_share`` of step-up patients deteriorate and go to hospital, at a
uniformly random point of the stay (deterioration is spread over it, and the
bed is freed when it happens, not at the planned end). The escalation is a new
episode of the same person who attends A&E and is admitted: A&E's own admission
uniform of the new episode is set below every admission probability (as
:mod:`sim.readmission` sets the pathway of a returning care-home resident), so
it is an emergency admission but not counted as a 30-day readmission, which it
is not (the person was never discharged from hospital). Going through A&E's
``handle_attendance`` rather than ``Flow.handle_admission`` keeps the patient in
A&E's own count while they wait for a bed; the direct-admission route counts
its waiting patients only when A&E is off. A step-down patient has just left
hospital, so the core readmission rule applies to them (their risk scaled by
``step_down_readmission_ratio``): a readmission that falls during the stay ends
it and is their escalation, and they get no second escalation draw. The ward
never takes back, within two days, a person it has just escalated (their new
episode would otherwise be offered the ward again at A&E).

**Size.** ``beds`` if given, else ``beds_per_100k_adults`` x the registered
adults / 100,000. The strata's 0-64 band includes children, so adults are the
65+ strata plus ``adult_share_0_64`` of the 0-64 strata.

**Cost.** The service's cost is mostly staff, who are there whether or not the
beds are full, so the line is per staffed bed-day (``cost``, held by community
health in the service's own block); ``cost_basis: occupied`` counts occupied
bed-days instead, for a service bought per patient-day.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal

import numpy as np

from sim.components import Component, CostLineSpec
from sim.config.blocks import register_block
from sim.config.build import num
from sim.config.errors import ConfigProblem
from sim.config.schema import AgeProbabilities, CostLine, Duration, FrailtyProbabilities
from sim.population import AGE_0_64, AGE_65_74

if TYPE_CHECKING:
    from sim.acute import AcuteBeds
    from sim.ae import EmergencyDepartment
    from sim.components import Site
    from sim.config.schema import CostsConfig
    from sim.core.recorder import DailyCount
    from sim.core.window import KpiWindow
    from sim.discharge.team import DischargeTeam
    from sim.hooks import Hooks
    from sim.patient import Draw, Patient

#: the routes onto the ward, as the KPIs name them
SOURCES: Final = ("community", "ae", "step_down")
#: a person escalated this recently is not taken back from A&E (hours)
ESCALATION_GUARD_H: Final = 48.0


def _frailty_share() -> FrailtyProbabilities:
    return FrailtyProbabilities(fit=0.0, mild=0.05, moderate=0.15, severe=0.15)


def _step_down_share() -> AgeProbabilities:
    return AgeProbabilities(age_0_64=0.02, age_65_74=0.05, age_75_84=0.05, age_85_plus=0.05)


def _stay() -> Duration:
    return Duration(mean=6.0, distribution="gamma", cv=0.6)


def _cost() -> CostLine:
    return CostLine(unit_cost=68.5, holder="community_health", price_year="2022/23")


@dataclass(frozen=True, slots=True)
class VirtualWardsConfig:
    """Virtual wards / hospital at home (sources and derivations: docs/evidence.md)."""

    #: the settings a planner's form shows first (sim.config.levers.key_levers)
    KEY_LEVERS: ClassVar[tuple[str, ...]] = (
        "enabled",
        "beds_per_100k_adults",
        "beds",
        "escalation_share",
        "ari_share",
        "step_down_days_early",
    )

    enabled: bool = False
    beds_per_100k_adults: float = num(
        40.0, ge=0, units="virtual beds per 100,000 registered adults (16+)"
    )
    #: an absolute number of beds, used instead of the rate when given
    beds: int | None = num(None, ge=0, units="virtual beds")
    adult_share_0_64: float = num(0.79, ge=0, le=1, units="share of registered 0-64s aged 16+")
    stay_days: Duration = field(default_factory=_stay)
    escalation_share: float = num(
        0.12, ge=0, le=1, units="share of step-up stays ending in hospital"
    )
    #: take patients offered by other services (urgent community response)
    community_step_up: bool = True
    ari_share: float = num(0.03, ge=0, le=1, units="share of adults' decided admissions")
    #: people aged 65+, by eFI band
    frailty_share: FrailtyProbabilities = field(default_factory=_frailty_share)
    #: inpatients going home on pathway 0 (not those who will die in hospital)
    step_down_share: AgeProbabilities = field(default_factory=_step_down_share)
    step_down_days_early: float = num(2.9, gt=0, units="days before medically fit")
    step_down_readmission_ratio: float = num(1.0, ge=0, units="x the usual readmission risk")
    cost_basis: Literal["staffed", "occupied"] = "staffed"
    cost: CostLine = field(default_factory=_cost)

    def check(self, path: str) -> list[ConfigProblem]:
        problems = []
        if self.stay_days.mean <= 0:
            problems.append(
                ConfigProblem(
                    f"{path}.stay_days.mean",
                    self.stay_days.mean,
                    "a mean stay above 0 days (a virtual ward stay lasts days)",
                )
            )
        return problems


register_block("virtual_wards", VirtualWardsConfig)


def adults(strata_age: np.ndarray, strata_size: np.ndarray, adult_share_0_64: float) -> float:
    """Registered adults (16+): everyone 65+ and ``adult_share_0_64`` of the 0-64s."""
    older = float(strata_size[strata_age >= AGE_65_74].sum())
    young = float(strata_size[strata_age == AGE_0_64].sum())
    return older + adult_share_0_64 * young


class VirtualWards(Component):
    """A virtual ward: a finite number of beds at home, from three routes, no queue."""

    name = "virtual_wards"
    # after TREAT (30) has assessed at A&E, and after PACE (40): the first
    # early-discharge service to find a patient a candidate is the one asked
    order = 45
    uses = ("ae", "acute", "discharge")
    kpi_docs: ClassVar[Mapping[str, tuple[str, str]]] = {
        "vw_beds": ("beds", "Virtual ward beds (patients the ward can hold at once)."),
        "vw_admissions": ("count", "Admissions to the virtual ward, all routes."),
        "vw_admissions_community": (
            "count",
            "Step-up admissions offered by community services (urgent community response).",
        ),
        "vw_admissions_ae": (
            "count",
            "Step-up admissions of patients A&E had decided to admit (admissions avoided).",
        ),
        "vw_admissions_step_down": (
            "count",
            "Step-down admissions: inpatients who left the acute bed early for the ward.",
        ),
        "vw_turned_away": ("count", "Patients offered a virtual bed when none was free."),
        "vw_turned_away_community": ("count", "The same, offered by community services."),
        "vw_turned_away_ae": ("count", "The same, offered from A&E (then admitted)."),
        "vw_turned_away_step_down": (
            "count",
            "The same, step-down candidates (then kept in the acute bed).",
        ),
        "vw_turned_away_share": (
            "share",
            "Offers turned away / offers (all routes): the blocking share of a loss system.",
        ),
        "vw_admissions_avoided": (
            "count",
            "Emergency admissions avoided: A&E step-ups, plus community step-ups whose own "
            "A&E decision would have admitted them (escalations not deducted).",
        ),
        "vw_bed_days_saved": (
            "days",
            "Acute bed days saved by step-down (step_down_days_early each; the waits after "
            "fitness also avoided show in bed_days).",
        ),
        "vw_escalations": (
            "count",
            "Virtual ward stays that ended with the patient going to hospital.",
        ),
        "vw_escalations_community": ("count", "The same, community step-up patients."),
        "vw_escalations_ae": ("count", "The same, A&E step-up patients."),
        "vw_escalations_step_down": (
            "count",
            "The same, step-down patients (a readmission that fell during the stay).",
        ),
        "vw_escalation_share": (
            "share",
            "Escalations / virtual ward stays that ended in the period.",
        ),
        "vw_mean_occupied": ("beds", "Time-average number of virtual beds occupied."),
        "vw_occupancy": ("share", "Mean virtual beds occupied / virtual beds."),
        "vw_bed_days": ("days", "Virtual bed days occupied."),
        "vw_mean_stay_days": (
            "days",
            "Mean time on the virtual ward of stays that ended in the period (escalated ones "
            "until the escalation).",
        ),
    }
    cost_lines = (CostLineSpec("virtual_ward_bed_day", "virtual bed day (staffed or occupied)"),)
    ae: EmergencyDepartment
    acute: AcuteBeds
    discharge: DischargeTeam

    @classmethod
    def build(cls, site: Site, cfg: Any) -> VirtualWards | None:
        block: VirtualWardsConfig = cfg.block(cls.name)
        return cls(site, block) if block.enabled else None

    def __init__(self, site: Site, cfg: VirtualWardsConfig) -> None:
        # the model's modules are imported when the model is built: validating a
        # config imports this module for its block only (and without SciPy)
        from sim.core.distributions import sampler
        from sim.core.resources import ServerPool
        from sim.patient import Draw, DrawPart

        super().__init__(site, cfg)
        self.cfg = cfg
        strata = site.strata
        self.adults = adults(strata.age, strata.size, cfg.adult_share_0_64)
        self.capacity = (
            cfg.beds
            if cfg.beds is not None
            else round(cfg.beds_per_100k_adults * self.adults / 100_000.0)
        )
        self.beds = ServerPool(self.env, self.capacity)
        self.beds.track(
            self.rec.level("busy:virtual_wards"), self.rec.level("staffed:virtual_wards")
        )
        # share of decided admissions offered a bed, per stratum: the ARI pathway
        # for adults (a share of the 0-64s are children) plus the frailty pathway
        # for people 65+
        older = strata.age >= AGE_65_74
        adult = np.where(older, 1.0, cfg.adult_share_0_64)
        frailty = np.asarray(cfg.frailty_share.as_tuple())[strata.frailty]
        ae_share = np.minimum(1.0, cfg.ari_share * adult + np.where(older, frailty, 0.0))
        self.ae_share: list[float] = ae_share.tolist()
        step_down = np.asarray(cfg.step_down_share.as_tuple())[strata.age]
        self.step_down_share: list[float] = (
            step_down * np.where(older, 1.0, cfg.adult_share_0_64)
        ).tolist()
        self.lead_h = cfg.step_down_days_early * 24.0
        self.stay_law = sampler(cfg.stay_days)
        self.stay_mean_h = cfg.stay_days.mean * 24.0
        # two columns of the patient's row (every patient-to-be carries them),
        # each read in parts: the offers, then the stay
        self.u_offer = Draw("u_virtual_ward_offer", "virtual_wards.offer")
        self.u_stay = Draw("u_virtual_ward_stay", "virtual_wards.stay")
        self.offer_ae = DrawPart(self.u_offer, 0, 4)
        self.offer_step_down = DrawPart(self.u_offer, 1, 4)
        self.stay_u = DrawPart(self.u_stay, 0, 4)
        self.escalate_u = DrawPart(self.u_stay, 1, 4)
        self.escalate_at = DrawPart(self.u_stay, 2, 4)
        rec = self.rec
        self.n_admissions: dict[str, DailyCount] = {
            s: rec.counter(f"vw_admissions_{s}") for s in SOURCES
        }
        self.n_turned_away: dict[str, DailyCount] = {
            s: rec.counter(f"vw_turned_away_{s}") for s in SOURCES
        }
        self.n_escalations: dict[str, DailyCount] = {
            s: rec.counter(f"vw_escalations_{s}") for s in SOURCES
        }
        self.n_avoided = rec.counter("vw_admissions_avoided")
        self.stays = rec.sample_list("vw_stay_days")
        self.saved = rec.sample_list("vw_hours_saved")
        #: person -> when the ward last escalated them (hours)
        self._escalated: dict[int, float] = {}

    def connect(self, links: Mapping[str, Component]) -> None:
        from sim.acute import AcuteBeds
        from sim.ae import EmergencyDepartment
        from sim.discharge.team import DischargeTeam

        super().connect(links)
        self.ae = self.link("ae", EmergencyDepartment)
        self.acute = self.link("acute", AcuteBeds)
        self.discharge = self.link("discharge", DischargeTeam)

    def draws(self) -> list[Draw]:
        return [self.u_offer, self.u_stay]

    def install(self, hooks: Hooks) -> None:
        # hooks that can never act are left out; the rest run even with no beds
        # (and then only count the patients turned away)
        if any(s > 0 for s in self.ae_share):
            hooks.before_admission.append(self.from_ae)
        if self.cfg.community_step_up:
            hooks.community_step_up.append(self.step_up)
        if any(s > 0 for s in self.step_down_share):
            hooks.early_discharge.append(self)

    # ------------------------------------------------------------------ routes in
    def _full(self) -> bool:
        beds = self.beds
        return beds.busy >= beds.capacity

    def step_up(self, p: Patient, source: str) -> bool:
        """``community_step_up`` hook: take ``p``, whom a community service (``source``,
        e.g. ``"ucr"`` or ``"gp"``) would otherwise send to A&E, if a bed is free.

        True: the ward owns the patient from now on, and they leave the system
        through it. The caller has counted ``p`` into the system.
        """
        now = self.env.now
        if self._full():
            self.n_turned_away["community"].add(now, p.neighbourhood)
            return False
        # the counterfactual: would this patient's own A&E decision have admitted them?
        self._admit(p, "community", avoided=self.ae.decides_admit(p), source=source)
        return True

    def from_ae(self, p: Patient) -> Generator[Any, Any, bool]:
        """``before_admission`` hook: a suitable patient A&E decided to admit goes to a
        virtual bed instead, if one is free; True if the admission was avoided."""
        now = self.env.now
        escalated = self._escalated.get(p.person, -math.inf)
        if now - escalated < ESCALATION_GUARD_H:
            # coming back from this ward: the hospital is the place (kept for the
            # whole guard: the same person may attend twice in it, with people on)
            return False
        if escalated > -math.inf:
            del self._escalated[p.person]  # expired
        if self.offer_ae.of(p) >= self.ae_share[p.stratum]:
            return False
        if self._full():
            self.n_turned_away["ae"].add(now, p.neighbourhood)
            return False
        self._admit(p, "ae", avoided=True)
        return True
        yield  # a generator: the hook protocol runs it with `yield from`

    def lead_hours(self, p: Patient) -> float:
        """``early_discharge`` hook: hours before medically fit that ``p`` could move
        to the ward (0: not a candidate)."""
        if (
            self.capacity == 0
            or self.offer_step_down.of(p) >= self.step_down_share[p.stratum]
            or not self.discharge.enabled
            or self.discharge.pathway_of(p) != 0
            or self.acute.will_die(p)
        ):
            return 0.0
        return self.lead_h

    def leave(self, p: Patient) -> Generator[Any, Any, bool]:
        """``early_discharge`` hook: move ``p`` from the acute bed to a virtual bed now
        if one is free; True if the patient left the acute bed."""
        now = self.env.now
        if self._full():
            self.n_turned_away["step_down"].add(now, p.neighbourhood)
            return False
        p.readmit_ratio *= self.cfg.step_down_readmission_ratio  # before it is drawn
        _, back_in = self.discharge.discharge_early(p, "virtual_ward")
        self.saved.append((now, self.lead_h))
        self._admit(p, "step_down", avoided=False, back_in=back_in)
        return True
        yield  # a generator: the hook protocol runs it with `yield from`

    # ------------------------------------------------------------------ the stay
    def _admit(
        self,
        p: Patient,
        route: str,
        avoided: bool,
        back_in: float | None = None,
        source: str = "",
    ) -> None:
        """Put ``p`` in a free bed now and start the stay."""
        self.beds.acquire()  # a bed is free: taken at once, so no one else gets it
        now, nb = self.env.now, p.neighbourhood
        self.n_admissions[route].add(now, nb)
        if avoided:
            self.n_avoided.add(now, nb)
        self.rec.log(now, p.id, p.person, "virtual_ward_start", source or route)
        stay = self.stay_law.one(self.stay_u.of(p)) * self.stay_mean_h
        escalate = False
        if route == "step_down":
            # the core readmission rule decides; one during the stay ends it
            if back_in is not None and back_in < stay:
                stay, escalate = back_in, True
        elif self.escalate_u.of(p) < self.cfg.escalation_share:
            stay, escalate = self.escalate_at.of(p) * stay, True
        self.env.process(self._stay(p, route, stay, escalate))

    def _stay(
        self, p: Patient, route: str, hours: float, escalate: bool
    ) -> Generator[Any, Any, None]:
        env = self.env
        start = env.now
        yield env.timeout(hours)
        now = env.now
        self.beds.release()
        self.stays.append((now, (now - start) / 24.0))
        flow = self.site.flow
        if not escalate:
            flow.exit(p, "virtual_ward_discharged")
            return
        self.n_escalations[route].add(now, p.neighbourhood)
        self._escalated[p.person] = now
        flow.exit(p, "virtual_ward_escalated")
        if route == "step_down":
            return  # the readmission booked at discharge brings them back now
        q = self._new_episode(p)
        # A&E admits the escalated patient: a decision uniform below every
        # admission probability (not a readmission: they were never discharged)
        self.ae.u_admit.set(q, -1.0)
        self.rec.log(now, q.id, q.person, "virtual_ward_escalation", f"episode {p.id}")
        flow.enter(q)
        flow.handle_attendance(q)

    def _new_episode(self, p: Patient) -> Patient:
        """A new episode of ``p``'s person, with draws from streams kept for the
        ward's escalations (so they never shift another source's numbers)."""
        factory = self.site.episode_factory("virtual_wards/escalation/")
        return factory.make_one(self.site.flow.next_id(), p.person, p.stratum, self.env.now)

    # ------------------------------------------------------------------ results
    def in_system(self) -> dict[str, int]:
        return {"vw_patients": int(self.beds.busy)}

    def kpis(self, window: KpiWindow) -> dict[str, float]:
        from sim.core.window import mean_or_nan

        count = window.count
        k: dict[str, float] = {"vw_beds": float(self.capacity)}
        for kind in ("admissions", "turned_away", "escalations"):
            for s in SOURCES:
                k[f"vw_{kind}_{s}"] = count(f"vw_{kind}_{s}")
            k[f"vw_{kind}"] = sum(k[f"vw_{kind}_{s}"] for s in SOURCES)
        offers = k["vw_admissions"] + k["vw_turned_away"]
        k["vw_turned_away_share"] = k["vw_turned_away"] / offers if offers else float("nan")
        k["vw_admissions_avoided"] = count("vw_admissions_avoided")
        k["vw_bed_days_saved"] = float(window.samples("vw_hours_saved").sum()) / 24.0
        stays = window.samples("vw_stay_days")
        k["vw_escalation_share"] = k["vw_escalations"] / stays.size if stays.size else float("nan")
        k["vw_mean_stay_days"] = mean_or_nan(stays)
        k["vw_bed_days"] = window.integral_days("busy:virtual_wards")
        k["vw_mean_occupied"] = window.mean("busy:virtual_wards")
        k["vw_occupancy"] = window.utilisation("busy:virtual_wards", "staffed:virtual_wards")
        return k

    def cost_quantities(
        self, window: KpiWindow, kpis: Mapping[str, float], costs: CostsConfig
    ) -> dict[str, float]:
        level = "staffed" if self.cfg.cost_basis == "staffed" else "busy"
        return {"virtual_ward_bed_day": window.integral_days(f"{level}:virtual_wards")}

    def cost_line(self, name: str, costs: CostsConfig) -> CostLine:
        return self.cfg.cost  # its price sits in its own block
