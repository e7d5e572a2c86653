"""A test-only callback that preempts its own run: SIGTERM to this process after a chosen
training step, as SLURM sends it, at a point the tests can name exactly."""

import os
import signal

import lightning as L


class SigtermAtStep(L.Callback):
    """Sends SIGTERM to this process (process 0 of a DDP run, which passes it on) when the
    optimizer step number `step` has been taken."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer: L.Trainer, *args) -> None:
        if trainer.global_step == self.step and trainer.is_global_zero:
            os.kill(os.getpid(), signal.SIGTERM)
