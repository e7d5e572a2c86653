"""Stop a run at the first non-finite loss or gradient, before it reaches the weights, so that
the checkpoints already written stay the last good ones."""

import lightning as L
import torch
from torch.optim import Optimizer

from lstm_triton.callbacks.monitors import gradient_norm
from lstm_triton.callbacks.stop_reason import checkpoint_note, stop_line


class NonFiniteLossError(FloatingPointError):
    """The training loss or gradient became NaN or infinite; the run was stopped."""


class FiniteLossGuard(L.Callback):
    """Raises NonFiniteLossError when the training loss (before backward) or the gradient norm
    (before the optimizer step) is NaN or infinite, with a stop_line() as its message: the
    step, the epoch and the checkpoints, all written before the bad value.

    With fp16 mixed precision the gradient check is left to the gradient scaler, whose
    overflows are part of its normal work. Under DDP every process stops when any one sees it.
    """

    def on_before_backward(
        self, trainer: L.Trainer, pl_module: L.LightningModule, loss: torch.Tensor
    ) -> None:
        self._check(trainer, "train/loss", loss.detach())

    def on_before_optimizer_step(
        self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer: Optimizer
    ) -> None:
        if str(trainer.precision).startswith("16"):
            return
        self._check(trainer, "the gradient norm", gradient_norm(pl_module))

    def _check(self, trainer: L.Trainer, what: str, value: torch.Tensor) -> None:
        finite = bool(torch.isfinite(value).all())
        if trainer.strategy.reduce_boolean_decision(finite, all=True):
            return
        seen = f"is {value.item()}" if not finite else "is non-finite on another process"
        why = f"{what} {seen} in epoch {trainer.current_epoch}, before the update"
        raise NonFiniteLossError(stop_line(trainer, why, checkpoint_note(trainer)))
