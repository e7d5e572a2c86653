"""Fixtures of the pipeline tests: W&B offline into a temporary folder, no network, small data
sets in the real formats, the real configs composed and shrunk, and the real entry point.

Every test runs with urllib's urlopen failing like an offline machine and the data cache
pointed at a folder of generated files (MNIST and Fashion-MNIST as gzipped IDX, Tiny
Shakespeare and PTB as text, WikiText-2 as its zip, ETTh1 as an ETT-style CSV).
"""

import gzip
import io
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = ROOT / "conf"
EXPERIMENTS = sorted(path.stem for path in (CONFIG_DIR / "experiment").glob("*.yaml"))
ETT_COLUMNS = ("date", "HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT")

# What shrinks each experiment to seconds on a CPU: tiny networks, batches and corpora.
LANGUAGE_MODEL = [
    "data.batch_size=2",
    "data.bptt=8",
    "model.embedding_dim=8",
    "callbacks.text_samples.num_tokens=5",
]
CLASSIFICATION = ["data.batch_size=2", "data.val_size=4"]
FORECASTING = ["data.batch_size=4"]
SYNTHETIC = ["data.train_size=8", "data.val_size=4", "data.test_size=4", "data.batch_size=2"]
SHRINK = {
    "char_stdlib": [*LANGUAGE_MODEL, "data.corpus.max_chars=20000"],
    "char_shakespeare": LANGUAGE_MODEL,
    "char_text": [*LANGUAGE_MODEL, "data.corpus.path={data}/text.txt"],
    "word_ptb": LANGUAGE_MODEL,
    "word_wikitext2": LANGUAGE_MODEL,
    "smnist_pixel": CLASSIFICATION,
    "smnist_row": CLASSIFICATION,
    "psmnist": CLASSIFICATION,
    "fashion_mnist": CLASSIFICATION,
    "etth1": FORECASTING,
    "etth1_168": FORECASTING,
    "etth1_multivariate": FORECASTING,
    "forecast_csv": [*FORECASTING, "data.path={data}/series.csv", "data.target=OT"],
    "adding_problem": [*SYNTHETIC, "data.seq_len=6"],
    "copy_memory": [*SYNTHETIC, "data.delay=5", "data.copy_length=3"],
}


def pytest_generate_tests(metafunc):
    """A test taking `experiment` runs once per preset in conf/experiment/."""
    if "experiment" in metafunc.fixturenames:
        metafunc.parametrize("experiment", EXPERIMENTS)


def idx_gz(array: np.ndarray) -> bytes:
    """A uint8 array as a gzipped IDX file: 00 00 08 <ndim>, big-endian uint32 sizes, data."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def write_image_set(folder: Path, num_train: int = 24, num_test: int = 8) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, count in (("train", num_train), ("t10k", num_test)):
        images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
        labels = np.arange(count, dtype=np.uint8) % 10
        (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(idx_gz(images))
        (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(idx_gz(labels))


def ett_csv(num_rows: int = 1200) -> str:
    """ETT's header and layout, a row every 12 hours: 12/4/4 months of 30 days are 720/240/240
    rows, so that the longest preset horizon (168) fits in a split."""
    start = np.datetime64("2016-07-01T00:00:00")
    lines = [",".join(ETT_COLUMNS)]
    for row in range(num_rows):
        date = str(start + row * np.timedelta64(12, "h")).replace("T", " ")
        values = [10 * (column + 1) + np.sin(row / 7 + column) for column in range(7)]
        lines.append(",".join([date, *(f"{value:.4f}" for value in values)]))
    return "\n".join(lines) + "\n"


def text(num_lines: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    words = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far"]
    return "".join(" ".join(rng.choice(words, size=8)) + "\n" for _ in range(num_lines))


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    """A data cache holding every downloaded data set as small files in its real format."""
    root = tmp_path_factory.mktemp("data")
    write_image_set(root / "mnist")
    write_image_set(root / "fashion_mnist")
    (root / "tiny_shakespeare").mkdir()
    (root / "tiny_shakespeare" / "input.txt").write_text(text(200, 0))
    (root / "ptb").mkdir()
    for split, seed in (("train", 1), ("valid", 2), ("test", 3)):
        (root / "ptb" / f"ptb.{split}.txt").write_text(text(60, seed))
    (root / "wikitext2").mkdir()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for split, seed in (("train", 4), ("valid", 5), ("test", 6)):
            zipped.writestr(f"wikitext-2/wiki.{split}.tokens", text(60, seed))
    (root / "wikitext2" / "wikitext-2-v1.zip").write_bytes(archive.getvalue())
    (root / "ett").mkdir()
    (root / "ett" / "ETTh1.csv").write_text(ett_csv())
    (root / "series.csv").write_text(ett_csv())
    (root / "text.txt").write_text(text(200, 7))
    return root


@pytest.fixture(autouse=True)
def offline(monkeypatch, wandb_offline):
    """No network (urlopen fails as offline; the URLs tried are returned) and W&B offline."""
    attempts = []

    def unreachable(url, *args, **kwargs):
        attempts.append(url)
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", unreachable)
    return attempts


@pytest.fixture
def compose_train(tmp_path, data_dir):
    """compose_train(*overrides, debug="smoke"): conf/train.yaml composed with the overrides,
    run output in tmp_path/run, data from the generated cache, on CPU with a tiny native LSTM
    (an experiment's own shrinking from SHRINK is applied when "experiment=<name>" is given)."""

    def compose_with(*overrides: str, debug: str | None = "smoke", output: str = "run"):
        experiment = next(
            (item.split("=", 1)[1] for item in overrides if item.startswith("experiment=")),
            "char_stdlib",
        )
        if experiment not in SHRINK:
            raise KeyError(
                f"conf/experiment/{experiment}.yaml has no entry in SHRINK "
                f"(tests/pipeline/conftest.py): add what shrinks it to seconds on a CPU"
            )
        shrink = [item.format(data=data_dir) for item in SHRINK[experiment]]
        base = [
            f"paths.output_dir={tmp_path / output}",
            f"paths.log_dir={tmp_path / 'logs'}",
            f"paths.data_dir={data_dir}",
            "model.lstm.hidden_size=8",
            "model.lstm.backend=native",
            *([f"debug={debug}"] if debug else []),
            *shrink,
        ]
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            return compose("train", overrides=[*base, *overrides])

    yield compose_with
    GlobalHydra.instance().clear()


@pytest.fixture(scope="session")
def train_module(experiment_script):
    return experiment_script("train")


@pytest.fixture
def run_train(train_module):
    """run_train(cfg): the entry point's train(cfg) with the W&B run finished afterwards, as
    its main() does; returns (optimized metric, metrics)."""
    from lstm_triton.tracking import finish_wandb_on_exit

    def run(cfg):
        with finish_wandb_on_exit():
            return train_module.train(cfg)

    return run
