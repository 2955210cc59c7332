"""The summary of a period's draws: counts and a fixed-bin histogram of ``t = ln(p2/p1)`` per kind and group."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

# Fixed bins of the log-ratio t = ln(p2/p1): 0.1 wide on [-4, 4]; values outside go to the end bins.
# (Crop 0.08-1.0 reaches |t| = 2.53, blur 0.1-2.0 reaches 3.0.)
LOG_RATIO_EDGES = np.linspace(-4.0, 4.0, 81)
N_BINS = len(LOG_RATIO_EDGES) - 1
GROUPS = ("joint", "independent")
_STATS = ("n", "sum_abs", "sum_sq", "gt2", "lt_half", "sum_beta")


class DrawSummary:
    """Counts of the log-ratios ``t = ln(p2/p1)`` of drawn pairs, per ``kind/group``.

    ``group`` is ``"joint"`` (the pair was drawn jointly) or ``"independent"`` (a pair of views
    drawn independently, e.g. a kind that is off, or turned off for the pair by ``crop_or_blur``). Joint
    groups also sum the β in force at each draw (a β schedule's value), so their mean β is logged.
    Summaries add up (:meth:`merge`) and travel as JSON (:meth:`to_json`) or as a flat vector for an
    all-reduce (:meth:`to_vector`).
    """

    def __init__(self) -> None:
        self.images = 0
        self.groups: dict[str, dict[str, Any]] = {}

    @staticmethod
    def _empty_group() -> dict[str, Any]:
        return {
            "n": 0,
            "sum_abs": 0.0,
            "sum_sq": 0.0,
            "gt2": 0,
            "lt_half": 0,
            "sum_beta": 0.0,
            "hist": np.zeros(N_BINS, np.int64),
        }

    def group(self, key: str) -> dict[str, Any]:
        """The counts of ``key`` (``"crop/joint"`` ...), created empty if absent."""
        if key not in self.groups:
            self.groups[key] = self._empty_group()
        return self.groups[key]

    def add(self, kind: str, joint: bool, log_ratio: float, beta: float | None = None) -> None:
        """Count one pair of ``kind`` with log-ratio ``log_ratio``, drawn under ``beta`` if joint."""
        g = self.group(f"{kind}/{'joint' if joint else 'independent'}")
        g["n"] += 1
        g["sum_beta"] += 0.0 if beta is None else beta
        g["sum_abs"] += abs(log_ratio)
        g["sum_sq"] += log_ratio * log_ratio
        g["gt2"] += log_ratio > math.log(2.0)
        g["lt_half"] += log_ratio < -math.log(2.0)
        index = int(np.searchsorted(LOG_RATIO_EDGES, log_ratio, side="right")) - 1
        g["hist"][min(max(index, 0), N_BINS - 1)] += 1

    def merge(self, other: DrawSummary) -> DrawSummary:
        """Add ``other``'s counts to this summary (in place); returns ``self``."""
        self.images += other.images
        for key, theirs in other.groups.items():
            mine = self.group(key)
            for stat in _STATS:
                mine[stat] += theirs[stat]
            mine["hist"] = mine["hist"] + theirs["hist"]
        return self

    @property
    def empty(self) -> bool:
        """No image was counted."""
        return self.images == 0

    def to_json(self) -> dict[str, Any]:
        """JSON-able form; histograms are sparse ``{bin index: count}``."""
        groups = {}
        for key, g in self.groups.items():
            entry = {stat: g[stat] for stat in _STATS}
            entry["n"] = int(entry["n"])
            entry["gt2"] = int(entry["gt2"])
            entry["lt_half"] = int(entry["lt_half"])
            entry["hist"] = {str(i): int(c) for i, c in enumerate(g["hist"]) if c}
            groups[key] = entry
        return {"images": self.images, "groups": groups}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DrawSummary:
        """Inverse of :meth:`to_json`."""
        summary = cls()
        summary.images = int(data.get("images", 0))
        for key, entry in data.get("groups", {}).items():
            g = summary.group(key)
            for stat in _STATS:
                g[stat] = entry.get(stat, g[stat])  # sum_beta is absent from lines written before it existed
            for i, c in entry.get("hist", {}).items():
                g["hist"][int(i)] = int(c)
        return summary

    def to_vector(self, keys: Sequence[str]) -> np.ndarray:
        """``[images, then for each key: n, sum_abs, sum_sq, gt2, lt_half, hist...]`` as float64."""
        parts = [np.array([self.images], np.float64)]
        for key in keys:
            g = self.groups.get(key) or self._empty_group()
            parts.append(np.array([g[s] for s in _STATS], np.float64))
            parts.append(g["hist"].astype(np.float64))
        return np.concatenate(parts)

    @classmethod
    def from_vector(cls, vector: Sequence[float] | np.ndarray, keys: Sequence[str]) -> DrawSummary:
        """Inverse of :meth:`to_vector` (e.g. after summing the vectors of all ranks)."""
        v = np.asarray(vector, np.float64)
        width = len(_STATS) + N_BINS
        if v.shape != (1 + width * len(keys),):
            raise ValueError(f"vector of length {v.size} does not match {len(keys)} keys")
        summary = cls()
        summary.images = int(np.rint(v[0]))
        for k, key in enumerate(keys):
            chunk = v[1 + k * width : 1 + (k + 1) * width]
            if chunk[0] == 0:
                continue
            g = summary.group(key)
            for i, stat in enumerate(_STATS):
                g[stat] = chunk[i] if stat.startswith("sum") else int(np.rint(chunk[i]))
            g["hist"] = np.rint(chunk[len(_STATS) :]).astype(np.int64)
        return summary

    def metrics(self, prefix: str = "jointaug") -> dict[str, float]:
        """Flat scalars per group: ``{prefix}/{kind}/{group}/`` + ``n`` (pairs), ``p_ratio_gt_2``,
        ``p_ratio_lt_half``, ``mean_abs_log_ratio``, ``rms_log_ratio``, for joint groups ``beta`` (the mean β
        in force: a schedule's value); and ``{prefix}/images``."""
        out = {f"{prefix}/images": float(self.images)}
        for key in sorted(self.groups):
            g = self.groups[key]
            n = g["n"]
            if n == 0:
                continue
            base = f"{prefix}/{key}"
            out[f"{base}/n"] = float(n)
            out[f"{base}/p_ratio_gt_2"] = g["gt2"] / n
            out[f"{base}/p_ratio_lt_half"] = g["lt_half"] / n
            out[f"{base}/mean_abs_log_ratio"] = g["sum_abs"] / n
            out[f"{base}/rms_log_ratio"] = math.sqrt(g["sum_sq"] / n)
            if key.endswith("/joint"):
                out[f"{base}/beta"] = g["sum_beta"] / n
        return out

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}: n={g['n']}" for k, g in sorted(self.groups.items()))
        return f"DrawSummary(images={self.images}, {inner})"


def raw_histograms(summary: DrawSummary, prefix: str = "jointaug") -> Iterator[dict[str, Any]]:
    """The histogram of ``ln(p2/p1)`` of every non-empty group, as keyword arguments of TensorBoard's
    ``SummaryWriter.add_histogram_raw`` (all but ``global_step``), tagged ``{prefix}/{kind}/{group}/log_ratio``."""
    for key, g in summary.groups.items():
        counts = np.asarray(g["hist"], dtype=np.float64)
        filled = np.nonzero(counts)[0]
        if not len(filled):
            continue
        yield {
            "tag": f"{prefix}/{key}/log_ratio",
            "min": float(LOG_RATIO_EDGES[filled[0]]),
            "max": float(LOG_RATIO_EDGES[filled[-1] + 1]),
            "num": int(g["n"]),
            "sum": float((counts * (LOG_RATIO_EDGES[:-1] + LOG_RATIO_EDGES[1:]) / 2).sum()),
            "sum_squares": float(g["sum_sq"]),
            "bucket_limits": LOG_RATIO_EDGES[1:].tolist(),
            "bucket_counts": counts.tolist(),
        }
