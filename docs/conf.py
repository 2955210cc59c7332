"""Sphinx configuration of the documentation site (``make docs``: ``sphinx-build -W --keep-going``).

Pages are Markdown (MyST) under ``docs/pages``, the README's format, so the same ``readme-test`` markers run
their code blocks in the test suite. ``docs/generate.py`` writes the generated parts into
``docs/pages/generated/`` when the build starts: the option tables from the one option set, the pictures from
the demo images, the changelog. Why Sphinx: it is what torchvision and kornia build with and is maintained,
autodoc reads our reStructuredText docstrings as written, and MyST keeps the pages in Markdown.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS))

project = "jointaug-plugins"
author = "jointaug-plugins developers"
extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinxcontrib.mermaid",
]
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
html_theme = "furo"
html_title = "jointaug-plugins"
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_class_signature = "separated"
# Inherited docstrings are torchvision's, whose cross-references point into its own site.
autodoc_inherit_docstrings = False
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# Pages quote Python, YAML, shell and diffs; highlight failures would be warnings (errors under -W).
highlight_language = "none"
nitpicky = False


def _generate(app) -> None:
    from generate import generate

    generate(Path(app.srcdir) / "generated")


def setup(app) -> dict[str, bool]:
    app.connect("builder-inited", _generate)
    return {"parallel_read_safe": True}

# mmcv-lite has no compiled ops; importing the mm adapters for autodoc makes mmcv say so. Not a docs problem.
warnings.filterwarnings("ignore", message="Fail to import ``MultiScaleDeformableAttention``")
