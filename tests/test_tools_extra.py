"""The core runs without the ``tools`` extra (scipy, matplotlib, tqdm, scikit-learn); the commands name it.

The core (``jointaug_plugins``, its transforms, ``JointViews``, ``jointify``) must import and run with
only torch, torchvision, numpy, pillow and pluggy installed; the ``jointaug`` commands use the tools and,
when one is missing, exit naming ``pip install 'jointaug-plugins[tools]'`` instead of a traceback.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from images import write_image_folder
from readme_blocks import of_kind

from jointaug_plugins.cli import TOOL_MODULES, TOOLS_INSTALL, main

# Blocks every module of the tools extra, as if it were not installed, then imports the core, runs the
# README's quick start on an image and builds the command line's parser (`jointaug --help`).
# A None in sys.modules is what Python's import system reads as "not installed": `import scipy` raises
# ModuleNotFoundError and importlib.util.find_spec("scipy") returns None (torch probes for some).
_WITHOUT_TOOLS = """
import sys

BLOCKED = {blocked!r}
for name in BLOCKED:
    sys.modules[name] = None

import numpy as np
from PIL import Image

import jointaug_plugins
import jointaug_plugins.transforms

image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (96, 128, 3), dtype=np.uint8))
namespace = {{}}
exec({quick_start!r}, namespace)
views = namespace["two_views"](image)
assert len(views) == 2, views

from jointaug_plugins.cli import build_parser

build_parser()
loaded = sorted(m for m, mod in sys.modules.items() if mod is not None and m.partition(".")[0] in BLOCKED)
assert not loaded, loaded
print("core ran without", sorted(BLOCKED))
"""


def test_the_core_imports_and_runs_the_quick_start_without_the_tools_extra():
    quick_start = of_kind("python")[0]
    assert "JointViews" in quick_start.text, f"{quick_start.name} is not the quick start"
    script = _WITHOUT_TOOLS.format(blocked=set(TOOL_MODULES), quick_start=quick_start.text)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "core ran without" in done.stdout


@pytest.mark.parametrize(
    ("argv", "module"),
    [
        (["demo", "--out", "{tmp}/demo", "--n", "100"], "tqdm"),
        (["stats", "--n", "100"], "tqdm"),
        (["stats", "--beta", "1", "--n", "100"], "scipy"),  # the closed form of JC(β > 0)
        (["preview", "{tmp}/images", "-o", "{tmp}/preview.png", "--pairs", "1"], "matplotlib"),
        (["preview", "-o", "{tmp}/preview.png", "--pairs", "1"], "sklearn"),  # the default images
        (["difficulty", "--images", "{tmp}/images"], "tqdm"),
        (["difficulty", "--seeds", "1", "--steps", "1"], "skimage"),  # the shipped photographs
        (["bench"], "tqdm"),
        (["verify", "no_such_module:views"], "tqdm"),
    ],
)
def test_a_command_without_a_tool_names_the_tools_extra(argv, module, tmp_path, monkeypatch, capsys):
    write_image_folder(tmp_path / "images", 1)
    # `import module` (and its submodules, which Python would take from sys.modules) now raises
    # ModuleNotFoundError; tool modules imported by earlier tests are imported afresh (then restored).
    for name in [n for n in sys.modules if n == module or n.startswith(module + ".")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, module, None)
    for name in [n for n in sys.modules if n.startswith("jointaug_plugins.tools")]:
        monkeypatch.delitem(sys.modules, name)
    code = main([arg.format(tmp=tmp_path) for arg in argv])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{TOOL_MODULES[module]} is not installed" in err
    assert TOOLS_INSTALL in err and "pip install 'jointaug-plugins[tools]'" in err
    assert "Traceback" not in err


def test_other_import_errors_still_raise(monkeypatch):
    import jointaug_plugins.cli.stats as command

    def run(args):
        raise ModuleNotFoundError("No module named 'lightly'", name="lightly")

    monkeypatch.setattr(command, "run", run)
    with pytest.raises(ModuleNotFoundError, match="lightly"):
        main(["stats"])


def test_the_message_reads_well():
    script = textwrap.dedent(
        """
        import sys
        sys.modules["tqdm"] = None
        from jointaug_plugins.cli import main
        sys.exit(main(["stats"]))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "jointaug stats: error: tqdm is not installed; the jointaug commands need the tools extra: "
        "pip install 'jointaug-plugins[tools]'"
    )
