"""Every entry point answers one misspelling with one message, and honours ``reproducible`` or says why not.

Each door is built the way a user builds it (the lightly recipe, the mm Runner's switch, the solo YAML
block, the DALI views, the DINO drop-ins, the batch module) with ``blurr=0.0``; the messages must be
the parser's own, character for character. ``reproducible=True, seed=0`` is either taken (the built
coordinator holds it) or refused with :class:`UnsupportedOptionError` and a reason.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from torchvision import transforms as T

from jointaug_plugins import (
    JointMultiCrop,
    JointOptions,
    JointResizedCropBatch,
    JointViews,
    UnknownOptionError,
    UnsupportedOptionError,
    jointify,
)

SIZE = 16
TWO_CROPS = [T.Compose([T.RandomResizedCrop(SIZE), T.ToTensor()])] * 2


def _mm_switch(**options: Any) -> Any:
    """The mm Runner's switch (the function the wrapped ``Runner.__init__`` and ``jointaug verify`` call)."""
    pytest.importorskip("mmselfsup")
    from jointaug_plugins.adapters import mmselfsup  # noqa: F401  (registers JointMultiView, as custom_imports does)
    from jointaug_plugins.adapters.mm.switch import apply_switch

    view = [dict(type="LoadImageFromFile"), dict(type="RandomResizedCrop", size=SIZE), dict(type="PackSelfSupInputs")]
    loader = dict(dataset=dict(type="mmselfsup.ImageList", pipeline=[dict(type="mmselfsup.MultiView", num_views=2,
                                                                          transforms=[view])]))  # fmt: skip
    cfg = {"jointaug": options, "custom_imports": dict(imports=["jointaug_plugins.adapters.mmselfsup"])}
    switched = apply_switch(loader, cfg, scope="mmselfsup")
    return switched.views[0].joint_views


def _solo_block(**options: Any) -> Any:
    from jointaug_plugins.adapters.solo.options import parse_block

    return parse_block(options)


def _dali(**options: Any) -> Any:
    pytest.importorskip("nvidia.dali")
    from jointaug_plugins.adapters.dali import DALIView, JointDALIViews

    return JointDALIViews([DALIView(SIZE), DALIView(SIZE)], **options)


def _lightly(name: str) -> Callable[..., Any]:
    def make(**options: Any) -> Any:
        pytest.importorskip("lightly")
        from jointaug_plugins.adapters import lightly as adapter

        if name == "JointCollateFunction":
            from lightly.transforms import SimCLRViewTransform

            return adapter.JointCollateFunction(SimCLRViewTransform(input_size=SIZE), **options)
        if name == "JointDINOTransform":
            return adapter.JointDINOTransform(n_local_views=2, **options)
        return getattr(adapter, name)(input_size=SIZE, **options)

    return make


def _dino(module: str) -> Callable[..., Any]:
    def make(**options: Any) -> Any:
        import importlib

        drop_in = importlib.import_module(f"jointaug_plugins.adapters.{module}")
        if module == "dino":
            return drop_in.DataAugmentationDINO((0.4, 1.0), (0.05, 0.4), 2, **options)
        return drop_in.DataAugmentationDINO((0.32, 1.0), (0.05, 0.32), 2, SIZE * 2, SIZE, **options)

    return make


def _timm(**options: Any) -> Any:
    timm_data = pytest.importorskip("timm.data")
    view = timm_data.create_transform(SIZE, is_training=True)
    return jointify([view, view], **options)


DOORS: dict[str, Callable[..., Any]] = {
    "JointViews": lambda **o: JointViews([T.Compose([jointify(TWO_CROPS).view_transforms[0]])] * 2, **o),
    "jointify": lambda **o: jointify(TWO_CROPS, **o),
    "JointMultiCrop": lambda **o: JointMultiCrop(SIZE * 2, SIZE, n_local=2, **o),
    "JointResizedCropBatch": lambda **o: JointResizedCropBatch(SIZE, **o),
    "lightly JointSimCLRTransform": _lightly("JointSimCLRTransform"),
    "lightly JointDINOTransform": _lightly("JointDINOTransform"),
    "lightly JointCollateFunction": _lightly("JointCollateFunction"),
    "lightly JointSimCLRCollateFunction": _lightly("JointSimCLRCollateFunction"),
    "mm switch (jointaug = dict(...))": _mm_switch,
    "solo-learn YAML block": _solo_block,
    "DALI JointDALIViews": _dali,
    "DINO drop-in": _dino("dino"),
    "DINOv2 drop-in": _dino("dinov2"),
    "DINOv3 drop-in": _dino("dinov3"),
    "timm (jointify)": _timm,
}
REFUSING = {"solo-learn YAML block": "solo-learn", "DALI JointDALIViews": "DALI",
            "JointResizedCropBatch": "JointResizedCropBatch"}  # fmt: skip


def _options_of(built: Any) -> JointOptions:
    """The parsed options a door's result holds (a coordinator, or a library object around one)."""
    if isinstance(built, JointOptions):
        return built
    for path in ("options", "joint_views.options", "coordinator.options", "views.options", "joint.options",
                 "joint_transform.joint_views.options"):  # fmt: skip
        value: Any = built
        try:
            for part in path.split("."):
                value = getattr(value, part)
        except AttributeError:
            continue
        if isinstance(value, JointOptions):
            return value
    raise AssertionError(f"cannot find the parsed options in {type(built).__name__}")


@pytest.mark.parametrize("door", list(DOORS))
def test_every_door_gives_the_one_message_for_a_misspelled_key(door):
    with pytest.raises(UnknownOptionError) as expected:
        JointOptions.parse(blurr=0.0)
    with pytest.raises(UnknownOptionError) as err:
        DOORS[door](blurr=0.0)
    assert str(err.value) == str(expected.value)
    assert str(err.value).startswith("unknown joint option 'blurr' (did you mean 'blur'?); valid options: crop, blur")


@pytest.mark.parametrize("door", list(DOORS))
def test_every_door_takes_reproducible_or_says_why_not(door):
    if door in REFUSING:
        with pytest.raises(UnsupportedOptionError, match=rf"^{REFUSING[door]} cannot honour reproducible=True: \w"):
            DOORS[door](reproducible=True, seed=0)
        return
    built = DOORS[door](reproducible=True, seed=0)
    options = _options_of(built)
    assert options.reproducible is True and options.seed == 0


def _coordinator_of(built: Any) -> JointViews | None:
    """The coordinator a door's result draws with (``None`` for the solo block, which is parsed options)."""
    for path in ("", "joint_views", "coordinator", "views", "joint", "joint_transform.joint_views", "views.views"):
        value: Any = built
        try:
            for part in filter(None, path.split(".")):
                value = getattr(value, part)
        except AttributeError:
            continue
        if isinstance(value, JointViews):
            return value
        if inspect.ismethod(getattr(value, "views", None)) and isinstance(value.views(), JointViews):  # DINO drop-ins
            return value.views()
    return None


@pytest.mark.parametrize("door", list(DOORS))
def test_every_door_places_its_crops_where_position_says(door):
    box = (0.25, 0.25, 0.75, 0.75)
    built = DOORS[door](position={"alpha": 0.6, "box": box})
    assert _options_of(built).position.box == box
    coordinator = _coordinator_of(built)
    if door == "solo-learn YAML block":
        assert coordinator is None  # parsed options: the solo tests build its views
        return
    assert coordinator is not None, f"cannot find the coordinator of {type(built).__name__}"
    crops = [s for view in coordinator.draw().views for s in view.slices if hasattr(s, "box")]
    assert crops and all(s.box == box for s in crops)


@pytest.mark.parametrize("door", list(DOORS))
def test_every_door_takes_semantic_boxes_or_says_why_not(door):
    semantic = {"alpha": 0.6, "boxes": "semantic"}
    if door in REFUSING:
        with pytest.raises(UnsupportedOptionError, match=rf"^{REFUSING[door]} cannot honour position boxes='semantic'"):
            DOORS[door](position=semantic)
        return
    assert _options_of(DOORS[door](position=semantic)).position.semantic
