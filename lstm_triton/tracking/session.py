"""The start and the end of a tracked run: the resolved config logged once, the W&B run always
finished (marked failed on an exception), and a closing note of where everything is."""

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import lightning as L
import wandb
from lightning.pytorch.utilities import rank_zero_only

from lstm_triton.tracking.wandb_logger import wandb_run


@contextmanager
def finish_wandb_on_exit() -> Iterator[None]:
    """Finishes the W&B run of this process when the block ends: exit code 0, or 1 when the
    block raised (the exception goes on). Without a run this does nothing."""
    try:
        yield
    except BaseException:
        if wandb.run is not None:
            wandb.finish(exit_code=1)
        raise
    if wandb.run is not None:
        wandb.finish()


@rank_zero_only
def log_config(trainer: L.Trainer, config: Mapping[str, Any]) -> None:
    """Logs the run's resolved config (plain containers) to every logger of the trainer."""
    for logger in trainer.loggers:
        logger.log_hyperparams(dict(config))


@rank_zero_only
def report_run(
    trainer: L.Trainer,
    metrics: Mapping[str, Any],
    optimized_metric: str,
    optimized_value: float | None,
    media: Sequence[Path] = (),
) -> None:
    """Prints the final metrics, the run's folder with the media files written there (named
    relative to it), the checkpoints and the W&B run folder (with how to sync it when offline),
    and copies the final metrics into the W&B summary. The optimized metric is shown with the
    value a sweep gets (the best checkpoint's), and its last value beside it when they
    differ."""
    lines = ["", "Run finished."]
    for name in sorted(metrics):
        value = float(metrics[name])
        if name == optimized_metric and optimized_value is not None:
            best, last = f"{optimized_value:.4f}", f"{value:.4f}"
            also = f" (last epoch {last})" if last != best else ""
            lines.append(f"  {name} = {best}  <- optimized_metric{also}")
        else:
            lines.append(f"  {name} = {value:.4f}")
    run_folder = Path(trainer.default_root_dir)
    lines.append(f"Run folder: {run_folder}")
    if media:
        names = [
            str(p.relative_to(run_folder) if p.is_relative_to(run_folder) else p) for p in media
        ]
        lines.append(f"  media: {', '.join(names)}")
    callback = trainer.checkpoint_callback
    if callback is not None and getattr(callback, "dirpath", None):
        lines.append(f"Checkpoints: {callback.dirpath}")
        if callback.best_model_path:
            lines.append(f"  best: {callback.best_model_path}")
    run = wandb_run(trainer)
    if run is not None:
        run.summary.update({name: float(value) for name, value in metrics.items()})
        run_dir = run.settings.sync_dir
        lines.append(f"W&B run: {run_dir}")
        if run.offline:
            lines.append(f"  offline; upload it later with: wandb sync {run_dir}")
        else:
            lines.append(f"  {run.url}")
    print("\n".join(lines), flush=True)
