"""The planner's web app: a browser front end over the plain Python API.

Many of the people who commission care work in a browser, not at a command
line. The app lets them describe their own borough (neighbourhoods, registered
populations, frailty, care homes, service capacities), compose scenarios from
the library and move their levers, run a comparison with its uncertainty, and
read and download the answer. It is presentation only: every number comes from
``nsim`` itself, which the app runs in a process of its own, so a run from the
app and the same command typed by hand give identical tables.

Modules:

* :mod:`sim.app.workspace`: where a session keeps its files, and the shared library;
* :mod:`sim.app.drafts`: scenario files written from forms, checked before saving;
* :mod:`sim.app.jobs`: runs started, watched, cancelled and reopened;
* :mod:`sim.app.results`: a finished (or running) run's tables and figures, read back;
* :mod:`sim.app.ui`: the Streamlit pages (the only module that imports Streamlit);
* :mod:`sim.app.launch`: the ``nsim-app`` command.
"""
