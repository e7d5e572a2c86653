"""Data for the experiment pipeline: LightningDataModules for sequence classification
(sequential / permuted MNIST, Fashion-MNIST), language modelling (truncated-BPTT batches over
text corpora) and forecasting (sliding windows over ETT-style CSV series), with the readers and
the checked, cached downloads beneath them."""

from lstm_triton.data.corpora import (
    Corpus,
    PennTreebankCorpus,
    TextFileCorpus,
    TinyShakespeareCorpus,
    WikiText2Corpus,
)
from lstm_triton.data.download import ChecksumError, DataNotFoundError, RemoteFile, fetch
from lstm_triton.data.forecast import ForecastDataModule
from lstm_triton.data.idx import IdxFormatError, read_idx
from lstm_triton.data.language_model import CORPORA, LanguageModelDataModule
from lstm_triton.data.sequential_image import SequentialImageDataModule
from lstm_triton.data.stdlib_corpus import StdlibCorpus
from lstm_triton.data.synthetic import AddingProblemDataModule, CopyMemoryDataModule
from lstm_triton.data.vocab import Vocab

__all__ = [
    "CORPORA",
    "AddingProblemDataModule",
    "ChecksumError",
    "CopyMemoryDataModule",
    "Corpus",
    "DataNotFoundError",
    "ForecastDataModule",
    "IdxFormatError",
    "LanguageModelDataModule",
    "PennTreebankCorpus",
    "RemoteFile",
    "SequentialImageDataModule",
    "StdlibCorpus",
    "TextFileCorpus",
    "TinyShakespeareCorpus",
    "Vocab",
    "WikiText2Corpus",
    "fetch",
    "read_idx",
]
