"""Experiment tracking with Weights & Biases: the logger (online or offline, resumed runs), the
run id kept in checkpoints, the run finished on every exit, and offline runs read back."""

from lstm_triton.tracking.run_log import RunLog, read_run_log
from lstm_triton.tracking.session import finish_wandb_on_exit, log_config, report_run
from lstm_triton.tracking.wandb_logger import (
    WandbRunIdInCheckpoint,
    resolve_mode,
    run_id_from_checkpoint,
    wandb_logger,
    wandb_run,
)

__all__ = [
    "RunLog",
    "WandbRunIdInCheckpoint",
    "finish_wandb_on_exit",
    "log_config",
    "read_run_log",
    "report_run",
    "resolve_mode",
    "run_id_from_checkpoint",
    "wandb_logger",
    "wandb_run",
]
