"""Published files fetched into a local cache, checked against their published checksums.

The cache holds a file under its final name only after its checksum matched: a download streams
into a hidden partial file next to it, which is renamed into place (atomic on one file system)
or removed. So whatever sits in the cache under a published name has passed its check once,
and an interrupted or corrupt download leaves nothing behind.
"""

import hashlib
import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

DATA_DIR_VARIABLE = "LSTM_TRITON_DATA"
"""Environment variable naming the default cache folder (else ~/.cache/lstm-triton)."""

CHECKSUM_ALGORITHMS = ("md5", "sha256", "git-sha1")
"""git-sha1 is a file's git blob id: sha1 over b"blob <size>\\0" + content. Repositories whose
releases publish no checksum still publish that id for every file in their tree."""

DOWNLOAD_TIMEOUT_S = 60.0
_CHUNK_BYTES = 1 << 20
log = logging.getLogger(__name__)


class ChecksumError(OSError):
    """A downloaded file's checksum differs from the published one; the file was removed."""


class DataNotFoundError(FileNotFoundError):
    """A data file is neither on disk nor could it be downloaded."""


@dataclass(frozen=True)
class RemoteFile:
    """A file cached as `filename`, published at each of `urls` (mirrors, tried in order), with
    checksum "<algorithm>:<hex digest>"."""

    filename: str
    urls: tuple[str, ...]
    checksum: str

    def __post_init__(self) -> None:
        if not self.urls:
            raise ValueError(f"{self.filename} needs at least one URL, got none")
        algorithm, _, digest = self.checksum.partition(":")
        if algorithm not in CHECKSUM_ALGORITHMS or not digest:
            raise ValueError(
                f"checksum of {self.filename} must be '<algorithm>:<hex digest>' with algorithm "
                f"one of {CHECKSUM_ALGORITHMS}, got {self.checksum!r}"
            )


def default_data_dir() -> Path:
    """The cache folder: $LSTM_TRITON_DATA if set, else ~/.cache/lstm-triton."""
    configured = os.environ.get(DATA_DIR_VARIABLE)
    return Path(configured) if configured else Path.home() / ".cache" / "lstm-triton"


def fetch(remote: RemoteFile, folder: str | os.PathLike, *, download: bool = True) -> Path:
    """The path of `remote` in `folder`, downloaded and checked first if it is not there yet.

    Raises DataNotFoundError (offline, or download=False) with the path looked for, the URL and
    how to supply the file; ChecksumError when the downloaded bytes do not match.
    """
    target = Path(folder) / remote.filename
    if target.is_file():
        return target
    if not download:
        raise DataNotFoundError(missing_file_message(target, remote.urls[0], "download=False"))
    target.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in remote.urls:
        try:
            _download_checked(url, remote.checksum, target)
            return target
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            failures.append(f"{url}: {error}")
    raise DataNotFoundError(
        missing_file_message(target, remote.urls[0], f"the download failed ({'; '.join(failures)})")
    )


def missing_file_message(target: Path, url: str, reason: str) -> str:
    """The one message for a missing data file: what was looked for, where from, how to fix."""
    return (
        f"data file {target} not found, and {reason}. To supply it, download {url} on a "
        f"machine that is online and copy it to {target} (or point data_dir at a folder that "
        f"holds it, or set ${DATA_DIR_VARIABLE})"
    )


def _download_checked(url: str, checksum: str, target: Path) -> None:
    algorithm, _, expected = checksum.partition(":")
    log.info("downloading %s to %s", url, target)
    with tempfile.NamedTemporaryFile(
        dir=target.parent, prefix=f".{target.name}.", suffix=".partial", delete=False
    ) as reserved:
        partial = Path(reserved.name)
    try:
        with (
            partial.open("wb") as file,
            urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response,
        ):
            shutil.copyfileobj(response, file, _CHUNK_BYTES)
        received = file_checksum(partial, algorithm)
        if received != expected.lower():
            raise ChecksumError(
                f"{url} has {algorithm} {received}, expected {expected}: the download is "
                f"corrupt or the file changed upstream; it was removed, nothing was cached"
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def file_checksum(path: Path, algorithm: str) -> str:
    """Hex digest of a file's bytes under one of CHECKSUM_ALGORITHMS."""
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise ValueError(f"algorithm must be one of {CHECKSUM_ALGORITHMS}, got {algorithm!r}")
    if algorithm == "git-sha1":
        digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    else:
        digest = hashlib.new(algorithm)
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()
