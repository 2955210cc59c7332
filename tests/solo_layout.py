"""solo-learn's schema for one entry of an ``augmentations`` file, written here for the tests (solo-learn
itself is not installed in CI). Shared by the solo switch and ``jointaug verify`` tests."""

from __future__ import annotations


def entry(num_crops: int, blur: float = 0.5, color: float = 0.8, scale: tuple[float, float] = (0.08, 1.0)) -> str:
    """One entry of an ``augmentations`` file, in solo-learn's schema."""
    return f"""- rrc:
    enabled: True
    crop_min_scale: {scale[0]}
    crop_max_scale: {scale[1]}
  color_jitter:
    prob: {color}
    brightness: 0.4
    contrast: 0.4
    saturation: 0.2
    hue: 0.1
  grayscale:
    prob: 0.2
  gaussian_blur:
    prob: {blur}
  solarization:
    prob: 0.0
  equalization:
    prob: 0.0
  horizontal_flip:
    prob: 0.5
  crop_size: 32
  num_crops: {num_crops}
"""
