"""The training monitors, and the guard that stops a run at a NaN loss with its last good
checkpoint kept."""

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from torch.utils.data import DataLoader, TensorDataset

from lstm_triton.callbacks import (
    FiniteLossGuard,
    GradNormLogger,
    NonFiniteLossError,
    ThroughputLogger,
    gradient_norm,
)


class Toy(L.LightningModule):
    """A linear model over (B, T, 3) batches whose loss or gradient turns bad at `bad_step`."""

    def __init__(self, bad_step: int | None = None, bad: str = "loss") -> None:
        super().__init__()
        self.linear = torch.nn.Linear(3, 1)
        self.bad_step, self.bad = bad_step, bad

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.linear(x).squeeze(-1), y)
        if self.global_step == self.bad_step:
            if self.bad == "loss":
                return loss * float("nan")
            # A finite loss whose gradient is infinite: d/dw sqrt(w - w) at 0.
            weight = self.linear.weight
            return loss + torch.sqrt(weight - weight.detach()).sum()
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def loader(batches: int = 6) -> DataLoader:
    data = TensorDataset(torch.randn(4 * batches, 5, 3), torch.randn(4 * batches, 5))
    return DataLoader(data, batch_size=4)


def trainer(tmp_path, *callbacks, **options) -> L.Trainer:
    return L.Trainer(
        callbacks=list(callbacks),
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        default_root_dir=tmp_path,
        **options,
    )


@pytest.mark.parametrize(("bad", "seen"), [("loss", "train/loss is nan"), ("grad", "norm is inf")])
def test_non_finite_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, bad, seen):
    checkpoints = ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=1, save_last=True)
    model = Toy(bad_step=3, bad=bad)
    run = trainer(tmp_path, FiniteLossGuard(), checkpoints, max_epochs=1)
    last = tmp_path / "ckpt" / "last.ckpt"
    stop = rf"Training stopped at step 3: .*{seen} in epoch 0, before the update; checkpoints: "
    with pytest.raises(NonFiniteLossError, match=stop) as error:
        run.fit(model, loader())
    assert str(error.value).endswith(f", last {last}")
    saved = torch.load(last, weights_only=True)
    assert saved["global_step"] == 3
    weights = saved["state_dict"]["linear.weight"]
    assert torch.isfinite(weights).all()
    torch.testing.assert_close(weights, model.linear.weight.detach())


def test_monitors_log_grad_norm_and_throughput(tmp_path):
    run = trainer(tmp_path, GradNormLogger(), ThroughputLogger(window=3), max_steps=4)
    run.fit(Toy(), loader())
    metrics = run.callback_metrics
    assert metrics["train/grad_norm"] > 0
    assert metrics["train/samples_per_sec"] > 0
    # Batches are (4, 5, 3): 5 time steps per sample.
    samples, tokens = metrics["train/samples_per_sec"], metrics["train/tokens_per_sec"]
    torch.testing.assert_close(tokens, 5 * samples)


def test_gradient_norm_is_the_norm_of_all_gradients_as_one_vector():
    model = torch.nn.Linear(3, 2)
    assert gradient_norm(model) == 0
    model(torch.randn(4, 3)).sum().backward()
    flat = torch.cat([p.grad.flatten() for p in model.parameters()])
    torch.testing.assert_close(gradient_norm(model), flat.norm())
    with pytest.raises(ValueError, match="window must be >= 1"):
        ThroughputLogger(window=0)
