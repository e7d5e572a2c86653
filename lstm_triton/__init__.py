"""lstm-triton: a drop-in torch.nn.LSTM on fused Triton kernels."""

from lstm_triton.modules import LSTM, LSTMCell, convert, revert, training_memory
from lstm_triton.ops import BACKENDS

__all__ = ["BACKENDS", "LSTM", "LSTMCell", "convert", "revert", "training_memory"]
__version__ = "0.1.0"
