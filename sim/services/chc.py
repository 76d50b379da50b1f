"""NHS continuing healthcare: who decides that the NHS pays for a person's care.

A person whose needs are mainly health needs is eligible for NHS continuing
healthcare (CHC): the NHS (the integrated care board, a CCG before July 2022)
then funds all their care, including a care-home place. The National Framework
for NHS Continuing Healthcare (revised 2022) gives two routes:

* **standard**: a positive screening checklist, then a full assessment by a
  multidisciplinary team with the Decision Support Tool (DST), then the ICB's
  decision, which should come within 28 days of the checklist. Since 2018 the
  framework asks for the assessment to be done after discharge, not in an acute
  bed; some still are (the statistics count DSTs done in acute settings);
* **fast track**, for a person whose condition is deteriorating rapidly and may
  be entering a terminal phase: a clinician completes the fast-track tool, no
  DST or assessor queue is needed, and the ICB must put funding and care in
  place at once. What remains is arranging the package or nursing-home bed.

Those who are assessed and not eligible may still get a jointly funded package
(NHS and council), the rest social care.

In the model, when a patient on pathway 1-3 is ready to be placed (the
discharge team's ``before_placement`` hook), ``referral_share`` of them need a
CHC decision; of those, ``fast_track_share`` go by fast track. A standard
assessment done in hospital keeps the patient in the bed: first waiting for an
assessor and the DST (DTOC reason A, completion of assessment), then for the
decision (reason B, public funding), both attributed to the NHS. A standard
assessment done after discharge (``in_hospital_share`` decides, and always
when the pathway is discharged to assess) uses the same assessors' time but
keeps no one in hospital. A fast-track patient waits only for the package to
be arranged (the destination's own reason, attributed to the NHS). The NHS's
share of the onward care (1 for CHC, ``joint_nhs_share`` for a joint package)
goes with the patient: their wait for a place is then the NHS's (or both's), and
their days in a downstream service are charged to the NHS at the CHC weekly
rate instead of to the service's usual payer.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from sim.components import Component, CostLineSpec, Site
from sim.config.blocks import register_block
from sim.config.build import num
from sim.config.errors import ConfigProblem
from sim.config.schema import Calendar, CostLine, CostsConfig, Duration, PathwayShares

if TYPE_CHECKING:
    from sim.core.window import KpiWindow
    from sim.discharge.team import DischargeTeam
    from sim.hooks import Hooks
    from sim.patient import Draw, DrawPart, Patient


@dataclass(frozen=True, slots=True)
class FastTrackConfig:
    """The fast-track route for people at the end of life."""

    #: share of each pathway's CHC referrals that go by fast track
    share: PathwayShares = field(default_factory=lambda: PathwayShares(p1=0.6, p2=0.4, p3=0.5))
    #: from the fast-track decision to the package or bed being ready
    arrange_days: Duration = field(
        default_factory=lambda: Duration(mean=3.0, distribution="lognormal", cv=0.8)
    )


@dataclass(frozen=True, slots=True)
class StandardConfig:
    """The standard route: checklist, DST assessment, then the ICB's decision."""

    #: CHC assessors (nurse assessors) working at once on working days
    staff: int = num(1, ge=0, units="assessors")
    calendar: Calendar = field(default_factory=Calendar)
    #: an assessment with the Decision Support Tool, including the MDT meeting
    assessment_hours: Duration = field(
        default_factory=lambda: Duration(mean=4.0, distribution="lognormal", cv=0.4)
    )
    #: from the DST to the ICB's decision
    decision_days: Duration = field(
        default_factory=lambda: Duration(mean=7.0, distribution="gamma", cv=0.6)
    )
    #: share of standard assessments done while the patient is in an acute bed
    #: (never on a pathway that is discharged to assess)
    in_hospital_share: float = num(0.15, ge=0, le=1)
    #: share of those assessed found eligible for CHC
    eligible_share: float = num(0.29, ge=0, le=1)
    #: share of those assessed and not eligible who get a jointly funded package
    joint_share: float = num(0.15, ge=0, le=1)


@dataclass(frozen=True, slots=True)
class ChcConfig:
    """NHS continuing healthcare for patients leaving hospital."""

    #: the settings a planner's form shows first (sim.config.levers.key_levers)
    KEY_LEVERS: ClassVar[tuple[str, ...]] = (
        "enabled",
        "standard.staff",
        "standard.in_hospital_share",
        "standard.eligible_share",
        "joint_nhs_share",
    )

    enabled: bool = False
    #: share of each pathway's patients who need a CHC decision (a positive
    #: checklist, or a fast-track referral)
    referral_share: PathwayShares = field(
        default_factory=lambda: PathwayShares(p1=0.02, p2=0.10, p3=0.40)
    )
    fast_track: FastTrackConfig = field(default_factory=FastTrackConfig)
    standard: StandardConfig = field(default_factory=StandardConfig)
    #: the NHS's share of a jointly funded package
    joint_nhs_share: float = num(0.5, ge=0, le=1)
    #: a week of CHC-funded care (in a care home or at home), paid by the NHS
    care_week: CostLine = field(
        default_factory=lambda: CostLine(
            unit_cost=1030.0, holder="community_health", price_year="2015/16"
        )
    )
    #: one standard assessment (DST and decision), paid by the NHS
    assessment: CostLine = field(
        default_factory=lambda: CostLine(unit_cost=500.0, holder="community_health")
    )

    def check(self, path: str) -> list[ConfigProblem]:
        if self.enabled and self.standard.staff == 0 and self._standard_share() > 0:
            return [
                ConfigProblem(
                    f"{path}.standard.staff",
                    0,
                    "at least 1 assessor while some referrals go by the standard route "
                    "(or set fast_track.share to 1 on every pathway)",
                )
            ]
        return []

    def _standard_share(self) -> float:
        ref = self.referral_share.as_tuple()
        ft = self.fast_track.share.as_tuple()
        return sum(r * (1 - f) for r, f in zip(ref, ft, strict=True))


register_block("chc", ChcConfig)


class ContinuingHealthcare(Component):
    """CHC decisions for patients leaving hospital, and who pays for their care."""

    name = "chc"
    order = 60
    uses = ("discharge",)
    kpi_docs: ClassVar[Mapping[str, tuple[str, str]]] = {
        "chc_referrals": ("count", "Patients leaving hospital who needed a CHC decision."),
        "chc_fast_track": ("count", "CHC referrals by fast track (end of life)."),
        "chc_assessments": ("count", "Standard CHC assessments (DSTs) completed."),
        "chc_assessments_in_hospital": (
            "count",
            "Standard CHC assessments done while the patient was in an acute bed.",
        ),
        "chc_eligible": ("count", "Patients found eligible for CHC (fast track included)."),
        "chc_joint_packages": ("count", "Patients given a jointly funded package."),
        "chc_assessor_utilisation": ("share", "CHC assessors' busy time / staffed time."),
        "chc_decision_days_in_hospital": (
            "days",
            "Mean days from CHC referral to decision for patients assessed in hospital.",
        ),
        "chc_fast_track_delay_days": (
            "days",
            "Mean days a fast-track (end-of-life) patient waited in hospital from the "
            "referral to leaving the bed.",
        ),
        "chc_funded_weeks": (
            "weeks",
            "Weeks of downstream care funded by the NHS (CHC in full, joint packages in part).",
        ),
    }
    cost_lines = (
        CostLineSpec("chc_care_week", "NHS-funded week of care"),
        CostLineSpec("chc_assessment", "standard assessment"),
    )
    discharge: DischargeTeam

    @classmethod
    def build(cls, site: Site, cfg: Any) -> ContinuingHealthcare | None:
        block: ChcConfig = cfg.block(cls.name)
        return cls(site, block) if block.enabled and cfg.discharge.enabled else None

    def __init__(self, site: Site, cfg: ChcConfig) -> None:
        # the model's modules are imported when the model is built: validating a
        # config imports this module for its block only (and without SciPy)
        from sim.core.calendar import ServiceHours
        from sim.core.distributions import sampler
        from sim.core.resources import ServerPool
        from sim.patient import Draw, DrawPart

        super().__init__(site, cfg)
        self.cfg = cfg
        std = cfg.standard
        self.hours = ServiceHours(site.clock, std.calendar)
        self.assessors = ServerPool(self.env, 0)
        self.assessors.track(self.rec.level("busy:chc"), self.rec.level("staffed:chc"))
        self.referral = cfg.referral_share.as_tuple()
        self.fast = cfg.fast_track.share.as_tuple()
        # two columns of the patient's row, read in parts (only the few referred
        # need them, and the row is built for every patient-to-be)
        self.u_choices = Draw("u_chc_choices", "chc.choices")
        self.u_times = Draw("u_chc_times", "chc.times")
        self.u_refer = DrawPart(self.u_choices, 0, 3)
        self.u_route = DrawPart(self.u_choices, 1, 3)
        self.u_where = DrawPart(self.u_choices, 2, 3)
        self.u_outcome = DrawPart(self.u_choices, 3, 3)
        # times: a uniform for every patient (common random numbers), turned into
        # hours only for the few referred (a law applied to every patient-to-be
        # would cost more than the rest of the service)
        self.dst_h = DrawPart(self.u_times, 0, 4)
        self.decision_h = DrawPart(self.u_times, 1, 4)
        self.arrange_h = DrawPart(self.u_times, 2, 4)
        ft = cfg.fast_track.arrange_days
        self._law = {
            "dst": (sampler(std.assessment_hours), std.assessment_hours.mean),
            "decision": (sampler(std.decision_days), std.decision_days.mean * 24.0),
            "arrange": (sampler(ft), ft.mean * 24.0),
        }
        rec = self.rec
        self.n_referrals = rec.counter("chc_referrals")
        self.n_fast = rec.counter("chc_fast_track")
        self.n_assessed = rec.counter("chc_assessments")
        self.n_in_hospital = rec.counter("chc_assessments_in_hospital")
        self.n_eligible = rec.counter("chc_eligible")
        self.n_joint = rec.counter("chc_joint_packages")
        self.decision_days = rec.sample_list("chc_decision_days_in_hospital")
        self.fast_track_waits = rec.sample_list("chc_fast_track_delay_days")

    def connect(self, links: Mapping[str, Component]) -> None:
        from sim.discharge.team import DischargeTeam

        super().connect(links)
        self.discharge = self.link("discharge", DischargeTeam)

    def draws(self) -> list[Draw]:
        return [self.u_choices, self.u_times]

    def install(self, hooks: Hooks) -> None:
        hooks.before_placement.append(self.decide)

    def processes(self) -> list[Generator[Any, Any, Any]]:
        return [self._roster()]

    def _roster(self) -> Generator[Any, Any, None]:
        env, hours, staff = self.env, self.hours, self.cfg.standard.staff
        while True:
            self.assessors.set_capacity(hours.on_duty(staff, env.now))
            yield env.timeout(hours.next_check(env.now))

    # ------------------------------------------------------------ the flow
    def decide(self, p: Patient, pathway: int) -> Generator[Any, Any, float]:
        """``before_placement`` hook: the CHC decision, if ``p`` needs one;
        returns the NHS's share of ``p``'s onward care."""
        k = pathway - 1
        if self.u_refer.of(p) >= self.referral[k]:
            return 0.0
        env = self.env
        self.n_referrals.add(env.now, p.neighbourhood)
        if self.u_route.of(p) < self.fast[k]:
            # fast track: eligible at once; only the care itself has to be arranged
            self.n_fast.add(env.now, p.neighbourhood)
            self.n_eligible.add(env.now, p.neighbourhood)
            hours = self._hours("arrange", self.arrange_h, p)
            if hours > 0:
                self.discharge.mark_delay(p, self.discharge.place_reason(p, pathway), "nhs")
                yield env.timeout(hours)
            self.fast_track_waits.append((env.now, hours / 24.0))
            return 1.0
        in_hospital = (
            not self.discharge.assesses_after(pathway)
            and self.u_where.of(p) < self.cfg.standard.in_hospital_share
        )
        if not in_hospital:
            # assessed after discharge: the assessors' time, no one kept in a bed
            env.process(self._assess(p, referred=env.now, in_hospital=False))
            return self._outcome(p)
        yield from self._assess(p, referred=env.now, in_hospital=True)
        return self._outcome(p)

    def _assess(self, p: Patient, referred: float, in_hospital: bool) -> Generator[Any, Any, None]:
        env, discharge = self.env, self.discharge
        if in_hospital:
            discharge.mark_delay(p, "completion_of_assessment", "nhs")
        yield self.assessors.acquire()
        hours = self._hours("dst", self.dst_h, p)
        if hours > 0:
            yield env.timeout(hours)
        self.assessors.release()
        self.n_assessed.add(env.now, p.neighbourhood)
        if not in_hospital:
            return
        self.n_in_hospital.add(env.now, p.neighbourhood)
        decision = self._hours("decision", self.decision_h, p)
        if decision > 0:
            discharge.mark_delay(p, "public_funding", "nhs")
            yield env.timeout(decision)
        self.decision_days.append((env.now, (env.now - referred) / 24.0))

    def _hours(self, law: str, draw: DrawPart, p: Patient) -> float:
        """``p``'s time for step ``law``, in hours, from their uniform ``draw``."""
        unit, mean = self._law[law]
        return unit.one(draw.of(p)) * mean if mean > 0 else 0.0

    def _outcome(self, p: Patient) -> float:
        """Who funds ``p``'s care after a standard assessment."""
        std, u = self.cfg.standard, self.u_outcome.of(p)
        if u < std.eligible_share:
            self.n_eligible.add(self.env.now, p.neighbourhood)
            return 1.0
        if u < std.eligible_share + (1 - std.eligible_share) * std.joint_share:
            self.n_joint.add(self.env.now, p.neighbourhood)
            return self.cfg.joint_nhs_share
        return 0.0

    # ------------------------------------------------------------- outputs
    def kpis(self, window: KpiWindow) -> dict[str, float]:
        from sim.core.window import mean_or_nan

        count = window.count
        funded = sum(
            window.integral_days(f"service_nhs_funded:{name}") for name in self.discharge.services
        )
        return {
            "chc_referrals": count("chc_referrals"),
            "chc_fast_track": count("chc_fast_track"),
            "chc_assessments": count("chc_assessments"),
            "chc_assessments_in_hospital": count("chc_assessments_in_hospital"),
            "chc_eligible": count("chc_eligible"),
            "chc_joint_packages": count("chc_joint_packages"),
            "chc_assessor_utilisation": window.utilisation("busy:chc", "staffed:chc"),
            "chc_decision_days_in_hospital": mean_or_nan(
                window.samples("chc_decision_days_in_hospital")
            ),
            "chc_fast_track_delay_days": mean_or_nan(window.samples("chc_fast_track_delay_days")),
            "chc_funded_weeks": funded / 7.0,
        }

    def cost_quantities(
        self, window: KpiWindow, kpis: Mapping[str, float], costs: CostsConfig
    ) -> dict[str, float]:
        return {
            "chc_care_week": kpis.get("chc_funded_weeks", 0.0),
            "chc_assessment": kpis.get("chc_assessments", 0.0),
        }

    def cost_line(self, name: str, costs: CostsConfig) -> CostLine:
        return self.cfg.care_week if name == "chc_care_week" else self.cfg.assessment
