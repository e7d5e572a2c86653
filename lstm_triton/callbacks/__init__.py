"""Lightning callbacks of the pipeline: training monitors (gradient norm, throughput), a guard
that stops at the first non-finite loss, the media of each task family, and what a preempted run
needs to resume exactly (a checkpoint on SIGTERM; the random generators' states and logged
metrics in every checkpoint)."""

from lstm_triton.callbacks.finite_loss import FiniteLossGuard, NonFiniteLossError
from lstm_triton.callbacks.media import ConfusionMatrixLogger, ForecastPlotter, TextSampler
from lstm_triton.callbacks.monitors import GradNormLogger, ThroughputLogger, gradient_norm
from lstm_triton.callbacks.preemption import CheckpointOnSigterm, latest_checkpoint
from lstm_triton.callbacks.resume_state import ResumeStateInCheckpoint

__all__ = [
    "CheckpointOnSigterm",
    "ConfusionMatrixLogger",
    "FiniteLossGuard",
    "ForecastPlotter",
    "GradNormLogger",
    "NonFiniteLossError",
    "ResumeStateInCheckpoint",
    "TextSampler",
    "ThroughputLogger",
    "gradient_norm",
    "latest_checkpoint",
]
