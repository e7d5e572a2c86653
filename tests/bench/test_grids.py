"""The grids hold issue 5's shapes (and issue 13's cells); selection by name, each config once;
each grid's default providers."""

import pytest

from lstm_triton.bench.grids import GRID_PROVIDERS, GRIDS, select_configs
from lstm_triton.bench.providers import PROVIDERS, default_providers, get_providers


def sizes(grid, *fields):
    return [tuple(getattr(config, field) for field in fields) for config in GRIDS[grid]]


def test_grids_are_the_issues_shapes():
    assert sizes("main", "batch", "seq_len", "hidden") == [
        (16, 1024, h) for h in (256, 512, 768, 1024, 2048)
    ]
    assert sizes("batch", "batch") == [(b,) for b in (1, 8, 16, 64, 128, 256)]
    assert sizes("seq", "seq_len", "hidden") == [(t, 768) for t in (128, 512, 2048)]
    assert sizes("bidir", "num_layers", "bidirectional", "hidden") == [(2, True, 512)]
    assert all(config.varlen for config in GRIDS["varlen"])
    deepbench = GRIDS["deepbench"]
    assert {c.hidden for c in deepbench} <= {256, 512, 1024, 1536, 2048}
    assert min(c.batch for c in deepbench) == 16 and max(c.batch for c in deepbench) == 128
    assert {c.seq_len for c in deepbench} == {25, 50, 150}
    cells = [(16, 128, 256), (64, 128, 512), (64, 128, 1024)]
    assert sizes("cells", "batch", "seq_len", "hidden") == cells
    for config in (c for name, configs in GRIDS.items() if name != "tiny" for c in configs):
        assert config.input_size == config.hidden


def test_all_is_every_grid_but_tiny_each_config_once():
    selected = select_configs(["all"])
    configs = [config for _, config in selected]
    assert len(configs) == len(set(configs))
    assert {grid for grid, _ in selected} == set(GRIDS) - {"tiny"}
    assert select_configs(["main", "batch"], quick=True) == [
        ("main", GRIDS["main"][0]),
        ("batch", GRIDS["batch"][0]),
    ]


def test_configs_are_chosen_by_exact_id():
    small, middle, _ = GRIDS["cells"]
    assert select_configs(["cells"], ids=[middle.id, small.id]) == [
        ("cells", small),
        ("cells", middle),
    ]
    with pytest.raises(
        ValueError, match=r"unknown config 'B16-T128'; the grids hold B16-T128-I256"
    ):
        select_configs(["cells"], ids=["B16-T128"])


def test_the_cells_grid_times_torchs_cells_and_ours_the_others_every_lstm():
    assert default_providers("cells") == ["rnn_tanh", "gru", "native", "reference", "triton"]
    lstm = ["native", "triton", "reference", "loop", "loop_compiled"]
    assert all(default_providers(grid) == lstm for grid in GRIDS if grid not in GRID_PROVIDERS)
    cells = [PROVIDERS[name].cell for name in ("native", "gru", "rnn_tanh")]
    assert cells == ["lstm", "gru", "rnn_tanh"]  # each gate's truth


def test_unknown_names_raise_value_error_listing_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown grid 'huge'; expected one of all, main, batch"):
        select_configs(["huge"])
    with pytest.raises(
        ValueError, match=r"'cudnn'.*native, triton, reference, loop, loop_compiled"
    ):
        get_providers(["cudnn"])
    for near in ("GRU", "rnn", "gru_cudnn", "lstm"):  # exact names: no case, prefix or alias
        with pytest.raises(ValueError, match=f"unknown provider '{near}'"):
            get_providers([near])
