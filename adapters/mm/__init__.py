"""Shared code of the mmselfsup and mmpretrain adapters (``jointaug_plugins.adapters.mmselfsup`` and
``jointaug_plugins.adapters.mmpretrain``): joint subclasses of their random transforms
(``transforms``), ``JointMultiView`` (``multiview``), the Runner switch (``switch``; what the config's
``custom_imports`` say about it: ``imports``), the epoch hook (``epoch``) and the upstream workarounds
(``upstream_fixes``). Importing this package imports no mm library; the two adapter modules do.
"""
