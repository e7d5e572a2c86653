"""A W&B sweep YAML, checked before any trial starts: W&B's own schema (the validator `wandb
sweep` runs), a command that hands the parameters to the Hydra entry point, and parameter names
that are keys of the training config that command composes.

Parameters are flat dotted Hydra keys (model.optimizer.lr), each a W&B parameter spec; W&B's
nested form (parameters inside a parameter) would reach Hydra as one dict-valued override.
"""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import InterpolationResolutionError

from lstm_triton.sweeps.engine import SweepConfig, sweeps

# The macros an offline trial expands as the W&B agent does (plus ${envvar:NAME}); the others
# (${args}, ${args_json}, ...) pass parameters in forms Hydra does not parse.
PARAMETERS_MACRO = "${args_no_hyphens}"
PROGRAM_MACRO = "${program}"
MACROS = ("${env}", "${interpreter}", PROGRAM_MACRO, PARAMETERS_MACRO)

_ABSENT = object()


def _violations(config: Mapping[str, Any]) -> list[str]:
    return sweeps.schema_violations_from_proposed_config(dict(config))


def check_schema(config: Mapping[str, Any]) -> None:
    """Raises ValueError listing what W&B's sweep-config schema rejects, each parameter's
    problems under its own name (the schema's messages alone do not name it)."""
    parameters = config.get("parameters")
    if not isinstance(parameters, Mapping) or not parameters:
        raise ValueError(
            f"a sweep needs `parameters`: a mapping of Hydra keys to W&B parameter specs, "
            f"got {parameters!r}"
        )
    problems = []
    for name, spec in parameters.items():
        if isinstance(spec, Mapping) and "parameters" in spec:
            problems.append(
                f"parameters.{name}: nested parameters are not supported; name each one by its "
                f"dotted Hydra key ({name}.<key>)"
            )
            continue
        # Alone, under a method that takes every kind of parameter: what is wrong with the spec.
        alone = {"method": "random", "parameters": {name: spec}}
        problems += [f"parameters.{name}: {message}" for message in _violations(alone)]
    if not problems:
        problems = _violations(config)
    if problems:
        raise ValueError("invalid sweep config:\n  " + "\n  ".join(problems))


def check_command(config: Mapping[str, Any]) -> None:
    """Raises ValueError unless `program` is set and `command` passes the parameters to it as
    Hydra overrides (${args_no_hyphens}) with no macro an offline trial cannot expand."""
    if not config.get("program"):
        raise ValueError("a sweep needs `program`: the Hydra entry point, experiments/train.py")
    command = config.get("command")
    if not isinstance(command, list) or PARAMETERS_MACRO not in command:
        raise ValueError(
            f"`command` must pass the parameters to the Hydra entry point as {PARAMETERS_MACRO}, "
            f"e.g. [${{env}}, ${{interpreter}}, ${{program}}, {PARAMETERS_MACRO}]; got {command!r}"
        )
    unknown = [
        token
        for token in map(str, command)
        if token.startswith("${") and token not in MACROS and not token.startswith("${envvar:")
    ]
    if unknown:
        raise ValueError(
            f"`command` uses macros {unknown}; expected only {list(MACROS)} or ${{envvar:NAME}}"
        )


def load_sweep_config(path: str | os.PathLike) -> SweepConfig:
    """The sweep YAML at `path`, checked (schema, command, and a first proposal of the engine,
    which refuses what a method cannot search, e.g. a continuous parameter in a grid) and
    filled with W&B's defaults."""
    config = yaml.safe_load(Path(path).read_text())
    if not isinstance(config, dict):
        raise TypeError(f"{path}: expected a YAML mapping (a W&B sweep config), got {config!r}")
    check_schema(config)
    check_command(config)
    filled = SweepConfig(config)
    sweeps.next_run(filled, [])
    return filled


def fixed_overrides(command: list[Any]) -> list[str]:
    """The command's own Hydra overrides: the literal arguments after ${program}."""
    after_program = command[command.index(PROGRAM_MACRO) + 1 :] if PROGRAM_MACRO in command else []
    return [str(token) for token in after_program if not str(token).startswith("${")]


def has_key(cfg: DictConfig, name: str) -> bool:
    """Whether the dotted key `name` is in cfg (a value that only Hydra's runtime can resolve,
    such as ${hydra:runtime.output_dir}, is there too)."""
    try:
        return OmegaConf.select(cfg, name, default=_ABSENT) is not _ABSENT
    except InterpolationResolutionError:
        return True


def check_training_config(config: Mapping[str, Any], cfg: DictConfig) -> None:
    """Raises ValueError when a parameter is neither a key of the composed training config `cfg`
    nor a config group (experiment, model, ...), or when cfg logs to no W&B run (an offline
    sweep reads each trial's result back from its W&B run)."""
    groups = cfg.hydra.runtime.choices if "hydra" in cfg else {}
    unknown = [
        name for name in config["parameters"] if name not in groups and not has_key(cfg, name)
    ]
    if unknown:
        raise ValueError(
            f"sweep parameters {unknown} are not keys of the training config (expected dotted "
            f"Hydra keys such as model.optimizer.lr, or config groups such as experiment)"
        )
    if not has_key(cfg, "logger.wandb"):
        raise ValueError(
            f"an offline sweep reads each trial's result from its W&B run: expected a W&B logger "
            f"(logger=wandb or logger=wandb_csv), got loggers {list(cfg.get('logger') or {})}"
        )
