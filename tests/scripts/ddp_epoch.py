"""Run by tests/test_distributed.py under torchrun (2 gloo ranks on CPU): each rank sets the epoch, its two
persistent DataLoader workers draw with that epoch's β (read back from the draw log), and the reproducible
views of each image are written as digests, to compare with a single process's."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import torch
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_reproducible import SCHEDULE, Images, make_views

from jointaug_plugins import indexed, set_epoch
from jointaug_plugins.drawlog import attach_draw_log

EPOCHS = (1, 3)


def digest(views: torch.Tensor) -> str:
    return hashlib.sha1(views.numpy().tobytes()).hexdigest()


def main(out: Path) -> None:
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    dataset = indexed(Images(make_views(crop=SCHEDULE)))
    sink = attach_draw_log(dataset, directory=out / f"draws-{rank}", flush_every=1, flush_seconds=60)
    sampler = torch.utils.data.DistributedSampler(dataset, shuffle=True, seed=0)
    loader = torch.utils.data.DataLoader(dataset, batch_size=3, sampler=sampler, num_workers=2, persistent_workers=True)
    result = {}
    for epoch in EPOCHS:
        set_epoch(epoch)
        sampler.set_epoch(epoch)
        views = {int(i): digest(v) for indices, batch in loader for i, v in zip(indices, batch)}
        summary = sink.collect()
        group = summary.groups["crop/joint"]
        result[epoch] = {"beta": group["sum_beta"] / group["n"], "images": summary.images, "views": views}
    (out / f"rank{rank}.json").write_text(json.dumps({"rank": rank, "epochs": result}))
    dist.destroy_process_group()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
