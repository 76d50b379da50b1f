"""Neighbourhood interventions, each a component with its own config block.

* :mod:`~sim.interventions.mdt` - risk stratification and weekly MDT case management;
* :mod:`~sim.interventions.care_homes` - enhanced health in care homes;
* :mod:`~sim.interventions.treat` - TREAT rapid elderly assessment in A&E;
* :mod:`~sim.interventions.pace` - PACE early supported discharge;
* :mod:`~sim.interventions.seven_day` - seven-day working;
* :mod:`~sim.interventions.rollout` - which neighbourhoods, from when.

Each acts on the patient flow only through the hook points of :mod:`sim.hooks`
and the components it declares it uses. The model finds them with
:func:`sim.services.discover`; each declares its ``order`` among the others.
"""
