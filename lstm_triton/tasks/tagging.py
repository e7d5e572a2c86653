"""Sequence tagging: one label per time step (copy memory).

Batches are (x, y): x (B, T, F) float, y (B, T) int64 class ids. The LSTM reads the sequence; a
linear layer maps its output at every step (both directions when bidirectional), after dropout,
to that step's class logits. The loss is the cross entropy averaged over every step of every
sequence, as copy memory defines it (Bai et al. 2018).

Logged: train/loss, train/acc per step (of the batch); val/ and test/ loss and acc per epoch,
over every step of the split. With tail_steps = K, {split}/tail_acc is the accuracy on the last
K steps of each sequence alone: in copy memory the K copied digits, the only steps that need a
memory (the rest is predictable from the current input).
"""

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy

from lstm_triton.data.validation import check_positive_int
from lstm_triton.tasks.base import DEFAULT_OPTIMIZER, SequenceTask, build_lstm, output_features

SPLITS = ("train", "val", "test")


class SequenceTagger(SequenceTask):
    """Classify every step of (B, T, F) sequences into num_classes; see the module docstring.

    seq_len is the data's sequence length T, kept as a hyper-parameter for the record only.
    dropout acts on the LSTM's outputs, before the linear layer.
    """

    def __init__(
        self,
        input_size: int,
        num_classes: int,
        lstm: Mapping[str, Any],
        seq_len: int | None = None,
        tail_steps: int | None = None,
        dropout: float = 0.0,
        optimizer: Mapping[str, Any] = DEFAULT_OPTIMIZER,
        scheduler: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if tail_steps is not None:
            check_positive_int(tail_steps, "tail_steps")
        self.save_hyperparameters(logger=False)
        self.lstm = build_lstm(input_size, lstm)
        directions = 2 if self.lstm.bidirectional else 1
        step_size = output_features(self.lstm)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(directions * step_size, num_classes)
        # Keyed "<split>_<name>": a ModuleDict key may not shadow a Module attribute like train.
        metrics = {f"{split}_loss": MeanMetric() for split in ("val", "test")}
        for split in SPLITS:
            metrics[f"{split}_acc"] = MulticlassAccuracy(num_classes, average="micro")
            if tail_steps is not None:
                metrics[f"{split}_tail_acc"] = MulticlassAccuracy(num_classes, average="micro")
        self.metrics = nn.ModuleDict(metrics)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, F) -> logits (B, T, C)."""
        y, _ = self.lstm(x)
        return self.head(self.dropout(y))

    def _step(self, split: str, batch) -> torch.Tensor:
        x, y = batch
        logits = self(x)
        num_classes = logits.size(-1)
        loss = F.cross_entropy(logits.reshape(-1, num_classes), y.reshape(-1))
        # Training metrics per step (of the batch), val and test ones over the whole split.
        per_step = split == "train"
        options = {"on_step": per_step, "on_epoch": not per_step}
        if per_step:
            self.log("train/loss", loss, prog_bar=True, sync_dist=True, **options)
        else:
            # The mean over every step of the split, weighted by steps; the metrics sync
            # themselves across DDP processes.
            self.metrics[f"{split}_loss"].update(loss, y.numel())
            self.log(f"{split}/loss", self.metrics[f"{split}_loss"], prog_bar=True, **options)
        accuracy = self.metrics[f"{split}_acc"]
        accuracy(logits.reshape(-1, num_classes), y.reshape(-1))
        self.log(f"{split}/acc", accuracy, **options)
        tail = self.hparams.tail_steps
        if tail is not None:
            tail_accuracy = self.metrics[f"{split}_tail_acc"]
            tail_accuracy(logits[:, -tail:].reshape(-1, num_classes), y[:, -tail:].reshape(-1))
            self.log(f"{split}/tail_acc", tail_accuracy, prog_bar=True, **options)
        return loss

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        return self._step("train", batch)

    def validation_step(self, batch, batch_idx: int) -> None:
        self._step("val", batch)

    def test_step(self, batch, batch_idx: int) -> None:
        self._step("test", batch)
