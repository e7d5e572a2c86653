"""The ETT data sets (Electricity Transformer Temperature, Zhou et al. 2021) and the row splits
of the forecasting benchmarks.

Split borders follow the Informer code (and Autoformer's for non-ETT data), so window counts
match published tables: each split owns a range of target rows [start, end); its windows take
their lookback L rows from just before start, out of the previous split, so val and test lose
no targets to the lookback. With splits by months, a month is 30 days and rows past the last
split are left unused (ETTh1: train [0, 8640), val [8640, 11520), test [11520, 14400)).
"""

from lstm_triton.data.download import RemoteFile

_COMMIT = "1d16c8f4f943005d613b5bc962e9eeb06058cf07"
_URL = f"https://raw.githubusercontent.com/zhouhaoyi/ETDataset/{_COMMIT}/ETT-small/"

# Checksums: ETTh1's sha256 as given in shared/data/README.md for this commit; the others are
# the git blob ids that the ETDataset repository's tree at this commit lists for the files.
ETT_FILES = {
    "ETTh1": RemoteFile(
        "ETTh1.csv",
        (_URL + "ETTh1.csv",),
        "sha256:f18de3ad269cef59bb07b5438d79bb3042d3be49bdeecf01c1cd6d29695ee066",
    ),
    "ETTh2": RemoteFile(
        "ETTh2.csv", (_URL + "ETTh2.csv",), "git-sha1:6e3760778598fdee5208213d3fce122637307eec"
    ),
    "ETTm1": RemoteFile(
        "ETTm1.csv", (_URL + "ETTm1.csv",), "git-sha1:62c9f979e2dc5b05d9cc5b38891e60e6baf77417"
    ),
    "ETTm2": RemoteFile(
        "ETTm2.csv", (_URL + "ETTm2.csv",), "git-sha1:f9d46027c987d442d2d8f81308d1d8c4d1d35db8"
    ),
}
ETT_TARGET = "OT"
DAYS_PER_MONTH = 30


def month_split_rows(
    num_rows: int, rows_per_day: int, months: tuple[int, int, int]
) -> dict[str, tuple[int, int]]:
    """Target rows [start, end) of train, val, test: consecutive spans of the given months."""
    if len(months) != 3 or any(not isinstance(m, int) or m < 1 for m in months):
        raise ValueError(f"split_months must be 3 whole numbers >= 1, got {list(months)}")
    ends, end = [], 0
    for month_count in months:
        end += month_count * DAYS_PER_MONTH * rows_per_day
        ends.append(end)
    if ends[-1] > num_rows:
        raise ValueError(
            f"split_months {list(months)} need {ends[-1]} rows at {rows_per_day} rows a day, "
            f"the series has {num_rows}: use fewer months or split_fractions"
        )
    return {"train": (0, ends[0]), "val": (ends[0], ends[1]), "test": (ends[1], ends[2])}


def fraction_split_rows(
    num_rows: int, fractions: tuple[float, float, float]
) -> dict[str, tuple[int, int]]:
    """Target rows of train, val, test from fractions of the rows (Autoformer's custom data:
    train int(N * f_train) rows, test int(N * f_test), val the rest)."""
    if len(fractions) != 3 or any(f <= 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(
            f"split_fractions must be 3 positive fractions summing to 1, got {list(fractions)}"
        )
    num_train, num_test = int(num_rows * fractions[0]), int(num_rows * fractions[2])
    return {
        "train": (0, num_train),
        "val": (num_train, num_rows - num_test),
        "test": (num_rows - num_test, num_rows),
    }
