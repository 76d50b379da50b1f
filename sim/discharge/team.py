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
from sim.core.window import mean_or_nan
from sim.discharge.assessment import AssessmentTeam
from sim.discharge.dtoc import (
    ASSESSMENT,
    CURRENT_REASONS,
    DRD_BANDS,
    PATHWAY_NAMES,
    DelayTracker,
)
from sim.discharge.services import DownstreamService
from sim.discharge.visits import (
    BED_BASED_CARE,
    CARE_HOME,
    DEAD,
    HOME,
    HOSPITAL,
    ReadmissionRisk,
    VisitService,
)
from sim.patient import Draw, Patient
from sim.readmission import Readmissions

if TYPE_CHECKING:
    from sim.components import Site
    from sim.config.schema import AttributionShares, CostLine, CostsConfig, DischargeConfig
    from sim.core.window import KpiWindow

PATHWAYS = ("p0", "p1", "p2", "p3")
#: where a patient is after leaving the bed, by outcome (others: home)
_PLACE_AFTER = {"to_intermediate_care": BED_BASED_CARE, "to_care_home": CARE_HOME}
#: what a pathway can send patients to: places, or visit slots (pathway 1)
Destination = DownstreamService | VisitService
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
        **VisitService.kpi_docs,
        "assessments_after_discharge": (
            "count",
            "Assessments done at home or in a community bed (discharge to assess).",
        ),
        "assessment_after_discharge_wait_days": (
            "days",
            "Mean wait for an assessor once an assessment after discharge is asked for.",
        ),
        "nctr_days": (
            "days",
            "Bed days of patients past their discharge-ready date (no longer meeting the "
            "criteria to reside), any pathway or reason.",
        ),
        "nctr_mean_patients": (
            "patients",
            "Time-average patients past their discharge-ready date still in a bed (NHS "
            "England's daily discharge SitRep count).",
        ),
        "nctr_days_p*": ("days", "Bed days past the discharge-ready date, by pathway P0-P3."),
        "nctr_mean_patients_p*": (
            "patients",
            "Time-average patients past their discharge-ready date, by pathway P0-P3.",
        ),
        "nctr_days_reason_*": (
            "days",
            "Bed days past the discharge-ready date by the current SitRep reason group "
            "(one column per group; see docs/evidence.md).",
        ),
        "drd_discharges": (
            "count",
            "Discharges of patients who reached a discharge-ready date (fit first).",
        ),
        "drd_discharges_p*": ("count", "Discharges after a discharge-ready date, by pathway."),
        "drd_bed_days_lost": (
            "days",
            "Whole days from discharge-ready date to discharge, summed over discharges "
            "(the publication's 'bed days lost due to delayed discharge').",
        ),
        "drd_bed_days_lost_p*": ("days", "Bed days lost, by pathway."),
        "drd_mean_delay_days": (
            "days",
            "Mean whole days from discharge-ready date to discharge, 0-day delays included.",
        ),
        "drd_mean_delay_days_p*": ("days", "The same mean, by pathway."),
        "drd_mean_delay_days_delayed": (
            "days",
            "Mean whole days from discharge-ready date to discharge, over delayed "
            "discharges only (0-day delays excluded).",
        ),
        "drd_mean_delay_days_delayed_p*": ("days", "The same mean, by pathway."),
        "drd_delayed_share": (
            "share",
            "Share of discharges 1 or more days after the discharge-ready date.",
        ),
        "drd_delayed_share_p*": ("share", "The same share, by pathway."),
        "drd_discharges_delay_*": (
            "count",
            "Discharges by whole days after the discharge-ready date, in the "
            "publication's bands: 0, 1, 2-3, 4-6, 7-13, 14-20, 21+.",
        ),
    }

    uses = ("acute", "readmission")  # it empties beds and books readmissions
    cost_lines = (
        CostLineSpec("reablement_place_day", "place-day"),
        CostLineSpec("intermediate_care_bed_day", "bed-day"),
        CostLineSpec("care_home_week", "place-week"),
        *(CostLineSpec(n, unit) for n, unit in VisitService.cost_line_units.items()),
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
        self.destinations: dict[int, list[tuple[Destination, float]]] = {
            k: [] for k in SERVICE_OF_PATHWAY
        }
        # transfer needs the service to admit and the ward to discharge: one
        # calendar per service and per (service at weekend?, ward at weekend?)
        self.transfer_calendar: dict[tuple[str, bool, bool], WorkingCalendar] = {}
        # who a wait for a place is attributed to, per service, as thresholds on
        # the patient's attribution draw (see _thresholds)
        self.service_attr: dict[str, tuple[float, float]] = {}
        #: pathway 1 as carer visits a day, if enabled (it then replaces the
        #: reablement places)
        self.visits: VisitService | None = None
        v = cfg.p1_visits
        if v.enabled:
            self.visits = VisitService(self.env, v, ServiceHours(clock, v.admits), self.rec)
            self.visits.on_leave = self._left_visits
            self._add_calendars(self.visits)
            self.service_attr[self.visits.name] = _thresholds(v.attribution)
            self.destinations[1] = [(self.visits, 1.0)]
        for pathway, name in SERVICE_OF_PATHWAY.items():
            if pathway == 1 and self.visits is not None:
                continue
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
        # discharge to assess: pathways assessed after discharge, and their draws
        # (declared only when some pathway uses it)
        d2a = cfg.discharge_to_assess
        self.assess_after: frozenset[int] = frozenset(int(pw[1]) for pw in d2a.pathways)
        # uniforms for everyone, turned into hours only for those assessed after
        self.d2a_start_h = Draw("u_d2a_start", "discharge.d2a_start")
        self.d2a_assessment_h = Draw("u_d2a_assessment", "discharge.d2a_assessment")
        self.d2a_start_law = sampler(d2a.start_after_days)
        self.d2a_start_mean_h = d2a.start_after_days.mean * 24.0
        self.d2a_assessment_law = sampler(d2a.assessment_hours)
        self.d2a_assessment_mean_h = d2a.assessment_hours.mean
        self.n_community_assessments = self.rec.counter("assessments_after_discharge")
        self.community_assessment_wait = self.rec.sample_list("assessment_after_discharge_wait")
        self.assessing_in_community = self.rec.level("assessing_after_discharge")

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
        self._add_calendars(svc)

    def _add_calendars(self, svc: Destination) -> None:
        for svc_weekend in (False, True):
            for ward_weekend in (False, True):
                svc_cal = svc.admits.extended if svc_weekend else svc.admits.full
                ward_cal = self.hours.extended if ward_weekend else self.hours.full
                self.transfer_calendar[svc.name, svc_weekend, ward_weekend] = svc_cal & ward_cal

    def destination_of(self, p: Patient, pathway: int) -> Destination:
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

    def share_of(self, svc: Destination) -> float:
        """Share of the patients on ``svc``'s pathway who go to ``svc``."""
        return next((w for s, w in self.destinations[svc.pathway] if s is svc), 0.0)

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
        k["assessments_after_discharge"] = count("assessments_after_discharge")
        k["assessment_after_discharge_wait_days"] = mean_or_nan(
            window.samples("assessment_after_discharge_wait")
        )
        k.update(self.drd_kpis(window))
        if self.visits is not None:
            v = self.visits
            k.update(v.kpis(window))
            # offered load with stays cut short by readmissions, as sim/flows.py
            visits = v.mean_visits_per_patient(self.readmission_risk(1))
            asked = k[f"{v.name}_requests"] / days if days else math.nan
            k[f"{v.name}_visit_offered_load"] = (
                asked * visits / v.capacity if v.capacity else math.nan
            )
        return k

    def drd_kpis(self, window: KpiWindow) -> dict[str, float]:
        """The current national measures: patients past their discharge-ready date
        (NCTR) and the whole days from that date to discharge, by pathway."""
        integral_days, days = window.integral_days, window.days
        k: dict[str, float] = {}
        k["nctr_days"] = integral_days("nctr")
        k["nctr_mean_patients"] = k["nctr_days"] / days if days else math.nan
        for pw in PATHWAY_NAMES:
            k[f"nctr_days_{pw}"] = integral_days(f"nctr_{pw}")
            k[f"nctr_mean_patients_{pw}"] = k[f"nctr_days_{pw}"] / days if days else math.nan
        for r in CURRENT_REASONS:
            k[f"nctr_days_reason_{r}"] = integral_days(f"nctr_reason:{r}")
        per_pathway = [window.samples(f"drd_delay_days_{pw}") for pw in PATHWAY_NAMES]
        groups = [
            ("", np.concatenate(per_pathway)),
            *zip([f"_{pw}" for pw in PATHWAY_NAMES], per_pathway, strict=True),
        ]
        for suffix, d in groups:
            n = d.size
            delayed = d[d > 0]
            k[f"drd_discharges{suffix}"] = float(n)
            k[f"drd_bed_days_lost{suffix}"] = float(d.sum())
            # the publication's averages include and exclude 0-day delays
            k[f"drd_mean_delay_days{suffix}"] = float(d.mean()) if n else math.nan
            k[f"drd_mean_delay_days_delayed{suffix}"] = (
                float(delayed.mean()) if delayed.size else math.nan
            )
            k[f"drd_delayed_share{suffix}"] = delayed.size / n if n else math.nan
        edges = [first for _, first in DRD_BANDS]
        counts = (
            np.histogram(groups[0][1], bins=[*edges, np.inf])[0]
            if groups[0][1].size
            else np.zeros(len(edges))
        )
        for (label, _), c in zip(DRD_BANDS, counts, strict=True):
            k[f"drd_discharges_delay_{label}"] = float(c)
        return k

    def cost_quantities(
        self, window: KpiWindow, kpis: Mapping[str, float], costs: CostsConfig
    ) -> dict[str, float]:
        """Downstream places are paid for every commissioned place a day (block) or
        for every occupied place a day (spot); a place counts as occupied from when
        it is reserved, so under spot contracts the days a patient still waits in
        hospital for the start are paid to the service too, as providers charge
        for a bed held for an agreed admission. Days of NHS-funded care
        (continuing healthcare) are left out: the ``chc`` component charges them
        to the NHS."""
        block = costs.downstream_contract == "block"
        out: dict[str, float] = {}
        for svc in self.services.values():
            if svc.name not in _COST_LINE_OF:  # an added service counts its own costs
                continue
            line, days_per_unit = _COST_LINE_OF[svc.name]
            places = svc.capacity if block else kpis.get(f"{svc.name}_mean_occupied", 0.0)
            # days of care the NHS funds (continuing healthcare) are charged to it
            # at its own rate by the chc component, not to this line
            funded = window.integral_days(f"service_nhs_funded:{svc.name}")
            out[line] = max(0.0, places * window.days - funded) / days_per_unit
        if self.visits is not None:
            out.update(self.visits.cost_quantities(window, block=block))
        return out

    def cost_line(self, name: str, costs: CostsConfig) -> CostLine:
        """The visit lines are priced in ``discharge.p1_visits``; the rest in ``costs``."""
        v = self.cfg.p1_visits
        if name == "p1_visit_hour":
            return v.visit_hour
        if name == "home_care_package_hour":
            return v.package_hour
        return super().cost_line(name, costs)

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
            *([self.d2a_start_h, self.d2a_assessment_h] if self.assess_after else []),
            *(self.visits.draws() if self.visits is not None else []),
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
        if self.visits is not None:
            # people already in care at time 0 go straight onto the visit ledgers
            self.visits.initial_occupants(
                self.site.streams.get("discharge.initial_occupants.p1_visits"),
                flows.discharges[1],
                self.readmission_risk(1),
            )
        return procs

    def in_system(self) -> dict[str, int]:
        # places are counted by the model from their levels; visit care here
        if self.visits is None:
            return {}
        return {f"in_{self.visits.name}_care": self.visits.in_system()}

    def readmission_risk(
        self, pathway: int, admissions: np.ndarray | None = None
    ) -> ReadmissionRisk | None:
        """The chance and timing of a readmission within the window for patients
        discharged on ``pathway`` (their mix of strata), or None without readmissions."""
        r = self.readmission
        if not r.enabled:
            return None
        if admissions is None:  # (sim.flows passes its own while it computes them)
            admissions = self.site.flow.flows().admissions_by_stratum
        weight = admissions * self.pathway_mix()[:, pathway]
        total = float(weight.sum())
        chance = float((weight * np.asarray(r.prob)).sum() / total) if total > 0 else 0.0
        return ReadmissionRisk(chance, r.window_days, r.mean_days)

    def pathway_mix(self) -> np.ndarray:
        """Each stratum's pathway shares, P0-P3 (strata x 4)."""
        n = len(self.cum_pathway)
        edges = np.column_stack([np.zeros(n), np.asarray(self.cum_pathway), np.ones(n)])
        mix: np.ndarray = np.diff(edges, axis=1)
        return mix

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

    def transfer_hours(self, p: Patient, svc: Destination) -> WorkingCalendar:
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

    def admission_hours(self, p: Patient, svc: Destination) -> WorkingCalendar:
        """When ``svc`` admits patient ``p`` from home (no ward discharge involved)."""
        share = self.weekend_share("downstream", p, svc.admits.weekend_share)
        return svc.admits.for_patient(self.u_weekend_service.of(p), share)

    def attribution_of(self, p: Patient, svc: Destination) -> str:
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
        ):
            return
        pathway = self.pathway_of(p)
        if pathway == 0 or pathway in self.assess_after:  # nothing to assess in hospital
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
        # the discharge-ready date: from here the patient counts as no longer
        # meeting the criteria to reside until they leave the bed
        pathway = self.pathway_of(p)
        delays = self.delays
        delays.ready(p, pathway, env.now)
        for hook in self.site.hooks.at_fit:
            done = yield from hook(p)
            if done:
                return
        p.pathway = pathway
        self.n_discharges[pathway].add(env.now, p.neighbourhood)
        if pathway == 0:
            share = self.weekend_share("acute_discharge", p, self.hours.weekend_share)
            wait = self.hours.for_patient(self.u_weekend.of(p), share).wait_until_open(env.now)
            if wait > 0:
                delays.discharge_wait(p, env.now)
                self.awaiting_discharge.add(1, env.now)
                yield env.timeout(wait)
                self.awaiting_discharge.add(-1, env.now)
            self.leave_bed(p, "home_p0")
            self.site.flow.exit(p, "discharged_home_p0")
            return
        svc = self.destination_of(p, pathway)
        u = self.u_attribution.of(p)
        # 1. assessment (reason A), unless it was done ahead of fitness or is
        # done after discharge (discharge to assess)
        planned = p.planned
        who = _party(self.assess_attr[pathway], u)
        assess_here = pathway not in self.assess_after
        if assess_here and planned is not None and planned.is_alive:
            delays.start(p, ASSESSMENT, who, env.now)
            yield planned
        elif assess_here and planned is None:
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
        # decisions on who funds the onward care (continuing healthcare)
        for decide in self.site.hooks.before_placement:
            funded = yield from decide(p, pathway)
            if funded > 0:
                p.nhs_funded = funded
        # 3. a place, its arrangement and a day the service admits (C, D, E);
        # a wait for care the NHS funds in full is the NHS's, in part both's
        reason = svc.reason_for(self.u_nursing.of(p))
        if p.nhs_funded >= 1.0:
            who = "nhs"
        elif p.nhs_funded > 0.0:
            who = "both"
        else:
            who = self.attribution_of(p, svc)
        if isinstance(svc, VisitService):
            # visit slots: booked at once for the first start from which every
            # day of the care fits (after the start is arranged), in a day the
            # service admits and the ward discharges; the bed is kept till then
            arrange = svc.arrange_hours(self.u_arrange.of(p))
            started = svc.request(p, self.transfer_hours(p, svc), earliest=env.now + arrange)
            booking = svc.booking_of(p)
            if booking is None or booking.wait_hours > 0:
                delays.start(p, reason, who, env.now)
            yield started
            back_in = self.leave_bed(p, f"to_{svc.name}")
            if pathway in self.assess_after:
                env.process(self._assess_after_discharge(p))
            svc.start_stay(p, back_in)
            return
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
        back_in = self.leave_bed(p, f"to_{svc.name}")
        if pathway in self.assess_after:
            assessed = env.process(self._assess_after_discharge(p))
            # a bed is held until the assessment in it is done; care at home
            # ends when its episode does (the assessment happens within it)
            svc.start_stay(p, back_in, until=assessed if pathway == 2 else None)
        else:
            self.start_downstream_stay(p, svc, back_in)

    def assesses_after(self, pathway: int) -> bool:
        """True if needs on ``pathway`` are assessed after discharge (discharge to assess)."""
        return pathway in self.assess_after

    def place_reason(self, p: Patient, pathway: int) -> str:
        """The DTOC reason of ``p``'s wait for a place on ``pathway``."""
        return self.destination_of(p, pathway).reason_for(self.u_nursing.of(p))

    def mark_delay(self, p: Patient, reason: str, attribution: str) -> None:
        """Record that ``p``, past the discharge-ready date, now waits for
        ``reason`` (a DTOC reason), attributed to ``attribution``: how another
        component that keeps a patient in hospital reports the wait."""
        self.delays.start(p, reason, attribution, self.env.now)

    def _assess_after_discharge(self, p: Patient) -> Generator[Any, Any, None]:
        """Discharge to assess: the assessment team sees ``p`` at home or in the
        community bed, ``start_after_days`` after arrival (once settled)."""
        env = self.env
        start = self.d2a_start_law.one(self.d2a_start_h.of(p)) * self.d2a_start_mean_h
        if start > 0:
            yield env.timeout(start)
        asked = env.now
        self.assessing_in_community.add(1, asked)
        assessors = self.assessment.assessors
        yield assessors.acquire()
        self.community_assessment_wait.append((env.now, (env.now - asked) / 24.0))
        hours = self.d2a_assessment_law.one(self.d2a_assessment_h.of(p))
        hours *= self.d2a_assessment_mean_h
        if hours > 0:
            yield env.timeout(hours)
        assessors.release()
        self.assessing_in_community.add(-1, env.now)
        self.n_community_assessments.add(env.now, p.neighbourhood)

    def leave_bed(self, p: Patient, outcome: str) -> float | None:
        """``p`` leaves the acute bed alive now: the one place a bed is emptied and
        the patient's readmission (if any) booked. Returns the hours until the
        readmission, or None."""
        now = self.env.now
        self.delays.left_bed(p, now)
        self.acute.release(p, outcome)
        back_in = self.readmission.after_discharge(p)
        if self.visits is not None:
            # where people followed for the 91-day reablement measure go next
            where = self.visits.whereabouts
            where.moved(p.person, now, _PLACE_AFTER.get(outcome, HOME))
            if back_in is not None:
                where.moved(p.person, now + back_in, HOSPITAL)
        return back_in

    def died_in_hospital(self, p: Patient) -> None:
        """``p`` died in an acute bed (for the 91-day reablement measure)."""
        if self.visits is not None:
            self.visits.whereabouts.moved(p.person, self.env.now, DEAD)

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
    ) -> Generator[Any, Any, Destination | None]:
        """Wait until the service of ``pathway`` has a place for ``p``, already home
        with support, and admits them; returns the service (the place is held:
        start the stay with :meth:`start_downstream_stay`), or None if ``p`` is
        readmitted (at ``back_at``) first, or gives up then."""
        env = self.env
        svc = self.destination_of(p, pathway)
        if isinstance(svc, VisitService):
            started = svc.request(p, self.admission_hours(p, svc))
            if back_at is None:
                yield started
            else:
                yield started | env.timeout(max(0.0, back_at - env.now))
                if not started.triggered:  # readmitted (or gave up) while waiting
                    svc.cancel(p)
                    return None
            return svc
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
        self, p: Patient, svc: Destination, back_in: float | None, from_hospital: bool = True
    ) -> None:
        """Start ``p``'s stay in ``svc``, in the place ``p`` holds (already counted
        in ``svc.occupied`` from when it was reserved); it ends without a process.
        ``from_hospital``: ``p`` has just left an acute bed (not a step-up from home)."""
        if isinstance(svc, VisitService):
            svc.start_stay(p, back_in, from_hospital=from_hospital)
        else:
            svc.start_stay(p, back_in)

    def _left_service(self, p: Patient, svc: DownstreamService) -> None:
        if self.visits is not None and svc.pathway == 2:  # home from bed-based care
            self.visits.whereabouts.moved(p.person, self.env.now, HOME)
        self.site.flow.exit(p, f"left_{svc.name}")

    def _left_visits(self, p: Patient, svc: VisitService) -> None:
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
