"""Every code block of README.md runs here, verbatim (see ``readme_blocks`` for the markers).

Python blocks run in a fresh interpreter per chain (a block and the ``continues`` blocks after it), in
a folder holding ``images/`` (generated photographs-like images), so a plugin a block registers or a
worker it starts cannot leak into other tests. The mm-config block of each library is pasted verbatim at the
end of configs based on its shipped SimCLR and SimSiam files and trained here by mmengine's Runner (the
schedule block and the README's mm mistakes in ``test_mm_switch.py``); solo-defaults blocks in
``test_solo*.py``.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from images import write_image_folder
from readme_blocks import README, Block, blocks, of_kind

ROOT = README.parent
BIN = Path(sys.executable).parent
KINDS = {"python", "mm-config", "solo-defaults", "solo-body", "shell", "make", "skip"}
# What a block marked ``needs=NAME`` finds defined (the README says what it stands for).
_OPEN_FIRST_IMAGE = "image = Image.open(sorted(glob('images/**/*.png', recursive=True))[0])\n"
PROVIDED = {"image": "from glob import glob\nfrom PIL import Image\n" + _OPEN_FIRST_IMAGE}


def test_every_block_has_a_known_marker():
    found = blocks()
    assert found, "README.md has no code blocks?"
    bad = [f"{b.name} ({b.lang})" for b in found if b.kind not in KINDS]
    assert not bad, f"README blocks without a readme-test marker: {bad}"
    assert all(len(b.args) > 0 for b in found if b.kind == "skip"), "a skip marker must give its reason"


def _chains() -> list[list[Block]]:
    chains: list[list[Block]] = []
    for block in blocks():
        if block.kind != "python":
            continue
        if "continues" in block.args and chains:
            chains[-1].append(block)
        else:
            chains.append([block])
    return chains


def _script(chain: list[Block]) -> str:
    parts = []
    for block in chain:
        for arg in block.args:
            if arg.startswith("needs="):
                parts += [PROVIDED[name] for name in arg.removeprefix("needs=").split(",")]
        parts.append(f"# --- {block.name}\n{block.text}")
    return "\n".join(parts)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A folder with ``images/``: 256 small images, one full batch of the README's lightly loop."""
    folder = tmp_path_factory.mktemp("readme")
    write_image_folder(folder / "images", 256, size=(40, 48))
    return folder


@pytest.mark.parametrize("chain", _chains(), ids=lambda c: c[0].name)
def test_python_blocks_run_verbatim(chain, workdir):
    if any("lightly" in b.text for b in chain):
        pytest.importorskip("lightly")
    script = workdir / f"readme_{chain[0].line}.py"
    script.write_text(_script(chain))
    done = subprocess.run([sys.executable, str(script)], cwd=workdir, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{chain[0].name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


@pytest.mark.parametrize("block", of_kind("shell"), ids=lambda b: b.name)
def test_shell_blocks_run_verbatim(block):
    for line in block.text.strip().splitlines():
        command = shlex.split(line, comments=True)
        if not command:
            continue
        if command[0] == "jointaug" and "verify" in command and any(p.endswith(".py") for p in command):
            pytest.importorskip("mmengine")
        done = subprocess.run(command, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{block.name}: {line}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


@pytest.mark.parametrize("block", of_kind("make"), ids=lambda b: b.name)
def test_make_targets_exist_and_demo_runs(block, tmp_path):
    makefile = (ROOT / "Makefile").read_text()
    for line in block.text.strip().splitlines():
        target = shlex.split(line, comments=True)[1]
        recipe = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", makefile, re.M)
        assert recipe, f"README runs `make {target}`, which the Makefile lacks"
        if target == "demo":  # `make test` is what runs this suite; the demo's recipe runs here
            command = recipe.group(1).strip().replace("$(BIN)/", "").split()
            command[command.index("--out") + 1] = str(tmp_path / "demo")
            done = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, done.stderr[-3000:]
            assert len(list((tmp_path / "demo").glob("*.png"))) >= 3


@pytest.mark.slow
@pytest.mark.parametrize("method", ["simclr", "simsiam"])
@pytest.mark.parametrize("block", [b for b in of_kind("mm-config") if len(b.args) == 1], ids=lambda b: b.args[0])
def test_mm_config_blocks_train_verbatim(block, method, tmp_path):
    """The README's mm block, one line, pasted under the library's own config: joint views, trained by the
    Runner, the base's hooks kept (SimSiam's SimSiamHook), the log saying what is joint."""
    import math

    library = block.args[0]
    pytest.importorskip(library)
    from mm_runner import train_block

    assert len(block.text.strip().splitlines()) == 1, "the mm switch is one line"
    data_root = write_image_folder(tmp_path / "images", 8, size=(48, 64))
    runner, losses, log = train_block(tmp_path, library, method, block.text, data_root)
    assert len(losses) == 2 and all(math.isfinite(loss) for loss in losses)
    steps = [type(t).__name__ for t in runner.train_dataloader.dataset.pipeline.transforms]
    assert "JointMultiView" in steps
    hooks = [type(h).__name__ for h in runner.hooks]
    assert "JointEpochHook" in hooks and (method != "simsiam" or "SimSiamHook" in hooks)
    table = log.split("Hooks will be executed in the following order:", 1)[1].split(" - mmengine - ", 1)[0]
    assert "JointEpochHook" in table  # in mmengine's own hook table
    assert "[jointaug] joint views on (crop β=0), pairs [(0, 1)]" in log
