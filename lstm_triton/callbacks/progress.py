"""What a run prints while it trains: Rich's progress bar in a terminal; in a log file (SLURM,
nohup, CI), where a bar shows only its last frame when the run exits, plain lines instead."""

import math
import sys
import time
from collections.abc import Mapping
from datetime import timedelta

import lightning as L
from lightning.pytorch.callbacks import RichProgressBar, Timer
from lightning.pytorch.callbacks.progress import ProgressBar


def progress_bar(
    interval_s: float = 30.0, monitor: str | None = None, refresh_rate: int = 1
) -> ProgressBar:
    """RichProgressBar(refresh_rate) when stdout is a terminal, else ProgressLines(interval_s,
    monitor): the one place a run decides how it shows progress."""
    if sys.stdout.isatty():
        return RichProgressBar(refresh_rate=refresh_rate)
    return ProgressLines(interval_s, monitor)


def _duration(seconds: float) -> str:
    return str(timedelta(seconds=round(seconds))) if math.isfinite(seconds) else "?"


def _count(done: int, total: float) -> str:
    return f"{done}/{total}" if math.isfinite(total) else str(done)


def _rate(batches: int, seconds: float) -> float:
    return batches / seconds if seconds > 0 else math.inf


def _values(metrics: Mapping[str, float]) -> list[str]:
    return [f"{name} {value:.4g}" for name, value in metrics.items()]


class ProgressLines(ProgressBar):
    """Progress as plain lines on stdout, from process 0 only. During training, one line every
    `interval_s` seconds, and one before each validation and at the end of each epoch and of
    training (where the last line left batches out):

        epoch 0  step 12/80  batch 12/20  train/loss 1.234  4.1 it/s  ETA epoch 0:00:02, run 0:00:16

    with the progress-bar metrics of training, the speed in training batches per second since
    the previous line, and the ETAs of the epoch and of the run (its total steps:
    trainer.estimated_stepping_batches, or the time max_time leaves when sooner) at the mean
    speed since training started, validation included: wall-clock times. After each
    validation (not the sanity check):

        validation at epoch 0, step 200: val/loss 1.2 (best 1.1), val/bpc 1.731

    every val/ metric, the monitored one (default: the checkpoint callback's) first, with the
    best value so far when the checkpoint callback keeps it ("new best" when this one is).
    """

    def __init__(self, interval_s: float = 30.0, monitor: str | None = None) -> None:
        super().__init__()
        if interval_s < 0:
            raise ValueError(f"interval_s must be >= 0, got {interval_s}")
        self.interval_s, self.monitor = interval_s, monitor
        self._enabled = True
        self._batches, self._batch, self._start_time = 0, 0, 0.0
        self._printed_batches, self._printed_time = 0, 0.0

    def disable(self) -> None:
        self._enabled = False

    def enable(self) -> None:
        self._enabled = True

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._batches = self._printed_batches = 0
        self._start_time = self._printed_time = time.monotonic()

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs, batch, batch_idx: int
    ) -> None:
        self._batches, self._batch = self._batches + 1, batch_idx + 1
        if time.monotonic() - self._printed_time >= self.interval_s:
            self._print_progress(trainer)

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Where training stands before its validation line: at the epoch's end, in the middle
        # (val_check_interval), or where max_time stopped it.
        self._print_unprinted(trainer)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._print_unprinted(trainer)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._print_unprinted(trainer)

    def _print_unprinted(self, trainer: L.Trainer) -> None:
        if self._batches > self._printed_batches:
            self._print_progress(trainer)

    def _print_progress(self, trainer: L.Trainer) -> None:
        now = time.monotonic()
        rate = _rate(self._batches - self._printed_batches, now - self._printed_time)
        mean_rate = _rate(self._batches, now - self._start_time)
        self._printed_batches, self._printed_time = self._batches, now
        if not self._enabled:
            return
        total_steps = trainer.estimated_stepping_batches
        batches_left = (total_steps - trainer.global_step) * trainer.accumulate_grad_batches
        run_left = batches_left / mean_rate
        timer = next((cb for cb in trainer.callbacks if isinstance(cb, Timer)), None)
        time_left = timer.time_remaining() if timer is not None else None
        if time_left is not None:
            run_left = min(run_left, max(time_left, 0.0))
        epoch_left = (trainer.num_training_batches - self._batch) / mean_rate
        metrics = {
            name: float(value)
            for name, value in trainer.progress_bar_metrics.items()
            if not name.startswith(("val/", "test/"))
        }
        fields = [
            f"epoch {trainer.current_epoch}",
            f"step {_count(trainer.global_step, total_steps)}",
            f"batch {_count(self._batch, trainer.num_training_batches)}",
            *_values(metrics),
            f"{rate:.3g} it/s",
            f"ETA epoch {_duration(epoch_left)}, run {_duration(run_left)}",
        ]
        print("  ".join(fields), flush=True)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self._enabled or trainer.sanity_checking:
            return
        metrics = {
            name: float(value)
            for name, value in trainer.callback_metrics.items()
            if name.startswith("val/")
        }
        callback = trainer.checkpoint_callback
        monitor = self.monitor or getattr(callback, "monitor", None)
        fields = []
        if monitor in metrics:
            current = metrics.pop(monitor)
            fields.append(f"{monitor} {current:.4g}{self._best_note(trainer, monitor, current)}")
        fields += _values(metrics)
        where = f"validation at epoch {trainer.current_epoch}, step {trainer.global_step}"
        print(f"{where}: {', '.join(fields)}", flush=True)

    @staticmethod
    def _best_note(trainer: L.Trainer, monitor: str, current: float) -> str:
        callback = trainer.checkpoint_callback
        if callback is None or getattr(callback, "monitor", None) != monitor:
            return ""
        # The checkpoint callback runs after every other callback: its best is the one before
        # this validation.
        previous = callback.best_model_score
        if previous is None or not math.isfinite(float(previous)):
            return " (new best)"
        previous = float(previous)
        improved = current < previous if callback.mode == "min" else current > previous
        return " (new best)" if improved else f" (best {previous:.4g})"
