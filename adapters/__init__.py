"""Adapters: thin layers that put the core where each SSL library makes its views.

Each adapter imports its library lazily, so importing ``jointaug_plugins.adapters`` never requires
lightly, solo-learn or mmselfsup / mmpretrain to be installed.
"""
