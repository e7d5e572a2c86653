"""torch.nn drop-ins: LSTM and LSTMCell."""

from lstm_triton.modules.cell import LSTMCell
from lstm_triton.modules.lstm import LSTM

__all__ = ["LSTM", "LSTMCell"]
