"""The measurement of ``jointaug verify``: run a target's views, read back crop areas, compare pairs.

Statistic, per checked pair ``(i, j)`` with measured crop areas ``s_i, s_j`` (fractions of the image):
``P(s_j / s_i > 2)``, estimated symmetrically as ``#{max/min > 2} / (2 n)``; this has the expectation
of the one-sided ``P(s_j/s_i > 2)`` that the closed forms give (both joint and independent pairs are
symmetric in the two views) and half its variance. Its standard error is ``sqrt(q (1 - q) / n) / 2``
with ``q`` the measured fraction of ``max/min > 2``.

Expected values: ``expected_joint`` is the JC(β) closed form for the pair's scale range and β (β = 0
when the pipeline does not draw the pair jointly; with ``crop_or_blur = p`` the mixture
``p JC + (1 - p) independent``); ``expected_independent`` is a Monte Carlo (200,000 pairs) of the
core's copy of torchvision's independent sampler (``sample_crop_box_pairs``) on the probe image, which
includes the attempt loop's bias and the pixel rounding the measurement sees.

Readable pairs: a view counts when its two profiles fit the probe's signal (R² of the estimator) and its
bands agree on it (:func:`~jointaug_plugins.tools.verify_probe.band_consistency`: rotations, shears,
translations and erased blocks, e.g. timm's RandAugment and RandomErasing, make views that are not read);
a pair counts when both views do. Those transforms act whatever the crop, so the readable pairs are a
sample of all pairs, and the statistic is computed on them (the report says on how many).

Verdict: whichever expectation the measurement is closer to, when enough pairs were read; else "not
measured" with the reason. Enough (:func:`min_pairs`): so many that, whichever of the two values is true,
the measurement's ``Z = 3`` standard-error interval stays on its side of the midpoint between them, i.e.
``m >= (2 Z)² max(v_joint, v_independent) / (joint - independent)²`` with ``v = q (1 - q) / 4``, ``q`` twice
the value (a wrong verdict then has probability below 0.14 %), and at least 30 (the normal approximation).
At scale 0.08-1.0 that is about 90 pairs. The default ``n`` puts the two values >= 8 standard errors apart (at
0.08-1.0 and 800 pairs, about 19), so a full run lies >= 4 standard errors from the midpoint and a run with
under half its pairs readable still gets a verdict.
"""

from __future__ import annotations

import math
import random
import time
from typing import Any

import numpy as np
import torch

from ..boxes import sample_crop_box_pairs
from ..epoch import current_epoch, sync_epoch
from ..indexed import sample_index
from ..rng import GeneratorSource
from ..sampling import independent_ratio_sf, joint_ratio_sf
from ..schedule import BetaSchedule
from ..spec import JointSpec
from ..transforms.views import consecutive_pairs
from ..walk import find_instances
from .verify_measure import as_views, measure
from .verify_probe import as_gray, coordinate_image, design_probe
from .verify_target import VerifyTargetError
from .verify_walk import CropRange

MC_PAIRS = 200_000
MIN_N, MAX_N = 800, 5000
Z_VERDICT = 3.0  # standard errors between a measurement and the midpoint of the two values (min_pairs)
MIN_PAIRS_FLOOR = 30  # below this the normal approximation of the statistic is not trusted
NOT_MEASURED = {
    "blur": "a blur shows only as the attenuation of the probe's two frequencies; sigmas below ~0.5 px change it by "
    "under 1 %, less than the crop's own resize does, and P(s2/s1 > 2) of sigmas hinges on those small values "
    "(each view's apply coin also leaves few pairs where both views blur)",
    "color": "on the gray probe saturation and hue do nothing, and brightness and contrast mix with normalisation, "
    "clipping and solarisation; the colour factors cannot be read back reliably",
}


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and torch's global generators (the libraries' transforms draw from them)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


VERDICT_RULE = (
    f"the closer of the two values, given enough readable pairs (min_pairs): so many that under either value the "
    f"measurement's {Z_VERDICT:g}-standard-error interval stays on its side of their midpoint (at least "
    f"{MIN_PAIRS_FLOOR}); else not measured"
)


def restart_generators(obj: Any) -> int:
    """Restart the joint generators inside ``obj`` (each :class:`~jointaug_plugins.rng.GeneratorSource`, as a
    pickle round trip does), so that the next draw starts its stream anew from the seed (or, unseeded, from
    ``torch.initial_seed()``): a run of verify on a target then does not depend on the runs before it.
    Returns how many were restarted."""
    sources = find_instances(obj, lambda item: isinstance(item, GeneratorSource), max_depth=64)
    for source in sources:
        source.__setstate__(source.__getstate__())
    return len(sources)


def _p_gt_2(a: np.ndarray, b: np.ndarray) -> float:
    ratio = np.maximum(a, b) / np.minimum(a, b)
    return float(np.mean(ratio > 2.0)) / 2.0


def _expected(crops: tuple[CropRange, CropRange], spec: JointSpec | None, crop_or_blur, side: int, seed: int):
    """``(expected_joint, expected_independent, extra)`` for one pair."""
    first, second = crops
    generator = torch.Generator().manual_seed(seed)
    boxes_a = sample_crop_box_pairs(side, side, MC_PAIRS, first.scale, first.ratio, None, generator).double()
    boxes_b = (
        boxes_a
        if first == second
        else sample_crop_box_pairs(side, side, MC_PAIRS, second.scale, second.ratio, None, generator).double()
    )
    area_a = boxes_a[:, 0, 2] * boxes_a[:, 0, 3] / side**2
    area_b = boxes_b[:, 1, 2] * boxes_b[:, 1, 3] / side**2
    independent = _p_gt_2(area_a.numpy(), area_b.numpy())
    lo, hi = first.scale
    # The views were drawn at the epoch set in this process (a β schedule's start when none was).
    beta_spec = (spec or JointSpec(beta=0.0)).at(current_epoch())
    extra = {
        "scale": [lo, hi],
        "beta": beta_spec.beta,
        "joint_configured": spec is not None,
        "expected_independent_method": f"monte carlo, core sampler, {MC_PAIRS} pairs on the {side} px probe",
        "expected_independent_closed_form": independent_ratio_sf(2.0, lo, hi) if hi / lo > 2 else 0.0,
    }
    if spec is not None and isinstance(spec.beta, BetaSchedule):
        extra["beta_schedule"] = spec.beta.to_dict()
    if first.scale != second.scale:
        extra["note"] = (
            f"the two views' crop scales differ ({first.scale} and {second.scale}); joint value uses the first"
        )
    try:
        joint = joint_ratio_sf(2.0, lo, hi, beta_spec) if hi / lo > 2 else 0.0
    except ValueError as err:
        extra["note"] = f"no joint value: {err}"
        return None, independent, extra
    if spec is not None and crop_or_blur is not None:
        joint = crop_or_blur * joint + (1 - crop_or_blur) * independent
        extra["crop_or_blur"] = crop_or_blur
    return joint, independent, extra


def _default_n(pairs_expected: list[tuple[float | None, float]]) -> int:
    """Pairs needed so every pair's two expectations are >= 8 standard errors apart, in [800, 5000]."""
    needed = MIN_N
    for joint, independent in pairs_expected:
        if joint is None or joint == independent:
            continue
        variance = max(q * (1 - q) / 4 for q in (2 * joint, 2 * independent))
        needed = max(needed, math.ceil(64 * variance / (joint - independent) ** 2))
    return min(needed, MAX_N)


def min_pairs(joint: float, independent: float) -> int | None:
    """Readable pairs needed to tell ``joint`` from ``independent`` (values of ``P(s2/s1 > 2)``): the fewest
    ``m >= 30`` with ``Z_VERDICT`` standard errors of the statistic on ``m`` pairs, under either value, within
    half their difference; ``None`` when the two values are equal (nothing can tell them apart)."""
    gap = abs(joint - independent)
    if gap < 1e-9:
        return None
    variance = max(q * (1 - q) / 4 for q in (min(2 * joint, 1.0), min(2 * independent, 1.0)))
    return max(MIN_PAIRS_FLOOR, math.ceil((2 * Z_VERDICT) ** 2 * variance / gap**2))


def _unread(counts: dict[str, int]) -> str:
    parts = [f"{count} view(s) {why}" for why, count in counts.items() if count]
    return f" ({'; '.join(parts)})" if parts else ""


def _crop_entry(pair, areas, readable, expected, unread) -> dict[str, Any]:
    i, j = pair
    joint, independent, extra = expected
    ok = readable[:, i] & readable[:, j]
    count, total = int(ok.sum()), len(ok)
    entry: dict[str, Any] = {"views": [i, j], "kind": "crop", "measured": None, "stderr": None}
    entry.update(expected_joint=joint, expected_independent=independent, verdict="not measured", pairs_read=count)
    entry.update(extra)
    needed = None if joint is None else min_pairs(joint, independent)
    entry["min_pairs"] = needed
    why = _unread({reason: int(v[i] + v[j]) for reason, v in unread.items()})
    if count < total:
        needs = "" if needed is None else f" (a verdict needs {needed})"
        entry["pairs_note"] = f"measured on {count} of {total} pairs{needs}; the others did not show the probe{why}"
    if count:
        a, b = areas[ok, i], areas[ok, j]
        q = float(np.mean(np.maximum(a, b) / np.minimum(a, b) > 2.0))
        stderr = math.sqrt(max(q * (1 - q), 1.0 / count) / count) / 2
        entry.update(measured=q / 2, stderr=stderr)
        entry["area_range"] = [float(min(a.min(), b.min())), float(max(a.max(), b.max()))]
    if joint is None:
        entry["reason"] = "cannot tell: no joint value for this scale range"
        return entry
    if needed is None:
        entry["reason"] = f"cannot tell: joint and independent crops both give {joint:.3f} at this scale range"
        return entry
    if count < needed:
        more = "" if count == 0 else f"; raise --n to about {math.ceil(1.2 * needed * total / count)}"
        entry["reason"] = (
            f"cannot tell: {count} of {total} pairs showed the probe image in both views{why}, and telling "
            f"joint ({joint:.3f}) from independent ({independent:.3f}) needs {needed}{more}"
        )
        return entry
    entry["separation_se"] = abs(joint - independent) / entry["stderr"]
    closer = joint if abs(q / 2 - joint) < abs(q / 2 - independent) else independent
    entry["verdict"] = "joint" if closer == joint else "independent"
    if abs(q / 2 - closer) > 4 * stderr + 0.01:
        entry["fit_note"] = (
            f"the measurement is {abs(q / 2 - closer) / stderr:.1f} standard errors from the {entry['verdict']} "
            "value: the pipeline may change crop sizes after the crop (a resize, a zoom), or be neither"
        )
    return entry


def _other_kinds(pair, layout, same_layout: bool) -> list[dict[str, Any]]:
    """Entries for the blur / colour of a pair: present in both views, reported as not measured."""
    entries = []
    for kind in ("blur", "color"):
        if not same_layout or not all(kind in layout.kinds[v] for v in pair):
            continue
        spec = (layout.specs or {}).get(kind) if tuple(pair) in layout.pairs else None
        entries.append({
            "views": list(pair), "kind": kind, "measured": None, "stderr": None, "expected_joint": None,
            "expected_independent": None, "verdict": "not measured", "joint_configured": spec is not None,
            "beta": None if spec is None else spec.at(current_epoch()).beta, "reason": NOT_MEASURED[kind],
        })  # fmt: skip
    return entries


def _failed(err: Exception) -> Exception:
    return VerifyTargetError(
        f"the transform failed on the probe image: {type(err).__name__}: {err}",
        "the views are built from a 3-channel uint8 PIL image (mm: a PNG file read by LoadImageFromFile); "
        "run it on such an image to see the full traceback",
    )


def run(target, n: int | None = None, seed: int = 0, progress: Any = None, workers: int = 2) -> dict[str, Any]:
    """Measure ``target`` (a :class:`~jointaug_plugins.tools.verify.VerifyTarget`) on ``n`` images (``None``: the
    default, >= 800), run in ``workers`` forked processes (0: in this one), and return the report:
    ``target, library, n, seed, workers, pairs`` (entries with ``views, kind, measured, stderr,
    expected_joint, expected_independent, verdict``; blur and colour entries for every pair whose views both hold
    them, switched on or not), ``views``, ``view_sizes``, ``coordinator``, ``switched_on`` (the kinds drawn
    jointly), ``probe``, ``notes``, ``seconds``."""
    start = time.perf_counter()
    restart_generators(target.transform if getattr(target, "transform", None) is not None else target.views)
    seed_everything(seed)
    if current_epoch() is None:
        sync_epoch(0)  # views that use the epoch (a β schedule) are measured at epoch 0 unless one is set
    layout = target.layout
    notes = [*target.notes, *layout.notes]
    if not getattr(target, "forkable", True) and workers:
        workers = 0
        notes.append("views made in this process: this target's pipeline cannot run in forked workers")
    try:
        with sample_index(0):  # an index for views with reproducible draws (each run below has its own)
            first = as_views(target.views(coordinate_image(design_probe(64, 256, 0.25))))  # 512 px: learn the views
        shapes = [as_gray(v).shape for v in first]
    except Exception as err:
        raise _failed(err) from err
    pairs, crops = layout.pairs, layout.crops
    same_layout = layout.n_views == len(first)
    if not same_layout:
        if layout.n_views is not None:
            notes.append(
                f"the transform describes {layout.n_views} views but returned {len(first)}: pairing as they come"
            )
        pairs, crops = consecutive_pairs(len(first)), [crops[0]] * len(first)
    report: dict[str, Any] = {"target": target.name, "library": target.library, "n": n, "seed": seed}
    report.update(workers=workers, views=len(first), view_sizes=[list(s) for s in shapes])
    report["coordinator"] = layout.coordinator
    # What the config draws jointly: the text report lists only these kinds' rows besides the measured crops.
    report["switched_on"] = sorted(kind for kind, spec in (layout.specs or {}).items() if spec is not None)
    if not pairs:
        notes.append(f"{len(first)} view(s) and no pair to check")
        return {**report, "pairs": [], "notes": notes, "seconds": time.perf_counter() - start}
    measured = sorted({v for p in pairs for v in p})
    fractions = [min(math.sqrt(c.scale[0] * c.ratio[0]), math.sqrt(c.scale[0] / c.ratio[1]), 1.0) for c in crops]
    design = design_probe(
        min(min(shapes[v]) for v in measured),
        max(max(shapes[v]) for v in measured),
        min(fractions[v] for v in measured),
    )
    crop_spec = (layout.specs or {}).get("crop")
    cache: dict[tuple, tuple] = {}  # pairs with the same crops and coupling share their expectations
    expected = {}
    for p in pairs:
        key = (crops[p[0]], crops[p[1]], same_layout and p in layout.pairs)
        if key not in cache:
            cache[key] = _expected(key[:2], crop_spec if key[2] else None, layout.crop_or_blur, design.side, seed)
        expected[p] = cache[key]
    if n is None:
        n = report["n"] = _default_n([(e[0], e[1]) for e in expected.values()])
    try:
        areas, readable, unread = measure(target.views, design, n, len(first), measured, progress, workers)
    except Exception as err:
        raise _failed(err) from err
    entries = []
    for pair in pairs:
        entries.append(_crop_entry(pair, areas, readable, expected[pair], unread))
        entries.extend(_other_kinds(pair, layout, same_layout))
    report.update(pairs=entries, probe={"side": design.side, "cycles": design.cycles, "rho": design.rho}, notes=notes)
    report["verdict_rule"] = VERDICT_RULE
    return {**report, "seconds": time.perf_counter() - start}
