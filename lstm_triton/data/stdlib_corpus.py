"""The Python standard library's own source, read from the running interpreter: a corpus that is
on every machine that runs this code, so a language model trains with no download at all.

Split by file, not by position: a file belongs to train, val or test by a hash of its path
relative to the standard library folder, so the split is the same on every run and machine
(its content follows the interpreter's version). Within a split, files are read in the order of
that hash, a fair sample of the library whatever the budget, and joined until the split's share
of max_chars is reached (cut at a line end).
"""

import hashlib
import os
import sysconfig
from pathlib import Path

from lstm_triton.data.corpora import SPLITS, Corpus
from lstm_triton.data.validation import check_fractions, check_positive_int

THIRD_PARTY_FOLDERS = frozenset({"site-packages", "dist-packages", "__pycache__"})


def stdlib_folder() -> Path:
    """The running interpreter's standard library folder (sysconfig's "stdlib" path)."""
    return Path(sysconfig.get_paths()["stdlib"])


def split_of(relative_path: str, val_fraction: float, test_fraction: float) -> tuple[str, str]:
    """(split, sort key) of a file from the sha256 of its relative POSIX path: a uniform number
    u in [0, 1) from the first 8 bytes puts it in val (u < val_fraction), test (next
    test_fraction) or train; the hex digest orders the files of one split."""
    digest = hashlib.sha256(relative_path.encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    if u < val_fraction:
        return "val", digest.hex()
    if u < val_fraction + test_fraction:
        return "test", digest.hex()
    return "train", digest.hex()


class StdlibCorpus(Corpus):
    """The .py files of the standard library that match `include` (glob patterns relative to
    its folder; the default takes the top-level modules, 4.7 MB on CPython 3.11), at most
    `max_chars` characters in all (None: everything), split by file into train, val, test.

    Files under site-packages (third-party code) are never read. Sources are decoded as UTF-8,
    the odd undecodable byte replaced.
    """

    def __init__(
        self,
        include: tuple[str, ...] | list[str] = ("*.py",),
        max_chars: int | None = 1_000_000,
        val_fraction: float = 0.05,
        test_fraction: float = 0.05,
        root: str | os.PathLike | None = None,
    ) -> None:
        if isinstance(include, str):
            raise TypeError(f"include must be a list of glob patterns, got the string {include!r}")
        if max_chars is not None:
            check_positive_int(max_chars, "max_chars")
        self.include = tuple(include)
        self.max_chars = max_chars
        self.fractions = check_fractions(
            (val_fraction, test_fraction), "(val_fraction, test_fraction)"
        )
        self.root = Path(root) if root is not None else stdlib_folder()

    def prepare(self) -> None:
        """Nothing to download."""

    def files(self) -> dict[str, list[Path]]:
        """The files of each split, in reading order."""
        found = {
            path
            for pattern in self.include
            for path in self.root.glob(pattern)
            if path.suffix == ".py"
            and path.is_file()
            and THIRD_PARTY_FOLDERS.isdisjoint(path.relative_to(self.root).parts)
        }
        keyed: dict[str, list[tuple[str, Path]]] = {split: [] for split in SPLITS}
        for path in found:
            split, key = split_of(path.relative_to(self.root).as_posix(), *self.fractions)
            keyed[split].append((key, path))
        files = {split: [path for _, path in sorted(keyed[split])] for split in SPLITS}
        empty = [split for split in SPLITS if not files[split]]
        if empty:
            raise ValueError(
                f"StdlibCorpus(include={list(self.include)}) finds {len(found)} .py files under "
                f"{self.root}, which leaves no file for {empty}: include more files or raise "
                f"val_fraction/test_fraction"
            )
        return files

    def splits(self) -> dict[str, str]:
        val_fraction, test_fraction = self.fractions
        shares = {"train": 1.0 - val_fraction - test_fraction, "val": val_fraction}
        shares["test"] = test_fraction
        return {
            split: _join_files(paths, self._budget(shares[split]))
            for split, paths in self.files().items()
        }

    def _budget(self, share: float) -> int | None:
        return None if self.max_chars is None else max(1, int(self.max_chars * share))


def _join_files(paths: list[Path], budget: int | None) -> str:
    """The files' text, one after the other, cut at the last line end within budget chars."""
    parts, size = [], 0
    for path in paths:
        if budget is not None and size >= budget:
            break
        text = path.read_bytes().decode("utf-8", errors="replace")
        parts.append(text if text.endswith("\n") else text + "\n")
        size += len(parts[-1])
    text = "".join(parts)
    if budget is None or len(text) <= budget:
        return text
    line_end = text.rfind("\n", 0, budget)
    return text[: line_end + 1] if line_end >= 0 else text[:budget]
