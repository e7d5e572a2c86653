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
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
# cuBLAS refuses torch.use_deterministic_algorithms(True) without a fixed workspace; the
# determinism tests set that mode.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


@dataclass(frozen=True)
class Tolerance:
    atol: float  # relative to the largest magnitude of the expected tensor (at least 1)
    rtol: float


# Errors against torch.nn.LSTM run in float64 on the same weights and inputs.
# float64: only summation order differs (unit roundoff 1.1e-16; sums of < 10^4 terms).
# float32: unit roundoff 6e-8; GEMM and recurrence sums of up to 4H*T*B ~ 10^4 terms give
#   errors up to ~1e-6 at scale 1 (5e-7 seen on CPU), so 1e-5 leaves margin while a wrong
#   gate, sign or step is off by > 1e-2.
# float16 / bfloat16: h, the gate cache and dz are rounded to the dtype every step (as cuDNN
#   does; the cell state stays fp32), i.e. about ten roundings of unit roundoff u (4.9e-4 for
#   fp16, 3.9e-3 for bf16) along the longest chain of a 3-layer, 7-step case: 10u, rounded up
#   (fp16 on CPU: 1e-3 seen, the same as the reference backend's own error).
TOLERANCES = {
    torch.float64: Tolerance(atol=1e-10, rtol=1e-10),
    torch.float32: Tolerance(atol=1e-5, rtol=1e-5),
    torch.float16: Tolerance(atol=5e-3, rtol=5e-3),
    torch.bfloat16: Tolerance(atol=4e-2, rtol=4e-2),
}


def assert_close(actual: torch.Tensor, expected: torch.Tensor, dtype: torch.dtype, what: str):
    """actual (any dtype) against expected (float64 truth) with the table's tolerance."""
    tol = TOLERANCES[dtype]
    expected = expected.detach().double().cpu()
    scale = max(1.0, expected.abs().max().item()) if expected.numel() else 1.0
    torch.testing.assert_close(
        actual.detach().double().cpu(),
        expected,
        atol=tol.atol * scale,
        rtol=tol.rtol,
        msg=lambda detail: f"{what} ({dtype}): {detail}",
    )


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


ROOT = Path(__file__).resolve().parents[1]

TINY_MAIN_JOB = (
    "debug=smoke",
    "data.corpus.max_chars=20000",
    "data.bptt=8",
    "model.embedding_dim=8",
    "model.lstm.hidden_size=8",
    "model.lstm.backend=native",
    "callbacks.text_samples.num_tokens=5",
    "callbacks.rich_progress_bar=null",
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
