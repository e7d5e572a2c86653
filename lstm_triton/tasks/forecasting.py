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
from torch import nn

from lstm_triton.tasks.base import DEFAULT_OPTIMIZER, FinalState
from lstm_triton.tasks.regression import ErrorTask


class Forecaster(ErrorTask):
    """Forecast (B, H, C_out) from (B, L, C_in); see the module docstring."""

    ERROR_KINDS = ("mse", "mae")

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
        self.error_metrics = self.make_error_metrics("val", "test", "test_orig")
        self.test_example: dict[str, torch.Tensor] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, L, C_in) -> forecast (B, H, C_out)."""
        out = self.head(self.encoder(x))
        return out.view(x.size(0), self.hparams.horizon, self.hparams.output_size)

    def test_step(self, batch, batch_idx: int) -> None:
        x, y = batch
        y_hat = self.evaluate("test", batch)
        if batch_idx == 0:
            self.test_example = {"x": x[0].cpu(), "y": y[0].cpu(), "y_hat": y_hat[0].cpu()}
        inverse = getattr(self.trainer.datamodule, "inverse_transform", None)
        if inverse is not None:
            self.log_errors("test", inverse(y_hat), inverse(y), units="_orig")
