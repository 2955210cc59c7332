"""The PNG of a ``jointaug difficulty`` result: the paper's Fig. 5 (loss per β) and Fig. 4 (SDF against β)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _ci(entry: dict[str, Any]) -> float:
    return entry["ci95"] or 0.0


def _against_beta(axis: Any, result: dict[str, Any], paired: dict[str, Any], ylabel: str, title: str) -> None:
    """Each β's difference from the independent baseline, paired by seed, with its 95 % interval."""
    labels = [c for c in result["conditions"] if c != "independent"]
    xs = [float(k) for k in labels]
    axis.errorbar(
        xs, [paired[k]["mean"] for k in labels], yerr=[_ci(paired[k]) for k in labels],
        fmt="o-", color="tab:red", capsize=3, label="JointCrop(β) − independent crops",
    )  # fmt: skip
    axis.axhline(0.0, color="tab:blue", ls="--", label="independent crops")
    axis.set_xlabel("β  (harder pairs to the right)")
    axis.set_ylabel(ylabel)
    axis.invert_xaxis()
    axis.legend(fontsize=8)
    axis.set_title(title, fontsize=10)


def plot_difficulty(result: dict[str, Any], path: str | Path) -> Path:
    """Write a PNG of a :func:`~jointaug_plugins.tools.difficulty.measure_difficulty` result: SimSiam's training
    loss per step for each condition (mean and 95 % band over seeds), then against β the loss over the second
    half of training and the SDF, each as its difference from the independent baseline of the same seed (the
    conditions of a seed share initialisation and images, so these are the comparisons the seeds can resolve),
    with 95 % intervals. The levels are in the result's ``second_half`` and ``sdf``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    trained = "loss" in result
    fig, axes = plt.subplots(1, 3 if trained else 1, figsize=(14.5 if trained else 5.2, 4.0), squeeze=False)
    panels = list(axes[0])
    if trained:
        curves = panels.pop(0)
        colors = plt.get_cmap("coolwarm_r")
        joint = [c for c in result["conditions"] if c != "independent"]
        for label in result["conditions"]:
            curve = result["loss"]["curves"][label]
            color: str | tuple[float, float, float, float]
            if label == "independent":
                color, name = "black", "independent crops"
            else:
                color, name = colors(joint.index(label) / max(len(joint) - 1, 1)), f"β = {label}"
            curves.plot(curve["step"], curve["mean"], color=color, label=name, lw=1.4)
            curves.fill_between(curve["step"], curve["low"], curve["high"], color=color, alpha=0.12)
        curves.set_xlabel("training step")
        curves.set_ylabel("SimSiam loss (−cosine)")
        curves.legend(fontsize=8)
        curves.set_title("training loss (paper Fig. 5)", fontsize=10)
        _against_beta(
            panels.pop(0), result, result["loss"]["second_half_minus_independent"],
            "loss − independent (2nd half of training)", "loss against β (> 0: harder pairs)",
        )  # fmt: skip
    _against_beta(
        panels.pop(0), result, result["sdf_minus_independent"],
        "SDF − independent (mean cosine of pairs)", "pair similarity, paper Fig. 4 (< 0: harder)",
    )  # fmt: skip
    settings = result["settings"]
    fig.suptitle(
        f"{settings['images']} images, {settings['seeds']} seeds, {settings['size']} px, "
        f"{settings['steps']} steps x {settings['batch_pairs']} pairs, {settings['device']}; means and 95 % intervals "
        "over seeds",
        fontsize=9,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
