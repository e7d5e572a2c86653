"""fetch: a file is cached only after its checksum matched; offline, one clear message."""

import hashlib
import io
import urllib.request

import pytest

from lstm_triton.data.corpora import PennTreebankCorpus, TinyShakespeareCorpus, WikiText2Corpus
from lstm_triton.data.download import (
    ChecksumError,
    DataNotFoundError,
    RemoteFile,
    default_data_dir,
    fetch,
    file_checksum,
)
from lstm_triton.data.ett import ETT_FILES
from lstm_triton.data.mnist import IMAGE_SETS

URL = "https://example.org/data/corpus.txt"
MIRROR = "https://mirror.example.org/corpus.txt"
CONTENT = b"to be, or not to be\n"


def remote(content: bytes = CONTENT, urls: tuple[str, ...] = (URL,)) -> RemoteFile:
    return RemoteFile("corpus.txt", urls, f"md5:{hashlib.md5(content).hexdigest()}")


def test_good_checksum_caches_the_file(serve, tmp_path):
    serve({URL: CONTENT})
    path = fetch(remote(), tmp_path / "cache")
    assert path == tmp_path / "cache" / "corpus.txt"
    assert path.read_bytes() == CONTENT
    assert sorted(p.name for p in path.parent.iterdir()) == ["corpus.txt"]


def test_cached_file_is_used_without_network(serve, tmp_path):
    requested = serve({URL: CONTENT})
    fetch(remote(), tmp_path)
    fetch(remote(), tmp_path)
    assert requested == [URL]


def test_bad_checksum_raises_and_leaves_nothing(serve, tmp_path):
    serve({URL: b"to be, or not to be?\n"})
    with pytest.raises(ChecksumError, match=f"{URL} has md5 .*, expected .*removed"):
        fetch(remote(), tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_interrupted_download_leaves_nothing(monkeypatch, tmp_path):
    class Broken(io.BytesIO):
        def read(self, size=-1):
            raise ConnectionResetError("connection reset by peer")

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, **_: Broken(CONTENT))
    with pytest.raises(DataNotFoundError, match="connection reset"):
        fetch(remote(), tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_offline_message_names_file_url_and_remedy(offline, tmp_path):
    with pytest.raises(DataNotFoundError) as error:
        fetch(remote(), tmp_path / "cache")
    message = str(error.value)
    assert str(tmp_path / "cache" / "corpus.txt") in message
    assert URL in message
    assert "download failed" in message and "copy it to" in message
    assert offline == [URL]


def test_download_false_never_opens_a_url(offline, tmp_path):
    with pytest.raises(DataNotFoundError, match=r"download=False.*example\.org"):
        fetch(remote(), tmp_path, download=False)
    assert offline == []


def test_next_mirror_is_tried_when_one_is_unreachable(serve, tmp_path):
    requested = serve({MIRROR: CONTENT})
    path = fetch(remote(urls=(URL, MIRROR)), tmp_path)
    assert path.read_bytes() == CONTENT
    assert requested == [URL, MIRROR]


def test_default_data_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LSTM_TRITON_DATA", str(tmp_path))
    assert default_data_dir() == tmp_path


def test_git_sha1_is_the_git_blob_id(tmp_path):
    path = tmp_path / "hello.txt"
    path.write_bytes(b"hello\n")
    # `git hash-object` of "hello\n".
    assert file_checksum(path, "git-sha1") == "ce013625030ba8dba906f756967f9e9ca394464a"


@pytest.mark.parametrize(
    "checksum", ["md5", "md5:", "crc32:1234abcd", "f68b3c2dcbeaaa9fbdd348bbdeb94873"]
)
def test_malformed_checksum_is_rejected(checksum):
    with pytest.raises(ValueError, match="'<algorithm>:<hex digest>'"):
        RemoteFile("x", (URL,), checksum)


def published_files() -> list:
    files = [image_set.remote(name) for image_set in IMAGE_SETS.values() for name in image_set.md5]
    for corpus in (TinyShakespeareCorpus, PennTreebankCorpus, WikiText2Corpus):
        files += corpus.REMOTES.values()
    return files + list(ETT_FILES.values())


@pytest.mark.parametrize("published", published_files(), ids=lambda remote: remote.urls[0])
def test_published_checksums_are_well_formed(published):
    algorithm, _, digest = published.checksum.partition(":")
    lengths = {"md5": 32, "sha256": 64, "git-sha1": 40}
    assert len(digest) == lengths[algorithm]
    assert int(digest, 16) >= 0
    assert all(url.startswith(("https://", "http://")) for url in published.urls)
