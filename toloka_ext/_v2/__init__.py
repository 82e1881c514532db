"""Pipeline API v2-beta: the adapter over the generated client, models, rows, journal (no I/O
beyond local files)."""
