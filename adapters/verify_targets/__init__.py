"""``jointaug verify`` targets built by SSL libraries: mmselfsup / mmpretrain configs (``mm``) and solo-learn
YAMLs (``solo``).

Each module implements the hook ``jointaug_verify_target`` and is registered through the entry-point group
``jointaug_plugins`` (``verify_mm``, ``verify_solo``). They import their library inside the hook only, so
listing them costs nothing where the library is absent.
"""
