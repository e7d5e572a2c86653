"""The IDX file format of MNIST and Fashion-MNIST, read into numpy arrays.

Layout (big-endian): two zero bytes, one type byte, one byte with the number of dimensions D,
D uint32 sizes, then the values in C order. Files ending in .gz are gunzipped on the fly.
"""

import gzip
import os
from pathlib import Path

import numpy as np

IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
"""IDX type byte -> element type."""


class IdxFormatError(ValueError):
    """A file is not a well-formed IDX file."""


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (.gz or plain) into an array of its stored shape and type (native
    byte order): for MNIST images (N, 28, 28) uint8, for labels (N,) uint8."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as file:
        data = file.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise IdxFormatError(
            f"{path} is not an IDX file: expected the magic bytes 00 00 <type> <ndim>, got "
            f"{data[:4].hex(' ') or 'an empty file'}"
        )
    type_code, ndim = data[2], data[3]
    if type_code not in IDX_TYPES:
        raise IdxFormatError(
            f"{path} has IDX type byte 0x{type_code:02X}, expected one of "
            f"{', '.join(f'0x{code:02X}' for code in IDX_TYPES)}"
        )
    header_bytes = 4 + 4 * ndim
    if len(data) < header_bytes:
        raise IdxFormatError(
            f"{path} is truncated: its header needs {header_bytes} bytes, the file has {len(data)}"
        )
    shape = tuple(int(size) for size in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = IDX_TYPES[type_code]
    expected_bytes = header_bytes + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected_bytes:
        raise IdxFormatError(
            f"{path} holds {len(data)} bytes, expected {expected_bytes} for shape {shape} of "
            f"{dtype.name}: the file is truncated or corrupt"
        )
    values = np.frombuffer(data, dtype, offset=header_bytes).reshape(shape)
    return values.astype(dtype.newbyteorder("="))
