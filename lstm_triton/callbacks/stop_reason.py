"""The one line that ends training, in every way it can end: why it stopped and where its
checkpoints are. StopReason prints it when training ends on its own (max_epochs, max_steps,
early stopping, max_time); FiniteLossGuard's error and CheckpointOnSigterm build theirs with
stop_line() as well, so that every run's training ends with one line "Training stopped at step
<n>: <why>; <where>".
"""

from datetime import timedelta

import lightning as L
from lightning.pytorch.callbacks import EarlyStopping, Timer


def checkpoint_note(trainer: L.Trainer) -> str:
    """Where the run's checkpoints are: "checkpoints: best <path>, last <path>" (the checkpoint
    callback's, either left out when not written), else "no checkpoint written"."""
    callback = trainer.checkpoint_callback
    best = getattr(callback, "best_model_path", "")
    last = getattr(callback, "last_model_path", "")
    paths = [f"{kind} {path}" for kind, path in (("best", best), ("last", last)) if path]
    return f"checkpoints: {', '.join(paths)}" if paths else "no checkpoint written"


def stop_line(trainer: L.Trainer, why: str, where: str) -> str:
    """The line that ends training: "Training stopped at step <global step>: <why>; <where>"."""
    return f"Training stopped at step {trainer.global_step}: {why}; {where}"


def end_of_training_reason(trainer: L.Trainer) -> str:
    """Why a fit that ended without an error ended: early stopping (its own reason), the time
    limit, another callback's trainer.should_stop, max_steps or max_epochs."""
    if trainer.should_stop:
        for callback in trainer.callbacks:
            # Set when it stops the run, from Lightning 2.6 on; before, its stop reads as the
            # generic one below.
            message = getattr(callback, "stopping_reason_message", None)
            if isinstance(callback, EarlyStopping) and message:
                message = message.removesuffix(" Signaling Trainer to stop.").rstrip(".")
                return f"early stopping: {message}"
            if isinstance(callback, Timer):
                remaining = callback.time_remaining()
                if remaining is not None and remaining <= 0:
                    elapsed = timedelta(seconds=round(callback.time_elapsed()))
                    return f"the time limit (max_time) reached after {elapsed} of training"
        return "a callback set trainer.should_stop"
    if 0 <= trainer.max_steps <= trainer.global_step:
        return f"max_steps={trainer.max_steps} reached"
    return f"max_epochs={trainer.max_epochs} reached"


class StopReason(L.Callback):
    """Prints stop_line() with end_of_training_reason() and checkpoint_note() when training
    ends without an error, on process 0."""

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        line = stop_line(trainer, end_of_training_reason(trainer), checkpoint_note(trainer))
        print(line, flush=True)
