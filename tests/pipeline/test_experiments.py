"""Every experiment preset trains, validates and tests through the entry point on generated
data in the real formats, with W&B offline; the values are read back from W&B's own run log."""

import math

import pytest
from omegaconf import OmegaConf

# What each task family must put into W&B: final test metrics (summary), per-step and
# per-epoch metrics (history), and its media (a history key and its W&B type).
EXPECTED = {
    "LanguageModel": {
        "summary": ["test/loss", "test/ppl", "test/bpc"],
        "history": ["train/loss", "val/loss", "val/ppl", "val/bpc", "train/tokens_per_sec"],
        "media": ("samples", "table-file"),
    },
    "SequenceClassifier": {
        "summary": ["test/loss", "test/acc"],
        "history": ["train/loss", "train/acc", "val/loss", "val/acc", "train/samples_per_sec"],
        "media": ("test/confusion_matrix_table", "table-file"),
    },
    "Forecaster": {
        "summary": ["test/mse", "test/mae", "test/mse_orig", "test/mae_orig"],
        "history": ["train/loss", "val/mse", "val/mae", "train/samples_per_sec"],
        "media": ("test/forecast", "image-file"),
    },
    "SequenceRegressor": {
        "summary": ["test/loss", "test/mse"],
        "history": ["train/loss", "val/loss", "val/mse", "train/samples_per_sec"],
        "media": None,
    },
    "SequenceTagger": {
        "summary": ["test/loss", "test/acc", "test/tail_acc"],
        "history": ["train/loss", "train/acc", "val/loss", "val/acc", "val/tail_acc"],
        "media": None,
    },
}


def test_experiment_trains_and_logs_to_wandb_offline(
    experiment, compose_train, run_train, wandb_logs, tmp_path, offline
):
    cfg = compose_train(f"experiment={experiment}")
    value, metrics = run_train(cfg)

    family = EXPECTED[cfg.model._target_.rsplit(".", 1)[1]]
    assert value is not None and math.isfinite(value), (cfg.optimized_metric, metrics)
    for name in family["summary"]:
        assert math.isfinite(metrics[name]), name
    assert offline == [], "nothing may be downloaded: the data comes from the cache"

    (log,) = wandb_logs(tmp_path / "run")
    assert log.exit_code == 0
    resolved = OmegaConf.to_container(cfg, resolve=True)
    for group in ("data", "model", "trainer", "callbacks", "logger"):
        assert log.config[group] == resolved[group], group
    assert log.config["optimized_metric"] == cfg.optimized_metric
    for name in family["summary"]:
        assert log.summary[name] == pytest.approx(metrics[name]), name
    for name in [*family["history"], "train/grad_norm", cfg.optimized_metric]:
        values = log.metric(name)
        assert values and all(math.isfinite(v) for v in values), name
    steps = [step for step in log.metric("trainer/global_step") if step > 0]
    assert steps and max(steps) == 2
    if family["media"] is not None:
        key, media_type = family["media"]
        assert any(row.get(f"{key}._type") == media_type for row in log.history), key
    assert {artifact["type"] for artifact in log.artifacts} >= {"model"}
