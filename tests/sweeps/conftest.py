"""Fixtures of the sweep tests: experiments/sweep.py loaded from its file, W&B offline into a
temporary folder for the trials it starts as child processes, and what shrinks the main job
(experiment=char_stdlib, no download) to a few seconds a trial on a CPU.

The W&B settings are environment variables, which child processes inherit; they match the
pipeline tests' (tests/pipeline/conftest.py, `offline`), less its urlopen patch, which a child
process would not see and which char_stdlib (the standard library's own source) never needs.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra.core.global_hydra import GlobalHydra

ROOT = Path(__file__).resolve().parents[2]

# The main job at the pipeline tests' smoke size, one native layer, no checkpoint artifacts.
TINY_CHAR_MODEL = (
    "debug=smoke",
    "data.corpus.max_chars=20000",
    "data.batch_size=2",
    "data.bptt=8",
    "model.embedding_dim=8",
    "model.lstm.hidden_size=8",
    "model.lstm.num_layers=1",
    "model.lstm.backend=native",
    "callbacks.text_samples.num_tokens=5",
    "logger.wandb.log_model=false",
)


@pytest.fixture(autouse=True)
def wandb_offline(monkeypatch, tmp_path):
    """W&B offline into tmp_path/wandb-home, no credentials, for this process and its
    children; GlobalHydra cleared around each test (experiments/sweep.py composes configs)."""
    home = tmp_path / "wandb-home"
    for variable, folder in (
        ("WANDB_DIR", "dir"),
        ("WANDB_CACHE_DIR", "cache"),
        ("WANDB_CONFIG_DIR", "config"),
        ("WANDB_DATA_DIR", "data"),
    ):
        (home / folder).mkdir(parents=True)
        monkeypatch.setenv(variable, str(home / folder))
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_CONSOLE", "off")
    monkeypatch.setenv("WANDB_DISABLE_GIT", "true")
    monkeypatch.setenv("WANDB_X_DISABLE_STATS", "true")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("LSTM_TRITON_DATA", str(tmp_path / "empty-cache"))
    GlobalHydra.instance().clear()
    yield
    GlobalHydra.instance().clear()


@pytest.fixture
def tiny_main_job(tmp_path) -> list[str]:
    """Overrides that shrink the main job to seconds, its logs under tmp_path/logs."""
    return [*TINY_CHAR_MODEL, f"paths.log_dir={tmp_path / 'logs'}"]


@pytest.fixture(scope="session")
def sweep_module():
    """experiments/sweep.py, loaded from its file (experiments/ is scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("sweep", ROOT / "experiments" / "sweep.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def train_cli():
    """train_cli(*overrides): experiments/train.py run from the repository root as a user runs
    it, output captured."""

    def run(*overrides: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "experiments/train.py", *overrides],
            cwd=ROOT,
            env=os.environ.copy(),
            capture_output=True,
            text=True,
            timeout=300,
        )

    return run
