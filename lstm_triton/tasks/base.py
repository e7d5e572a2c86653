"""What every task shares: an LSTM built from a plain mapping of its options, and an optimizer
(and optional LR scheduler) built from `_target_` mappings when training starts.

Every constructor argument of a task is a plain value (numbers, strings, lists, dicts), so a
checkpoint's hyper-parameters load under torch.load(weights_only=True) and
`Task.load_from_checkpoint(path)` rebuilds the network without its data module.
"""

from collections.abc import Mapping
from typing import Any

import lightning as L
import torch
from hydra.utils import instantiate
from torch import nn

from lstm_triton.modules import LSTM

DEFAULT_OPTIMIZER = {"_target_": "torch.optim.Adam", "lr": 1e-3}


def build_lstm(input_size: int, lstm: Mapping[str, Any]) -> nn.Module:
    """The recurrent network, called as (x (B, T, F)) -> (y, (h_n, c_n)) like torch.nn.LSTM.

    lstm holds hidden_size and any of lstm_triton.LSTM's options (num_layers, dropout,
    bidirectional, backend, ...); its `_target_` (default lstm_triton.LSTM) may name another
    module with torch.nn.LSTM's signature, torch.nn.LSTM itself for A/B runs, or a user's own.
    """
    options = dict(lstm)
    if "hidden_size" not in options:
        raise ValueError(f"lstm must give hidden_size, got the options {sorted(options)}")
    for fixed in ("input_size", "batch_first"):
        if fixed in options:
            raise ValueError(
                f"lstm must not set {fixed}: the task sets it from the data, got {fixed}="
                f"{options[fixed]!r}"
            )
    options.setdefault("_target_", f"{LSTM.__module__}.{LSTM.__qualname__}")
    return instantiate(options, input_size=input_size, batch_first=True)


def output_features(lstm: nn.Module) -> int:
    """The size of one direction's output at a step: proj_size when set, else hidden_size."""
    return getattr(lstm, "proj_size", 0) or lstm.hidden_size


class FinalState(nn.Module):
    """An LSTM reading whole sequences x (B, T, F) into one vector each: the last layer's final
    hidden state of every direction, (B, D * H) (output_size = D * H)."""

    def __init__(self, input_size: int, lstm: Mapping[str, Any]) -> None:
        super().__init__()
        self.lstm = build_lstm(input_size, lstm)
        self.num_directions = 2 if self.lstm.bidirectional else 1
        self.output_size = self.num_directions * output_features(self.lstm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h_n, _) = self.lstm(x)
        return h_n[-self.num_directions :].transpose(0, 1).reshape(x.size(0), -1)


class SequenceTask(L.LightningModule):
    """Base of the tasks: configure_optimizers from hparams.optimizer and hparams.scheduler.

    optimizer: {"_target_": "torch.optim.AdamW", "lr": ..., ...}, called with params=.
    scheduler: None, or {"_target_": "torch.optim.lr_scheduler.StepLR", ..., "interval": "epoch",
    "monitor": "val/loss"}, called with optimizer=; interval (epoch or step) and monitor (for
    ReduceLROnPlateau) are Lightning's and default to "epoch" and "val/loss".
    """

    def configure_optimizers(self):
        optimizer = instantiate(dict(self.hparams.optimizer), params=self.parameters())
        if not self.hparams.get("scheduler"):
            return optimizer
        options = dict(self.hparams.scheduler)
        interval = options.pop("interval", "epoch")
        monitor = options.pop("monitor", "val/loss")
        scheduler = instantiate(options, optimizer=optimizer)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": interval, "monitor": monitor},
        }
