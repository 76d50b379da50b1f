"""Neighbourhood interventions, each a component with its own config block.

* :mod:`~sim.interventions.mdt` - risk stratification and weekly MDT case management;
* :mod:`~sim.interventions.care_homes` - enhanced health in care homes;
* :mod:`~sim.interventions.treat` - TREAT rapid elderly assessment in A&E;
* :mod:`~sim.interventions.pace` - PACE early supported discharge;
* :mod:`~sim.interventions.seven_day` - seven-day working;
* :mod:`~sim.interventions.rollout` - which neighbourhoods, from when.

Each acts on the patient flow only through the hook points of :mod:`sim.hooks`.
:data:`INTERVENTIONS` is the one list the model builds them from, in this order.
"""

from sim.interventions.care_homes import CareHomeSupport
from sim.interventions.mdt import MDTCaseManagement
from sim.interventions.pace import Pace
from sim.interventions.seven_day import SevenDayWorking
from sim.interventions.treat import Treat

INTERVENTIONS = [
    MDTCaseManagement.build,
    CareHomeSupport.build,
    Treat.build,
    Pace.build,
    SevenDayWorking.build,
]

__all__ = [
    "INTERVENTIONS",
    "CareHomeSupport",
    "MDTCaseManagement",
    "Pace",
    "SevenDayWorking",
    "Treat",
]
