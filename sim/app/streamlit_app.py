"""The script Streamlit runs (``nsim-app`` starts it): the pages live in :mod:`sim.app.ui`."""

from sim.app.ui import main

main()
