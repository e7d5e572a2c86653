"""A bad sweep YAML fails before any trial starts, with the offending key in the message."""

import pytest
import yaml

pytest.importorskip("sweeps", reason="the `sweeps` extra (W&B's engine) is not installed")

COMMAND = ["${env}", "${interpreter}", "${program}", "experiment=char_stdlib", "${args_no_hyphens}"]


def sweep_yaml(tmp_path, parameters, **fields) -> str:
    config = {
        "program": "experiments/train.py",
        "method": "grid",
        "metric": {"name": "val/bpc", "goal": "minimize"},
        "parameters": parameters,
        "command": COMMAND,
        **fields,
    }
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


@pytest.mark.parametrize(
    ("parameters", "fields", "expected"),
    [
        ({"model.optimizer.lrr": {"values": [0.1]}}, {}, "['model.optimizer.lrr'] are not keys"),
        ({"modle": {"values": ["x"]}}, {}, "['modle'] are not keys"),
        (
            {"model.optimizer.lr": {"distribution": "log_uniform_valuez", "min": 1, "max": 2}},
            {"method": "random"},
            "parameters.model.optimizer.lr: ",
        ),
        (
            {"model.optimizer.lr": {"distribution": "uniform", "min": 0.1, "max": 0.01}},
            {"method": "random"},
            "parameters.model.optimizer.lr: model.optimizer.lr: min 0.1 is not less than max",
        ),
        (
            {"model": {"parameters": {"dropout": {"values": [0.1]}}}},
            {},
            "parameters.model: nested parameters are not supported",
        ),
        (
            {"model.optimizer.lr": {"distribution": "uniform", "min": 0.01, "max": 0.1}},
            {},
            "Parameter model.optimizer.lr is a disallowed type with grid search",
        ),
        ({"model.dropout": {"values": [0.1]}}, {"method": "hyperopt"}, "'hyperopt' is not one of"),
        ({"model.dropout": {"values": [0.1]}}, {"command": COMMAND[:-1]}, "${args_no_hyphens}"),
        (
            {"model.dropout": {"values": [0.1]}},
            {"command": [*COMMAND, "${args_json}"]},
            "macros ['${args_json}']",
        ),
        ({"model.dropout": {"values": [0.1]}}, {"method": "random"}, "give a count (--count N)"),
    ],
    ids=[
        "unknown-key",
        "unknown-group",
        "unknown-distribution",
        "min-above-max",
        "nested-parameters",
        "continuous-in-grid",
        "unknown-method",
        "no-parameters-macro",
        "unsupported-macro",
        "random-without-count",
    ],
)
def test_bad_sweep_fails_before_any_trial_naming_the_key(
    tmp_path, sweep_module, parameters, fields, expected
):
    path = sweep_yaml(tmp_path, parameters, **fields)
    with pytest.raises(ValueError) as error:
        sweep_module.main([path, f"paths.log_dir={tmp_path / 'logs'}"])
    assert expected in str(error.value)
    assert not (tmp_path / "logs").exists()


def test_sweep_without_a_wandb_logger_names_the_loggers_it_has(tmp_path, sweep_module):
    path = sweep_yaml(tmp_path, {"model.dropout": {"values": [0.1]}})
    with pytest.raises(ValueError, match=r"expected a W&B logger .* got loggers \['csv'\]"):
        sweep_module.main([path, "logger=csv", f"paths.log_dir={tmp_path / 'logs'}"])
