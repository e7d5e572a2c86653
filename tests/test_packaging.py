"""kernels/ ships as lstm_triton.kernels, and nothing installs a top-level `kernels`."""

import importlib.metadata
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def package_dirs() -> set[str]:
    """Every package in the checkout, as the installed path it must have."""
    found = set()
    for init in ROOT.glob("lstm_triton/**/__init__.py"):
        found.add(init.parent.relative_to(ROOT).as_posix())
    for init in ROOT.glob("kernels/**/__init__.py"):
        found.add("lstm_triton/" + init.parent.relative_to(ROOT).as_posix())
    return found


def test_wheel_maps_kernels_under_lstm_triton(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            tmp_path,
            ROOT,
        ],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("lstm_triton-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {
        name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")
    }
    assert top_level == {"lstm_triton"}
    modules = {name.rsplit("/", 1)[0] for name in names if name.endswith(".py")}
    assert package_dirs() <= modules, package_dirs() - modules
    assert "lstm_triton/kernels/lstm_forward.py" in names


def test_installed_package_resolves_kernels_from_anywhere(tmp_path):
    code = (
        "import importlib.util, lstm_triton.kernels.lstm_layer as m; "
        "print(m.__file__); print(importlib.util.find_spec('kernels'))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\n")
    assert Path(out[0]).parent.name == "kernels"
    assert out[1] == "None"


PIPELINE = ("lightning", "torchmetrics", "torchdata", "hydra", "omegaconf", "wandb", "matplotlib")


def test_the_core_requires_only_torch_triton_and_numpy():
    requirements = importlib.metadata.requires("lstm-triton")
    core = [r for r in requirements if "extra ==" not in r]
    names = {re.split(r"[ ;<>=!~\[]", r, maxsplit=1)[0] for r in core}
    assert names == {"torch", "triton", "numpy"}, core
    experiments = [r for r in requirements if 'extra == "experiments"' in r]
    names = {re.split(r"[ ;<>=!~\[]", r, maxsplit=1)[0] for r in experiments}
    assert names >= {"lightning", "torchmetrics", "torchdata", "hydra-core", "wandb", "matplotlib"}


def test_the_drop_in_the_benchmark_and_the_gpu_check_import_nothing_of_the_pipeline():
    code = (
        "import sys, runpy\n"
        "import lstm_triton, lstm_triton.bench.run, lstm_triton.bench.acceptance\n"
        "runpy.run_path('experiments/gpu_check.py', run_name='not_main')\n"
        "runpy.run_path('experiments/bench.py', run_name='not_main')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "TRITON_INTERPRET": "1"},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert not set(PIPELINE) & set(eval(loaded)), loaded
