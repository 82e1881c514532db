"""Toloka from Python: Pipeline API v2-beta workflows and v1 task creation.

The public surface is assembled here; everything else lives in private modules.
"""

__all__: list[str] = []
