"""``jointaug bench`` cases provided by SSL libraries' adapters (hook ``jointaug_bench_cases``).

Each module is registered through the entry-point group ``jointaug_plugins`` (``bench_lightly``) and
imports its library inside the hook only, so listing it costs nothing where the library is absent.
"""
