"""torch.nn drop-ins: LSTM and LSTMCell, convert/revert for existing models, and the
triton backend's training memory."""

from lstm_triton.modules.cell import LSTMCell
from lstm_triton.modules.convert import convert, revert
from lstm_triton.modules.lstm import LSTM
from lstm_triton.modules.memory import training_memory

__all__ = ["LSTM", "LSTMCell", "convert", "revert", "training_memory"]
