"""Multivariate time series from CSV files in the ETT layout: a header row, a date column
(ISO 8601, "2016-07-01 00:00:00"), then one numeric column per variable, one row per time step."""

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class CsvSeries:
    """timestamps (N,) datetime64[s]; values (N, C) float64, column j named columns[j]."""

    timestamps: np.ndarray
    columns: tuple[str, ...]
    values: np.ndarray

    def column_index(self, name: str) -> int:
        if name not in self.columns:
            raise ValueError(f"column must be one of {list(self.columns)}, got {name!r}")
        return self.columns.index(name)

    def rows_per_day(self) -> int:
        """Rows per day from the step between the first two timestamps (24 for hourly data)."""
        step = int((self.timestamps[1] - self.timestamps[0]) / np.timedelta64(1, "s"))
        if step <= 0 or 86_400 % step:
            raise ValueError(
                f"the date column must step by a whole fraction of a day, got a step of {step} s "
                f"from {self.timestamps[0]} to {self.timestamps[1]}"
            )
        return 86_400 // step


def read_csv_series(path: str | os.PathLike, date_column: str = "date") -> CsvSeries:
    """Read a CSV time series; every cell but the dates must be a number (no gaps)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"CSV file {path} not found")
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    if not rows:
        raise ValueError(f"{path} is empty; expected a header row with {date_column!r} first")
    header, body = rows[0], [row for row in rows[1:] if row]
    if date_column not in header:
        raise ValueError(
            f"{path} must have a date column {date_column!r}, got the columns {header}"
        )
    if len(body) < 2:
        raise ValueError(f"{path} must have at least 2 data rows, got {len(body)}")
    date_index = header.index(date_column)
    columns = tuple(name for index, name in enumerate(header) if index != date_index)
    if not columns:
        raise ValueError(f"{path} has only the date column; expected numeric columns after it")
    values = np.empty((len(body), len(columns)), dtype=np.float64)
    dates = []
    for row_number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ValueError(
                f"{path}, line {row_number}: expected {len(header)} fields like the header, "
                f"got {len(row)}"
            )
        dates.append(row[date_index])
        cells = row[:date_index] + row[date_index + 1 :]
        try:
            values[row_number - 2] = [float(cell) for cell in cells]
        except ValueError as error:
            raise ValueError(f"{path}, line {row_number}: expected numbers, got {cells}") from error
    not_finite = np.flatnonzero(~np.isfinite(values).all(axis=1))
    if not_finite.size:
        raise ValueError(
            f"{path}, line {not_finite[0] + 2}: expected finite numbers, got "
            f"{body[not_finite[0]]} ({not_finite.size} rows with nan or inf in all)"
        )
    try:
        timestamps = np.array(dates, dtype="datetime64[s]")
    except ValueError as error:
        raise ValueError(
            f"{path}: column {date_column!r} must hold ISO 8601 dates like "
            f"'2016-07-01 00:00:00': {error}"
        ) from error
    return CsvSeries(timestamps, columns, values)
