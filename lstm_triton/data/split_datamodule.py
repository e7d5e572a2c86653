"""The part shared by the data modules of independent samples (images, forecast windows)."""

import lightning as L
from torch.utils.data import DataLoader, Dataset
from torchdata.stateful_dataloader import StatefulDataLoader


class SplitDataModule(L.LightningDataModule):
    """Serves self.datasets ("train", "val", "test"), filled by a subclass's setup(), in batches
    of hparams.batch_size with hparams.num_workers workers; only training batches are shuffled.
    StatefulDataLoader: Lightning checkpoints its position and shuffling order, so that a run
    resumed mid-epoch gets the batches the interrupted run had not."""

    datasets: dict[str, Dataset]

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        self.setup()
        return StatefulDataLoader(
            self.datasets[split],
            batch_size=self.hparams.batch_size,
            shuffle=shuffle,
            num_workers=self.hparams.num_workers,
            persistent_workers=self.hparams.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)
