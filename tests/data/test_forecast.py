"""Forecasting windows over ETT-style CSVs: splits, scaler, window alignment, bad input."""

import numpy as np
import pytest
import torch

from lstm_triton.data.csv_series import read_csv_series
from lstm_triton.data.download import DataNotFoundError, file_checksum
from lstm_triton.data.forecast import ForecastDataModule


def datamodule(path, **options) -> ForecastDataModule:
    dm = ForecastDataModule(dataset=None, path=path, **{"lookback": 8, "horizon": 3, **options})
    dm.prepare_data()
    dm.setup("fit")
    return dm


def test_reads_the_ett_layout(ett_csv):
    series = read_csv_series(ett_csv(num_rows=5, step="1h"))
    assert series.columns == ("HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT")
    assert series.values.shape == (5, 7)
    assert series.timestamps[1] == np.datetime64("2016-07-01T01:00:00")
    assert series.rows_per_day() == 24
    assert series.values[2, 6] == pytest.approx(700 + 2 + np.sin(2), abs=1e-6)


def test_month_split_of_daily_data(ett_csv):
    dm = datamodule(ett_csv())
    # 12/4/4 months of 30 days at one row a day; train targets start after the lookback.
    assert dm.split_rows == {"train": (8, 360), "val": (360, 480), "test": (480, 600)}
    counts = {split: len(dataset) for split, dataset in dm.datasets.items()}
    assert counts == {"train": 360 - 8 - 3 + 1, "val": 120 - 3 + 1, "test": 120 - 3 + 1}


def test_fraction_split(ett_csv):
    dm = datamodule(ett_csv(num_rows=100), split_months=None, split_fractions=(0.7, 0.1, 0.2))
    assert dm.split_rows == {"train": (8, 70), "val": (70, 80), "test": (80, 100)}


def test_scaler_is_fitted_on_training_rows_only(ett_csv):
    dm = datamodule(ett_csv(), features="M")
    train = dm.series.values[:360]
    np.testing.assert_allclose(dm.scaler.mean, train.mean(axis=0))
    np.testing.assert_allclose(dm.scaler.std, train.std(axis=0))


@pytest.mark.parametrize(
    ("features", "inputs", "outputs"), [("M", 7, 7), ("S", 1, 1), ("MS", 7, 1)]
)
def test_windows_align_lookback_and_horizon(ett_csv, features, inputs, outputs):
    dm = datamodule(ett_csv(), features=features)
    assert dm.model_dims() == {
        "input_size": inputs,
        "output_size": outputs,
        "lookback": 8,
        "horizon": 3,
    }
    x, y = dm.datasets["val"][5]
    assert x.shape == (8, inputs) and y.shape == (3, outputs) and x.dtype == torch.float32
    scaled = dm.scaler.transform(dm.series.values)
    target = 360 + 5
    input_columns = slice(None) if inputs == 7 else [6]
    output_columns = slice(None) if outputs == 7 else [6]
    np.testing.assert_allclose(x, scaled[target - 8 : target, input_columns], rtol=1e-6)
    np.testing.assert_allclose(y, scaled[target : target + 3, output_columns], rtol=1e-6)
    assert dm.output_columns[-1] == "OT"


def test_inverse_transform_gives_original_units(ett_csv):
    dm = datamodule(ett_csv(), features="MS")
    _, y = dm.datasets["test"][0]
    original = dm.inverse_transform(y.double())
    np.testing.assert_allclose(original[:, 0], dm.series.values[480:483, 6], rtol=1e-6)
    assert dm.inverse_transform(y).dtype == torch.float32


def test_batches(ett_csv):
    dm = datamodule(ett_csv(), features="M", batch_size=16)
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (16, 8, 7) and y.shape == (16, 3, 7)
    x, y = next(iter(dm.test_dataloader()))
    assert x.shape == (16, 8, 7)


def test_other_target_column(ett_csv):
    dm = datamodule(ett_csv(), target="HUFL")
    assert dm.output_columns == ["HUFL"]


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"dataset": "ETTh3"}, ValueError, r"dataset must be one of \['ETTh1', .*got 'ETTh3'"),
        ({"path": "x.csv"}, ValueError, "give one of dataset .* or path .*, got dataset='ETTh1'"),
        ({"dataset": None}, ValueError, "give one of dataset .*got dataset=None and path=None"),
        ({"lookback": 0}, ValueError, "lookback must be an int >= 1, got 0"),
        ({"horizon": -1}, ValueError, "horizon must be an int >= 1, got -1"),
        ({"features": "U"}, ValueError, r"features must be one of \['M', 'S', 'MS'\], got 'U'"),
        ({"split_fractions": (0.7, 0.1, 0.2)}, ValueError, "one of split_months and split_fr"),
    ],
)
def test_bad_arguments(options, error, message):
    with pytest.raises(error, match=message):
        ForecastDataModule(**options)


def test_missing_target_column_names_the_columns(ett_csv):
    with pytest.raises(ValueError, match=r"column must be one of \['HUFL', .*'OT'\], got 'oil'"):
        datamodule(ett_csv(), target="oil")


def test_split_longer_than_the_series(ett_csv):
    with pytest.raises(ValueError, match=r"need 600 rows at 1 rows a day, the series has 599"):
        datamodule(ett_csv(num_rows=599))


def test_horizon_longer_than_a_split(ett_csv):
    with pytest.raises(ValueError, match=r"horizon 121 does not fit in the 120 target rows"):
        datamodule(ett_csv(), horizon=121)


def test_lookback_longer_than_the_training_rows(ett_csv):
    with pytest.raises(ValueError, match="must fit in the 360 training rows, got 400 \\+ 3"):
        datamodule(ett_csv(), lookback=400)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["time,OT", "2016-07-01 00:00:00,1"], "must have a date column 'date', got .*'time'"),
        (["date,OT", "2016-07-01 00:00:00,1", "2016-07-01 01:00:00,"], "line 3: expected numbers"),
        (["date,OT", "2016-07-01 00:00:00,1", "2016-07-01 01:00:00,nan"], "line 3: .*finite"),
        (["date,OT", "2016-07-01 00:00:00,1,2", "x,1"], "line 2: expected 2 fields"),
        (["date,OT", "yesterday,1", "today,2"], "ISO 8601 dates"),
        (["date,OT", "2016-07-01 00:00:00,1"], "at least 2 data rows, got 1"),
        ([], "is empty"),
    ],
)
def test_malformed_csv(tmp_path, lines, message):
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines))
    with pytest.raises(ValueError, match=message):
        read_csv_series(path)


def test_irregular_dates_cannot_split_by_month(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("date,OT\n2016-07-01 00:00:00,1\n2016-07-01 00:00:07,2\n")
    with pytest.raises(ValueError, match="whole fraction of a day, got a step of 7 s"):
        read_csv_series(path).rows_per_day()


def test_ett_offline_names_the_file_and_url(tmp_path):
    dm = ForecastDataModule(dataset="ETTh2", data_dir=tmp_path)
    with pytest.raises(DataNotFoundError) as error:
        dm.prepare_data()
    assert str(tmp_path / "ett" / "ETTh2.csv") in str(error.value)
    assert "zhouhaoyi/ETDataset/1d16c8f4f943005d613b5bc962e9eeb06058cf07" in str(error.value)


def test_real_etth1(shared_file):
    """ETTh1 as published: checksums, Informer's split (12/4/4 months) and window counts."""
    path = shared_file("ett/ETTh1.csv")
    assert file_checksum(path, "sha256") == (
        "f18de3ad269cef59bb07b5438d79bb3042d3be49bdeecf01c1cd6d29695ee066"
    )
    assert file_checksum(path, "git-sha1") == "a52c4925778c07c1ef1a2cf6fd01594919717d9e"
    dm = ForecastDataModule(data_dir=path.parent.parent, lookback=96, horizon=24, download=False)
    dm.setup()
    assert dm.split_rows == {"train": (96, 8640), "val": (8640, 11520), "test": (11520, 14400)}
    counts = {split: len(dataset) for split, dataset in dm.datasets.items()}
    # Informer's Dataset_ETT_hour with seq_len 96, pred_len 24 prints train 8521, val/test 2857.
    assert counts == {"train": 8521, "val": 2857, "test": 2857}
    assert len(dm.series.values) == 17420
