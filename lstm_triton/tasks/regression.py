"""Sequence regression: a vector of real values from a whole sequence (the adding problem), and
what every task trained on the mean squared error shares (ErrorTask, also the forecaster's).

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
from torchmetrics import MeanAbsoluteError, MeanSquaredError

from lstm_triton.tasks.base import DEFAULT_OPTIMIZER, FinalState, SequenceTask

ERROR_METRICS = {"mse": MeanSquaredError, "mae": MeanAbsoluteError}


class ErrorTask(SequenceTask):
    """A task trained on the MSE of self(x) against y. Logs train/loss per step, and per epoch
    <split>/loss (the mean over every DDP process's batches) and <split>/<kind> for each kind of
    ERROR_KINDS from self.error_metrics, which subclasses build with make_error_metrics (the
    metrics sync and weigh by size themselves: the split's errors whatever the batch sizes)."""

    ERROR_KINDS: tuple[str, ...] = ("mse",)

    def make_error_metrics(self, *splits: str) -> nn.ModuleDict:
        """The error metrics of the splits, keyed "<split>_<kind>": a ModuleDict key may not
        shadow a Module attribute like train."""
        kinds = self.ERROR_KINDS
        return nn.ModuleDict(
            {f"{split}_{kind}": ERROR_METRICS[kind]() for split in splits for kind in kinds}
        )

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = F.mse_loss(self(x), y)
        self.log("train/loss", loss, on_step=True, on_epoch=False, prog_bar=True, sync_dist=True)
        return loss

    def log_errors(self, split: str, y_hat: torch.Tensor, y: torch.Tensor, units: str = "") -> None:
        """<split>/<kind><units> from the metrics make_error_metrics built for split + units."""
        for kind in self.ERROR_KINDS:
            metric = self.error_metrics[f"{split}{units}_{kind}"]
            metric(y_hat, y)
            self.log(f"{split}/{kind}{units}", metric)

    def evaluate(self, split: str, batch) -> torch.Tensor:
        """Logs the split's loss and errors on one batch; returns the predictions."""
        x, y = batch
        y_hat = self(x)
        self.log(f"{split}/loss", F.mse_loss(y_hat, y), prog_bar=split == "val", sync_dist=True)
        self.log_errors(split, y_hat, y)
        return y_hat

    def validation_step(self, batch, batch_idx: int) -> None:
        self.evaluate("val", batch)

    def test_step(self, batch, batch_idx: int) -> None:
        self.evaluate("test", batch)


class SequenceRegressor(ErrorTask):
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
        self.error_metrics = self.make_error_metrics("val", "test")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, F) -> predictions (B, O)."""
        return self.head(self.encoder(x))
