"""Sequential / permuted MNIST and Fashion-MNIST from tiny IDX files, and the real Fashion-MNIST
where Debian's dataset-fashion-mnist is installed."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from lstm_triton.data import mnist
from lstm_triton.data.download import ChecksumError, DataNotFoundError
from lstm_triton.data.mnist import IDX_FILENAMES, IMAGE_SETS, load_image_set, locate_image_set
from lstm_triton.data.sequential_image import SequentialImageDataModule

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def test_files_are_found_in_the_cache_folder(tiny_mnist, tmp_path):
    tiny_mnist(tmp_path / "mnist")
    paths = locate_image_set("mnist", tmp_path)
    assert set(paths) == set(IDX_FILENAMES)
    assert all(path.parent == tmp_path / "mnist" for path in paths.values())


def test_files_are_found_directly_in_data_dir(tiny_mnist, tmp_path):
    written = tiny_mnist(tmp_path)
    loaded = load_image_set("fashion_mnist", tmp_path)
    for result, expected in zip(loaded, written, strict=True):
        np.testing.assert_array_equal(result, expected)
    assert loaded[1].dtype == np.int64


def test_files_are_found_in_a_system_folder(tiny_mnist, tmp_path, monkeypatch):
    tiny_mnist(tmp_path / "usr-share")
    relocated = dataclasses.replace(
        IMAGE_SETS["fashion_mnist"], system_dirs=(str(tmp_path / "usr-share"),)
    )
    monkeypatch.setitem(mnist.IMAGE_SETS, "fashion_mnist", relocated)
    paths = locate_image_set("fashion_mnist", tmp_path / "empty-cache", download=False)
    assert all(path.parent == tmp_path / "usr-share" for path in paths.values())


def test_offline_message_names_the_file_and_the_mirror(offline, tmp_path):
    with pytest.raises(DataNotFoundError) as error:
        locate_image_set("mnist", tmp_path)
    message = str(error.value)
    assert str(tmp_path / "mnist" / "train-images-idx3-ubyte.gz") in message
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz" in message
    assert offline == [
        "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz",
        "http://yann.lecun.com/exdb/mnist/train-images-idx3-ubyte.gz",
    ]


def test_download_with_the_wrong_bytes_fails_its_md5(serve, tmp_path):
    url = "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz"
    serve({url: b"\x1f\x8b not the published file"})
    with pytest.raises(ChecksumError, match="expected f68b3c2dcbeaaa9fbdd348bbdeb94873"):
        locate_image_set("mnist", tmp_path)
    assert list((tmp_path / "mnist").iterdir()) == []


def test_labels_out_of_range_are_rejected(tiny_mnist, write_idx, tmp_path):
    tiny_mnist(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.full(12, 10, np.uint8))
    with pytest.raises(ValueError, match=r"class ids in \[0, 10\), got values from 10 to 10"):
        load_image_set("mnist", tmp_path)


def test_images_of_the_wrong_size_are_rejected(tiny_mnist, write_idx, tmp_path):
    tiny_mnist(tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((40, 32, 32), np.uint8))
    with pytest.raises(ValueError, match=r"uint8 images \(N, 28, 28\), got uint8 \(40, 32, 32\)"):
        load_image_set("mnist", tmp_path)


def test_one_label_per_image(tiny_mnist, write_idx, tmp_path):
    tiny_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(39, np.uint8))
    with pytest.raises(ValueError, match=r"one label per image, shape \(40,\), got \(39,\)"):
        load_image_set("mnist", tmp_path)


def datamodule(tmp_path, **options) -> SequentialImageDataModule:
    dm = SequentialImageDataModule(
        data_dir=tmp_path, **{"val_size": 10, "batch_size": 4, **options}
    )
    dm.prepare_data()
    dm.setup("fit")
    return dm


@pytest.mark.parametrize(
    ("steps", "shape"), [pytest.param("pixel", (784, 1), id="T784-F1"), ("row", (28, 28))]
)
def test_batches(tiny_mnist, tmp_path, steps, shape):
    tiny_mnist(tmp_path / "mnist")
    dm = datamodule(tmp_path, steps=steps)
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (4, *shape) and x.dtype == torch.float32
    assert y.shape == (4,) and y.dtype == torch.int64
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert dm.model_dims() == {"input_size": shape[1], "seq_len": shape[0], "num_classes": 10}
    sizes = {split: len(dm.datasets[split]) for split in ("train", "val", "test")}
    assert sizes == {"train": 30, "val": 10, "test": 12}


def test_sequence_is_the_image_in_reading_order(tiny_mnist, tmp_path):
    *_, test_images, test_labels = tiny_mnist(tmp_path)
    dm = datamodule(tmp_path)
    x, y = dm.datasets["test"][3]
    np.testing.assert_allclose(x.numpy().reshape(28, 28), test_images[3] / 255.0, rtol=1e-6)
    assert y == test_labels[3]


def test_split_is_seeded_and_disjoint(tiny_mnist, tmp_path):
    tiny_mnist(tmp_path)

    def first_pixels(dm, split):
        return {round(float(x[0, 0]) * 255) for x, _ in dm.datasets[split]}

    one, again, other = (
        datamodule(tmp_path),
        datamodule(tmp_path),
        datamodule(tmp_path, split_seed=1),
    )
    assert first_pixels(one, "val") == first_pixels(again, "val")
    assert first_pixels(one, "val") != first_pixels(other, "val")
    assert first_pixels(one, "val") | first_pixels(one, "train") == set(range(40))
    assert not first_pixels(one, "val") & first_pixels(one, "train")


def test_permutation_is_fixed_by_its_seed(tiny_mnist, tmp_path):
    tiny_mnist(tmp_path)
    plain = datamodule(tmp_path).datasets["test"][0][0].flatten()
    permuted = datamodule(tmp_path, permuted=True).datasets["test"][0][0].flatten()
    again = datamodule(tmp_path, permuted=True).datasets["test"][0][0].flatten()
    other = datamodule(tmp_path, permuted=True, permutation_seed=1).datasets["test"][0][0].flatten()
    permutation = np.random.default_rng(0).permutation(784)
    torch.testing.assert_close(permuted, plain[permutation])
    torch.testing.assert_close(permuted, again)
    assert not torch.equal(permuted, other)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"dataset": "cifar10"}, ValueError, "dataset must be one of .*'mnist'.*got 'cifar10'"),
        ({"steps": "column"}, ValueError, r"steps must be one of \['pixel', 'row'\], got 'column'"),
        ({"batch_size": 0}, ValueError, "batch_size must be an int >= 1, got 0"),
        ({"batch_size": 2.5}, TypeError, "batch_size must be an int >= 1, got float 2.5"),
        ({"val_size": -1}, ValueError, "val_size must be an int >= 1, got -1"),
    ],
)
def test_bad_arguments(options, error, message):
    with pytest.raises(error, match=message):
        SequentialImageDataModule(**options)


def test_val_size_must_leave_training_images(tiny_mnist, tmp_path):
    tiny_mnist(tmp_path)
    dm = SequentialImageDataModule(data_dir=tmp_path, val_size=40)
    with pytest.raises(ValueError, match="smaller than the 40 training images, got 40"):
        dm.setup("fit")


@pytest.mark.skipif(
    not (DEBIAN_FASHION_MNIST / "train-images-idx3-ubyte.gz").is_file(),
    reason="real-data check: Debian's dataset-fashion-mnist is not installed",
)
def test_real_fashion_mnist_from_debian(tmp_path):
    paths = locate_image_set("fashion_mnist", tmp_path, download=False)
    assert all(path.parent == DEBIAN_FASHION_MNIST for path in paths.values())
    train_images, train_labels, test_images, test_labels = load_image_set("fashion_mnist", tmp_path)
    assert train_images.shape == (60000, 28, 28) and test_images.shape == (10000, 28, 28)
    assert np.bincount(train_labels).tolist() == [6000] * 10
    assert np.bincount(test_labels).tolist() == [1000] * 10
    dm = datamodule(tmp_path, dataset="fashion_mnist", steps="row", val_size=5000)
    sizes = {split: len(dataset) for split, dataset in dm.datasets.items()}
    assert sizes == {"train": 55000, "val": 5000, "test": 10000}
    x, _ = next(iter(dm.train_dataloader()))
    assert x.shape == (4, 28, 28) and 0.0 < x.mean() < 1.0
