"""Building blocks shared by the service components: the event queue, processes
and calls, clock and calendars, levels, staff queues, random streams."""
