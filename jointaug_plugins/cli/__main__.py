"""``python -m jointaug_plugins.cli ...`` is the ``jointaug`` command (where the console script is not on PATH)."""

from . import main

raise SystemExit(main())
