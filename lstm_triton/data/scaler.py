"""Per-column standardisation, fitted on the training rows only (no peeking at val/test)."""

import numpy as np
import torch


class StandardScaler:
    """x -> (x - mean) / std per column, with mean and std (C,) of the rows it was fitted on
    (population std; a constant column keeps std 1 so it maps to 0 rather than to nan)."""

    def __init__(self, mean: np.ndarray, std: np.ndarray) -> None:
        self.mean = np.asarray(mean, dtype=np.float64)
        self.std = np.asarray(std, dtype=np.float64)

    @classmethod
    def fit(cls, values: np.ndarray) -> "StandardScaler":
        """Fit on values (N, C)."""
        std = values.std(axis=0)
        return cls(values.mean(axis=0), np.where(std > 0, std, 1.0))

    def transform(self, values: np.ndarray) -> np.ndarray:
        """values (..., C) -> standardised (..., C)."""
        return (values - self.mean) / self.std

    def inverse_transform(
        self, values: torch.Tensor | np.ndarray, columns: list[int] | None = None
    ) -> torch.Tensor | np.ndarray:
        """Standardised (..., K) -> original units, K = len(columns) (default: all C columns).
        Takes and returns a torch.Tensor (keeping its dtype and device) or a numpy array."""
        index = slice(None) if columns is None else columns
        mean, std = self.mean[index], self.std[index]
        if isinstance(values, torch.Tensor):
            mean = torch.as_tensor(mean, dtype=values.dtype, device=values.device)
            std = torch.as_tensor(std, dtype=values.dtype, device=values.device)
        if values.shape[-1] != len(mean):
            raise ValueError(
                f"values must have {len(mean)} columns in the last dimension, got shape "
                f"{tuple(values.shape)}"
            )
        return values * std + mean
