"""``python -m toloka_ext.testing``: see :mod:`toloka_ext.testing._cli`."""

from ._cli import main

raise SystemExit(main())
