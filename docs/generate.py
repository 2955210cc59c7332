"""The generated parts of the documentation site, written when ``make docs`` builds it.

Nothing here is committed as output: the option tables come from the one option set
(``jointaug_plugins.options``), the pictures from the demo images that ship in scikit-learn (those ``make demo``
uses) and from the measured results in ``docs/pages/data/*.json``, the changelog page from CHANGELOG.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
#: Monte Carlo pairs per density picture: smooth histograms in a few seconds each.
N_PAIRS = 50_000


def write_tables(out: Path) -> None:
    """The option tables (from the one option set), the registered kinds and the changelog page, into ``out``."""
    from jointaug_plugins.options import options_table
    from jointaug_plugins.placement import POSITION_KEYS
    from jointaug_plugins.registry import joint_augmentations

    kinds = ["| kind | joint transform |", "|---|---|"]
    kinds += [f"| `{kind}` | `{cls.__module__}.{cls.__qualname__}` |" for kind, cls in joint_augmentations().items()]
    position = ["| key | default |", "|---|---|"]
    position += [f"| `{key}` | `{value!r}` |" for key, value in POSITION_KEYS.items()]
    (out / "options_table.md").write_text(options_table() + "\n")
    (out / "position_keys.md").write_text("\n".join(position) + "\n")
    (out / "kinds.md").write_text("\n".join(kinds) + "\n")
    # The changelog's own title is the page's; its links stay as they are.
    (out / "changelog.md").write_text((ROOT / "CHANGELOG.md").read_text())


def _pictures(out: Path, progress: Callable) -> None:
    from jointaug_plugins.tools.difficulty_plot import plot_difficulty
    from jointaug_plugins.tools.images import default_images
    from jointaug_plugins.tools.preview import render_placement, render_preview
    from jointaug_plugins.tools.stats import distance_stats, plot_center_distances, plot_ratio_density

    images = default_images()
    jobs: list[tuple[str, Callable[[Path], object]]] = []
    for beta in (2.0, 0.0, -2.0):
        jobs.append(
            (
                f"pairs_crop_beta_{beta:g}.png",
                lambda p, b=beta: render_preview(images[:1], "crop", b, pairs_per_image=4, size=112, path=p),
            )
        )
    for aug in ("blur", "color"):
        jobs.append(
            (
                f"pairs_{aug}.png",
                lambda p, a=aug: render_preview(images[1:], a, 0.0, pairs_per_image=4, size=112, path=p),
            )
        )
    for aug in ("crop", "blur", "color"):
        jobs.append((f"ratio_density_{aug}.png", lambda p, a=aug: plot_ratio_density(aug=a, n=N_PAIRS, path=p)))
    jobs.append(("center_distance.png", lambda p: plot_center_distances(distance_stats(n=N_PAIRS // 2)[1], p)))
    jobs.append(("placement.png", lambda p: render_placement(images[:1], dict(alpha=0.6), n=1000, path=p)))
    for name in ("difficulty", "difficulty_long"):
        result = json.loads((DOCS / "pages" / "data" / f"{name}.json").read_text())
        jobs.append((f"{name}.png", lambda p, r=result: plot_difficulty(r, p)))
    for name, make in progress(jobs, desc="docs pictures", unit="picture"):
        make(out / name)


def generate(out: Path) -> None:
    """Write the generated tables, pages and pictures into ``out`` (the pages include them from there)."""
    from tqdm import tqdm

    out.mkdir(parents=True, exist_ok=True)
    write_tables(out)
    _pictures(out, tqdm)
