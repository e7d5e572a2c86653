"""The W&B logger of a training run: online or offline, and the same run continued on resume.

Mode: $WANDB_MODE when set; else the configured mode; else online when an API key is available
($WANDB_API_KEY, or a ~/.netrc entry for the W&B host as `wandb login` writes it) and offline
otherwise, so a run needs no account and `wandb sync <run dir>` uploads it later.

Resume: WandbRunIdInCheckpoint writes the run id into every checkpoint (checkpoint["wandb"]);
wandb_logger(resume_from=<checkpoint>) reads it back and reopens that run (resume="allow": an
online run continues on the server; offline, a new folder carries the same id and the two are
synced into one run).
"""

import netrc
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import lightning as L
import torch
from lightning.pytorch.loggers import WandbLogger

MODES = ("online", "offline", "disabled")
CHECKPOINT_KEY = "wandb"


def has_api_key() -> bool:
    """Whether W&B credentials are available without asking: $WANDB_API_KEY or a netrc entry
    for the W&B host ($WANDB_BASE_URL, default api.wandb.ai)."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    host = urlparse(os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")).hostname
    try:
        return netrc.netrc().authenticators(host) is not None
    except (FileNotFoundError, netrc.NetrcParseError):
        return False


def resolve_mode(mode: str | None = None) -> str:
    """The W&B mode of a run: $WANDB_MODE, else `mode`, else online with a key, else offline."""
    chosen = os.environ.get("WANDB_MODE") or mode
    if chosen is None:
        return "online" if has_api_key() else "offline"
    if chosen == "dryrun":
        return "offline"
    if chosen not in MODES:
        raise ValueError(f"W&B mode must be one of {list(MODES)} or null, got {chosen!r}")
    return chosen


def run_id_from_checkpoint(path: str | os.PathLike) -> str | None:
    """The W&B run id saved in a checkpoint by WandbRunIdInCheckpoint, None if it has none."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"checkpoint {path} not found (ckpt_path)")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    return checkpoint.get(CHECKPOINT_KEY, {}).get("run_id")


def wandb_logger(
    project: str = "lstm-triton",
    save_dir: str | os.PathLike = ".",
    mode: str | None = None,
    resume_from: str | os.PathLike | None = None,
    log_model: bool | str = False,
    **kwargs: Any,
) -> WandbLogger:
    """Lightning's WandbLogger in the mode resolve_mode picks, continuing the W&B run of the
    checkpoint `resume_from` when one is given. kwargs go to WandbLogger and wandb.init
    (entity, name, group, tags, job_type, ...)."""
    run_id = run_id_from_checkpoint(resume_from) if resume_from else None
    Path(save_dir).mkdir(parents=True, exist_ok=True)
    logger = WandbLogger(
        project=project,
        save_dir=os.fspath(save_dir),
        id=run_id,
        log_model=log_model,
        mode=resolve_mode(mode),
        **kwargs,
    )
    # Lightning always passes anonymous=None, a setting recent wandb (0.31) warns about.
    logger._wandb_init.pop("anonymous", None)
    return logger


def wandb_run(trainer: L.Trainer):
    """The W&B run of the trainer's first WandbLogger on this process (rank zero), else None."""
    for logger in trainer.loggers:
        if isinstance(logger, WandbLogger) and trainer.is_global_zero:
            return logger.experiment
    return None


class WandbRunIdInCheckpoint(L.Callback):
    """Saves the W&B run's id, project and entity in every checkpoint, as
    checkpoint["wandb"] = {"run_id", "project", "entity"}, for wandb_logger(resume_from=)."""

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint):
        run = wandb_run(trainer)
        if run is not None:
            checkpoint[CHECKPOINT_KEY] = {
                "run_id": run.id,
                "project": run.project,
                "entity": run.entity,
            }
