"""Lightning callbacks of the pipeline: training monitors (gradient norm, throughput), a guard
that stops at the first non-finite loss, the media of each task family, what a preempted run
needs to resume exactly (a checkpoint on SIGTERM; the random generators' states and logged
metrics in every checkpoint), and what a run prints: its progress (a bar in a terminal, lines in
a log file) and one line when training stops, saying why and where its checkpoints are."""

from lstm_triton.callbacks.finite_loss import FiniteLossGuard, NonFiniteLossError
from lstm_triton.callbacks.media import (
    ConfusionMatrixLogger,
    ForecastPlotter,
    MediaWriter,
    TextSampler,
    media_files,
)
from lstm_triton.callbacks.monitors import GradNormLogger, ThroughputLogger, gradient_norm
from lstm_triton.callbacks.preemption import CheckpointOnSigterm, latest_checkpoint
from lstm_triton.callbacks.progress import ProgressLines, progress_bar
from lstm_triton.callbacks.resume_state import ResumeStateInCheckpoint
from lstm_triton.callbacks.stop_reason import StopReason, checkpoint_note, stop_line

__all__ = [
    "CheckpointOnSigterm",
    "ConfusionMatrixLogger",
    "FiniteLossGuard",
    "ForecastPlotter",
    "GradNormLogger",
    "MediaWriter",
    "NonFiniteLossError",
    "ProgressLines",
    "ResumeStateInCheckpoint",
    "StopReason",
    "TextSampler",
    "ThroughputLogger",
    "checkpoint_note",
    "gradient_norm",
    "latest_checkpoint",
    "media_files",
    "progress_bar",
    "stop_line",
]
