"""LightningModules of the three task families, each built on lstm_triton.LSTM: sequence
classification, language modelling (truncated BPTT) and time-series forecasting."""

from lstm_triton.tasks.base import FinalState, SequenceTask, build_lstm
from lstm_triton.tasks.classification import SequenceClassifier
from lstm_triton.tasks.forecasting import Forecaster
from lstm_triton.tasks.language_model import LanguageModel
from lstm_triton.tasks.regression import SequenceRegressor
from lstm_triton.tasks.tagging import SequenceTagger

__all__ = [
    "FinalState",
    "Forecaster",
    "LanguageModel",
    "SequenceClassifier",
    "SequenceRegressor",
    "SequenceTagger",
    "SequenceTask",
    "build_lstm",
]
