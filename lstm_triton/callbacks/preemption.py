"""Survive preemption: a checkpoint written where a run got SIGTERM, and the checkpoint a
restarted run (a requeued SLURM job, a restarted container) resumes from.

Lightning turns SIGTERM into SIGTERMException at the end of the current training batch (in a DDP
run process 0's signal is broadcast to every process at the next batch), then calls each
callback's `on_exception`. Its own
OnExceptionCheckpoint would also save after any error, a NaN loss included, and makes
fit(ckpt_path=None) mean "last"; this callback saves only for SIGTERM. Together with SLURM's
auto-requeue (SLURMEnvironment: SIGUSR1 writes hpc_ckpt_<n>.ckpt into the run folder and
requeues the job), latest_checkpoint() finds what a restarted run continues from.
"""

import os
from pathlib import Path

import lightning as L
from lightning.pytorch.trainer.states import TrainerFn
from lightning.pytorch.utilities.exceptions import SIGTERMException

from lstm_triton.callbacks.stop_reason import checkpoint_note, stop_line

PREEMPTED = "preempted.ckpt"


class CheckpointOnSigterm(L.Callback):
    """Saves the full training state (weights, optimizer, loop position, callbacks) to
    dirpath/preempted.ckpt when the run ends on SIGTERM; ckpt_path= that file continues it.
    Prints the run's stop_line(), with that file or, stopped during validation, the
    checkpoints already there."""

    def __init__(self, dirpath: str | os.PathLike) -> None:
        self.dirpath = Path(dirpath)

    @property
    def path(self) -> Path:
        return self.dirpath / PREEMPTED

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        # Only preemption: a checkpoint written after an error would resume into the same error.
        if not isinstance(exception, SIGTERMException) or trainer.state.fn != TrainerFn.FITTING:
            return
        if trainer.validating:
            # Lightning keeps no partial validation results in a checkpoint: resumed there, it
            # would skip the rest of this validation and early stopping would find no metric.
            why = "SIGTERM during validation (a restart resumes from the last checkpoint)"
            where = checkpoint_note(trainer)
        else:
            trainer.save_checkpoint(self.path)
            why, where = "SIGTERM", f"saved {self.path}; resume with ckpt_path={self.path}"
        if trainer.is_global_zero:
            print(stop_line(trainer, why, where), flush=True)


def latest_checkpoint(run_dir: str | os.PathLike) -> str | None:
    """The path of the newest checkpoint a run folder holds (its checkpoints/ folder, where this
    callback and ModelCheckpoint write, and Lightning's SLURM hpc_ckpt_<n>.ckpt at its top),
    else None."""
    run_dir = Path(run_dir)
    found = [*run_dir.glob("checkpoints/*.ckpt"), *run_dir.glob("hpc_ckpt_*.ckpt")]
    return str(max(found, key=lambda path: path.stat().st_mtime)) if found else None
