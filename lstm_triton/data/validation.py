"""Argument checks shared by the data modules: one error naming what was expected and what came."""

from collections.abc import Sequence


def check_choice(value: object, choices: Sequence[str], name: str) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def check_positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int >= 1, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value}")
    return value


def check_fractions(fractions: Sequence[float], name: str) -> tuple[float, ...]:
    """Fractions in [0, 1) with a sum below 1, so that what is left for training is not empty."""
    values = tuple(float(fraction) for fraction in fractions)
    if any(not 0.0 <= value < 1.0 for value in values) or sum(values) >= 1.0:
        raise ValueError(
            f"{name} must be fractions in [0, 1) whose sum is below 1, got {list(fractions)}"
        )
    return values
