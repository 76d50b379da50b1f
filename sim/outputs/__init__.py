"""What a run produces: the recorder, KPI tables, their schema and file writers."""
