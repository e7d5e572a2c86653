"""The config tree: every preset and every group option composes, every _target_ imports, and
a wrong choice or key fails with Hydra's message listing what exists."""

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException, MissingConfigException
from hydra.utils import get_object
from omegaconf import OmegaConf

CONFIG_DIR = Path(__file__).resolve().parents[2] / "conf"
REQUIRED = {
    "char_text": ["data.corpus.path=/some/text.txt"],
    "forecast_csv": ["data.path=/some/series.csv", "data.target=OT"],
}


@pytest.fixture
def compose_config(tmp_path):
    def compose_with(*overrides: str):
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            return compose("train", overrides=[f"paths.output_dir={tmp_path}", *overrides])

    return compose_with


def targets(node) -> list[str]:
    """Every _target_ in a resolved config tree."""
    if isinstance(node, dict):
        found = [node["_target_"]] if "_target_" in node else []
        return found + [target for value in node.values() for target in targets(value)]
    if isinstance(node, list):
        return [target for value in node for target in targets(value)]
    return []


def test_every_preset_composes_resolves_and_imports(experiment, compose_config):
    cfg = compose_config(f"experiment={experiment}", *REQUIRED.get(experiment, []))
    tree = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    for target in targets(tree):
        assert callable(get_object(target)), target
    assert tree["optimized_metric"].startswith("val/")
    assert tree["optimized_mode"] in ("min", "max")
    assert tree["callbacks"]["model_checkpoint"]["monitor"] == tree["optimized_metric"]
    assert tree["model"]["lstm"]["backend"] == "auto"


def test_the_default_config_is_the_main_job(compose_config):
    assert compose_config() == compose_config("experiment=char_stdlib")


@pytest.mark.parametrize(
    "override",
    [
        "trainer=cpu",
        "trainer=gpu",
        "trainer=ddp",
        "logger=csv",
        "logger=none",
        "logger=wandb_csv",
        "callbacks=none",
        "debug=fast_dev_run",
        "debug=smoke",
        "debug=overfit",
        "debug=profiler",
        "model.lstm.backend=triton",
    ],
)
def test_group_options_compose(override, compose_config):
    tree = OmegaConf.to_container(compose_config(override), resolve=True)
    for target in targets(tree):
        assert callable(get_object(target)), target


def test_logger_none_drops_the_lr_monitor(compose_config):
    cfg = compose_config("logger=none")
    assert cfg.logger is None and cfg.callbacks.lr_monitor is None


@pytest.mark.parametrize(
    ("override", "listed"),
    [
        ("experiment=no_such_preset", ["Available options in 'experiment'", "char_stdlib"]),
        ("data=no_such_data", ["Available options in 'data'", "tiny_shakespeare", "ett"]),
        ("trainer=tpu_pod", ["Available options in 'trainer'", "ddp"]),
    ],
)
def test_unknown_choice_lists_the_valid_ones(override, listed, compose_config):
    with pytest.raises(MissingConfigException) as error:
        compose_config(override)
    for text in listed:
        assert text in str(error.value)


def test_unknown_key_is_refused(compose_config):
    with pytest.raises(ConfigCompositionException, match=r"Could not override 'model\.hiden_size'"):
        compose_config("model.hiden_size=3")


def test_etth1_multivariate_is_etth1_with_features_m_and_lr_1e_3(compose_config):
    preset = compose_config("experiment=etth1_multivariate")
    overridden = compose_config(
        "experiment=etth1",
        "data.features=M",
        "model.optimizer.lr=0.001",
        "tags=[forecasting,ETTh1,multivariate]",
    )
    assert preset == overridden


def test_etth1_168_is_etth1_at_horizon_168_with_lr_1e_3(compose_config):
    preset = compose_config("experiment=etth1_168")
    overridden = compose_config("experiment=etth1", "data.horizon=168", "model.optimizer.lr=0.001")
    assert preset == overridden
