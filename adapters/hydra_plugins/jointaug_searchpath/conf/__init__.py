"""YAML files of the ``jointaug`` hydra config group (read by hydra through ``pkg://``; no code)."""
