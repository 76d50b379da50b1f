"""The command-line programs besides ``nsim`` (:mod:`sim.cli`).

* :mod:`~sim.commands.collect` - ``nsim-collect``, a sweep folder into tables;
* :mod:`~sim.commands.tools` - ``nsim-warmup``, ``nsim-replications`` and
  ``nsim-capacity``, for the design of experiments.

They belong to the presentation layer (see docs/architecture.md): they parse
arguments, print and write files, and leave the work to :mod:`sim.experiment`.
"""
