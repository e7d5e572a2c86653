"""Train an LSTM task: python experiments/train.py [experiment=<name>] [overrides].

Seeds everything, builds the data module, the task (sized by the data: model_dims()),
callbacks, loggers and trainer from conf/, fits (resuming from ckpt_path when given, else from
the newest checkpoint already in the run's folder, as a requeued job finds it), tests the best
checkpoint, prints where the run, its media and its checkpoints are, and returns
cfg.optimized_metric (the best value the checkpoint callback saw, else the last one) for sweeps.
A run stopped by SIGTERM exits with status 143 (128 + SIGTERM) after saving
checkpoints/preempted.ckpt; one stopped by a non-finite loss exits with status 1 and its one
line.
"""

import shlex
import signal
import sys
from typing import Any

import hydra
import lightning as L
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.utils import instantiate
from lightning.pytorch.strategies.launchers import _SubprocessScriptLauncher
from lightning.pytorch.utilities import rank_zero_only
from lightning.pytorch.utilities.exceptions import SIGTERMException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import MissingMandatoryValue

from lstm_triton.callbacks import NonFiniteLossError, latest_checkpoint, media_files
from lstm_triton.tracking import finish_wandb_on_exit, log_config, report_run


def instantiate_each(nodes: DictConfig | None) -> list[Any]:
    """The objects of a group of named nodes (callbacks, logger); null entries are left out.
    Like everything here, built from plain containers (_convert_="all"), not DictConfigs."""
    return [instantiate(node, _convert_="all") for node in (nodes or {}).values() if node]


def optimized_value(trainer: L.Trainer, metrics: dict[str, Any], name: str) -> float | None:
    """The best value of metric `name` the checkpoint callback kept, else its last value."""
    callback = trainer.checkpoint_callback
    if callback is not None and callback.monitor == name and callback.best_model_score is not None:
        return float(callback.best_model_score)
    return float(metrics[name]) if name in metrics else None


def check_launch(trainer: L.Trainer) -> None:
    """Refuses strategy=ddp starting its own processes inside a Hydra multirun: Lightning starts
    ranks 1..N-1 by running this script's command line again, which there is the whole sweep."""
    multirun = HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN
    if multirun and isinstance(trainer.strategy.launcher, _SubprocessScriptLauncher):
        raise ValueError(
            "trainer=ddp cannot start its processes inside a --multirun: Lightning would run "
            "the whole sweep again in every rank. Use trainer=ddp_spawn for multiruns on one "
            "machine, or start the processes outside (torchrun, or launcher=slurm)"
        )


def train(cfg: DictConfig) -> tuple[float | None, dict[str, float]]:
    """Runs one experiment; returns (the optimized metric, every final metric)."""
    L.seed_everything(cfg.seed, workers=True)
    # Before the loggers are built: the W&B logger continues the run this checkpoint holds.
    cfg.ckpt_path = cfg.ckpt_path or latest_checkpoint(cfg.paths.output_dir)
    # Plain containers in the hyper-parameters: checkpoints load with weights_only=True.
    datamodule = instantiate(cfg.data, _convert_="all")
    datamodule.prepare_data()
    datamodule.setup("fit")
    dims = datamodule.model_dims()
    model = instantiate(cfg.model, _convert_="all", **dims)
    loggers = instantiate_each(cfg.get("logger"))
    trainer = instantiate(
        cfg.trainer, callbacks=instantiate_each(cfg.get("callbacks")), logger=loggers or False
    )
    check_launch(trainer)
    log_config(trainer, {**OmegaConf.to_container(cfg, resolve=True), "data_dims": dims})

    metrics: dict[str, Any] = {}
    test_ckpt = cfg.ckpt_path
    if cfg.train:
        trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.ckpt_path)
        metrics.update(trainer.callback_metrics)
        # The best checkpoint; none (fast_dev_run, no checkpoint callback): the last weights.
        callback = trainer.checkpoint_callback
        test_ckpt = (callback.best_model_path or None) if callback is not None else None
    value = optimized_value(trainer, metrics, cfg.optimized_metric)
    if cfg.test:
        trainer.test(model, datamodule=datamodule, ckpt_path=test_ckpt)
        metrics.update(trainer.callback_metrics)
    metrics = {name: float(metric) for name, metric in metrics.items()}
    report_run(trainer, metrics, cfg.optimized_metric, value, media_files(trainer))
    return value, metrics


def missing_value_message(error: MissingMandatoryValue) -> str:
    """One line for a `???` the run needs and the command line left unset."""
    example = shlex.join(["python", "experiments/train.py", *sys.argv[1:]])
    return (
        f"{error.full_key} has no value: the config leaves it to the command line (???); "
        f"give it, e.g. {example} {error.full_key}=<value>"
    )


@hydra.main(version_base="1.3", config_path="../conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    with finish_wandb_on_exit():
        try:
            value, _ = train(cfg)
        except SIGTERMException:
            # A SystemExit without a code, which would exit 0 as if the run had finished.
            sys.exit(128 + signal.SIGTERM)
        except NonFiniteLossError as error:
            # Its message is the run's last line (why and where the checkpoints are), from
            # process 0; Lightning's frames around it would say nothing more.
            sys.exit(str(error) if rank_zero_only.rank == 0 else 1)
        except MissingMandatoryValue as error:
            # A SystemExit, which Hydra lets through, instead of its trace of the instantiation.
            sys.exit(missing_value_message(error))
    return value


if __name__ == "__main__":
    main()
