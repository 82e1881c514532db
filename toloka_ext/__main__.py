"""``python -m toloka_ext``: the ``toloka-ext`` command line (see :mod:`toloka_ext._cli`)."""

from ._cli import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python -m toloka_ext"))
