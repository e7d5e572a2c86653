"""The adding problem and copy memory as Bai et al. 2018 (locuslab/TCN's data_generator) define
them, on tiny sizes: layout, value ranges, targets, determinism by seed, and bad arguments."""

import math

import pytest
import torch

from lstm_triton.data.synthetic import (
    AddingProblemDataModule,
    CopyMemoryDataModule,
    adding_problem,
    copy_memory,
)


def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_adding_problem_marks_two_distinct_steps_and_sums_their_values():
    x, y = adding_problem(500, 7, generator())
    assert x.shape == (500, 7, 2) and y.shape == (500, 1)
    assert x.dtype == y.dtype == torch.float32
    values, mask = x[..., 0], x[..., 1]
    assert values.min() >= 0.0 and values.max() < 1.0
    assert set(mask.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(mask.sum(dim=1), torch.full((500,), 2.0))
    # Exactly the sum of the two marked values, in the same float32 addition.
    marked = values[mask == 1].view(500, 2)
    assert torch.equal(y[:, 0], marked[:, 0] + marked[:, 1])


def test_adding_problem_positions_are_uniform_over_all_steps():
    # Unlike Hochreiter & Schmidhuber's version (one mark in each half), both marks may fall
    # anywhere: all 6 * 5 / 2 = 15 pairs of 6 steps occur, about 4000 / 15 = 267 times each;
    # 170 is over 6 standard deviations (sqrt(267 * 14 / 15) = 15.8) below that.
    x, _ = adding_problem(4000, 6, generator())
    pairs = x[..., 1].nonzero()[:, 1].view(-1, 2)
    counts = torch.bincount(pairs[:, 0] * 6 + pairs[:, 1], minlength=36).view(6, 6)
    upper = torch.triu(torch.ones(6, 6, dtype=torch.bool), diagonal=1)
    assert (counts[upper] > 170).all() and (counts[~upper] == 0).all()


def test_predicting_one_gives_the_variance_of_the_sum():
    # Var(u1 + u2) = 1/6; the standard error of the mean of 20000 squared errors is
    # sqrt((E[e^4] - 1/36) / 20000) = sqrt((1/15 - 1/36) / 20000) = 0.0014, 0.006 is over 4.
    _, y = adding_problem(20000, 10, generator())
    assert torch.mean((y - 1.0) ** 2).item() == pytest.approx(1 / 6, abs=0.006)


def test_copy_memory_layout_digits_zeros_delimiter_and_copied_target():
    delay, copy_length = 6, 4
    x, y = copy_memory(300, delay, copy_length, generator())
    length = delay + 2 * copy_length
    assert x.shape == (300, length, 1) and x.dtype == torch.float32
    assert y.shape == (300, length) and y.dtype == torch.int64
    x = x[..., 0]
    digits = x[:, :copy_length]
    assert set(digits.unique().tolist()) == set(range(1, 9))
    # T - 1 blanks, then K + 1 nines: the first is the delimiter, the rest ask for the digits.
    assert (x[:, copy_length : copy_length + delay - 1] == 0).all()
    assert (x[:, copy_length + delay - 1 :] == 9).all()
    assert (y[:, :-copy_length] == 0).all()
    assert torch.equal(y[:, -copy_length:], digits.long())


def test_copy_memory_with_the_shortest_delay_starts_the_delimiter_right_after_the_digits():
    x, y = copy_memory(2, 1, 3, generator())
    assert x.shape == (2, 7, 1)
    assert (x[:, 3:, 0] == 9).all() and (x[:, :3, 0] != 9).all()
    assert torch.equal(y[:, 4:], x[:, :3, 0].long()) and (y[:, :4] == 0).all()


def adding(**options) -> AddingProblemDataModule:
    sizes = {"seq_len": 5, "train_size": 12, "val_size": 4, "test_size": 6, "batch_size": 4}
    dm = AddingProblemDataModule(**{**sizes, **options})
    dm.setup("fit")
    return dm


def copying(**options) -> CopyMemoryDataModule:
    sizes = {"delay": 7, "copy_length": 3, "train_size": 10, "val_size": 4, "test_size": 6}
    dm = CopyMemoryDataModule(**{**sizes, "batch_size": 4, **options})
    dm.setup("fit")
    return dm


def test_adding_problem_data_module_batches_and_model_dims():
    dm = adding()
    assert dm.model_dims() == {"input_size": 2, "output_size": 1, "seq_len": 5}
    assert {split: len(data) for split, data in dm.datasets.items()} == {
        "train": 12,
        "val": 4,
        "test": 6,
    }
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (4, 5, 2) and y.shape == (4, 1)


def test_copy_memory_data_module_batches_and_model_dims():
    dm = copying()
    assert dm.model_dims() == {"input_size": 1, "num_classes": 10, "seq_len": 13}
    x, y = next(iter(dm.test_dataloader()))
    assert x.shape == (4, 13, 1) and y.shape == (4, 13) and y.dtype == torch.int64


@pytest.mark.parametrize("make", [adding, copying], ids=["adding", "copy"])
def test_splits_are_reproducible_by_seed_and_independent_of_each_other(make):
    first, again, other = make(seed=3), make(seed=3), make(seed=4)
    for split in ("train", "val", "test"):
        assert torch.equal(first.datasets[split].tensors[0], again.datasets[split].tensors[0])
        assert not torch.equal(first.datasets[split].tensors[0], other.datasets[split].tensors[0])
    assert not torch.equal(first.datasets["val"].tensors[0], first.datasets["test"].tensors[0][:4])
    # The test set does not depend on how much training data is drawn.
    larger = make(seed=3, train_size=30)
    assert torch.equal(first.datasets["test"].tensors[0], larger.datasets["test"].tensors[0])


def test_the_copy_memory_guessing_baseline_is_k_ln8_over_the_length():
    """The loss the paper's LSTM reached (0.0204 for T = 1000): certain zeros for T + K steps,
    a uniform guess among the 8 digits for the last K."""
    delay, copy_length = 30, 10
    _, y = copy_memory(50, delay, copy_length, generator())
    length = delay + 2 * copy_length
    logits = torch.full((50, length, 10), -1e9)
    logits[:, :-copy_length, 0] = 0.0
    logits[:, -copy_length:, 1:9] = 0.0
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 10), y.reshape(-1))
    assert loss.item() == pytest.approx(copy_length * math.log(8) / length, rel=1e-6)
    assert 10 * math.log(8) / 1020 == pytest.approx(0.0204, abs=5e-5)


BAD_ARGUMENTS = [
    (adding, {"seq_len": 1}, ValueError, "seq_len must be >= 2 to mark two distinct steps"),
    (adding, {"seq_len": 0}, ValueError, "seq_len must be an int >= 1, got 0"),
    (adding, {"train_size": 0}, ValueError, "train_size must be an int >= 1, got 0"),
    (adding, {"batch_size": "32"}, TypeError, "batch_size must be an int >= 1, got str"),
    (adding, {"seed": -1}, ValueError, "seed must be an int >= 0, got -1"),
    (copying, {"delay": 0}, ValueError, "delay must be an int >= 1, got 0"),
    (copying, {"copy_length": 2.5}, TypeError, "copy_length must be an int >= 1, got float"),
    (copying, {"test_size": -3}, ValueError, "test_size must be an int >= 1, got -3"),
    (copying, {"seed": 1.0}, TypeError, "seed must be an int >= 0, got float 1.0"),
]


@pytest.mark.parametrize(
    ("make", "options", "error", "message"),
    BAD_ARGUMENTS,
    ids=[
        f"{make.__name__}-" + "-".join(f"{key}={value!r}" for key, value in options.items())
        for make, options, _, _ in BAD_ARGUMENTS
    ],
)
def test_bad_arguments_name_what_was_expected_and_what_came(make, options, error, message):
    with pytest.raises(error, match=message):
        make(**options)
