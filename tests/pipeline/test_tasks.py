"""The tasks on small synthetic tensors: shapes, the carried LM state, sampling, checkpoints."""

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import lstm_triton
from lstm_triton.tasks import Forecaster, LanguageModel, SequenceClassifier
from lstm_triton.tasks.base import build_lstm

LSTM = {"hidden_size": 6, "num_layers": 2, "backend": "native"}


def test_language_model_carries_detached_state_within_an_epoch_and_resets_it():
    torch.manual_seed(0)
    model = LanguageModel(vocab_size=11, lstm=LSTM, embedding_dim=5)
    x = torch.randint(0, 11, (3, 7))
    loss = model._step("train", (x, x))
    h, c = model._states["train"]
    assert h.shape == c.shape == (2, 3, 6)
    assert not h.requires_grad and not c.requires_grad
    loss.backward()

    # The next batch starts from the carried state: the same as running both batches at once.
    second = torch.randint(0, 11, (3, 7))
    model.eval()
    model._states["val"] = None
    model._step("val", (x, x))
    carried, _ = model(second, model._states["val"])
    joint, _ = model(torch.cat([x, second], dim=1))
    torch.testing.assert_close(carried, joint[:, 7:])

    model.on_train_epoch_start()
    model.on_validation_epoch_start()
    assert model._states["train"] is None and model._states["val"] is None


def test_language_model_logits_and_tied_weights():
    model = LanguageModel(vocab_size=13, lstm={"hidden_size": 4}, embedding_dim=4, tie_weights=True)
    logits, (h, _) = model(torch.randint(0, 13, (2, 5)))
    assert logits.shape == (2, 5, 13) and h.shape == (1, 2, 4)
    assert model.decoder.weight is model.embedding.weight
    with pytest.raises(ValueError, match="tie_weights needs embedding_dim equal"):
        LanguageModel(vocab_size=13, lstm={"hidden_size": 4}, embedding_dim=5, tie_weights=True)
    with pytest.raises(ValueError, match="bidirectional must be false for a language model"):
        LanguageModel(vocab_size=13, lstm={"hidden_size": 4, "bidirectional": True})


def test_language_model_generates_reproducibly_and_greedily():
    torch.manual_seed(0)
    model = LanguageModel(vocab_size=9, lstm=LSTM, embedding_dim=3)
    model.train()
    prompt = torch.tensor([1, 2, 3])
    first = model.generate(prompt, 12, 0.8, torch.Generator().manual_seed(5))
    again = model.generate(prompt, 12, 0.8, torch.Generator().manual_seed(5))
    assert first.shape == (12,) and first.dtype == torch.int64
    assert torch.equal(first, again) and model.training
    greedy = model.generate(prompt, 4, temperature=0)
    logits, _ = model.eval()(prompt.unsqueeze(0))
    assert greedy[0] == logits[0, -1].argmax()
    with pytest.raises(ValueError, match="prompt must be 1-D token ids"):
        model.generate(torch.tensor([], dtype=torch.int64), 3)


@pytest.mark.parametrize("bidirectional", [False, True], ids=["unidir", "bidir"])
def test_classifier_and_forecaster_shapes(bidirectional):
    lstm = {**LSTM, "bidirectional": bidirectional}
    classifier = SequenceClassifier(input_size=3, num_classes=4, lstm=lstm, seq_len=9)
    assert classifier(torch.randn(5, 9, 3)).shape == (5, 4)
    forecaster = Forecaster(input_size=7, output_size=2, horizon=6, lstm=lstm, lookback=10)
    assert forecaster(torch.randn(5, 10, 7)).shape == (5, 6, 2)


def test_lstm_options_are_checked():
    with pytest.raises(ValueError, match="lstm must give hidden_size"):
        SequenceClassifier(input_size=3, num_classes=2, lstm={"num_layers": 2})
    with pytest.raises(ValueError, match="lstm must not set batch_first"):
        SequenceClassifier(input_size=3, num_classes=2, lstm={"hidden_size": 2, "batch_first": 0})


def test_optimizer_and_scheduler_come_from_target_mappings():
    model = Forecaster(
        input_size=2,
        output_size=1,
        horizon=3,
        lstm=LSTM,
        optimizer={"_target_": "torch.optim.SGD", "lr": 0.5, "momentum": 0.9},
        scheduler={"_target_": "torch.optim.lr_scheduler.StepLR", "step_size": 2, "gamma": 0.1},
    )
    configured = model.configure_optimizers()
    optimizer = configured["optimizer"]
    assert isinstance(optimizer, torch.optim.SGD) and optimizer.defaults["momentum"] == 0.9
    scheduler = configured["lr_scheduler"]
    assert isinstance(scheduler["scheduler"], torch.optim.lr_scheduler.StepLR)
    assert scheduler["interval"] == "epoch" and scheduler["monitor"] == "val/loss"


def test_checkpoint_rebuilds_the_task_without_data_and_loads_weights_only(tmp_path):
    """Every hyper-parameter is a plain value: torch.load(weights_only=True) reads the file."""
    torch.manual_seed(0)
    model = SequenceClassifier(input_size=3, num_classes=2, lstm=LSTM, seq_len=4)
    data = TensorDataset(torch.randn(8, 4, 3), torch.randint(0, 2, (8,)))
    trainer = L.Trainer(
        max_epochs=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
    )
    trainer.fit(model, DataLoader(data, batch_size=4))
    path = tmp_path / "model.ckpt"
    trainer.save_checkpoint(path)
    assert torch.load(path, weights_only=True)["hyper_parameters"]["input_size"] == 3
    loaded = SequenceClassifier.load_from_checkpoint(path)
    x = torch.randn(2, 4, 3)
    torch.testing.assert_close(loaded.eval()(x), model.eval()(x))


def test_lstm_target_plugs_in_another_module():
    native = build_lstm(3, {"_target_": "torch.nn.LSTM", "hidden_size": 8})
    assert type(native) is torch.nn.LSTM and native.batch_first and native.input_size == 3
    ours = build_lstm(3, {"hidden_size": 8, "backend": "reference"})
    assert isinstance(ours, lstm_triton.LSTM) and ours.backend == "reference"


def test_classifier_accuracy_is_the_fraction_of_sequences_right():
    model = SequenceClassifier(input_size=2, num_classes=3, lstm=LSTM)
    accuracy = model.accuracy["val_acc"]
    logits = torch.tensor([[5.0, 0.0, 0.0]]).repeat(5, 1)  # always class 0
    accuracy.update(logits, torch.tensor([0, 0, 0, 0, 1]))
    assert accuracy.compute() == pytest.approx(0.8)  # per-class recall averaged would be 0.5


@pytest.mark.parametrize("task", ["classifier", "forecaster", "language_model"])
def test_tasks_take_a_projected_lstm(task):
    projected = {**LSTM, "proj_size": 3}
    x = torch.randn(2, 5, 4)
    if task == "classifier":
        assert SequenceClassifier(4, 7, projected)(x).shape == (2, 7)
    elif task == "forecaster":
        assert Forecaster(4, 2, horizon=3, lstm=projected)(x).shape == (2, 3, 2)
    else:
        model = LanguageModel(vocab_size=11, lstm=projected, embedding_dim=3, tie_weights=True)
        logits, (h, _) = model(torch.randint(0, 11, (2, 5)))
        assert logits.shape == (2, 5, 11) and h.shape == (2, 2, 3)
