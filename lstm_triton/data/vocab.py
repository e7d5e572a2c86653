"""Tokens of a corpus and their ids, at character or word level.

Character level: every character is a token, newlines included. Word level: the words of each
line (split on white space) followed by "<eos>", the convention of the PTB and WikiText-2
benchmarks (Zaremba et al. 2014; pytorch/examples word_language_model), so that perplexities
compare with published ones.
"""

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from lstm_triton.data.validation import check_choice

LEVELS = ("char", "word")
UNKNOWN = "<unk>"
END_OF_LINE = "<eos>"


def tokenize(text: str, level: str) -> list[str]:
    check_choice(level, LEVELS, "level")
    if level == "char":
        return list(text)
    return [word for line in text.splitlines() for word in (*line.split(), END_OF_LINE)]


def detokenize(tokens: Iterable[str], level: str) -> str:
    """Text of tokens: joined as they are (char), or by spaces with "<eos>" as a newline (word)."""
    check_choice(level, LEVELS, "level")
    if level == "char":
        return "".join(tokens)
    lines, words = [], []
    for token in tokens:
        if token == END_OF_LINE:
            lines.append(" ".join(words) + "\n")
            words = []
        else:
            words.append(token)
    return "".join(lines) + " ".join(words)


class Vocab:
    """Token <-> id. Id 0 is "<unk>", which stands for every token not in the vocabulary; the
    others follow by falling count in the text the vocabulary was built from, ties by token."""

    def __init__(self, tokens: Sequence[str]) -> None:
        counts = Counter(tokens)
        counts.pop(UNKNOWN, None)
        ranked = sorted(counts, key=lambda token: (-counts[token], token))
        self.itos: list[str] = [UNKNOWN, *ranked]
        self.stoi: dict[str, int] = {token: index for index, token in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        """Ids (N,) int64 of N tokens."""
        return np.fromiter((self.stoi.get(token, 0) for token in tokens), dtype=np.int64)

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.itos[int(index)] for index in ids]
