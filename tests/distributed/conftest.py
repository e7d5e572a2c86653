"""Fixtures of the multi-process and preemption tests: experiments/train.py run as users run it,
in a subprocess (DDP processes and signals need their own), with W&B offline into tmp_path."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lstm_triton.tracking import RunLog, read_run_log

ROOT = Path(__file__).resolve().parents[2]

# A character-level LM on the standard library's source, small enough for seconds on a CPU.
TINY_LM = (
    "experiment=char_stdlib",
    "debug=smoke",
    "data.corpus.max_chars=20000",
    "data.bptt=8",
    "model.embedding_dim=8",
    "model.lstm.hidden_size=8",
    "model.lstm.backend=native",
    "callbacks.text_samples.num_tokens=5",
    "callbacks.rich_progress_bar=null",
)


@pytest.fixture
def run_cli(tmp_path):
    """run_cli(*overrides): `python experiments/train.py *overrides` from the repository root, W&B
    offline into tmp_path, runs filed under tmp_path/logs; the finished process. tests/ is on
    PYTHONPATH so that a test-only callback can be added with +callbacks.<name>._target_=."""
    home = tmp_path / "wandb-home"
    env = {
        **os.environ,
        "WANDB_MODE": "offline",
        "WANDB_CONSOLE": "off",
        "WANDB_DISABLE_GIT": "true",
        "WANDB_DISABLE_CODE": "true",
        "WANDB_X_DISABLE_STATS": "true",
        "WANDB_DIR": str(home),
        "WANDB_CACHE_DIR": str(home / "cache"),
        "WANDB_CONFIG_DIR": str(home / "config"),
        "WANDB_DATA_DIR": str(home / "data"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("WANDB_API_KEY", None)

    def run(*overrides: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "experiments/train.py", *overrides]
        return subprocess.run(
            [*command, f"paths.log_dir={tmp_path / 'logs'}"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    return run


@pytest.fixture
def tiny_lm() -> tuple[str, ...]:
    """Overrides that make the main job (char_stdlib) a few seconds' run on a CPU."""
    return TINY_LM


def _wandb_runs(output_dir: Path) -> list[RunLog]:
    """The W&B runs recorded under a run folder, oldest first (folders are named by start time).
    The process that wrote them has exited, so each log is complete."""
    folders = [path for path in (output_dir / "wandb").glob("*run-*") if not path.is_symlink()]
    return [read_run_log(folder) for folder in sorted(folders, key=lambda path: path.name)]


def _final_metrics(run: RunLog) -> dict[str, float]:
    """The numbers of a run's summary under train/, val/ and test/ (media and the throughput,
    which is wall-clock time, left out)."""
    return {
        name: value
        for name, value in run.summary.items()
        if name.split("/")[0] in ("train", "val", "test")
        and isinstance(value, float)
        and "per_sec" not in name
    }


@pytest.fixture
def wandb_runs():
    """wandb_runs(output_dir): the W&B runs recorded under a run folder, oldest first."""
    return _wandb_runs


@pytest.fixture
def final_metrics():
    """final_metrics(run): the numbers of a run's summary under train/, val/ and test/."""
    return _final_metrics
