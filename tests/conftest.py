"""Session setup and fixtures shared by every test.

Without a GPU the Triton kernels run in Triton's interpreter on CPU tensors; the interpreter
is chosen when a kernel is decorated, so TRITON_INTERPRET must be set before any kernel module
is imported. With a GPU the kernels compile for it and the interpreter stays off, unless the
caller set TRITON_INTERPRET explicitly; `pytest -m gpu` then runs the CUDA cases.
"""

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
# cuBLAS refuses torch.use_deterministic_algorithms(True) without a fixed workspace; the
# determinism tests set that mode.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


# The suite's tolerance table lives beside the GPU check that shares it.
from lstm_triton.bench.tolerance import assert_within as assert_close


@pytest.fixture
def close():
    """The tolerance table's comparison, as a fixture for the test modules."""
    return assert_close


@pytest.fixture(
    params=[pytest.param("cpu", id="cpu"), pytest.param("cuda", id="cuda", marks=pytest.mark.gpu)]
)
def device(request) -> torch.device:
    if request.param == "cuda" and not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    return torch.device(request.param)


@pytest.fixture
def kernel_device(device) -> torch.device:
    """A device the Triton kernels run on in this session."""
    if device.type == "cpu" and os.environ.get("TRITON_INTERPRET") != "1":
        pytest.skip("kernels on CPU tensors need TRITON_INTERPRET=1, off when a GPU is present")
    return device


@pytest.fixture
def backend_device(backend: str, device: torch.device, request) -> torch.device:
    """For a test parametrized over `backend`: the kernel_device when the backend is "triton",
    else the device (the other backends run on any)."""
    if backend == "triton":
        return request.getfixturevalue("kernel_device")
    return device


@pytest.fixture
def poison_empty():
    """torch.empty fills with NaN, so an output element a kernel never writes fails a test."""
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    yield
    torch.use_deterministic_algorithms(previous)


@pytest.fixture
def lay_out_flat():
    """A function that makes a module's weights views of one buffer (flat_weights_layout)."""
    return flat_weights_layout


def flat_weights_layout(module: torch.nn.RNNBase) -> None:
    """Every parameter a view of one buffer, in the order of torch's flat weights (per layer
    and direction: w_ih, w_hh, b_ih, b_hh, w_hr), so that a layer's two directions lie apart by
    the forward's other weights: what flatten_parameters does to the weights on CUDA, where
    it runs by itself; by hand on the CPU."""
    if next(module.parameters()).is_cuda:
        module.flatten_parameters()
    else:
        weights = module._flat_weights
        flat = torch.cat([weight.detach().reshape(-1) for weight in weights])
        offset = 0
        for weight in weights:
            weight.data = flat[offset : offset + weight.numel()].view_as(weight)
            offset += weight.numel()
    storages = {weight.untyped_storage().data_ptr() for weight in module.parameters()}
    assert len(storages) == 1, "the weights are not views of one buffer"


ROOT = Path(__file__).resolve().parents[1]

TINY_MAIN_JOB = (
    "debug=smoke",
    "data.corpus.max_chars=20000",
    "data.bptt=8",
    "model.embedding_dim=8",
    "model.lstm.hidden_size=8",
    "model.lstm.backend=native",
    "callbacks.text_samples.num_tokens=5",
)
"""Overrides that shrink the main job (char_stdlib, the default experiment) to seconds on a CPU."""


@pytest.fixture(scope="session")
def experiment_script():
    """load(name): experiments/<name>.py as a module, loaded from its file (experiments/ holds
    scripts, not a package)."""

    def load(name: str):
        path = ROOT / "experiments" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture
def tiny_main_job() -> tuple[str, ...]:
    return TINY_MAIN_JOB


@pytest.fixture
def wandb_offline(monkeypatch, tmp_path):
    """W&B offline into tmp_path/wandb-home with no credentials, for this process and the
    processes it starts, and an empty data cache."""
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
    monkeypatch.setenv("WANDB_DISABLE_CODE", "true")
    monkeypatch.setenv("WANDB_X_DISABLE_STATS", "true")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("LSTM_TRITON_DATA", str(tmp_path / "empty-cache"))


@pytest.fixture
def train_cli(tmp_path):
    """train_cli(*overrides): `python experiments/train.py *overrides` from the repository root,
    as users run it, runs filed under tmp_path/logs; the finished process, output captured.
    The repository root is on PYTHONPATH so that a test-only callback can be added with
    +callbacks.<name>._target_=tests.<module>.<class>."""

    def run(*overrides: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [
                sys.executable,
                "experiments/train.py",
                *overrides,
                f"paths.log_dir={tmp_path / 'logs'}",
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=300,
        )

    return run


def finished_run_log(run_dir: Path, timeout_s: float = 30.0):
    """A W&B run folder's RunLog once W&B has written its exit record, which lands on disk
    just after wandb.finish() returns."""
    # Imported here: lstm_triton.tracking imports Lightning, which imports Triton, and Triton
    # must not be imported before TRITON_INTERPRET is set above.
    from lstm_triton.tracking import read_run_log

    deadline = time.monotonic() + timeout_s
    log = read_run_log(run_dir)
    while log.exit_code is None and time.monotonic() < deadline:
        time.sleep(0.05)
        log = read_run_log(run_dir)
    return log


@pytest.fixture
def finished_log():
    """finished_log(run_dir): the run's log once its exit record is on disk."""
    return finished_run_log


def wandb_run_folders(output_dir: Path) -> list[Path]:
    """The W&B run folders under a run's output folder, oldest first (named by start time)."""
    folders = [p for p in (output_dir / "wandb").glob("*run-*") if not p.is_symlink()]
    return sorted(folders, key=lambda p: p.name)


@pytest.fixture
def wandb_logs():
    """wandb_logs(output_dir): the finished logs of the W&B runs under output_dir/wandb, oldest
    first."""
    return lambda output_dir: [finished_run_log(f) for f in wandb_run_folders(output_dir)]


@pytest.fixture
def wandb_folders():
    """wandb_folders(output_dir): the W&B run folders under output_dir/wandb, oldest first."""
    return wandb_run_folders


PIPELINE_TESTS = ("data", "distributed", "pipeline", "sweeps")
"""Test folders of the experiment pipeline: they need the `experiments` extra."""
PIPELINE_MODULES = ("lightning", "torchmetrics", "torchdata", "hydra", "omegaconf", "wandb", "yaml")


class PipelinePackagesMissing(pytest.Collector):
    """A pipeline test folder where the `experiments` extra is not installed: one skip with the
    reason, instead of a collection error for every module (and its conftest) that imports it.
    Not a pytest.Directory, for which pytest would load the folder's conftest first."""

    missing: tuple[str, ...] = ()

    def collect(self):
        pytest.skip(
            f"{self.path.name}/ tests the experiment pipeline, which needs "
            f"{', '.join(self.missing)} (pip install 'lstm-triton[experiments]')"
        )


def pytest_collect_directory(path: Path, parent):
    if path.parent != ROOT / "tests" or path.name not in PIPELINE_TESTS:
        return None
    missing = tuple(name for name in PIPELINE_MODULES if importlib.util.find_spec(name) is None)
    if not missing:
        return None
    folder = PipelinePackagesMissing.from_parent(parent, name=path.name, path=path)
    folder.missing = missing
    return folder
