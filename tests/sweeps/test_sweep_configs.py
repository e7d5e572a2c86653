"""The W&B sweep YAMLs in experiments/sweeps/: W&B's own schema accepts them, their parameters
are keys of the training config their command composes, their metric is the one that config
optimizes (what the task logs and train.py returns), and every task family has one."""

from pathlib import Path

import pytest
import yaml
from hydra.utils import get_class

sweeps = pytest.importorskip("sweeps", reason="the `sweeps` extra (W&B's engine) is not installed")

from lstm_triton.sweeps import check_training_config, fixed_overrides, load_sweep_config  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SWEEPS = sorted((ROOT / "experiments" / "sweeps").glob("*.yaml"))
PRESETS = sorted((ROOT / "conf" / "hparams_search").glob("*.yaml"))
EXPERIMENTS = sorted(path.stem for path in (ROOT / "conf" / "experiment").glob("*.yaml"))
GOALS = {"min": "minimize", "max": "maximize"}


@pytest.mark.parametrize("path", SWEEPS, ids=lambda path: path.stem)
def test_wandb_schema_accepts_sweep(path):
    config = yaml.safe_load(path.read_text())
    assert sweeps.schema_violations_from_proposed_config(config) == []


@pytest.mark.parametrize("path", SWEEPS, ids=lambda path: path.stem)
def test_sweep_parameters_and_metric_belong_to_its_command_config(path, sweep_module):
    config = load_sweep_config(path)
    cfg = sweep_module.compose_train_config(fixed_overrides(config["command"]))
    check_training_config(config, cfg)
    assert config["metric"]["name"] == cfg.optimized_metric
    assert config["metric"]["goal"] == GOALS[cfg.optimized_mode]
    assert (ROOT / config["program"]).is_file()


@pytest.mark.parametrize("path", SWEEPS, ids=lambda path: path.stem)
def test_each_agent_run_gets_the_folder_of_its_wandb_run(path, sweep_module, monkeypatch):
    monkeypatch.setenv("WANDB_SWEEP_ID", "sweep123")  # what `wandb agent` sets for each run
    monkeypatch.setenv("WANDB_RUN_ID", "run456")
    command = load_sweep_config(path)["command"]
    cfg = sweep_module.compose_train_config([*fixed_overrides(command), "paths.log_dir=/logs"])
    assert cfg.hydra.run.dir == "/logs/sweeps/sweep123/run456"


def task_family(sweep_module, *overrides: str) -> str:
    """The task module of the composed config's model: language_model, classification, ..."""
    cfg = sweep_module.compose_train_config(list(overrides))
    return get_class(cfg.model._target_).__module__.rsplit(".", 1)[1]


def test_every_task_family_has_a_sweep_and_an_optuna_preset(sweep_module):
    families = {task_family(sweep_module, f"experiment={name}") for name in EXPERIMENTS}
    assert families <= {path.stem for path in SWEEPS}
    assert families <= {path.stem for path in PRESETS}
    for path in SWEEPS:
        command = yaml.safe_load(path.read_text())["command"]
        assert task_family(sweep_module, *fixed_overrides(command)) == Path(path).stem
