"""LightningModules of the three task families, each built on lstm_triton.LSTM: sequence
classification, language modelling (truncated BPTT) and time-series forecasting."""

from lstm_triton.tasks.base import FinalState, SequenceTask, build_lstm
from lstm_triton.tasks.classification import SequenceClassifier
from lstm_triton.tasks.forecasting import Forecaster
from lstm_triton.tasks.language_model import LanguageModel

__all__ = [
    "FinalState",
    "Forecaster",
    "LanguageModel",
    "SequenceClassifier",
    "SequenceTask",
    "build_lstm",
]
