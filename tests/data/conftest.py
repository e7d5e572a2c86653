"""Fixtures of the data tests: no network, an empty cache, and small files in the real formats.

Every test runs with urllib's urlopen replaced by one that fails as an offline machine does, and
with the default cache folder pointed at a fresh temporary folder, so no test can download or
touch a user's cache. A test that exercises a download serves bytes with `serve`.
"""

import gzip
import io
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from lstm_triton.data.download import DATA_DIR_VARIABLE
from lstm_triton.data.idx import IDX_TYPES

ETT_COLUMNS = ("date", "HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT")
SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """urlopen fails like an offline machine; the default cache is an empty temporary folder.
    Returns the list of URLs that code tried to open."""
    attempts = []

    def unreachable(url, *args, **kwargs):
        attempts.append(url)
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", unreachable)
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(tmp_path / "default-cache"))
    return attempts


@pytest.fixture
def shared_file():
    """shared_file(relative): a real data file in ../shared/data beside the checkout; the test
    is skipped where that folder (kept out of the repository) is absent."""

    def find(relative: str) -> Path:
        path = SHARED_DATA / relative
        if not path.is_file():
            pytest.skip(f"real-data check: {path} is not on this machine")
        return path

    return find


@pytest.fixture
def serve(monkeypatch):
    """serve({url: bytes}): urlopen answers those URLs with the bytes, others fail offline.
    Returns the list of URLs requested."""
    requested = []

    def install(pages: dict[str, bytes]):
        def urlopen(url, *args, **kwargs):
            requested.append(url)
            if url not in pages:
                raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
            return io.BytesIO(pages[url])

        monkeypatch.setattr(urllib.request, "urlopen", urlopen)
        return requested

    return install


def idx_bytes(array: np.ndarray) -> bytes:
    """array in the IDX format: 00 00 <type> <ndim>, big-endian uint32 sizes, big-endian data."""
    codes = {dtype.newbyteorder("="): code for code, dtype in IDX_TYPES.items()}
    code = codes[array.dtype.newbyteorder("=")]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.fixture
def write_idx():
    """write_idx(path, array): an IDX file, gzipped when path ends in .gz."""

    def write(path: Path, array: np.ndarray) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = idx_bytes(array)
        path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
        return path

    return write


@pytest.fixture
def tiny_mnist(write_idx):
    """tiny_mnist(folder, num_train=40, num_test=12): the four MNIST .gz files in folder, images
    28x28 whose pixel (0, 0) holds the image index (so tests can tell images apart) and labels
    index % 10. Returns (train_images, train_labels, test_images, test_labels)."""

    def write(folder: Path, num_train: int = 40, num_test: int = 12):
        rng = np.random.default_rng(0)
        arrays = []
        for prefix, count in (("train", num_train), ("t10k", num_test)):
            images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
            images[:, 0, 0] = np.arange(count)
            labels = (np.arange(count) % 10).astype(np.uint8)
            write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
            write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
            arrays += [images, labels]
        return tuple(arrays)

    return write


@pytest.fixture
def ett_csv(tmp_path):
    """ett_csv(num_rows=600, step="1D"): an ETT-style CSV (the real header, OT the target), one
    row a day from 2016-07-01 by default, so that 12/4/4 months of 30 days fit in 600 rows.
    Column j at row i holds 100 * (j + 1) + i + sin(i) (distinct, easy to check)."""

    def write(num_rows: int = 600, step: str = "1D", name: str = "ETTtiny.csv") -> Path:
        start = np.datetime64("2016-07-01T00:00:00")
        unit = {"1D": np.timedelta64(1, "D"), "1h": np.timedelta64(1, "h")}[step]
        lines = [",".join(ETT_COLUMNS)]
        for row in range(num_rows):
            date = str(start + row * unit).replace("T", " ")
            values = [100 * (column + 1) + row + np.sin(row) for column in range(7)]
            lines.append(",".join([date, *(f"{value:.6f}" for value in values)]))
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n")
        return path

    return write
