"""Pictures and the HTML report: what planners look at instead of tables."""
