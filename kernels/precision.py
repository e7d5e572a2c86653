"""Numeric contract of the kernels, shared with the reference backend (no Triton needed)."""

import torch


def accumulator_dtype(dtype: torch.dtype) -> torch.dtype:
    """Cell state and sums: fp32 for every input dtype, fp64 for fp64 (gradcheck)."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def dot_precision(dtype: torch.dtype) -> str:
    """fp32 products follow torch's own switch: IEEE unless the user allowed TF32."""
    if dtype == torch.float32 and torch.get_float32_matmul_precision() != "highest":
        return "tf32"
    return "ieee"
