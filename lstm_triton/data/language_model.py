"""Language-model batches laid out for truncated backpropagation through time (BPTT).

Each split's token ids (N,) are cut into B contiguous streams, one per batch row, (B, N // B)
(the last N mod B tokens dropped), and served in order as windows of bptt steps:
batch k is x = streams[:, k*bptt : (k+1)*bptt], y = the same shifted by one token, both
(B, T) int64 with T = bptt (the last window of a split may be shorter). Row b of batch k + 1
continues row b of batch k, so a task may carry its hidden state across batches (detached) and
reset it at each epoch's start; that carrying is the task's job. Nothing is shuffled.

Under DDP each process gets B rows of its own: the streams are cut into B * world_size rows
and process r takes rows r*B .. (r+1)*B - 1.
"""

import math

import lightning as L
import torch
from torch.utils.data import DataLoader, IterableDataset
from torchdata.stateful_dataloader import StatefulDataLoader

from lstm_triton.data.corpora import (
    Corpus,
    PennTreebankCorpus,
    TinyShakespeareCorpus,
    WikiText2Corpus,
)
from lstm_triton.data.stdlib_corpus import StdlibCorpus
from lstm_triton.data.validation import check_choice, check_positive_int
from lstm_triton.data.vocab import LEVELS, Vocab, detokenize, tokenize

CORPORA = {
    "stdlib": StdlibCorpus,
    "tiny_shakespeare": TinyShakespeareCorpus,
    "ptb": PennTreebankCorpus,
    "wikitext2": WikiText2Corpus,
}
"""Corpora by name; the downloaded ones take data_dir and download."""


def batchify(ids: torch.Tensor, num_rows: int) -> torch.Tensor:
    """Token ids (N,) as num_rows contiguous streams (num_rows, N // num_rows)."""
    length = len(ids) // num_rows
    if length < 2:
        raise ValueError(
            f"{len(ids)} tokens make {num_rows} streams of {length} tokens; a stream needs at "
            f"least 2 (an input and its next token): use a smaller batch size or more text"
        )
    return ids[: num_rows * length].view(num_rows, length)


class BPTTBatches(IterableDataset):
    """Windows (x, y), each (B, T), over streams (B, L) in order; see the module docstring.

    An IterableDataset, so that no sampler (DDP's DistributedSampler included) reorders them.
    """

    def __init__(self, streams: torch.Tensor, bptt: int) -> None:
        self.streams = streams
        self.bptt = check_positive_int(bptt, "bptt")

    def __len__(self) -> int:
        return math.ceil((self.streams.shape[1] - 1) / self.bptt)

    def __iter__(self):
        for start in range(0, self.streams.shape[1] - 1, self.bptt):
            stop = min(start + self.bptt, self.streams.shape[1] - 1)
            yield self.streams[:, start:stop], self.streams[:, start + 1 : stop + 1]


class LanguageModelDataModule(L.LightningDataModule):
    """A corpus tokenised at char or word level, batched for truncated BPTT.

    corpus: a name from CORPORA ("stdlib" needs no download) or a Corpus instance (for example
    TextFileCorpus(path) for any local text file). The vocabulary is built from the training
    split; val/test tokens outside it map to "<unk>" (id 0).
    """

    def __init__(
        self,
        corpus: str | Corpus = "stdlib",
        level: str = "char",
        batch_size: int = 32,
        bptt: int = 128,
        data_dir: str | None = None,
        download: bool = True,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["corpus"])
        # A corpus is logged by its name, or by its class when given as an object.
        self.hparams["corpus"] = corpus if isinstance(corpus, str) else type(corpus).__name__
        if isinstance(corpus, str):
            check_choice(corpus, list(CORPORA), "corpus")
            corpus = (
                CORPORA[corpus]()
                if corpus == "stdlib"
                else CORPORA[corpus](data_dir=data_dir, download=download)
            )
        elif not isinstance(corpus, Corpus):
            raise TypeError(
                f"corpus must be one of {list(CORPORA)} or a Corpus, got {type(corpus).__name__}"
            )
        check_choice(level, LEVELS, "level")
        self.corpus = corpus
        self.level = level
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.bptt = check_positive_int(bptt, "bptt")
        self.vocab: Vocab | None = None
        self.ids: dict[str, torch.Tensor] = {}

    def prepare_data(self) -> None:
        self.corpus.prepare()

    def setup(self, stage: str | None = None) -> None:
        if self.vocab is not None:
            return
        tokens = {split: tokenize(text, self.level) for split, text in self.corpus.splits().items()}
        self.vocab = Vocab(tokens["train"])
        self.ids = {
            split: torch.from_numpy(self.vocab.encode(split_tokens))
            for split, split_tokens in tokens.items()
        }

    def model_dims(self) -> dict[str, int]:
        """vocab_size (builds the vocabulary if setup has not run yet)."""
        self.setup()
        return {"vocab_size": len(self.vocab)}

    def encode(self, text: str) -> torch.Tensor:
        """Token ids (N,) int64 of a text, for example a prompt to sample from."""
        self.setup()
        return torch.from_numpy(self.vocab.encode(tokenize(text, self.level)))

    def decode(self, ids: torch.Tensor) -> str:
        """Text of token ids (N,)."""
        self.setup()
        return detokenize(self.vocab.decode(ids.tolist()), self.level)

    def _loader(self, split: str) -> DataLoader:
        self.setup()
        world_size, rank = (
            (self.trainer.world_size, self.trainer.global_rank) if self.trainer else (1, 0)
        )
        streams = batchify(self.ids[split], self.batch_size * world_size)
        rows = streams[rank * self.batch_size : (rank + 1) * self.batch_size]
        # Stateful: Lightning checkpoints how many windows were served; a resumed run skips them.
        return StatefulDataLoader(BPTTBatches(rows, self.bptt), batch_size=None)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train")

    def val_dataloader(self) -> DataLoader:
        return self._loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._loader("test")
