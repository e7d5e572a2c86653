"""Sequence regression: a vector of real values from a whole sequence (the adding problem).

Batches are (x, y): x (B, T, F) float, y (B, O) float. The LSTM reads the whole sequence; a
linear layer maps the last layer's final hidden state (both directions when bidirectional) to
the O outputs.

Logged: train/loss (MSE) per step; val/ and test/ loss and mse per epoch, both the mean squared
error over every value of the split (mse is the name published tables use).
"""

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import MeanSquaredError

from lstm_triton.tasks.base import DEFAULT_OPTIMIZER, FinalState, SequenceTask


class SequenceRegressor(SequenceTask):
    """Regress (B, O) from (B, T, F) sequences; see the module docstring.

    seq_len is the data's sequence length T, kept as a hyper-parameter for the record only.
    """

    def __init__(
        self,
        input_size: int,
        output_size: int,
        lstm: Mapping[str, Any],
        seq_len: int | None = None,
        optimizer: Mapping[str, Any] = DEFAULT_OPTIMIZER,
        scheduler: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(logger=False)
        self.encoder = FinalState(input_size, lstm)
        self.head = nn.Linear(self.encoder.output_size, output_size)
        self.mse = nn.ModuleDict({f"{split}_mse": MeanSquaredError() for split in ("val", "test")})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, F) -> predictions (B, O)."""
        return self.head(self.encoder(x))

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = F.mse_loss(self(x), y)
        self.log("train/loss", loss, on_step=True, on_epoch=False, prog_bar=True, sync_dist=True)
        return loss

    def _evaluate(self, split: str, batch) -> None:
        x, y = batch
        y_hat = self(x)
        # sync_dist: the mean over every DDP process's batches; the MSE metric syncs itself and
        # sums squared errors, so it is the split's MSE whatever the batch sizes.
        self.log(f"{split}/loss", F.mse_loss(y_hat, y), prog_bar=split == "val", sync_dist=True)
        mse = self.mse[f"{split}_mse"]
        mse(y_hat, y)
        self.log(f"{split}/mse", mse)

    def validation_step(self, batch, batch_idx: int) -> None:
        self._evaluate("val", batch)

    def test_step(self, batch, batch_idx: int) -> None:
        self._evaluate("test", batch)
