"""``python -m jointaug_plugins ...`` is the ``jointaug`` command (where the console script is not on PATH)."""

from .cli import main

raise SystemExit(main())
