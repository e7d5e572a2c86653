"""Sequential (and permuted) MNIST / Fashion-MNIST: each image read as a sequence of pixels or rows.

Batches are (x, y): x (B, T, F) float32 in [0, 1], y (B,) int64 class ids, with T, F =
784, 1 for steps="pixel" and 28, 28 for steps="row". permuted=True shuffles the 784 pixel
positions by one fixed permutation drawn from permutation_seed, the same for every image and
every run, before the image is cut into steps (Le et al. 2015, pMNIST).
"""

import os

import numpy as np
import torch
from torch.utils.data import Dataset

from lstm_triton.data.mnist import image_set, load_image_set, locate_image_set
from lstm_triton.data.split_datamodule import SplitDataModule
from lstm_triton.data.validation import check_choice, check_positive_int

STEPS = ("pixel", "row")


class SequenceImages(Dataset):
    """Images (N, H, W) uint8 served as sequences x (T, F) float32 in [0, 1], with labels (N,)."""

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        steps: str,
        permutation: np.ndarray | None = None,
    ) -> None:
        check_choice(steps, STEPS, "steps")
        num_images, height, width = images.shape
        pixels = torch.from_numpy(images.reshape(num_images, height * width))
        if permutation is not None:
            pixels = pixels[:, torch.from_numpy(permutation)]
        self.pixels = pixels
        self.labels = torch.from_numpy(labels)
        self.step_shape = (height * width, 1) if steps == "pixel" else (height, width)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.pixels[index].to(torch.float32).div_(255.0).view(self.step_shape)
        return x, self.labels[index]


class SequentialImageDataModule(SplitDataModule):
    """MNIST or Fashion-MNIST as sequences for classification.

    The validation set is `val_size` images drawn from the training set by `split_seed`; the
    test set is the official one. See the module docstring for the batch layout.
    """

    def __init__(
        self,
        dataset: str = "mnist",
        data_dir: str | os.PathLike | None = None,
        steps: str = "pixel",
        permuted: bool = False,
        permutation_seed: int = 0,
        val_size: int = 5000,
        split_seed: int = 0,
        batch_size: int = 128,
        num_workers: int = 0,
        download: bool = True,
    ) -> None:
        super().__init__()
        self.images = image_set(dataset)
        check_choice(steps, STEPS, "steps")
        check_positive_int(batch_size, "batch_size")
        check_positive_int(val_size, "val_size")
        self.save_hyperparameters()
        self.datasets: dict[str, SequenceImages] = {}

    @property
    def classes(self) -> tuple[str, ...]:
        return self.images.classes

    @property
    def num_classes(self) -> int:
        return len(self.images.classes)

    def model_dims(self) -> dict[str, int]:
        """input_size F (pixels per step), seq_len T, num_classes."""
        height, width = self.images.image_shape
        seq_len, input_size = (
            (height * width, 1) if self.hparams.steps == "pixel" else (height, width)
        )
        return {"input_size": input_size, "seq_len": seq_len, "num_classes": self.num_classes}

    def prepare_data(self) -> None:
        locate_image_set(self.images.name, self.hparams.data_dir, download=self.hparams.download)

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        train_images, train_labels, test_images, test_labels = load_image_set(
            self.images.name, self.hparams.data_dir, download=self.hparams.download
        )
        val_size = self.hparams.val_size
        if val_size >= len(train_labels):
            raise ValueError(
                f"val_size must be smaller than the {len(train_labels)} training images, "
                f"got {val_size}"
            )
        order = np.random.default_rng(self.hparams.split_seed).permutation(len(train_labels))
        val_index, train_index = order[:val_size], order[val_size:]
        permutation = None
        if self.hparams.permuted:
            num_pixels = train_images.shape[1] * train_images.shape[2]
            permutation = np.random.default_rng(self.hparams.permutation_seed).permutation(
                num_pixels
            )
        steps = self.hparams.steps
        self.datasets = {
            "train": SequenceImages(
                train_images[train_index], train_labels[train_index], steps, permutation
            ),
            "val": SequenceImages(
                train_images[val_index], train_labels[val_index], steps, permutation
            ),
            "test": SequenceImages(test_images, test_labels, steps, permutation),
        }
