"""read_idx against files written in the IDX format (header, magic, big-endian data)."""

import gzip

import numpy as np
import pytest

from lstm_triton.data.idx import IdxFormatError, read_idx


@pytest.mark.parametrize(
    ("shape", "dtype"),
    [
        pytest.param((5, 28, 28), np.uint8, id="images-N5-28x28-u8"),
        pytest.param((7,), np.uint8, id="labels-N7-u8"),
        pytest.param((3, 2), np.int8, id="N3x2-i8"),
        pytest.param((4, 3), np.int16, id="N4x3-i16"),
        pytest.param((2, 3, 5), np.int32, id="N2x3x5-i32"),
        pytest.param((6,), np.float32, id="N6-f32"),
        pytest.param((2, 2), np.float64, id="N2x2-f64"),
    ],
)
@pytest.mark.parametrize("suffix", [".gz", ""])
def test_round_trip(write_idx, tmp_path, shape, dtype, suffix):
    rng = np.random.default_rng(1)
    array = (rng.standard_normal(shape) * 100).astype(dtype)
    path = write_idx(tmp_path / f"data-idx{len(shape)}{suffix}", array)
    result = read_idx(path)
    assert result.dtype == np.dtype(dtype)
    assert result.dtype.isnative
    np.testing.assert_array_equal(result, array)


def test_header_is_big_endian(tmp_path):
    # The first bytes of MNIST's t10k-labels-idx1-ubyte: magic 2049, 10000 labels.
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(bytes.fromhex("00000801 00002710") + bytes(10000)))
    assert read_idx(path).shape == (10000,)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"", "not an IDX file.*an empty file", id="empty"),
        pytest.param(b"PK\x03\x04rest", "not an IDX file.*50 4b 03 04", id="zip-magic"),
        pytest.param(bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 5]), "type byte 0x07", id="bad-type"),
        pytest.param(
            bytes([0, 0, 8, 3, 0, 0, 0, 1]), "truncated: its header needs 16", id="header"
        ),
        pytest.param(
            bytes([0, 0, 8, 1, 0, 0, 0, 4, 1, 2]), "holds 10 bytes, expected 12", id="data"
        ),
    ],
)
def test_malformed_files_are_named(tmp_path, content, message):
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(content)
    with pytest.raises(IdxFormatError, match=message):
        read_idx(path)
