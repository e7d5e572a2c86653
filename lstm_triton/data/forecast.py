"""Forecasting windows over a multivariate CSV series (ETT or any local CSV in its layout).

Batches are (x, y): x (B, L, C_in) the `lookback` L steps before a forecast, y (B, H, C_out)
the `horizon` H steps to forecast, float32, standardised per column by a scaler fitted on the
training rows only. Losses and metrics on this scale are the ones published tables report;
inverse_transform brings forecasts back to the original units.

features (Informer's names): "M" all columns in and out; "S" the target column in and out;
"MS" all columns in, the target out.
"""

import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from lstm_triton.data.csv_series import CsvSeries, read_csv_series
from lstm_triton.data.download import default_data_dir, fetch
from lstm_triton.data.ett import ETT_FILES, fraction_split_rows, month_split_rows
from lstm_triton.data.scaler import StandardScaler
from lstm_triton.data.split_datamodule import SplitDataModule
from lstm_triton.data.validation import check_choice, check_positive_int

FEATURES = ("M", "S", "MS")


class SlidingWindows(Dataset):
    """Window i: x = inputs[start + i - L : start + i] (L, C_in), y = outputs[start + i :
    start + i + H] (H, C_out), for targets in rows [start, end); end - start - H + 1 windows."""

    def __init__(
        self,
        inputs: np.ndarray,
        outputs: np.ndarray,
        rows: tuple[int, int],
        lookback: int,
        horizon: int,
    ) -> None:
        start, end = rows
        if start < lookback:
            raise ValueError(
                f"lookback {lookback} reaches before the first row: targets start at row "
                f"{start}, so lookback must be <= {start}"
            )
        self.count = end - start - horizon + 1
        if self.count < 1:
            raise ValueError(
                f"horizon {horizon} does not fit in the {end - start} target rows [{start}, "
                f"{end}) of a split; expected horizon <= {end - start}"
            )
        self.inputs = torch.from_numpy(inputs.astype(np.float32))
        self.outputs = torch.from_numpy(outputs.astype(np.float32))
        self.start, self.lookback, self.horizon = start, lookback, horizon

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not 0 <= index < self.count:
            raise IndexError(f"window index must be in [0, {self.count}), got {index}")
        target = self.start + index
        x = self.inputs[target - self.lookback : target]
        return x, self.outputs[target : target + self.horizon]


class ForecastDataModule(SplitDataModule):
    """Sliding-window forecasting on an ETT data set (downloaded into data_dir/ett) or a local
    CSV (path). Give exactly one of dataset and path.

    The split is split_months (ETT's standard 12/4/4 months of 30 days, the row count read from
    the date column's step) or, with split_months=None, split_fractions (e.g. 0.7/0.1/0.2). The
    train split's first `lookback` rows serve only as inputs.
    """

    def __init__(
        self,
        dataset: str | None = "ETTh1",
        path: str | os.PathLike | None = None,
        target: str = "OT",
        features: str = "S",
        lookback: int = 96,
        horizon: int = 24,
        split_months: tuple[int, int, int] | None = (12, 4, 4),
        split_fractions: tuple[float, float, float] | None = None,
        batch_size: int = 32,
        num_workers: int = 0,
        date_column: str = "date",
        data_dir: str | os.PathLike | None = None,
        download: bool = True,
    ) -> None:
        super().__init__()
        if (dataset is None) == (path is None):
            raise ValueError(
                f"give one of dataset (one of {list(ETT_FILES)}) or path (a local CSV), got "
                f"dataset={dataset!r} and path={path!r}"
            )
        if dataset is not None:
            check_choice(dataset, list(ETT_FILES), "dataset")
        if (split_months is None) == (split_fractions is None):
            raise ValueError(
                f"give one of split_months and split_fractions, got "
                f"split_months={split_months!r} and split_fractions={split_fractions!r}"
            )
        check_choice(features, FEATURES, "features")
        check_positive_int(lookback, "lookback")
        check_positive_int(horizon, "horizon")
        check_positive_int(batch_size, "batch_size")
        self.save_hyperparameters()
        self.series: CsvSeries | None = None
        self.scaler: StandardScaler | None = None
        self.input_columns: list[str] = []
        self.output_columns: list[str] = []
        self._output_indices: list[int] = []
        self.split_rows: dict[str, tuple[int, int]] = {}
        self.datasets: dict[str, SlidingWindows] = {}

    def _csv_path(self) -> Path:
        if self.hparams.path is not None:
            return Path(self.hparams.path)
        folder = Path(self.hparams.data_dir or default_data_dir()) / "ett"
        return fetch(ETT_FILES[self.hparams.dataset], folder, download=self.hparams.download)

    def prepare_data(self) -> None:
        self._csv_path()

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        hp = self.hparams
        series = read_csv_series(self._csv_path(), hp.date_column)
        target = series.column_index(hp.target)
        all_columns = list(range(len(series.columns)))
        inputs = all_columns if hp.features in ("M", "MS") else [target]
        outputs = all_columns if hp.features == "M" else [target]
        if hp.split_months is not None:
            rows = month_split_rows(len(series.values), series.rows_per_day(), hp.split_months)
        else:
            rows = fraction_split_rows(len(series.values), hp.split_fractions)
        train_start, train_end = rows["train"]
        if hp.lookback + hp.horizon > train_end - train_start:
            raise ValueError(
                f"lookback + horizon must fit in the {train_end - train_start} training rows, "
                f"got {hp.lookback} + {hp.horizon}"
            )
        self.scaler = StandardScaler.fit(series.values[train_start:train_end])
        scaled = self.scaler.transform(series.values)
        self.split_rows = {**rows, "train": (train_start + hp.lookback, train_end)}
        self.datasets = {
            split: SlidingWindows(
                scaled[:, inputs], scaled[:, outputs], split_rows, hp.lookback, hp.horizon
            )
            for split, split_rows in self.split_rows.items()
        }
        self.series = series
        self.input_columns = [series.columns[index] for index in inputs]
        self.output_columns = [series.columns[index] for index in outputs]
        self._output_indices = outputs

    def model_dims(self) -> dict[str, int]:
        """input_size C_in, output_size C_out, lookback L, horizon H (reads the CSV if setup
        has not run yet)."""
        self.setup()
        return {
            "input_size": len(self.input_columns),
            "output_size": len(self.output_columns),
            "lookback": self.hparams.lookback,
            "horizon": self.hparams.horizon,
        }

    def inverse_transform(self, values: torch.Tensor) -> torch.Tensor:
        """Standardised forecasts or targets (..., C_out) -> original units (..., C_out)."""
        self.setup()
        return self.scaler.inverse_transform(values, self._output_indices)
