"""What a run writes to a log file (stdout not a terminal, as under SLURM, nohup or CI): plain
progress lines, one line per validation with the monitored metric, one line when training stops
that says why and where the checkpoints are, and a closing report naming the run folder and the
media written there."""

import io
import re
import sys
from pathlib import Path

import pytest
from hydra.utils import instantiate
from lightning.pytorch.callbacks import RichProgressBar

from lstm_triton.callbacks import ProgressLines

# The task's training metrics (train/loss first) after the position, then speed and ETAs.
PROGRESS = (
    r"epoch {epoch}  step {step}/{steps}  batch {batch}/2  train/loss \S+  (train/\S+ \S+  )*"
    r"\S+ it/s  ETA epoch \S+, run \S+"
)


# A small forecasting run: short windows keep its steps cheap.
SMALL_ETTH1 = ("experiment=etth1", "logger=none", "data.lookback=8", "data.horizon=4")


def lines_like(out: str, pattern: str) -> list[str]:
    return [line for line in out.splitlines() if re.fullmatch(pattern, line)]


def stop_line(step: str, why: str, checkpoints: Path, best: str = "") -> str:
    """The pattern of a stop line naming a best checkpoint (best="?": or none) and last.ckpt in
    the folder `checkpoints`; step and why are patterns too."""
    folder = re.escape(str(checkpoints))
    return (
        rf"Training stopped at step {step}: {why}; checkpoints: "
        rf"(best {folder}/epoch\d+-step\d+\.ckpt, ){best}last {folder}/last\.ckpt"
    )


@pytest.mark.parametrize(
    ("run_of", "monitor", "media"),
    [
        (SMALL_ETTH1, "val/mse", "forecast.png"),
        (("experiment=char_stdlib", "logger=none"), "val/bpc", "samples.txt"),
        (("experiment=smnist_row", "logger=none"), "val/acc", "test_confusion_matrix.csv"),
    ],
    ids=["etth1", "char_stdlib", "smnist_row"],
)
def test_log_file_run_prints_progress_validations_the_stop_and_the_run_folder_with_its_media(
    run_of, monitor, media, compose_train, run_train, tmp_path, capsys
):
    cfg = compose_train(
        *run_of,
        "trainer.max_epochs=2",
        "callbacks.progress_bar.interval_s=600",
    )
    run_train(cfg)
    out = capsys.readouterr().out
    run, checkpoints = tmp_path / "run", tmp_path / "run" / "checkpoints"

    # Two batches an epoch, well inside interval_s: one line at each epoch's end, before that
    # epoch's validation, whose line starts with the monitored metric.
    validation = rf"validation at epoch {{epoch}}, step {{step}}: {monitor} \S+ \((?:{{best}})\).*"
    expected = [
        PROGRESS.format(epoch=0, step=2, steps=4, batch=2),
        validation.format(epoch=0, step=2, best="new best"),
        PROGRESS.format(epoch=1, step=4, steps=4, batch=2),
        validation.format(epoch=1, step=4, best=r"new best|best \S+"),
        stop_line("4", "max_epochs=2 reached", checkpoints),
    ]
    printed = [line for line in out.splitlines() if re.match(r"(epoch|validation|Training) ", line)]
    assert len(printed) == len(expected), printed
    for line, pattern in zip(printed, expected, strict=True):
        assert re.fullmatch(pattern, line), (line, pattern)
    report = out[out.index("Run finished.") :]
    assert f"\nRun folder: {run}\n  media: {media}\nCheckpoints: {checkpoints}\n" in report
    assert (run / media).is_file()


def test_progress_bar_is_rich_in_a_terminal_and_lines_elsewhere(compose_train, monkeypatch):
    node = compose_train().callbacks.progress_bar
    assert isinstance(instantiate(node), ProgressLines)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdout", Terminal())
    assert isinstance(instantiate(node), RichProgressBar)


def test_early_stopping_ends_with_its_reason_and_lines_come_every_interval_s(
    compose_train, run_train, tmp_path, capsys
):
    # No validation can improve by 1000: patience 1 stops the run after its second one.
    cfg = compose_train(
        *SMALL_ETTH1,
        "trainer.max_epochs=5",
        "callbacks.early_stopping.patience=1",
        "callbacks.early_stopping.min_delta=1000",
        "callbacks.progress_bar.interval_s=0",
    )
    run_train(cfg)
    out = capsys.readouterr().out
    for epoch, step in ((0, 1), (0, 2), (1, 3), (1, 4)):
        batch = step - 2 * epoch
        assert lines_like(out, PROGRESS.format(epoch=epoch, step=step, steps=10, batch=batch))
    why = r"early stopping: Monitored metric val/mse did not improve in the last 1 records\. "
    stop = stop_line("4", why + r"Best score: \S+", tmp_path / "run" / "checkpoints")
    assert len(lines_like(out, stop)) == 1, out[-3000:]


def test_time_limit_ends_with_its_reason(compose_train, run_train, tmp_path, capsys):
    # Stopped inside an epoch, the run has a last.ckpt (ModelCheckpoint writes it when training
    # ends) and a best one when an epoch ended before.
    cfg = compose_train(
        *SMALL_ETTH1,
        "trainer.max_epochs=10000",
        "trainer.max_time='00:00:00:01'",
        "callbacks.early_stopping=null",
    )
    run_train(cfg)
    out = capsys.readouterr().out
    why = r"the time limit \(max_time\) reached after \d+:\d\d:\d\d of training"
    stop = stop_line(r"\d+", why, tmp_path / "run" / "checkpoints", best="?")
    assert len(lines_like(out, stop)) == 1, out[-3000:]


@pytest.fixture
def small_forecast(data_dir, tmp_path) -> tuple[str, ...]:
    """Overrides of a small ETTh1 run from the command line, no logger, into tmp_path/run."""
    return (
        *SMALL_ETTH1,
        "debug=smoke",
        "data.batch_size=4",
        "model.lstm.hidden_size=8",
        "model.lstm.backend=native",
        f"paths.data_dir={data_dir}",
        f"paths.output_dir={tmp_path / 'run'}",
    )


def test_non_finite_loss_ends_the_run_with_one_line(train_cli, small_forecast):
    # Adam's first step moves every weight by about the learning rate: the next loss overflows.
    result = train_cli(*small_forecast, "model.optimizer.lr=1e30", "trainer.max_epochs=2")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "Error executing job" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert re.fullmatch(
        r"Training stopped at step 1: train/loss is (inf|nan) in epoch 0, before the update; "
        r"no checkpoint written",
        last,
    ), result.stderr[-3000:]


def test_sigterm_ends_the_run_with_one_line_naming_the_checkpoint(
    train_cli, small_forecast, tmp_path
):
    sigterm = (
        "+callbacks.sigterm._target_=tests.distributed.sigterm_at_step.SigtermAtStep",
        "+callbacks.sigterm.step=1",
    )
    result = train_cli(*small_forecast, *sigterm)
    assert result.returncode == 143, result.stderr[-3000:]
    checkpoint = tmp_path / "run" / "checkpoints" / "preempted.ckpt"
    assert result.stdout.strip().splitlines()[-1] == (
        f"Training stopped at step 1: SIGTERM; saved {checkpoint}; "
        f"resume with ckpt_path={checkpoint}"
    )
