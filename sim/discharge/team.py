"""The discharge flow: from medically fit to leaving the acute bed.

1. **Review.** Medically-fit decisions are made on ward rounds (``discharge.review``).
   A stay that ends outside ward-round hours waits for the next round; that wait
   is extra length of stay, not a delayed transfer.
2. **Pathway.** The patient's pathway (P0-P3) is drawn from the mix for their
   frailty band (or under-65s, or care-home residents).
3. **P0** leaves as soon as the discharge team works (``discharge.calendar``; at
   weekends only ``weekend_share`` of patients can go). A wait for a working day
   is extra length of stay, not a delayed transfer: NHS England counted delays of
   patients waiting for another service.
4. **P1-P3** are delayed from the moment they are fit: first awaiting
   assessment (reason A); then some meet one other cause (``other_delays``:
   public funding, equipment and adaptations, patient or family choice,
   disputes, housing - reasons B, F, G, H, I) for a while; then they await a
   place in the downstream service (C, D(i), D(ii) or E) and a day on which
   the service admits and the discharge team works. The delay ends when they
   leave the bed; they then stay in the downstream service.

Interventions that act at this point run through the ``at_fit`` hook before the
pathway; seven-day working changes the weekend shares through ``weekend_share``.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from sim.acute import AcuteBeds
from sim.components import Component, CostLineSpec
from sim.config.schema import ATTRIBUTIONS, DELAY_REASONS
from sim.core.calendar import ServiceHours, WorkingCalendar
from sim.core.distributions import UnitSampler, sampler
from sim.discharge.assessment import AssessmentTeam
from sim.discharge.dtoc import ASSESSMENT, DelayTracker
from sim.discharge.services import DownstreamService
from sim.patient import Draw, Patient
from sim.readmission import Readmissions

if TYPE_CHECKING:
    from sim.components import Site
    from sim.config.schema import AttributionShares, CostsConfig, DischargeConfig
    from sim.core.window import KpiWindow

PATHWAYS = ("p0", "p1", "p2", "p3")
SERVICE_OF_PATHWAY = {1: "reablement", 2: "intermediate_care", 3: "care_home"}
#: the cost line of each downstream service, and its days per unit
_COST_LINE_OF = {
    "reablement": ("reablement_place_day", 1.0),
    "intermediate_care": ("intermediate_care_bed_day", 1.0),
    "care_home": ("care_home_week", 7.0),
}


class DischargeTeam(Component):
    """Discharge planning, assessment and transfer to downstream services."""

    name = "discharge"
    kpi_docs: ClassVar[Mapping[str, tuple[str, str]]] = {
        "excess_days_awaiting_review": (
            "days",
            "Bed days between the end of clinical need and the next ward round.",
        ),
        "excess_days_awaiting_discharge": (
            "days",
            "Bed days of P0 patients waiting for the discharge team's working hours.",
        ),
        "dtoc_days": ("days", "Delayed transfer of care days (patients fit and waiting)."),
        "dtoc_days_nhs": ("days", "Delayed days attributed to the NHS."),
        "dtoc_days_social_care": ("days", "Delayed days attributed to social care."),
        "dtoc_days_both": ("days", "Delayed days attributed to both."),
        "delayed_patients": ("count", "Patients whose delay began in the period (each once)."),
        "delayed_patients_nhs": (
            "count",
            "Delayed patients with NHS-attributed delay, counted when it first applied (a "
            "patient whose delay changes attribution counts under each).",
        ),
        "delayed_patients_social_care": (
            "count",
            "Delayed patients with delay attributed to social care, counted when it first applied.",
        ),
        "delayed_patients_both": (
            "count",
            "Delayed patients with delay attributed to both, counted when it first applied.",
        ),
        "mean_delayed_patients": ("patients", "Time-average number of delayed patients."),
        "mean_delayed_patients_nhs": (
            "patients",
            "Delayed days attributed to the NHS / days: NHS England's 'delayed beds' (2017-2020).",
        ),
        "mean_delayed_patients_social_care": (
            "patients",
            "Delayed days attributed to social care / days ('delayed beds').",
        ),
        "mean_delayed_patients_both": (
            "patients",
            "Delayed days attributed to both / days ('delayed beds').",
        ),
        "peak_delayed_patients": ("patients", "Highest number of delayed patients at once."),
        "dtoc_days_reason_*": (
            "days",
            "Delayed days by NHS England reason A-I (one column per reason; see docs/evidence.md).",
        ),
        "assessments": (
            "count",
            "Discharge assessments completed (P1-P3 patients; ahead of fitness or after).",
        ),
        "discharges_p0": ("count", "Patients discharged on pathway 0 (home, no new support)."),
        "discharges_p1": ("count", "Patients assigned pathway 1 (home with reablement/care)."),
        "discharges_p2": ("count", "Patients assigned pathway 2 (intermediate care bed)."),
        "discharges_p3": ("count", "Patients assigned pathway 3 (new care-home placement)."),
        "*_mean_occupied": ("places", "Time-average places occupied in a downstream service."),
        "*_utilisation": ("share", "Mean places occupied / capacity of a downstream service."),
        "*_offered_load": (
            "ratio",
            "Patients assigned to a downstream service's pathway a day x its mean stay / places "
            "(above about 0.9 queues build; at 1 or more they grow without bound).",
        ),
        "assessment_utilisation": ("share", "Discharge assessors' busy time / staffed time."),
    }

    uses = ("acute", "readmission")  # it empties beds and books readmissions
    cost_lines = (
        CostLineSpec("reablement_place_day", "place-day"),
        CostLineSpec("intermediate_care_bed_day", "bed-day"),
        CostLineSpec("care_home_week", "place-week"),
    )
    acute: AcuteBeds
    readmission: Readmissions

    def __init__(self, site: Site, cfg: DischargeConfig) -> None:
        super().__init__(site, cfg)
        self.cfg = cfg
        self.enabled = cfg.enabled
        clock = site.clock
        self.review = WorkingCalendar.from_config(clock, cfg.review)
        self.hours = ServiceHours(clock, cfg.calendar)
        self.assessment = AssessmentTeam(
            self.env, cfg.assessment, ServiceHours(clock, cfg.assessment.calendar)
        )
        #: every downstream service, by name
        self.services: dict[str, DownstreamService] = {}
        #: where each supported pathway (1-3) goes: services and their shares
        self.destinations: dict[int, list[tuple[DownstreamService, float]]] = {
            k: [] for k in SERVICE_OF_PATHWAY
        }
        # transfer needs the service to admit and the ward to discharge: one
        # calendar per service and per (service at weekend?, ward at weekend?)
        self.transfer_calendar: dict[tuple[str, bool, bool], WorkingCalendar] = {}
        # who a wait for a place is attributed to, per service, as thresholds on
        # the patient's attribution draw (see _thresholds)
        self.service_attr: dict[str, tuple[float, float]] = {}
        for pathway, name in SERVICE_OF_PATHWAY.items():
            scfg = getattr(cfg, name)
            svc = DownstreamService(
                self.env, name, pathway, scfg, ServiceHours(clock, scfg.admits), self.rec
            )
            self.add_destination(svc, 1.0)
        self.delays = DelayTracker(self.rec)
        a = cfg.assessment
        self.assess_attr = self._per_pathway(a.attribution)
        self.plan_share = a.plan_ahead_share
        self.plan_lead = a.plan_ahead_hours
        # other causes of delay: names, attribution, duration samplers, and per
        # pathway the cumulative shares that pick one from a uniform
        other = cfg.other_delays.items()
        self.other_names: list[str] = [name for name, _ in other]
        self.other_attr: list[dict[int, tuple[float, float]]] = [
            self._per_pathway(d.attribution) for _, d in other
        ]
        self.other_days: list[UnitSampler] = [sampler(d.days) for _, d in other]
        self.other_mean_h: list[float] = [d.days.mean * 24.0 for _, d in other]
        self.other_cum: list[list[float]] = [
            np.cumsum([d.share.as_tuple()[k - 1] for _, d in other]).tolist() for k in (1, 2, 3)
        ]
        self.assessment.assessors.track(
            self.rec.level("busy:assessment"), self.rec.level("staffed:assessment")
        )
        self.awaiting_review = self.rec.level("awaiting_review")
        self.awaiting_discharge = self.rec.level("awaiting_discharge")
        self.cum_pathway = self._pathway_table()
        #: discharges counted by pathway (P0-P3), also by interventions
        self.n_discharges = [self.rec.counter(f"discharges_{pw}") for pw in PATHWAYS]
        self.n_assessments = self.rec.counter("assessments")
        duration = cfg.assessment.duration_hours
        self.u_pathway = Draw("u_pathway", "discharge.pathway")
        self.u_attribution = Draw("u_attribution", "discharge.attribution")
        self.assessment_h = Draw(
            "assessment_h", "discharge.assessment", sampler(duration), duration.mean
        )
        self.u_weekend = Draw("u_weekend", "discharge.weekend")
        self.u_weekend_service = Draw("u_weekend_service", "discharge.weekend_service")
        self.u_other_delay = Draw("u_other_delay", "discharge.other_delay")
        self.u_other_delay_days = Draw("u_other_delay_days", "discharge.other_delay_days")
        self.u_nursing = Draw("u_nursing", "discharge.nursing_home")
        self.u_arrange = Draw("u_arrange", "discharge.arrange")
        self.u_plan_ahead = Draw("u_plan_ahead", "discharge.plan_ahead")
        # drawn only when a pathway has more than one destination (see draws)
        self.u_destination = Draw("u_destination", "discharge.destination")

    def add_destination(self, svc: DownstreamService, share: float) -> None:
        """Send ``share`` of the patients on ``svc.pathway`` to ``svc``, the rest to
        the pathway's other destinations in proportion to their shares.

        A component that holds discharged patients (a new step-down service)
        calls this from its ``connect``, with a service it built from its own
        config block; the flow needs no other change. The patient's own uniform
        (``u_destination``) picks the destination, so paired runs stay aligned.
        """
        if not 0.0 < share <= 1.0:
            raise ValueError(
                f"share of pathway {svc.pathway} for {svc.name!r}: {share} not in (0, 1]"
            )
        if svc.name in self.services:
            raise ValueError(f"downstream service {svc.name!r} added twice")
        svc.on_leave = self._left_service
        self.services[svc.name] = svc
        rest = [(s, w * (1.0 - share)) for s, w in self.destinations[svc.pathway]]
        self.destinations[svc.pathway] = [*rest, (svc, share)] if rest else [(svc, 1.0)]
        self.service_attr[svc.name] = _thresholds(svc.cfg.attribution)
        for svc_weekend in (False, True):
            for ward_weekend in (False, True):
                svc_cal = svc.admits.extended if svc_weekend else svc.admits.full
                ward_cal = self.hours.extended if ward_weekend else self.hours.full
                self.transfer_calendar[svc.name, svc_weekend, ward_weekend] = svc_cal & ward_cal

    def destination_of(self, p: Patient, pathway: int) -> DownstreamService:
        """The downstream service ``p`` goes to on ``pathway`` (1-3)."""
        dests = self.destinations[pathway]
        if len(dests) == 1:
            return dests[0][0]
        u = self.u_destination.of(p)
        total = 0.0
        for svc, share in dests:
            total += share
            if u < total:
                return svc
        return dests[-1][0]

    def share_of(self, svc: DownstreamService) -> float:
        """Share of the patients on ``svc``'s pathway who go to ``svc``."""
        return next(w for s, w in self.destinations[svc.pathway] if s is svc)

    def _per_pathway(self, rule: str | AttributionShares) -> dict[int, tuple[float, float]]:
        """Attribution thresholds of a rule for each pathway (``service``: that of
        the pathway's first destination)."""
        if rule == "service":
            return {k: self.service_attr[d[0][0].name] for k, d in self.destinations.items()}
        return dict.fromkeys(self.destinations, _thresholds(rule))

    def _pathway_table(self) -> list[tuple[float, float, float]]:
        strata = self.site.strata
        p = self.cfg.pathways
        groups = [p.fit, p.mild, p.moderate, p.severe]
        table = []
        for i in range(len(strata)):
            if strata.care_home[i]:
                mix = p.care_home
            elif strata.age[i] == 0:
                mix = p.under_65
            else:
                mix = groups[int(strata.frailty[i])]
            c = np.cumsum(mix.as_tuple())
            table.append((float(c[0]), float(c[1]), float(c[2])))
        return table

    def kpis(self, window: KpiWindow) -> dict[str, float]:
        count, integral_days, days = window.count, window.integral_days, window.days
        k: dict[str, float] = {
            "excess_days_awaiting_review": integral_days("awaiting_review"),
            "excess_days_awaiting_discharge": integral_days("awaiting_discharge"),
        }
        # delayed transfers of care
        k["dtoc_days"] = integral_days("delayed")
        for a in ATTRIBUTIONS:
            k[f"dtoc_days_{a}"] = integral_days(f"delayed_{a}")
        k["delayed_patients"] = count("delayed_patients")
        for a in ATTRIBUTIONS:
            k[f"delayed_patients_{a}"] = count(f"delayed_patients_{a}")
        k["mean_delayed_patients"] = k["dtoc_days"] / days if days else float("nan")
        for a in ATTRIBUTIONS:
            # NHS England's "delayed beds" from April 2017: delayed days / days
            k[f"mean_delayed_patients_{a}"] = k[f"dtoc_days_{a}"] / days if days else float("nan")
        k["peak_delayed_patients"] = window.peak("delayed")
        for r in DELAY_REASONS:
            k[f"dtoc_days_reason_{r}"] = integral_days(f"delayed_reason:{r}")
        # discharge pathways and downstream services
        for pw in PATHWAYS:
            k[f"discharges_{pw}"] = count(f"discharges_{pw}")
        k["assessments"] = count("assessments")
        expected = self.site.flow.flows().services  # (none when discharge is off)
        for svc in self.services.values():
            occ = integral_days(f"service:{svc.name}") / days if days else float("nan")
            k[f"{svc.name}_mean_occupied"] = occ
            k[f"{svc.name}_utilisation"] = occ / svc.capacity if svc.capacity else float("nan")
            # offered load: patients assigned to the pathway a day x the mean time one
            # holds a place (the stay, cut short by readmissions: sim.flows) / places
            held = expected[svc.name].mean_held_days if svc.name in expected else float("nan")
            share = self.share_of(svc)
            arrivals = count(f"discharges_p{svc.pathway}") * share / days if days else math.nan
            k[f"{svc.name}_offered_load"] = (
                arrivals * held / svc.capacity if svc.capacity else float("nan")
            )
        k["assessment_utilisation"] = window.utilisation("busy:assessment", "staffed:assessment")
        return k

    def cost_quantities(
        self, window: KpiWindow, kpis: Mapping[str, float], costs: CostsConfig
    ) -> dict[str, float]:
        """Downstream places are paid for every commissioned place a day (block) or
        for every occupied place a day (spot); a place counts as occupied from when
        it is reserved, so under spot contracts the days a patient still waits in
        hospital for the start are paid to the service too, as providers charge
        for a bed held for an agreed admission."""
        block = costs.downstream_contract == "block"
        out: dict[str, float] = {}
        for svc in self.services.values():
            if svc.name not in _COST_LINE_OF:  # an added service counts its own costs
                continue
            line, days_per_unit = _COST_LINE_OF[svc.name]
            places = svc.capacity if block else kpis.get(f"{svc.name}_mean_occupied", 0.0)
            out[line] = places * window.days / days_per_unit
        return out

    def connect(self, links: Mapping[str, Component]) -> None:
        super().connect(links)
        self.acute = self.link("acute", AcuteBeds)
        self.readmission = self.link("readmission", Readmissions)

    def draws(self) -> list[Draw]:
        # a stay in each service is drawn up front (CRN), whichever is used
        stays = [svc.u_stay for svc in self.services.values()]
        several = any(len(d) > 1 for d in self.destinations.values())
        return [
            *([self.u_destination] if several else []),
            self.u_pathway,
            self.u_attribution,
            self.assessment_h,
            self.u_weekend,
            self.u_weekend_service,
            *stays,
            self.u_other_delay,
            self.u_other_delay_days,
            self.u_nursing,
            self.u_arrange,
            self.u_plan_ahead,
        ]

    def processes(self) -> Iterable[Generator[Any, Any, Any]]:
        if not self.enabled:
            return ()
        procs: list[Generator[Any, Any, Any]] = [self.assessment.roster()]
        flows = self.site.flow.flows()
        for svc in self.services.values():
            # one stream per service: changing one service leaves the others paired
            rng = self.site.streams.get(f"discharge.initial_occupants.{svc.name}")
            n = svc.initial_places(flows.services[svc.name].busy)
            proc = svc.initial_occupants(rng, n)
            if proc is not None:
                procs.append(proc)
        return procs

    def pathway_of(self, p: Patient) -> int:
        c0, c1, c2 = self.cum_pathway[p.stratum]
        u = self.u_pathway.of(p)
        return 0 if u < c0 else 1 if u < c1 else 2 if u < c2 else 3

    def weekend_share(self, kind: str, p: Patient, base: float) -> float:
        """Weekend share for this patient: the calendar's, or an intervention's if
        that is higher (seven-day working raises weekend capacity, never lowers it)."""
        for hook in self.site.hooks.weekend_share:
            share = hook(kind, p)
            if share is not None:
                return share if share > base else base
        return base

    def transfer_hours(self, p: Patient, svc: DownstreamService) -> WorkingCalendar:
        """When patient ``p`` can move to ``svc``: service admits and ward discharges.

        The two weekend gates are separate capacities, so each has its own uniform.
        """
        svc_weekend = self.u_weekend_service.of(p) < self.weekend_share(
            "downstream", p, svc.admits.weekend_share
        )
        ward_weekend = self.u_weekend.of(p) < self.weekend_share(
            "acute_discharge", p, self.hours.weekend_share
        )
        return self.transfer_calendar[svc.name, svc_weekend, ward_weekend]

    def admission_hours(self, p: Patient, svc: DownstreamService) -> WorkingCalendar:
        """When ``svc`` admits patient ``p`` from home (no ward discharge involved)."""
        share = self.weekend_share("downstream", p, svc.admits.weekend_share)
        return svc.admits.for_patient(self.u_weekend_service.of(p), share)

    def attribution_of(self, p: Patient, svc: DownstreamService) -> str:
        """Who ``p``'s wait for a place in ``svc`` is attributed to."""
        return _party(self.service_attr[svc.name], self.u_attribution.of(p))

    def other_delay_of(self, p: Patient, pathway: int) -> int:
        """Index of the other cause of delay ``p`` meets on ``pathway``, or -1."""
        cum = self.other_cum[pathway - 1]
        u = self.u_other_delay.of(p)
        for i in range(len(cum)):
            if u < cum[i]:
                return i
        return -1

    def plan(self, p: Patient, los_hours: float) -> None:
        """At the start of ``p``'s acute stay: if the ward knows their needs early
        (``plan_ahead_share``), ask for their assessment ``plan_ahead_hours``
        before the stay is expected to end."""
        if (
            not self.enabled
            or self.plan_lead <= 0
            or self.u_plan_ahead.of(p) >= self.plan_share
            or self.acute.will_die(p)
            or self.pathway_of(p) == 0
        ):
            return
        p.planned = self.env.process(self._assess_ahead(p, max(0.0, los_hours - self.plan_lead)))

    def _assess_ahead(self, p: Patient, wait: float) -> Generator[Any, Any, None]:
        if wait > 0:
            yield self.env.timeout(wait)
        if p.planned is None:  # the patient left early (cancel_plan): nothing to assess
            return
        assessors = self.assessment.assessors
        yield assessors.acquire()
        if p.planned is None:  # left while waiting for an assessor
            assessors.release()
            return
        hours = self.assessment_h.of(p)
        if hours > 0:
            yield self.env.timeout(hours)
        assessors.release()
        self.n_assessments.add(self.env.now, p.neighbourhood)

    def cancel_plan(self, p: Patient) -> None:
        """``p`` leaves the bed before being fit (early supported discharge): an
        assessment asked for ahead is dropped, unless it has already started."""
        p.planned = None

    def leave_hospital(self, p: Patient, reviewed: bool = False) -> Generator[Any, Any, None]:
        """From the end of the acute stay to leaving the bed, then the downstream stay.

        ``reviewed``: the patient is already declared fit (initial state).
        """
        env = self.env
        if not self.enabled:  # no discharge flow: home at the end of the stay
            self.leave_bed(p, "discharged")
            self.site.flow.exit(p, "discharged")
            return
        wait = 0.0 if reviewed else self.review.wait_until_open(env.now)
        if wait > 0:
            self.awaiting_review.add(1, env.now)
            yield env.timeout(wait)
            self.awaiting_review.add(-1, env.now)
        self.rec.log(env.now, p.id, p.person, "medically_fit")
        for hook in self.site.hooks.at_fit:
            done = yield from hook(p)
            if done:
                return
        pathway = p.pathway = self.pathway_of(p)
        self.n_discharges[pathway].add(env.now, p.neighbourhood)
        if pathway == 0:
            share = self.weekend_share("acute_discharge", p, self.hours.weekend_share)
            wait = self.hours.for_patient(self.u_weekend.of(p), share).wait_until_open(env.now)
            if wait > 0:
                self.awaiting_discharge.add(1, env.now)
                yield env.timeout(wait)
                self.awaiting_discharge.add(-1, env.now)
            self.leave_bed(p, "home_p0")
            self.site.flow.exit(p, "discharged_home_p0")
            return
        svc = self.destination_of(p, pathway)
        u = self.u_attribution.of(p)
        delays = self.delays
        # 1. assessment (reason A), unless it was done ahead of fitness
        planned = p.planned
        who = _party(self.assess_attr[pathway], u)
        if planned is not None and planned.is_alive:
            delays.start(p, ASSESSMENT, who, env.now)
            yield planned
        elif planned is None:
            assessors = self.assessment.assessors
            req = assessors.acquire()
            hours = self.assessment_h.of(p)
            if not req.processed or hours > 0:  # a wait of no time is no delay
                delays.start(p, ASSESSMENT, who, env.now)
            yield req
            if hours > 0:
                yield env.timeout(hours)
            assessors.release()
            self.n_assessments.add(env.now, p.neighbourhood)
        # 2. at most one other cause (reasons B, F, G, H, I)
        cause = self.other_delay_of(p, pathway)
        if cause >= 0:
            unit = self.other_days[cause].one(self.u_other_delay_days.of(p))
            hours = unit * self.other_mean_h[cause]
            if hours > 0:
                who = _party(self.other_attr[cause][pathway], u)
                delays.start(p, self.other_names[cause], who, env.now)
                yield env.timeout(hours)
        # 3. a place, its arrangement and a day the service admits (C, D, E)
        reason, who = svc.reason_for(self.u_nursing.of(p)), self.attribution_of(p, svc)
        place = svc.places.acquire()
        if not place.processed:  # none free: wait for one
            delays.start(p, reason, who, env.now)
            yield place
        svc.occupied.add(1, env.now)  # the place is reserved from now on
        arrange = svc.arrange_hours(self.u_arrange.of(p))
        if arrange > 0:
            delays.start(p, reason, who, env.now)
            yield env.timeout(arrange)
        wait = self.transfer_hours(p, svc).wait_until_open(env.now)
        if wait > 0:
            delays.start(p, reason, who, env.now)
            yield env.timeout(wait)
        delays.stop(p, env.now)
        back_in = self.leave_bed(p, f"to_{svc.name}")
        self.start_downstream_stay(p, svc, back_in)

    def leave_bed(self, p: Patient, outcome: str) -> float | None:
        """``p`` leaves the acute bed alive now: the one place a bed is emptied and
        the patient's readmission (if any) booked. Returns the hours until the
        readmission, or None."""
        self.acute.release(p, outcome)
        return self.readmission.after_discharge(p)

    def discharge_early(self, p: Patient, outcome: str) -> tuple[int, float | None]:
        """Discharge ``p`` before they are fit (early supported discharge): any
        assessment asked for ahead is dropped, the discharge counted under the
        patient's pathway, the bed emptied. Returns the pathway and the hours
        until readmission (or None)."""
        self.cancel_plan(p)
        pathway = p.pathway = self.pathway_of(p)
        self.n_discharges[pathway].add(self.env.now, p.neighbourhood)
        return pathway, self.leave_bed(p, outcome)

    def place_from_home(
        self, p: Patient, pathway: int, back_at: float | None
    ) -> Generator[Any, Any, DownstreamService | None]:
        """Wait until the service of ``pathway`` has a place for ``p``, already home
        with support, and admits them; returns the service (the place is held:
        start the stay with :meth:`start_downstream_stay`), or None if ``p`` is
        readmitted (at ``back_at``) first."""
        env = self.env
        svc = self.destination_of(p, pathway)
        place = svc.places.acquire()
        if not place.processed:  # no place free now
            if back_at is None:
                yield place
            else:
                yield place | env.timeout(max(0.0, back_at - env.now))
                if not place.triggered:  # readmitted while waiting
                    svc.places.cancel(place)
                    return None
        svc.occupied.add(1, env.now)
        wait = self.admission_hours(p, svc).wait_until_open(env.now)
        if wait > 0:
            yield env.timeout(wait)
        return svc

    def start_downstream_stay(
        self, p: Patient, svc: DownstreamService, back_in: float | None
    ) -> None:
        """Start ``p``'s stay in ``svc``, in the place ``p`` holds (already counted
        in ``svc.occupied`` from when it was reserved); it ends without a process."""
        svc.start_stay(p, back_in)

    def _left_service(self, p: Patient, svc: DownstreamService) -> None:
        self.site.flow.exit(p, f"left_{svc.name}")


def _thresholds(rule: str | AttributionShares) -> tuple[float, float]:
    """A rule as two thresholds on a uniform: NHS below the first, social care
    below the second, both above it."""
    if isinstance(rule, str):
        return {"nhs": (1.0, 1.0), "social_care": (0.0, 1.0), "both": (0.0, 0.0)}[rule]
    return (rule.nhs, rule.nhs + rule.social_care)


def _party(thresholds: tuple[float, float], u: float) -> str:
    """The party a uniform ``u`` picks under ``thresholds`` (see _thresholds)."""
    return "nhs" if u < thresholds[0] else "social_care" if u < thresholds[1] else "both"
