"""torch.nn drop-ins: LSTM and LSTMCell, and convert/revert for existing models."""

from lstm_triton.modules.cell import LSTMCell
from lstm_triton.modules.convert import convert, revert
from lstm_triton.modules.lstm import LSTM

__all__ = ["LSTM", "LSTMCell", "convert", "revert"]
