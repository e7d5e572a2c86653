"""Named grids of LSTM problem sizes: the shapes of issue 5's benchmark, issue 13's cells and
issue 16's rollouts with episode resets."""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Config:
    """One problem: input (T, B, I) into num_layers layers of hidden size H, with bias.

    varlen: the batch's sequence lengths are uniform in [T/4, T] (torch gets a PackedSequence).
    reset_rate: each row's episode ends at each step with this probability (Case.resets, drawn
    from the case's seed), as in a reinforcement-learning rollout; 0 for none.
    """

    batch: int
    seq_len: int
    hidden: int
    input_size: int
    num_layers: int = 1
    bidirectional: bool = False
    varlen: bool = False
    reset_rate: float = 0.0

    @property
    def id(self) -> str:
        parts = [f"B{self.batch}", f"T{self.seq_len}", f"I{self.input_size}"]
        parts += [f"H{self.hidden}", f"L{self.num_layers}"]
        flags = {
            "bidir": self.bidirectional,
            "varlen": self.varlen,
            f"resets{self.reset_rate:g}": self.reset_rate > 0,
        }
        return "-".join(parts + [name for name, on in flags.items() if on])


def _square(batch: int, seq_len: int, hidden: int, **options) -> Config:
    """input_size = hidden, as in the issue's reference numbers and in DeepBench."""
    return Config(batch, seq_len, hidden, hidden, **options)


# DeepBench's training-set LSTMs (baidu-research/DeepBench, code/kernels/rnn_problems.h) as
# (hidden, batch, steps), without H = 4096 and B = 8: the issue asks for H up to 2048 and B from
# 16. Its T = 150 rows have H = 256, kept so the grid spans the T range of 25-150.
_DEEPBENCH = [(h, b, 25) for h in (512, 1024, 2048) for b in (16, 32, 64, 128)]
_DEEPBENCH += [(1536, 16, 50), (1536, 32, 50), (256, 16, 150), (256, 32, 150), (256, 64, 150)]

GRIDS: dict[str, tuple[Config, ...]] = {
    "main": tuple(_square(16, 1024, h) for h in (256, 512, 768, 1024, 2048)),
    "batch": tuple(_square(b, 1024, 768) for b in (1, 8, 16, 64, 128, 256)),
    "seq": tuple(_square(16, t, 768) for t in (128, 512, 2048)),
    "bidir": (_square(16, 1024, 512, num_layers=2, bidirectional=True),),
    "varlen": tuple(_square(b, 1024, 768, varlen=True) for b in (16, 64)),
    "deepbench": tuple(_square(b, t, h) for h, b, t in _DEEPBENCH),
    # What torch's RNN, GRU and LSTM cost at one hidden size, whose step GEMMs are 1, 3 and 4
    # gates wide: a small, a middle and a large layer.
    "cells": (_square(16, 128, 256), _square(64, 128, 512), _square(64, 128, 1024)),
    # Recurrent PPO's rollouts: T = 128 steps of B environments (CleanRL's ppo_atari_lstm:
    # 8 of them, H = 128), more environments and wider cells, episodes ending at a 1/100 rate.
    "resets": tuple(
        _square(b, 128, h, reset_rate=0.01) for b in (8, 64, 512) for h in (128, 256, 512)
    ),
    # Plumbing check on CPU (tests, --device cpu): odd tiny sizes, every feature once.
    "tiny": (
        Config(2, 4, 8, 5),
        Config(3, 3, 8, 5, num_layers=2, bidirectional=True),
        Config(3, 5, 8, 5, varlen=True),
    ),
}
ALL = "all"
"""Every grid but tiny, each config once."""
GRID_PROVIDERS: dict[str, tuple[str, ...]] = {
    "cells": ("rnn_tanh", "gru", "native", "reference", "triton"),
    # torch.nn.LSTM without the resets (one call: the ceiling), with them one step a call (what
    # recurrent RL code runs today), and ours: the segments between resets, the reference and
    # the kernels.
    "resets": ("native", "native_per_step", "native_segments", "reference", "triton"),
}
"""Grids that time their own providers unless told otherwise (the others: LSTM_PROVIDERS)."""
LSTM_PROVIDERS = ("native", "triton", "reference", "loop", "loop_compiled")
"""What the other grids time: every LSTM implementation but the two of the resets grid, which
without resets are torch.nn.LSTM again (one step a call, or in one segment)."""


def grid_names() -> tuple[str, ...]:
    return (ALL, *GRIDS)


def select_configs(
    names: Sequence[str], *, quick: bool = False, ids: Sequence[str] | None = None
) -> list[tuple[str, Config]]:
    """(grid name, config) for the named grids, each config once; quick keeps each grid's first,
    ids (Config.id, exactly) only those configs.

    Raises ValueError naming the valid grids, or configs, when a name is unknown.
    """
    unknown = [name for name in names if name not in grid_names()]
    if unknown:
        raise ValueError(
            f"unknown grid {', '.join(map(repr, unknown))}; expected one of "
            f"{', '.join(grid_names())}"
        )
    expanded = []
    for name in names:
        expanded += [grid for grid in GRIDS if grid != "tiny"] if name == ALL else [name]
    selected: dict[Config, str] = {}
    for name in expanded:
        configs = GRIDS[name][:1] if quick else GRIDS[name]
        for config in configs:
            selected.setdefault(config, name)
    if ids is not None:
        known = [config.id for config in selected]
        unknown = [i for i in ids if i not in known]
        if unknown or not ids:
            what = f"unknown config {', '.join(map(repr, unknown))}" if unknown else "no config"
            raise ValueError(f"{what}; the grids hold {', '.join(known)}")
        selected = {config: name for config, name in selected.items() if config.id in ids}
    return [(name, config) for config, name in selected.items()]
