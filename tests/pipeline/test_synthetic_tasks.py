"""The tasks of the synthetic long-memory presets on small tensors: SequenceRegressor (adding
problem) and SequenceTagger (copy memory): shapes, and split metrics that equal the definitions
computed over the whole split at once, across batches of unequal size."""

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from lstm_triton.tasks import SequenceRegressor, SequenceTagger

LSTM = {"hidden_size": 6, "num_layers": 2, "backend": "native"}


def validate(model: L.LightningModule, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """The val/ metrics of one validation run over (x, y) in batches of 2 (the last one of 1)."""
    trainer = L.Trainer(
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
    )
    (metrics,) = trainer.validate(model, DataLoader(TensorDataset(x, y), batch_size=2))
    return metrics


@pytest.mark.parametrize("bidirectional", [False, True], ids=["unidir", "bidir"])
def test_shapes(bidirectional):
    lstm = {**LSTM, "bidirectional": bidirectional}
    regressor = SequenceRegressor(input_size=2, output_size=1, lstm=lstm, seq_len=9)
    assert regressor(torch.randn(5, 9, 2)).shape == (5, 1)
    tagger = SequenceTagger(input_size=1, num_classes=10, lstm=lstm, seq_len=9, tail_steps=3)
    assert tagger(torch.randn(5, 9, 1)).shape == (5, 9, 10)


def test_regressor_split_mse_is_the_mean_over_every_sequence():
    torch.manual_seed(0)
    model = SequenceRegressor(input_size=2, output_size=1, lstm=LSTM).eval()
    x, y = torch.randn(5, 7, 2), torch.rand(5, 1) * 2
    metrics = validate(model, x, y)
    with torch.no_grad():
        expected = F.mse_loss(model(x), y).item()
    assert metrics["val/mse"] == pytest.approx(expected, rel=1e-5)
    assert metrics["val/loss"] == pytest.approx(expected, rel=1e-5)


def test_tagger_loss_averages_every_step_and_tail_accuracy_reads_the_last_steps():
    torch.manual_seed(0)
    model = SequenceTagger(input_size=1, num_classes=4, lstm=LSTM, tail_steps=3).eval()
    x, y = torch.randn(5, 8, 1), torch.randint(0, 4, (5, 8))
    with torch.no_grad():
        logits = model(x)
    # Make the tail right where the rest is not: the accuracies then tell the steps apart.
    predicted = logits.argmax(dim=-1)
    y[:, -3:] = predicted[:, -3:]
    y[:, :-3] = (predicted[:, :-3] + 1) % 4
    metrics = validate(model, x, y)
    expected_loss = F.cross_entropy(logits.reshape(-1, 4), y.reshape(-1)).item()
    assert metrics["val/loss"] == pytest.approx(expected_loss, rel=1e-5)
    assert metrics["val/tail_acc"] == 1.0
    assert metrics["val/acc"] == pytest.approx(3 / 8)


def test_tagger_without_tail_steps_logs_no_tail_accuracy():
    model = SequenceTagger(input_size=1, num_classes=3, lstm=LSTM)
    metrics = validate(model, torch.randn(3, 4, 1), torch.randint(0, 3, (3, 4)))
    assert set(metrics) == {"val/loss", "val/acc"}


@pytest.mark.parametrize(
    ("tail_steps", "error", "message"),
    [(0, ValueError, "got 0"), (2.0, TypeError, "got float 2.0")],
    ids=["zero", "float"],
)
def test_tagger_tail_steps_is_checked(tail_steps, error, message):
    with pytest.raises(error, match=f"tail_steps must be an int >= 1, {message}"):
        SequenceTagger(input_size=1, num_classes=3, lstm=LSTM, tail_steps=tail_steps)
