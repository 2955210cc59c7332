"""Each upstream fix of the mm adapters is still needed: these tests reproduce the upstream problem in a
clean interpreter (no adapter imported) and fail once upstream has fixed it, so the fix can go.

See ``jointaug_plugins/adapters/mm/upstream_fixes.py`` for the fixes and their upstream links.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300)


def test_mmselfsup_still_names_a_runner_module_it_does_not_ship():
    pytest.importorskip("mmselfsup")
    done = _run(
        """
        import importlib.util, mmselfsup.engine
        print(importlib.util.find_spec("mmselfsup.engine.runner") is None)
        """
    )
    assert done.stdout.strip() == "True", (
        "mmselfsup now ships mmselfsup.engine.runner (open-mmlab/mmselfsup#745 fixed): remove "
        "register_missing_runner_location from upstream_fixes.py\n" + done.stderr
    )


def test_mmengine_still_passes_scope_into_the_collate_function():
    pytest.importorskip("mmengine")
    done = _run(
        """
        from mmengine.runner import Runner
        loader = dict(dataset=[1, 2], sampler=dict(type="DefaultSampler", shuffle=False), batch_size=1,
                      collate_fn=dict(type="default_collate", _scope_="mmengine"))
        try:
            next(iter(Runner.build_dataloader(loader)))
            print("ok")
        except TypeError as err:
            print("TypeError", err)
        """
    )
    assert done.stdout.startswith("TypeError") and "_scope_" in done.stdout, (
        "mmengine now drops _scope_ from collate_fn: remove drop_collate_scope from upstream_fixes.py\n"
        + done.stdout
        + done.stderr
    )


def test_mmcv_adjust_hue_still_fails_under_numpy_2():
    np = pytest.importorskip("numpy")
    pytest.importorskip("mmcv")
    if int(np.__version__.split(".")[0]) < 2:
        pytest.skip("the mmcv adjust_hue problem needs numpy >= 2")
    done = _run(
        """
        import numpy as np, mmcv
        image = np.full((4, 4, 3), 128, dtype=np.uint8)
        try:
            mmcv.adjust_hue(image, -0.2, backend="pillow")
            print("ok")
        except (OverflowError, ValueError) as err:
            print(type(err).__name__, err)
        """
    )
    assert not done.stdout.startswith("ok"), (
        "mmcv's pillow adjust_hue now takes a negative hue under numpy 2: remove numpy2_safe_adjust_hue from "
        "upstream_fixes.py\n" + done.stderr
    )
    assert done.stdout.strip(), done.stderr


def test_the_fixed_adjust_hue_matches_mmcv_under_numpy_1_semantics():
    pytest.importorskip("mmselfsup")
    done = _run(
        """
        import numpy as np, mmcv
        import jointaug_plugins.adapters.mmselfsup  # applies the fixes
        image = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
        out = mmcv.adjust_hue(image, -0.2, backend="pillow")
        print(out.shape, out.dtype, bool((out != image).any()))
        """
    )
    assert done.stdout.strip() == "(8, 8, 3) uint8 True", done.stderr
