"""Lightning callbacks of the pipeline: training monitors (gradient norm, throughput), a guard
that stops at the first non-finite loss, and the media of each task family."""

from lstm_triton.callbacks.finite_loss import FiniteLossGuard, NonFiniteLossError
from lstm_triton.callbacks.media import ConfusionMatrixLogger, ForecastPlotter, TextSampler
from lstm_triton.callbacks.monitors import GradNormLogger, ThroughputLogger, gradient_norm

__all__ = [
    "ConfusionMatrixLogger",
    "FiniteLossGuard",
    "ForecastPlotter",
    "GradNormLogger",
    "NonFiniteLossError",
    "TextSampler",
    "ThroughputLogger",
    "gradient_norm",
]
