"""Truncated-BPTT layout: contiguous streams per batch row, windows served in order."""

import itertools
from types import SimpleNamespace

import pytest
import torch

from lstm_triton.data.corpora import TextFileCorpus
from lstm_triton.data.language_model import BPTTBatches, LanguageModelDataModule, batchify
from lstm_triton.data.stdlib_corpus import StdlibCorpus

TEXT = "".join(f"{index} little pigs went to market\n" for index in range(300))


def test_batchify_gives_each_row_a_contiguous_stream():
    streams = batchify(torch.arange(23), 4)
    assert streams.tolist() == [
        [0, 1, 2, 3, 4],
        [5, 6, 7, 8, 9],
        [10, 11, 12, 13, 14],
        [15, 16, 17, 18, 19],
    ]


def test_batchify_needs_two_tokens_per_row():
    with pytest.raises(ValueError, match="7 tokens make 4 streams of 1 tokens"):
        batchify(torch.arange(7), 4)


@pytest.mark.parametrize(("length", "bptt"), [(11, 3), (13, 4), (2, 5), (9, 8)])
def test_windows_cover_each_stream_once_in_order(length, bptt):
    streams = torch.arange(3 * length).view(3, length)
    windows = list(BPTTBatches(streams, bptt))
    assert len(windows) == len(BPTTBatches(streams, bptt))
    assert all(x.shape == y.shape and x.shape[1] <= bptt for x, y in windows)
    torch.testing.assert_close(torch.cat([x for x, _ in windows], dim=1), streams[:, :-1])
    torch.testing.assert_close(torch.cat([y for _, y in windows], dim=1), streams[:, 1:])


@pytest.mark.parametrize("bptt", [0, -3])
def test_bptt_must_be_positive(bptt):
    with pytest.raises(ValueError, match=f"bptt must be an int >= 1, got {bptt}"):
        BPTTBatches(torch.zeros(2, 5), bptt)
    with pytest.raises(ValueError, match=f"bptt must be an int >= 1, got {bptt}"):
        LanguageModelDataModule(bptt=bptt)


@pytest.fixture
def text_corpus(tmp_path) -> TextFileCorpus:
    path = tmp_path / "pigs.txt"
    path.write_text(TEXT, encoding="utf-8")
    return TextFileCorpus(path)


@pytest.mark.parametrize("level", ["char", "word"])
def test_batches_continue_row_by_row(text_corpus, level):
    dm = LanguageModelDataModule(text_corpus, level=level, batch_size=4, bptt=7)
    dm.prepare_data()
    dm.setup("fit")
    batches = list(dm.train_dataloader())
    assert len(batches) == len(dm.train_dataloader())
    first_x, first_y = batches[0]
    assert first_x.shape == (4, 7) and first_x.dtype == torch.int64
    torch.testing.assert_close(first_x[:, 1:], first_y[:, :-1])
    for (_, y), (x_next, _) in itertools.pairwise(batches):
        assert torch.equal(y[:, -1], x_next[:, 0])
    row = torch.cat([x[0] for x, _ in batches] + [batches[-1][1][0, -1:]])
    assert (
        TEXT.startswith(dm.decode(row).rstrip("\n"))
        if level == "word"
        else TEXT.startswith(dm.decode(row))
    )


def test_vocab_comes_from_training_text(text_corpus):
    dm = LanguageModelDataModule(text_corpus, level="word", batch_size=2, bptt=5)
    assert dm.model_dims() == {"vocab_size": len(dm.vocab)}
    assert "0" in dm.vocab.stoi and "299" not in dm.vocab.stoi  # line 299 is in the test split
    assert dm.encode("pigs went to the moon").tolist()[-3:-1] == [0, 0]


def test_words_never_seen_in_training_are_unk(text_corpus):
    dm = LanguageModelDataModule(text_corpus, level="word", batch_size=2, bptt=5)
    dm.setup()
    test_ids = dm.ids["test"]
    assert (test_ids == 0).any()
    assert dm.decode(dm.encode("little pigs\n")) == "little pigs\n"


def test_each_ddp_process_gets_rows_of_its_own(text_corpus):
    def rows(rank: int) -> torch.Tensor:
        dm = LanguageModelDataModule(text_corpus, batch_size=2, bptt=6)
        dm.trainer = SimpleNamespace(world_size=3, global_rank=rank)
        return torch.cat([x for x, _ in dm.train_dataloader()], dim=1)

    single = LanguageModelDataModule(text_corpus, batch_size=6, bptt=6)
    everything = torch.cat([x for x, _ in single.train_dataloader()], dim=1)
    torch.testing.assert_close(torch.cat([rows(rank) for rank in range(3)]), everything)


def test_val_and_test_loaders(text_corpus):
    dm = LanguageModelDataModule(text_corpus, batch_size=2, bptt=50)
    x, y = next(iter(dm.val_dataloader()))
    assert x.shape == y.shape == (2, 50)
    x, y = next(iter(dm.test_dataloader()))
    assert x.shape == y.shape and x.shape[0] == 2


def test_stdlib_is_the_default_and_needs_no_download(offline):
    dm = LanguageModelDataModule(batch_size=8, bptt=32)
    assert isinstance(dm.corpus, StdlibCorpus)
    dm.corpus.max_chars = 100_000
    dm.prepare_data()
    dm.setup("fit")
    assert 60 < dm.model_dims()["vocab_size"] < 200
    assert offline == []


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"corpus": "enwik8"}, ValueError, r"corpus must be one of \['stdlib', .*got 'enwik8'"),
        ({"corpus": 42}, TypeError, "corpus must be one of .* or a Corpus, got int"),
        ({"level": "bpe"}, ValueError, r"level must be one of \['char', 'word'\], got 'bpe'"),
        ({"batch_size": 0}, ValueError, "batch_size must be an int >= 1, got 0"),
    ],
)
def test_bad_arguments(options, error, message):
    with pytest.raises(error, match=message):
        LanguageModelDataModule(**options)


def test_hyperparameters_name_the_corpus(text_corpus):
    assert LanguageModelDataModule(text_corpus).hparams["corpus"] == "TextFileCorpus"
    assert LanguageModelDataModule("stdlib").hparams["corpus"] == "stdlib"
