"""Run by tests/test_drawlog.py under torchrun (2 gloo ranks on CPU): a Lightning DDP fit with
JointDrawLogger; each rank writes what it logged to OUT/rank<r>.json."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytorch_lightning as pl
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_drawlog import ViewsDataset

from jointaug_plugins.adapters.lightning import JointDrawLogger


class Tiny(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(3, 4)

    def training_step(self, batch, batch_idx):
        z = self.layer(batch.mean(dim=(-1, -2)))
        return (z[:, 0::2] - z[:, 1::2]).pow(2).mean()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def main(out: Path) -> None:
    dataset = ViewsDataset(n=128)
    loader = torch.utils.data.DataLoader(dataset, batch_size=16, num_workers=1)
    callback = JointDrawLogger(flush_every=8, flush_seconds=1e6)
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=2,
        strategy="ddp",
        max_epochs=1,
        callbacks=[callback],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(Tiny(), loader)
    result = {
        "rank": trainer.global_rank,
        "local_images": callback.rank_summary.images,
        "images": callback.last_summary.images,
        "metrics": {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("jointaug/")},
    }
    (out / f"rank{trainer.global_rank}.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
