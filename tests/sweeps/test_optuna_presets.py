"""The Optuna presets in conf/hparams_search/: each searches keys of the configs of its task's
experiments in the direction they optimize, and a multirun stores every trial's objective (what
train.py returns) in a study that other workers can load."""

import math
from pathlib import Path

import pytest
from hydra.utils import get_class

optuna = pytest.importorskip("optuna", reason="the `optuna` extra is not installed")
pytest.importorskip("hydra_plugins.hydra_optuna_sweeper", reason="the `optuna` extra is missing")

from lstm_triton.sweeps.config import has_key  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PRESETS = sorted(path.stem for path in (ROOT / "conf" / "hparams_search").glob("*.yaml"))
EXPERIMENTS = sorted(path.stem for path in (ROOT / "conf" / "experiment").glob("*.yaml"))
DIRECTIONS = {"min": "minimize", "max": "maximize"}


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_preset_of_the_experiments_task_searches_its_keys_in_its_direction(
    experiment, sweep_module
):
    cfg = sweep_module.compose_train_config([f"experiment={experiment}"])
    family = get_class(cfg.model._target_).__module__.rsplit(".", 1)[1]
    assert family in PRESETS
    cfg = sweep_module.compose_train_config(
        [f"experiment={experiment}", f"hparams_search={family}"]
    )
    sweeper = cfg.hydra.sweeper
    assert sweeper.direction == DIRECTIONS[cfg.optimized_mode]
    assert [name for name in sweeper.params if not has_key(cfg, name)] == []
    assert sweeper.storage and sweeper.study_name


def test_two_trial_multirun_stores_both_objectives_in_a_shared_study(
    tmp_path, train_cli, sweep_trial
):
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    result = train_cli(
        "experiment=char_stdlib",
        "hparams_search=language_model",
        "hydra.sweeper.n_trials=2",
        f"hydra.sweeper.storage={storage}",
        "hydra.sweeper.study_name=test-study",
        f"hydra.sweep.dir={tmp_path / 'multirun'}",
        *sweep_trial,
    )
    assert result.returncode == 0, result.stderr[-3000:]

    study = optuna.load_study(study_name="test-study", storage=storage)
    assert [trial.state for trial in study.trials] == [optuna.trial.TrialState.COMPLETE] * 2
    values = [trial.value for trial in study.trials]
    assert all(math.isfinite(value) for value in values)
    # The fixed overrides (hidden_size=8, ...) leave the preset's other parameters to Optuna.
    assert set(study.trials[0].params) == {
        "model.optimizer.lr",
        "model.lstm.dropout",
        "model.dropout",
    }
    for job, value in enumerate(values):
        assert f"val/bpc = {value:.4f}  <- optimized_metric" in result.stdout
        assert (tmp_path / "multirun" / str(job) / "checkpoints").is_dir()
