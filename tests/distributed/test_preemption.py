"""A run stopped by SIGTERM in the middle of an epoch (as SLURM preemption stops it) saves a
checkpoint and exits with 143; started again in the same run folder (as a requeued job is), it
resumes from that checkpoint, continues the same W&B run, and ends with exactly the metrics of
the run that was never stopped."""

import numpy as np
import pytest
import torch

from lstm_triton.tracking import run_id_from_checkpoint

SIGTERM_STEP = 3


@pytest.fixture
def forecast_run(tmp_path):
    """Overrides of a small forecasting run (tmp_path/series.csv, an hourly sine): 2 epochs of 6
    batches, shuffled, with dropout, in Lightning's deterministic mode."""
    start = np.datetime64("2016-07-01T00:00:00")
    rows = [
        f"{start + hour * np.timedelta64(1, 'h')},{10 + np.sin(hour / 7):.4f}"
        for hour in range(300)
    ]
    (tmp_path / "series.csv").write_text("date,OT\n" + "\n".join(rows).replace("T", " ") + "\n")
    return (
        "experiment=forecast_csv",
        "debug=smoke",
        f"data.path={tmp_path / 'series.csv'}",
        "data.target=OT",
        "data.lookback=8",
        "data.horizon=4",
        "data.batch_size=4",
        "model.lstm.hidden_size=8",
        "model.lstm.dropout=0.3",
        "model.lstm.backend=native",
        "trainer.max_epochs=2",
        "trainer.limit_train_batches=6",
        "trainer.limit_val_batches=2",
        "trainer.deterministic=true",
    )


@pytest.fixture
def language_model_run(tiny_main_job):
    """The tiny main job, 2 epochs of 6 batches, its state carried from batch to batch."""
    return (
        *tiny_main_job,
        "model.lstm.dropout=0.3",
        "model.lstm.num_layers=2",
        "trainer.max_epochs=2",
        "trainer.limit_train_batches=6",
        "trainer.limit_val_batches=2",
        "trainer.deterministic=true",
    )


@pytest.mark.parametrize("task_run", ["forecast_run", "language_model_run"])
def test_sigterm_mid_epoch_then_restart_ends_as_the_uninterrupted_run(
    task_run, request, train_cli, wandb_logs, final_metrics, tmp_path
):
    overrides = request.getfixturevalue(task_run)
    uninterrupted = train_cli(*overrides, f"paths.output_dir={tmp_path / 'whole'}")
    assert uninterrupted.returncode == 0, uninterrupted.stderr[-3000:]

    folder = tmp_path / "preempted"
    sigterm = (
        "+callbacks.sigterm._target_=tests.distributed.sigterm_at_step.SigtermAtStep",
        f"+callbacks.sigterm.step={SIGTERM_STEP}",
    )
    stopped = train_cli(*overrides, *sigterm, f"paths.output_dir={folder}")
    assert stopped.returncode == 143, stopped.stderr[-3000:]
    checkpoint = folder / "checkpoints" / "preempted.ckpt"
    assert torch.load(checkpoint, weights_only=True)["global_step"] == SIGTERM_STEP
    (first,) = wandb_logs(folder)
    assert run_id_from_checkpoint(checkpoint) == first.run_id
    # Metrics of the k-th optimizer step are logged at trainer/global_step k - 1.
    assert first.exit_code != 0 and max(first.metric("trainer/global_step")) == SIGTERM_STEP - 1

    # The same command in the same folder, as a requeued job runs again: no ckpt_path given.
    restarted = train_cli(*overrides, f"paths.output_dir={folder}")
    assert restarted.returncode == 0, restarted.stderr[-3000:]
    assert f"Restoring states from the checkpoint path at {checkpoint}" in restarted.stdout + (
        restarted.stderr
    )
    assert "not resumable" not in restarted.stderr
    first, second = wandb_logs(folder)
    assert second.run_id == first.run_id and second.exit_code == 0
    assert min(second.metric("trainer/global_step")) == SIGTERM_STEP

    (whole,) = wandb_logs(tmp_path / "whole")
    expected = final_metrics(whole)
    assert {"train/loss", "val/loss", "test/loss"} <= set(expected)
    # Exactly: the same operations on the same numbers in the same order (deterministic mode,
    # the generators' states and the loader's position restored); any difference is a bug.
    assert final_metrics(second) == expected
