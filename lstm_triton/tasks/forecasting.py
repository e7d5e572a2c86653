"""Multi-step forecasting of a (multivariate) time series from a window of its past.

Batches are (x, y): x (B, L, C_in) the lookback window, y (B, H, C_out) the horizon to forecast,
both standardised (see lstm_triton.data.forecast). The LSTM reads the window; a linear layer maps
the last layer's final hidden state to all H * C_out values at once (direct multi-step output).

Logged: train/loss (MSE) per step; val/ and test/ loss, mse, mae per epoch on the
standardised scale, the numbers published tables report. When the data module has
inverse_transform (standardised (..., C_out) -> original units), test/mse_orig and
test/mae_orig are the same errors in the data's own units. After testing, `test_example` holds
the first test window, standardised: {"x": (L, C_in), "y": (H, C_out), "y_hat": (H, C_out)}.
"""

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import MeanAbsoluteError, MeanSquaredError

from lstm_triton.tasks.base import DEFAULT_OPTIMIZER, FinalState, SequenceTask


class Forecaster(SequenceTask):
    """Forecast (B, H, C_out) from (B, L, C_in); see the module docstring."""

    def __init__(
        self,
        input_size: int,
        output_size: int,
        horizon: int,
        lstm: Mapping[str, Any],
        lookback: int | None = None,
        optimizer: Mapping[str, Any] = DEFAULT_OPTIMIZER,
        scheduler: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(logger=False)
        self.encoder = FinalState(input_size, lstm)
        self.head = nn.Linear(self.encoder.output_size, horizon * output_size)
        self.errors = nn.ModuleDict(
            {
                f"{split}_{kind}": metric()
                for split in ("val", "test", "test_orig")
                for kind, metric in (("mse", MeanSquaredError), ("mae", MeanAbsoluteError))
            }
        )
        self.test_example: dict[str, torch.Tensor] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, L, C_in) -> forecast (B, H, C_out)."""
        out = self.head(self.encoder(x))
        return out.view(x.size(0), self.hparams.horizon, self.hparams.output_size)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = F.mse_loss(self(x), y)
        self.log("train/loss", loss, on_step=True, on_epoch=False, prog_bar=True, sync_dist=True)
        return loss

    def _evaluate(self, split: str, batch) -> torch.Tensor:
        x, y = batch
        y_hat = self(x)
        # sync_dist: the mean over every DDP process's batches; the error metrics sync themselves.
        self.log(f"{split}/loss", F.mse_loss(y_hat, y), prog_bar=split == "val", sync_dist=True)
        for kind in ("mse", "mae"):
            metric = self.errors[f"{split}_{kind}"]
            metric(y_hat, y)
            self.log(f"{split}/{kind}", metric)
        return y_hat

    def validation_step(self, batch, batch_idx: int) -> None:
        self._evaluate("val", batch)

    def test_step(self, batch, batch_idx: int) -> None:
        x, y = batch
        y_hat = self._evaluate("test", batch)
        if batch_idx == 0:
            self.test_example = {"x": x[0].cpu(), "y": y[0].cpu(), "y_hat": y_hat[0].cpu()}
        inverse = getattr(self.trainer.datamodule, "inverse_transform", None)
        if inverse is None:
            return
        y_orig, y_hat_orig = inverse(y), inverse(y_hat)
        for kind in ("mse", "mae"):
            metric = self.errors[f"test_orig_{kind}"]
            metric(y_hat_orig, y_orig)
            self.log(f"test/{kind}_orig", metric)
