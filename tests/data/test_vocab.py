"""Tokens at char and word level, and the vocabulary built from the training text."""

import numpy as np
import pytest

from lstm_triton.data.vocab import Vocab, detokenize, tokenize

TEXT = "the cat sat\non the mat\n"


def test_char_tokens_keep_every_character():
    assert tokenize("ab\nc", "char") == ["a", "b", "\n", "c"]
    assert detokenize(tokenize(TEXT, "char"), "char") == TEXT


def test_word_tokens_end_lines_with_eos():
    assert tokenize(TEXT, "word") == ["the", "cat", "sat", "<eos>", "on", "the", "mat", "<eos>"]
    assert detokenize(tokenize(TEXT, "word"), "word") == TEXT
    assert detokenize(["a", "b"], "word") == "a b"


def test_ids_rank_tokens_by_count_with_unk_first():
    vocab = Vocab(tokenize(TEXT, "word"))
    assert vocab.itos == ["<unk>", "<eos>", "the", "cat", "mat", "on", "sat"]
    ids = vocab.encode(["the", "dog", "<eos>"])
    assert ids.dtype == np.int64
    assert ids.tolist() == [2, 0, 1]
    assert vocab.decode(ids) == ["the", "<unk>", "<eos>"]


def test_unk_in_the_text_is_the_unk_id():
    vocab = Vocab(["<unk>", "a", "<unk>"])
    assert vocab.itos == ["<unk>", "a"]
    assert vocab.encode(["<unk>"]).tolist() == [0]


@pytest.mark.parametrize("function", [tokenize, detokenize])
def test_unknown_level(function):
    with pytest.raises(ValueError, match=r"level must be one of \['char', 'word'\], got 'byte'"):
        function("abc", "byte")
