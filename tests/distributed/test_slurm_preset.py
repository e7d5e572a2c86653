"""launcher=slurm composes into the submitit SLURM launcher with what Lightning's SLURM
auto-requeue needs: one task per device on every node, SIGUSR1 90 s before the time limit (the
signal SLURMEnvironment listens for) and a requeueable job. Checked on the sbatch script the
plugin writes, without a cluster."""

import os
import signal
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from lightning.fabric.plugins.environments import SLURMEnvironment

pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="the [slurm] extra")
submitit = pytest.importorskip("submitit", reason="the [slurm] extra")

CONFIG_DIR = Path(__file__).resolve().parents[2] / "conf"


@pytest.fixture
def slurm_config(tmp_path):
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose(
            "train",
            overrides=[
                "launcher=slurm",
                "trainer=ddp",
                "trainer.devices=4",
                "trainer.num_nodes=2",
                "hydra.launcher.partition=gpu",
                f"hydra.sweep.dir={tmp_path / 'sweep'}",
                f"paths.output_dir={tmp_path / 'run'}",
            ],
            return_hydra_config=True,
        )


def sbatch_script(config, monkeypatch, tmp_path) -> str:
    """The sbatch script the launcher submits for one job, captured instead of submitted."""
    # submitit looks for srun on PATH before it builds a SLURM executor.
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "srun").write_text("#!/bin/sh\nexit 1\n")
    (tmp_path / "bin" / "srun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    executors = []

    def capture(executor, *args, **kwargs):
        executors.append(executor)
        return []

    monkeypatch.setattr(submitit.AutoExecutor, "map_array", capture)
    launcher = instantiate(config.hydra.launcher)
    launcher.setup(hydra_context=None, task_function=None, config=config)
    launcher.launch(job_overrides=[["seed=1"]], initial_job_idx=0)
    (executor,) = executors
    return executor._executor._make_submission_file_text("python -u train.py", "job")


def test_slurm_preset_targets_submitit_with_one_task_per_device(slurm_config):
    launcher = slurm_config.hydra.launcher
    assert launcher._target_.endswith("submitit_launcher.SlurmLauncher")
    assert (launcher.nodes, launcher.tasks_per_node, launcher.gpus_per_node) == (2, 4, 4)


def test_sbatch_script_asks_for_lightnings_requeue_signal_and_a_requeueable_job(
    slurm_config, monkeypatch, tmp_path
):
    script = sbatch_script(slurm_config, monkeypatch, tmp_path).splitlines()
    for line in (
        "#SBATCH --signal=SIGUSR1@90",
        "#SBATCH --requeue",
        "#SBATCH --nodes=2",
        "#SBATCH --ntasks-per-node=4",
        "#SBATCH --gpus-per-node=4",
        "#SBATCH --partition=gpu",
    ):
        assert line in script, line
    assert sum(line.startswith("#SBATCH --signal=") for line in script) == 1
    # The signal sbatch sends is the one Lightning's auto-requeue handler is registered for.
    environment = SLURMEnvironment()
    assert environment.auto_requeue and environment.requeue_signal == signal.SIGUSR1
