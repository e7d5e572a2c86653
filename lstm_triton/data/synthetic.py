"""The synthetic long-memory tasks of Bai, Kolter & Koltun 2018 ("An Empirical Evaluation of
Generic Convolutional and Recurrent Networks for Sequence Modeling", arXiv:1803.01271,
Section 4), generated as that paper's code does (github.com/locuslab/TCN,
TCN/adding_problem/utils.py and TCN/copy_memory/utils.py): no download, the same data from the
same seed.

Adding problem, length T: x (B, T, 2) float32; channel 0 holds values drawn uniformly from
[0, 1), channel 1 is zero except at two positions drawn uniformly without replacement from all T
steps, where it is 1. y (B, 1) float32 is the sum of the two marked values. Predicting 1
whatever the input gives the MSE Var(u1 + u2) = 1/6 = 0.167.

Copy memory, delay T, K digits to copy (K = 10 in the paper): sequences of T + 2K steps. x
(B, T + 2K, 1) float32 holds K digits drawn uniformly from 1..8, then T - 1 zeros, then K + 1
nines, the first of which is the delimiter; y (B, T + 2K) int64 class ids in 0..9 is zero except
for its last K steps, which repeat the K digits. Each step's digit reaches the network as one
scalar, as the paper's code feeds its TCN (its LSTMs ran in that code in the TCN's place,
locuslab/TCN issue #61). Predicting 0 for the first T + K steps and a uniform guess among 1..8
for the last K gives the cross entropy K ln 8 / (T + 2K) per step (0.0204 for T = 1000).

Each split comes from its own torch.Generator, seeded from (seed, split), so a split is the same
whatever the sizes of the others.
"""

import numpy as np
import torch
from torch.utils.data import TensorDataset

from lstm_triton.data.split_datamodule import SplitDataModule
from lstm_triton.data.validation import check_positive_int

SPLITS = ("train", "val", "test")
NUM_DIGITS = 10
DELIMITER = 9
# The digits to memorise are drawn from 1..8: 0 is the blank, 9 the delimiter.
FIRST_DIGIT, LAST_DIGIT = 1, 8


def adding_problem(
    num_sequences: int, seq_len: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """num_sequences adding-problem sequences of seq_len >= 2 steps: x (N, T, 2), y (N, 1)."""
    values = torch.rand(num_sequences, seq_len, generator=generator)
    first = torch.randint(seq_len, (num_sequences,), generator=generator)
    # The second position is uniform over the other T - 1, so the pair is uniform over the
    # pairs of distinct positions, as numpy's choice(T, 2, replace=False) draws it.
    second = torch.randint(seq_len - 1, (num_sequences,), generator=generator)
    second += second >= first
    rows = torch.arange(num_sequences)
    mask = torch.zeros(num_sequences, seq_len)
    mask[rows, first] = 1.0
    mask[rows, second] = 1.0
    target = values[rows, first] + values[rows, second]
    return torch.stack((values, mask), dim=-1), target.unsqueeze(1)


def copy_memory(
    num_sequences: int, delay: int, copy_length: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """num_sequences copy-memory sequences of delay + 2 * copy_length steps, delay >= 1:
    x (N, T + 2K, 1) float32 digit values, y (N, T + 2K) int64 class ids."""
    digits = torch.randint(
        FIRST_DIGIT, LAST_DIGIT + 1, (num_sequences, copy_length), generator=generator
    )
    length = delay + 2 * copy_length
    x = torch.zeros(num_sequences, length, dtype=torch.int64)
    x[:, :copy_length] = digits
    x[:, copy_length + delay - 1 :] = DELIMITER
    y = torch.zeros(num_sequences, length, dtype=torch.int64)
    y[:, -copy_length:] = digits
    return x.to(torch.float32).unsqueeze(-1), y


def split_generator(seed: int, split: str) -> torch.Generator:
    """The generator of one split: an independent stream for every (seed, split) pair."""
    (state,) = np.random.SeedSequence([seed, SPLITS.index(split)]).generate_state(1, np.uint64)
    return torch.Generator().manual_seed(int(state))


def check_positive_ints(**values: object) -> None:
    for name, value in values.items():
        check_positive_int(value, name)


def check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int >= 0, got {type(seed).__name__} {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed}")
    return seed


class SyntheticDataModule(SplitDataModule):
    """Splits of hparams.{train,val,test}_size sequences made by a subclass's generate(), from
    hparams.seed, in setup(); nothing to download."""

    def __init__(self) -> None:
        super().__init__()
        self.datasets: dict[str, TensorDataset] = {}

    @staticmethod
    def check_splits(train_size, val_size, test_size, seed, batch_size) -> None:
        """The settings every synthetic task has."""
        check_positive_ints(
            train_size=train_size, val_size=val_size, test_size=test_size, batch_size=batch_size
        )
        check_seed(seed)

    def generate(
        self, num_sequences: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """num_sequences (x, y) pairs drawn from generator."""
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        self.datasets = {
            split: TensorDataset(
                *self.generate(
                    self.hparams[f"{split}_size"], split_generator(self.hparams.seed, split)
                )
            )
            for split in SPLITS
        }


class AddingProblemDataModule(SyntheticDataModule):
    """The adding problem of length seq_len (see the module docstring): batches x (B, T, 2), y
    (B, 1). The paper's sizes: 50000 training and 1000 test sequences; it has no validation
    set, so val_size sequences are generated apart from both."""

    def __init__(
        self,
        seq_len: int = 600,
        train_size: int = 50000,
        val_size: int = 1000,
        test_size: int = 1000,
        seed: int = 0,
        batch_size: int = 32,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        if check_positive_int(seq_len, "seq_len") < 2:
            raise ValueError(f"seq_len must be >= 2 to mark two distinct steps, got {seq_len}")
        self.check_splits(train_size, val_size, test_size, seed, batch_size)
        self.save_hyperparameters()

    def model_dims(self) -> dict[str, int]:
        """input_size 2 (value, marker), output_size 1 (the sum), seq_len T."""
        return {"input_size": 2, "output_size": 1, "seq_len": self.hparams.seq_len}

    def generate(
        self, num_sequences: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return adding_problem(num_sequences, self.hparams.seq_len, generator)


class CopyMemoryDataModule(SyntheticDataModule):
    """Copy memory with delay T and copy_length K (see the module docstring): batches x
    (B, T + 2K, 1), y (B, T + 2K). The paper's sizes: 10000 training and 1000 test sequences; it
    has no validation set, so val_size sequences are generated apart from both."""

    def __init__(
        self,
        delay: int = 1000,
        copy_length: int = 10,
        train_size: int = 10000,
        val_size: int = 1000,
        test_size: int = 1000,
        seed: int = 0,
        batch_size: int = 32,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        check_positive_ints(delay=delay, copy_length=copy_length)
        self.check_splits(train_size, val_size, test_size, seed, batch_size)
        self.save_hyperparameters()

    @property
    def seq_len(self) -> int:
        return self.hparams.delay + 2 * self.hparams.copy_length

    def model_dims(self) -> dict[str, int]:
        """input_size 1 (the digit's value), num_classes 10 (digits 0..9), seq_len T + 2K."""
        return {"input_size": 1, "num_classes": NUM_DIGITS, "seq_len": self.seq_len}

    def generate(
        self, num_sequences: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return copy_memory(num_sequences, self.hparams.delay, self.hparams.copy_length, generator)
