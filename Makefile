# Two commands set up a fresh machine and run everything: `make train` and `make test`.
# TORCH_SPEC picks the torch build. With an NVIDIA GPU, a bare `torch`: PyPI's newest (CUDA)
# build. Without one, torch==2.13.0, whose CPU build is on disk offline here (a bare `torch`
# would pull gigabytes of CUDA libraries); CI pins it explicitly.
PYTHON ?= python3
TORCH_SPEC ?= $(if $(shell command -v nvidia-smi 2>/dev/null),torch,torch==2.13.0)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# The suite in TEST_WORKERS processes (pytest-xdist), a test file each at a time, so that a
# file's module fixtures (a compile, a benchmark run) are built once: CI has 2 cores.
TEST_WORKERS ?= 2
XDIST := -n $(TEST_WORKERS) --dist loadfile
# test-compat: the kernels and modules in a venv of their own on the oldest Triton the GPU image
# runs (3.6), with the project's core dependencies only. The CPU torch: a CUDA build pins its own
# Triton. Triton 3.6's interpreter fails on numpy >= 2.4.
COMPAT_VENV ?= .venv-compat
COMPAT_BIN := $(COMPAT_VENV)/bin
COMPAT_STAMP := $(COMPAT_VENV)/.installed
COMPAT_SPECS ?= torch==2.13.0 triton==3.6.0 "numpy<2.4" pytest pytest-xdist

.PHONY: install train test test-compat test-gpu gpu-check lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "$(TORCH_SPEC)"
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

train: $(STAMP)
	$(BIN)/python experiments/train.py $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

$(COMPAT_STAMP): pyproject.toml
	$(PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_BIN)/pip install --quiet --disable-pip-version-check $(COMPAT_SPECS)
	$(COMPAT_BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $(COMPAT_STAMP)

# tests/kernels/test_compile_for_gpu.py runs compile_for_gpu.py 90 (sm_90 cubins) among them.
test-compat: $(COMPAT_STAMP)
	$(COMPAT_BIN)/python -m pytest $(XDIST) tests/kernels tests/modules $(PYTEST_ARGS)

test-gpu: $(STAMP)
	$(BIN)/python -m pytest -m gpu $(PYTEST_ARGS)

# The GPU acceptance run (experiments/gpu_check.py) on a GPU machine without network: the
# image's own python3, torch and triton, the project installed from the checkout with no
# registry; files to $OUT/gpu-check where the device tool sets OUT, else ./gpu-check.
GPU_CHECK_OUT ?= $(if $(OUT),$(OUT)/gpu-check,gpu-check)
gpu-check:
	$(PYTHON) -m pip install --quiet --no-deps --no-build-isolation --no-index -e .
	$(PYTHON) experiments/gpu_check.py --out $(GPU_CHECK_OUT) $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python experiments/bench.py $(ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
