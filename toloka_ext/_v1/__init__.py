"""API v1 (tasks and operations): models and the pure logic of ``create_tasks`` (no I/O)."""
