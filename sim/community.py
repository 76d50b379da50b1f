"""Community response: crises resolved the same day without going to A&E.

Same-day GP appointments and community rapid-response teams manage a share of
crises at home. A managed crisis ends there; the rest attend A&E, by ambulance or
on foot. Interventions (case management, care-home support) may change who is
managed in the community through the ``community`` hook, and services may follow
up a managed crisis through the ``community_managed`` hook (step-up intermediate
care).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from sim.components import Component
from sim.patient import Draw, Patient, per_stratum

if TYPE_CHECKING:
    from sim.components import Site
    from sim.config.schema import CommunityConfig
    from sim.core.window import KpiWindow


class CommunityResponse(Component):
    """Decides whether a crisis is managed in the community."""

    name = "community"
    kpi_docs: ClassVar[Mapping[str, tuple[str, str]]] = {
        "community_managed": ("count", "Crises resolved in the community without A&E."),
    }

    def __init__(self, site: Site, cfg: CommunityConfig) -> None:
        super().__init__(site, cfg)
        self.enabled = cfg.enabled
        self.share: list[float] = per_stratum(
            site.strata, cfg.managed_share.as_tuple(), care_home=cfg.care_home_managed_share
        ).tolist()
        self.ambulance: list[float] = per_stratum(
            site.strata, cfg.ambulance_share.as_tuple()
        ).tolist()
        self.hooks = site.hooks
        self.n_managed = self.rec.counter("community_managed")
        self.u_managed = Draw("u_community", "community.managed")
        self.u_ambulance = Draw("u_ambulance", "ae.ambulance")

    def draws(self) -> list[Draw]:
        return [self.u_managed, self.u_ambulance]

    def manages(self, p: Patient) -> bool:
        """True if the crisis is resolved in the community (and records it)."""
        hooks = self.hooks
        forced = hooks.community_override(p) if hooks.community else None
        managed = (
            forced
            if forced is not None
            else (self.enabled and self.u_managed.of(p) < self.share[p.stratum])
        )
        if managed:
            self.n_managed.add(p.arrival, p.neighbourhood)
            self.rec.exit("community_managed")
            self.rec.log(p.arrival, p.id, p.person, "community_managed")
            for follow_up in hooks.community_managed:
                follow_up(p)
        return managed

    def referral_source(self, p: Patient) -> str:
        """Who would refer ``p``'s unmanaged crisis on: the care home, the
        ambulance crew called out, else NHS 111."""
        if p.care_home:
            return "care_home"
        return "ambulance" if self.by_ambulance(p) else "nhs111"

    def refers_on(self, p: Patient) -> bool:
        """Offer an unmanaged crisis to the services that take referrals (urgent
        community response); True if one took the patient over."""
        hooks = self.hooks
        return bool(hooks.crisis_referral) and hooks.refer_crisis(p, self.referral_source(p))

    def by_ambulance(self, p: Patient) -> bool:
        return self.u_ambulance.of(p) < self.ambulance[p.stratum]

    def kpis(self, window: KpiWindow) -> dict[str, float]:
        return {"community_managed": window.count("community_managed")}

    def base_share(self, p: Patient) -> float:
        """Share of crises like ``p``'s the community manages without interventions."""
        return self.share[p.stratum] if self.enabled else 0.0

    def managed_below(self, p: Patient, share: float) -> bool:
        """Whether ``p``'s crisis is managed if a share ``share`` of such crises is:
        the same uniform as the base rule, so a raised share keeps those it had."""
        return self.u_managed.of(p) < share
