"""Discharge: pathways out of hospital, the services they need, and delayed transfers.

When an acute patient is declared medically fit they need one of four pathways
(the DHSC Hospital Discharge Service model):

* **P0** home with no new support;
* **P1** home with reablement or a home-care package;
* **P2** a bed-based intermediate care (rehabilitation) place;
* **P3** a new care-home placement.

P1-P3 need a discharge assessment first, then a place in a downstream service
with finite capacity. While the patient waits they keep the acute bed: a
**delayed transfer of care (DTOC)**, attributed to the NHS, social care or both as
NHS England's definitions do. Modules:

* :mod:`~sim.discharge.dtoc` - delayed days by attribution and reason;
* :mod:`~sim.discharge.assessment` - the assessment team;
* :mod:`~sim.discharge.services` - reablement, intermediate care, care homes;
* :mod:`~sim.discharge.team` - the discharge flow that ties them together.
"""

from sim.discharge.team import DischargeTeam

__all__ = ["DischargeTeam"]
