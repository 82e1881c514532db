"""The hand-written async source of every client (``_sync/`` is generated from it)."""
