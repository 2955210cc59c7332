"""The README and the documentation pages say what the code does: the switch table runs, the paper table names
existing configs (and every ready config), links resolve, and the README's picture is what ``make demo`` makes.
Code blocks run in ``test_readme.py``; the site itself is built by ``make docs`` (``make test`` runs it)."""

from __future__ import annotations

import re
from itertools import product
from pathlib import Path

import pytest
from readme_blocks import PAGES, README, ROOT, documents, of_kind, page

_SPAN = re.compile(r"`([^`]+)`")


def _table(text: str, header: str) -> list[list[str]]:
    """The rows (cells) of the Markdown table whose header row starts with ``header``."""
    start = text.index(header)
    lines = text[start:].split("\n\n", 1)[0].splitlines()[2:]
    return [[cell.strip() for cell in line.strip().strip("|").split(" | ")] for line in lines]


def _switches() -> dict[str, str]:
    """The README's switch table: library -> the switch cell's first code span."""
    return {row[0]: _SPAN.findall(row[1])[0] for row in _table(README.read_text(), "| library | the switch |")}


def test_the_home_page_shows_the_readme_switch_table():
    readme = _table(README.read_text(), "| library | the switch |")
    home = _table(page("index"), "| library | the switch |")
    assert [[c.replace("](docs/pages/", "](") for c in row] for row in readme] == home


def test_the_mm_switches_are_the_pages_blocks():
    switches = _switches()
    (mmselfsup,) = of_kind("mm-config", "mmselfsup", exact=True)
    (mmpretrain,) = of_kind("mm-config", "mmpretrain", exact=True)
    assert switches["mmselfsup"] == mmselfsup.text.strip()
    assert switches["mmpretrain"].strip("'") in mmpretrain.text
    assert "'jointaug_plugins.adapters.mmselfsup'" in switches["mmselfsup"]


def test_the_solo_switch_is_the_pages_line():
    (defaults,) = of_kind("solo-defaults")
    assert _switches()["solo-learn"] in defaults.text.splitlines()[1]


_RUN = {
    "lightly": ("lightly", "from jointaug_plugins.adapters.lightly import JointSimCLRTransform"),
    "timm": ("timm", "from timm.data import create_transform\nfrom jointaug_plugins import jointify"),
    "kornia, on the GPU": (
        "kornia",
        "import kornia.augmentation as K\nfrom jointaug_plugins import jointify\n"
        "from jointaug_plugins.adapters.kornia import SimCLRBatchViews\n"
        "aug = K.AugmentationSequential(K.RandomResizedCrop((32, 32)), K.RandomHorizontalFlip())",
    ),
}


@pytest.mark.parametrize("library", sorted(_RUN))
def test_the_python_switches_build_joint_views(library):
    module, setup = _RUN[library]
    pytest.importorskip(module)
    namespace: dict = {}
    exec(setup, namespace)
    switch = _switches()[library]
    views = eval(switch, namespace)
    from jointaug_plugins.drawlog.attach import find_joint_views

    found = [views] if hasattr(views, "options") else find_joint_views(views)
    assert found and found[0].options.describe() == "crop β=0", f"{switch} did not build joint views"


def test_the_dino_switch_imports():
    switch = _switches()["DINO, DINOv2, DINOv3"]
    exec(switch, {})
    for name in ("dino", "dinov3"):
        exec(switch.replace(".dinov2 ", f".{name} "), {})


def _expand(pattern: str) -> list[str]:
    """``a/{b,c}_..._d.py`` -> globs ``a/b_*_d.py``, ``a/c_*_d.py``."""
    parts = re.split(r"\{([^}]*)\}", pattern.replace("...", "*"))
    choices = [[p] if i % 2 == 0 else p.split(",") for i, p in enumerate(parts)]
    return ["".join(c) for c in product(*choices)]


def test_the_paper_table_names_existing_configs_and_every_ready_config():
    rows = _table(page("reproducing"), "| paper | row | config | train with |")
    named: set[Path] = set()
    for row in rows:
        for span in _SPAN.findall(row[2]):
            if span.startswith("configs/"):
                for pattern in _expand(span):
                    found = sorted(ROOT.glob(pattern))
                    assert found, f"the paper table names {span}, but {pattern} matches no file"
                    named.update(found)
    ready = {p for p in (ROOT / "configs").rglob("*") if p.suffix in {".py", ".yaml"}}
    ready = {p for p in ready if not {"augmentations", "wandb"} & set(p.relative_to(ROOT / "configs").parts)}
    mm_pretrain = {p for p in ready if p.parent.name == "mmpretrain"}  # "(mmpretrain likewise)" in the table
    missing = sorted(str(p.relative_to(ROOT)) for p in ready - named - mm_pretrain)
    assert not missing, f"ready configs missing from the paper table: {missing}"


def _links(path: Path) -> list[str]:
    return [target for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()) if "://" not in target]


@pytest.mark.parametrize("document", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_local_links_resolve(document):
    for target in _links(document):
        file = target.split("#", 1)[0]
        if not file or file.startswith("generated/"):
            continue  # an anchor on the same page (Sphinx checks those), or a picture made at build time
        assert (document.parent / file).exists(), f"{document.name} links to {target}, which does not exist"


def test_generated_pictures_the_pages_show_are_made_by_the_generator():
    import sys

    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import generate
    finally:
        sys.path.remove(str(ROOT / "docs"))
    source = Path(generate.__file__).read_text()
    shown = {t.split("/", 1)[1] for p in PAGES.rglob("*.md") for t in _links(p) if t.startswith("generated/")}
    assert shown, "no page shows a generated picture"
    for name in shown:
        stem = name.removesuffix(".png").removesuffix(".md")
        pattern = re.sub(r"_(?:beta_)?-?\d+$|_(crop|blur|color)$", "", stem)
        assert pattern in source, f"a page shows generated/{name}, which docs/generate.py does not make"
