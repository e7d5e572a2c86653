"""Fixtures of the sweep tests: experiments/sweep.py loaded from its file, W&B offline (the
environment variables of tests/conftest.py, which the trials' child processes inherit), and
the tiny main job as a trial.
"""

import pytest
from hydra.core.global_hydra import GlobalHydra


@pytest.fixture(autouse=True)
def offline_and_fresh_hydra(wandb_offline):
    """W&B offline for this process and the trials it starts; GlobalHydra cleared around each
    test (experiments/sweep.py composes configs)."""
    GlobalHydra.instance().clear()
    yield
    GlobalHydra.instance().clear()


@pytest.fixture
def sweep_trial(tiny_main_job) -> list[str]:
    """The tiny main job as a sweep's trials run it: one layer, no checkpoint artifacts."""
    extra = ("data.batch_size=2", "model.lstm.num_layers=1", "logger.wandb.log_model=false")
    return [*tiny_main_job, *extra]


@pytest.fixture(scope="session")
def sweep_module(experiment_script):
    return experiment_script("sweep")
