"""What a Lightning checkpoint leaves out and an exact resume needs: the random number
generators' states and the metrics logged before the save.

Lightning checkpoints the weights, the optimizer, the loop position and the data loaders that
have a state (torchdata's StatefulDataLoader), but not the global generators of torch, CUDA,
numpy and Python (seed_everything seeds them once, when a run starts), nor trainer.callback_metrics
(a run stopped after an epoch's last validation resumes at that epoch's end, where early stopping
and the checkpoint callback read the validation metrics).
"""

import random
from typing import Any

import lightning as L
import numpy as np
import torch


def rng_states() -> dict[str, Any]:
    """The global generators' states in plain containers and tensors (checkpoints load with
    weights_only=True); CUDA's of the current device only, when CUDA is in use."""
    kind, keys, position, has_gauss, gauss = np.random.get_state()
    states = {
        "torch": torch.get_rng_state(),
        "numpy": (kind, keys.tolist(), position, has_gauss, gauss),
        "python": random.getstate(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state()
    return states


def set_rng_states(states: dict[str, Any]) -> None:
    """Sets the generators to states from rng_states()."""
    torch.set_rng_state(states["torch"])
    kind, keys, position, has_gauss, gauss = states["numpy"]
    np.random.set_state((kind, np.asarray(keys, np.uint32), position, has_gauss, gauss))
    version, internal, gauss_next = states["python"]
    random.setstate((version, tuple(internal), gauss_next))
    if "cuda" in states:
        torch.cuda.set_rng_state(states["cuda"])


CHECKPOINT_KEY = "resume_state"


class ResumeStateInCheckpoint(L.Callback):
    """Saves the generators' states and the logged metrics in every checkpoint, as
    checkpoint["resume_state"] = {"rng", "callback_metrics"}; a resumed run gets the metrics back
    when training starts and the generators' states at its first training batch.

    The generators not when the checkpoint is loaded: between loading and that batch Lightning
    builds the data loaders again, which draws from torch's generator (a loader's base seed),
    a draw the interrupted run had made before it saved. Every DDP process is seeded alike and
    draws alike (its own device's CUDA generator included), so process 0's states, the ones
    Lightning saves, are every process's.
    """

    def __init__(self) -> None:
        self._rng: dict[str, Any] | None = None
        self._metrics: dict[str, torch.Tensor] = {}

    def on_save_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        metrics = {name: value.detach().cpu() for name, value in trainer.callback_metrics.items()}
        checkpoint[CHECKPOINT_KEY] = {"rng": rng_states(), "callback_metrics": metrics}

    def on_load_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        state = checkpoint.get(CHECKPOINT_KEY)
        if state is not None:
            self._rng, self._metrics = state["rng"], state["callback_metrics"]

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # The property returns the trainer's own dict, which later logging updates in place.
        trainer.callback_metrics.update(self._metrics)
        self._metrics = {}

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if self._rng is not None:
            set_rng_states(self._rng)
            self._rng = None
