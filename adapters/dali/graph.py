"""The DALI operators of joint views: peek sizes, draw (Python, once per batch), decode the region, make views.

Imported only inside a pipeline definition, so that the rest of the adapter needs no DALI.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np
from nvidia.dali import fn, types

from .view import DALIView

_INTERP = {
    "nearest": types.INTERP_NN,
    "linear": types.INTERP_LINEAR,
    "cubic": types.INTERP_CUBIC,
    "lanczos": types.INTERP_LANCZOS3,
}
# Per view: roi_start, roi_end, twist, sigma, window, solarize, flip.
_PER_VIEW = 7


def _outputs(views: Any, shapes: list[np.ndarray]) -> tuple[list[np.ndarray], ...]:
    """``python_function`` body (``views``: a ``JointDALIViews``): one batch's parameters as per-sample
    numpy arrays, in graph order."""
    params = views.batch(np.stack([np.asarray(s) for s in shapes]))
    columns = [params.region_anchor, params.region_shape]
    for view in params.views:
        columns += [view.roi_start, view.roi_end, view.twist, view.sigma, view.window, view.solarize, view.flip]
    return tuple([np.ascontiguousarray(row) for row in column] for column in columns)


def _finish(image: Any, view: DALIView, args: list[Any], device: str) -> Any:
    roi_start, roi_end, twist, sigma, window, solarize, flip = args
    image = fn.resize(
        image,
        size=view.size,
        roi_start=roi_start,
        roi_end=roi_end,
        roi_relative=False,
        interp_type=_INTERP[view.interpolation],
        antialias=True,
    )
    if view.jitters or view.grayscale > 0:
        image = fn.color_twist(image, brightness=twist[0], contrast=twist[1], saturation=twist[2], hue=twist[3])
    if view.blur > 0:
        image = fn.gaussian_blur(image, sigma=sigma, window_size=window)
    if view.solarize > 0:
        if device != "cpu":  # arithmetic takes its per-sample flags from the images' device
            solarize = solarize.gpu()
        inverted = types.Constant(255, dtype=types.UINT8) - image
        mask = (image >= 128) & solarize
        image = mask * inverted + (True ^ mask) * image
    if view.mean is not None:
        return fn.crop_mirror_normalize(
            image,
            mirror=flip,
            dtype=types.FLOAT,
            output_layout="CHW",
            mean=[255.0 * m for m in view.mean],
            std=[255.0 * s for s in view.std],
        )
    if view.hflip > 0:
        image = fn.flip(image, horizontal=flip)
    return image


def build_views(views: Any, encoded: Any, device: str) -> list[Any]:
    """One ``DataNode`` per view of ``views`` from the ``encoded`` images (see :meth:`JointDALIViews.__call__`)."""
    shapes = fn.peek_image_shape(encoded)
    n_out = 2 + _PER_VIEW * len(views.views)
    # num_outputs > 1: a sequence of nodes (DALI's annotation covers every num_outputs).
    outputs = cast(
        Sequence[Any],
        fn.python_function(shapes, function=lambda s: _outputs(views, s), batch_processing=True, num_outputs=n_out),
    )
    anchor, shape = outputs[0], outputs[1]
    decoder = "mixed" if device in ("mixed", "gpu") else "cpu"
    if views.decode == "union":
        region = fn.decoders.image_slice(encoded, anchor, shape, axis_names="HW", device=decoder, output_type=types.RGB)
    else:
        region = fn.decoders.image(encoded, device=decoder, output_type=types.RGB)
    made = []
    for v, view in enumerate(views.views):
        first = 2 + _PER_VIEW * v
        made.append(_finish(region, view, list(outputs[first : first + _PER_VIEW]), device))
    return made


def eager_pipeline(views: Any) -> Any:
    """A CPU pipeline of batch size 1 fed one encoded image per run (``JointDALIViews.run``)."""
    from nvidia.dali import pipeline_def

    # DALI annotates device_id as an int; None is its documented value for a CPU-only pipeline.
    @pipeline_def(batch_size=1, num_threads=1, device_id=None, prefetch_queue_depth=1)  # type: ignore[call-overload]
    def pipe():
        encoded = fn.external_source(name="encoded", dtype=types.UINT8, ndim=1)
        return tuple(build_views(views, encoded, "cpu"))

    pipeline = pipe()
    pipeline.build()
    return pipeline
