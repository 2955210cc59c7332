"""Every code block of README.md and of the documentation pages runs here, verbatim (markers: ``readme_blocks``).

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
    assert found, "README.md and docs/pages have no code blocks?"
    assert any(b.path.name == "README.md" for b in found) and any(b.path.name != "README.md" for b in found)
    bad = [f"{b.name} ({b.lang})" for b in found if b.kind not in KINDS]
    assert not bad, f"code blocks without a readme-test marker: {bad}"
    assert all(len(b.args) > 0 for b in found if b.kind == "skip"), "a skip marker must give its reason"


def _chains() -> list[list[Block]]:
    chains: list[list[Block]] = []
    for block in blocks():
        if block.kind != "python":
            continue
        if "continues" in block.args:
            assert chains and chains[-1][0].path == block.path, f"{block.name} continues no block of its page"
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
def test_shell_blocks_run_verbatim(block, tmp_path):
    """Run where a user of the checkout would (its ``configs/`` at hand), in a scratch folder, so files the
    commands write land there."""
    (tmp_path / "configs").symlink_to(ROOT / "configs")
    for line in block.text.strip().splitlines():
        command = shlex.split(line, comments=True)
        if not command:
            continue
        if command[0] == "jointaug" and "verify" in command and any(p.endswith(".py") for p in command):
            pytest.importorskip("mmengine")
        done = subprocess.run(command, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=600)
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
            _assert_readme_picture_is_the_demos(tmp_path / "demo")


def _assert_readme_picture_is_the_demos(demo: Path) -> None:
    """The README shows ``make demo``'s ratio density (seeded, so the same picture up to font rendering)."""
    import numpy as np
    from PIL import Image

    (name,) = re.findall(r"!\[[^\]]*\]\(docs/([^)]+\.png)\)", README.read_text())
    shown = np.asarray(Image.open(ROOT / "docs" / name).convert("RGB"), dtype=np.float64)
    made = np.asarray(Image.open(demo / name).convert("RGB"), dtype=np.float64)
    assert shown.shape == made.shape, f"docs/{name} is not the picture make demo writes: regenerate it"
    assert np.abs(shown - made).mean() < 2.0, f"docs/{name} differs from make demo's {name}: regenerate it"


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


#: The mm-config blocks with a second argument, each run by the test named here (verbatim, from the docs).
CLAIMED_MM_BLOCKS = {
    "schedule": "test_mm_switch.py",
    "position": "test_mm_switch.py",
    "preprocessor": "test_batch_routes.py",
    "drawlog": "test_readme.py",
}


def test_every_mm_block_is_run_by_a_test():
    for block in of_kind("mm-config"):
        assert len(block.args) == 1 or block.args[1] in CLAIMED_MM_BLOCKS, f"{block.name}: no test runs it"
        if len(block.args) > 1:
            assert f'"{block.args[1]}"' in (ROOT / "tests" / CLAIMED_MM_BLOCKS[block.args[1]]).read_text()


@pytest.mark.slow
def test_mm_drawlog_block_trains_verbatim(tmp_path):
    """The Measuring page's draw-log block pasted under mmselfsup's SimCLR config: the switch and the hook both
    run, and the hook's summary reaches the message hub."""
    import math

    pytest.importorskip("mmselfsup")
    from mm_runner import train_block

    (block,) = of_kind("mm-config", "mmselfsup", "drawlog", exact=True)
    data_root = write_image_folder(tmp_path / "images", 8, size=(48, 64))
    runner, losses, log = train_block(tmp_path, "mmselfsup", "simclr", block.text, data_root)
    assert len(losses) == 2 and all(math.isfinite(loss) for loss in losses)
    hooks = [type(h).__name__ for h in runner.hooks]
    assert "JointDrawLoggerHook" in hooks and "JointEpochHook" in hooks
    assert "[jointaug] joint views on (crop β=0), pairs [(0, 1)]" in log
