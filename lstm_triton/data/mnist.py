"""MNIST and Fashion-MNIST: where their four IDX files are found, downloaded and read from.

A set's files are looked for, in this order, in data_dir/<name>/, in data_dir itself (a folder
that holds the four files), in the system folders a distribution installs them to (Debian's
dataset-fashion-mnist), and are downloaded into data_dir/<name>/ last. Files found on disk are
trusted as they are (Debian recompresses them, so their .gz checksums differ from the published
ones); read_idx checks their headers and sizes, and load_image_set that images and labels agree.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstm_triton.data.download import RemoteFile, default_data_dir, fetch
from lstm_triton.data.idx import read_idx

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"
IDX_FILENAMES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)


@dataclass(frozen=True)
class IdxImageSet:
    """A data set published as the four standard IDX .gz files of images (H, W) = image_shape."""

    name: str
    classes: tuple[str, ...]
    mirrors: tuple[str, ...]
    md5: dict[str, str]
    system_dirs: tuple[str, ...] = ()
    image_shape: tuple[int, int] = (28, 28)

    def remote(self, filename: str) -> RemoteFile:
        return RemoteFile(
            filename,
            tuple(mirror + filename for mirror in self.mirrors),
            f"md5:{self.md5[filename]}",
        )


# The MD5s are the published ones: torchvision.datasets.MNIST/FashionMNIST.resources, and the
# table in Fashion-MNIST's README.
IMAGE_SETS = {
    "mnist": IdxImageSet(
        name="mnist",
        classes=tuple(str(digit) for digit in range(10)),
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        md5={
            TRAIN_IMAGES: "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            TRAIN_LABELS: "d53e105ee54ea40749a09fcbcd1e9432",
            TEST_IMAGES: "9fb629c4189551a2d022fa330f9573f3",
            TEST_LABELS: "ec29112dd5afa0611ce80d1b7f02629c",
        },
    ),
    "fashion_mnist": IdxImageSet(
        name="fashion_mnist",
        classes=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        md5={
            TRAIN_IMAGES: "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            TRAIN_LABELS: "25c81989df183df01b3e8a0aad5dffbe",
            TEST_IMAGES: "bef4ecab320f06d8554ea6380940ec79",
            TEST_LABELS: "bb300cfdad3c16e7a12a480ee83cd310",
        },
        system_dirs=("/usr/share/datasets/fashion-mnist",),
    ),
}


def image_set(name: str) -> IdxImageSet:
    if name not in IMAGE_SETS:
        raise ValueError(f"dataset must be one of {sorted(IMAGE_SETS)}, got {name!r}")
    return IMAGE_SETS[name]


def locate_image_set(
    name: str, data_dir: str | os.PathLike | None = None, *, download: bool = True
) -> dict[str, Path]:
    """The four IDX files of set `name`, by filename: found on disk, or downloaded."""
    images = image_set(name)
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    cache = root / name
    for folder in (cache, root, *map(Path, images.system_dirs)):
        if all((folder / filename).is_file() for filename in IDX_FILENAMES):
            return {filename: folder / filename for filename in IDX_FILENAMES}
    return {
        filename: fetch(images.remote(filename), cache, download=download)
        for filename in IDX_FILENAMES
    }


def load_image_set(
    name: str, data_dir: str | os.PathLike | None = None, *, download: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Train images (N, H, W) uint8, train labels (N,) int64, test images, test labels."""
    images_set = image_set(name)
    paths = locate_image_set(name, data_dir, download=download)
    arrays = []
    for images_file, labels_file in ((TRAIN_IMAGES, TRAIN_LABELS), (TEST_IMAGES, TEST_LABELS)):
        images, labels = read_idx(paths[images_file]), read_idx(paths[labels_file])
        expected = f"uint8 images (N, {', '.join(map(str, images_set.image_shape))})"
        if images.dtype != np.uint8 or images.shape[1:] != images_set.image_shape:
            raise ValueError(
                f"{paths[images_file]} must hold {expected}, got {images.dtype} {images.shape}"
            )
        if labels.shape != images.shape[:1]:
            raise ValueError(
                f"{paths[labels_file]} must hold one label per image, shape ({len(images)},), "
                f"got {labels.shape}"
            )
        if labels.size and not 0 <= labels.min() <= labels.max() < len(images_set.classes):
            raise ValueError(
                f"{paths[labels_file]} must hold class ids in [0, {len(images_set.classes)}), "
                f"got values from {labels.min()} to {labels.max()}"
            )
        arrays += [images, labels.astype(np.int64)]
    return tuple(arrays)
