"""Training monitors: the gradient norm and the throughput of every step, logged with the task's
metrics (train/grad_norm, train/samples_per_sec, train/tokens_per_sec)."""

import time
from collections import deque

import lightning as L
import torch
from torch.optim import Optimizer


def gradient_norm(module: torch.nn.Module) -> torch.Tensor:
    """The 2-norm of all of module's gradients taken as one vector (0 when there are none)."""
    norms = [p.grad.detach().norm(2) for p in module.parameters() if p.grad is not None]
    if not norms:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack(norms), 2)


class GradNormLogger(L.Callback):
    """Logs train/grad_norm, the gradient's 2-norm before clipping, at every optimizer step."""

    def on_before_optimizer_step(
        self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer: Optimizer
    ) -> None:
        pl_module.log("train/grad_norm", gradient_norm(pl_module), on_step=True, on_epoch=False)


class ThroughputLogger(L.Callback):
    """Logs train/samples_per_sec (sequences) and train/tokens_per_sec (sequences times their
    time steps, B * T) over the last `window` training batches, data loading included and
    validation runs left out.

    Batches are (x, ...) with x (B, T, ...) batch first, as the tasks of this package take them.
    """

    def __init__(self, window: int = 20) -> None:
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.window = window
        self._ends: deque[float] = deque(maxlen=window + 1)
        self._counts: deque[tuple[int, int]] = deque(maxlen=window)

    def _restart(self) -> None:
        self._ends.clear()
        self._counts.clear()
        self._ends.append(time.perf_counter())

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._restart()

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # A validation run inside a training epoch is not training time.
        self._restart()

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs, batch, batch_idx: int
    ) -> None:
        if pl_module.device.type == "cuda":
            torch.cuda.synchronize(pl_module.device)
        self._ends.append(time.perf_counter())
        x = batch[0]
        self._counts.append((x.size(0), x.size(0) * x.size(1)))
        seconds = self._ends[-1] - self._ends[0]
        if seconds <= 0:
            return
        samples = sum(count[0] for count in self._counts)
        tokens = sum(count[1] for count in self._counts)
        pl_module.log("train/samples_per_sec", samples / seconds, on_step=True, on_epoch=False)
        pl_module.log("train/tokens_per_sec", tokens / seconds, on_step=True, on_epoch=False)
