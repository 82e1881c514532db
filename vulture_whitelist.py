# Names vulture (make lint) cannot see used: each is called or read by something outside the
# scanned code (Python itself, a framework, users of the public API). Keep it short: dead
# code is removed, not listed here.
# ruff: noqa
_ = object()

# Python's own protocols: a module's lazy exports (PEP 562), Enum's lookup of unknown values.
__getattr__, __dir__, _.__call__, _._missing_
# The exit protocol's traceback argument (its name is public: make api-check).
tb
# Frameworks call these: PyYAML (Dumper), pytest (plugin hook), uvicorn (stop flag), rich
# (column refresh), http.server (handlers in tests), unasync (rule hooks), griffe (loader).
_.ignore_aliases, _.indentless, pytest_configure, _.should_exit, _.max_refresh
# A module object made into a package (scripts/snapshot_module.py): the import system reads it.
_.__path__
_.do_GET, _.do_POST, _.log_message, _.protocol_version, _.close_connection, _.daemon_threads
_._unasync_name, _.fromdir, _.todir, _._modules_collection
# pytest reads these module names; a fixture's argument is used by being requested.
pytestmark, pytest_plugins, cli_installed
# Public API read by users, not by the package: enum members, a served sandbox's URL.
_.RUNNING, _.PROCESSING, _.JSONL, _.JSON, _.CSV, _.storage_url
# A settled verdict's lists: the callers act on the others; tests read this one.
_.still_unknown
# Fields of a model the annotation walker of tests/test_exported_members.py inspects.
_.optional_payload, _.loose, _.thing
