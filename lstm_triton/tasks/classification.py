"""Sequence classification: one label per sequence (sequential / permuted MNIST, Fashion-MNIST).

Batches are (x, y): x (B, T, F) float, y (B,) int64 class ids. The LSTM reads the whole
sequence; a linear layer maps the last layer's final hidden state (both directions when
bidirectional) to the class logits.

Logged: train/loss, train/acc per step (of the batch); val/ and test/ loss, acc per epoch. After
the test epoch, `test_confusion` holds the test set's confusion matrix (C, C), rows the true
class and columns the predicted one (the media callbacks log it).
"""

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.classification import MulticlassAccuracy, MulticlassConfusionMatrix

from lstm_triton.tasks.base import DEFAULT_OPTIMIZER, FinalState, SequenceTask


class SequenceClassifier(SequenceTask):
    """Classify (B, T, F) sequences into num_classes; see the module docstring.

    seq_len is the data's sequence length T, kept as a hyper-parameter for the record only.
    """

    def __init__(
        self,
        input_size: int,
        num_classes: int,
        lstm: Mapping[str, Any],
        seq_len: int | None = None,
        optimizer: Mapping[str, Any] = DEFAULT_OPTIMIZER,
        scheduler: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(logger=False)
        self.encoder = FinalState(input_size, lstm)
        self.head = nn.Linear(self.encoder.output_size, num_classes)
        # Keyed "<split>_acc": a ModuleDict key may not shadow a Module attribute like train.
        # micro: the fraction of sequences classified right, what published tables report
        # (torchmetrics' default, macro, averages per-class recalls instead).
        self.accuracy = nn.ModuleDict(
            {
                f"{split}_acc": MulticlassAccuracy(num_classes, average="micro")
                for split in ("train", "val", "test")
            }
        )
        self.confusion = MulticlassConfusionMatrix(num_classes)
        self.test_confusion: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, F) -> logits (B, C)."""
        return self.head(self.encoder(x))

    def _step(self, split: str, batch) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y)
        accuracy = self.accuracy[f"{split}_acc"]
        accuracy(logits, y)
        # Training metrics per step (of the batch), val and test ones over the whole split.
        per_step = split == "train"
        options = {"on_step": per_step, "on_epoch": not per_step, "prog_bar": True}
        # sync_dist: the mean over every DDP process's batch; the accuracy metric syncs itself.
        self.log(f"{split}/loss", loss, sync_dist=True, **options)
        self.log(f"{split}/acc", accuracy, **options)
        return loss, logits

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        return self._step("train", batch)[0]

    def validation_step(self, batch, batch_idx: int) -> None:
        self._step("val", batch)

    def test_step(self, batch, batch_idx: int) -> None:
        _, logits = self._step("test", batch)
        self.confusion.update(logits, batch[1])

    def on_test_epoch_start(self) -> None:
        self.confusion.reset()
        self.test_confusion = None

    def on_test_epoch_end(self) -> None:
        self.test_confusion = self.confusion.compute().cpu()
