"""Building blocks shared by the service components: clock, calendars, random streams."""
