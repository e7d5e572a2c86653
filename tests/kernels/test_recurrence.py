"""Each Triton recurrence launcher against its plain-PyTorch twin in kernels/reference.py."""

from dataclasses import dataclass
from types import SimpleNamespace

import pytest
import torch

from lstm_triton.kernels import schedule
from lstm_triton.kernels.contract import Cell, activation_codes
from lstm_triton.kernels.lstm_backward import lstm_backward_recurrence
from lstm_triton.kernels.lstm_forward import lstm_forward_recurrence
from lstm_triton.kernels.reference import (
    lstm_backward_recurrence_reference,
    lstm_forward_recurrence_reference,
)
from lstm_triton.kernels.schedule import RESIDENT_DTYPES, RESIDENT_MAX_HIDDEN

SHAPES = [  # (T, B, H, D)
    (1, 1, 16, 1),
    (7, 3, 37, 2),
    (5, 70, 33, 1),
]
DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
OTHER_ACTIVATIONS = activation_codes(
    ("hard_sigmoid", "sigmoid", "relu", "hard_sigmoid", "identity")
)


@dataclass(frozen=True)
class Variant:
    state: bool = False
    lengths: bool = False
    peephole: bool = False
    other_activations: bool = False
    zoneout: str | None = None  # "masks" (training) or "expectation" (eval)
    resets: bool = False  # one direction only


VARIANTS = {
    "zero-state": Variant(),
    "h0c0": Variant(state=True),
    "lengths": Variant(lengths=True),
    "h0c0-lengths": Variant(state=True, lengths=True),
    "h0c0-lengths-peephole-activations": Variant(True, True, True, True),
    "h0c0-lengths-zoneout-masks": Variant(state=True, lengths=True, zoneout="masks"),
    "h0c0-peephole-zoneout-expectation": Variant(state=True, peephole=True, zoneout="expectation"),
}


def shape_id(shape):
    T, B, H, D = shape
    return f"T{T}-B{B}-H{H}-D{D}"


def make(shape, dtype, device, variant: Variant, seed=0):
    """gates, w, h0, c0, lengths and the Cell of a variant, with values exact in dtype."""
    T, B, H, D = shape
    g = torch.Generator().manual_seed(seed)
    cast = {"dtype": dtype, "device": device}
    gates = torch.randn(T, B, D * 4 * H, generator=g).to(**cast)
    w = (torch.randn(D, 4 * H, H, generator=g) / H**0.5).to(**cast)
    h0 = c0 = lengths = None
    if variant.state:
        h0, c0 = (torch.randn(D, B, H, generator=g).to(**cast) for _ in range(2))
    if variant.lengths:
        lengths = torch.randint(1, T + 1, (B,), generator=g, dtype=torch.int32).to(device)
        lengths[0] = T
    cell = {}
    if variant.peephole:
        cell["peephole"] = torch.randn(D, 3, H, generator=g).to(**cast)
    if variant.other_activations:
        cell["activations"] = OTHER_ACTIVATIONS
    if variant.zoneout == "masks":
        masks = (torch.rand(2, T, B, D, H, generator=g) < 0.3).to(device)
        cell["zoneout_h"], cell["zoneout_c"] = masks
    elif variant.zoneout == "expectation":
        cell["zoneout_h"], cell["zoneout_c"] = 0.3, 0.2
    return gates, w, h0, c0, lengths, Cell(**cell)


def make_resets(shape, device, seed=2) -> torch.Tensor:
    """(T, B) resets at a third of the steps, row 0's first step and the last row's last step
    among them."""
    T, B, _, D = shape
    assert D == 1, "resets have no meaning in reverse time"
    resets = torch.rand(T, B, generator=torch.Generator().manual_seed(seed)) < 0.3
    resets[0, 0] = resets[-1, -1] = True
    return resets.to(device)


def check_against_twins(shape, dtype, variant: Variant, device, close) -> None:
    """Forward, then backward, of the launchers against kernels/reference.py."""
    gates, w, h0, c0, lengths, cell = make(shape, dtype, device, variant)
    resets = None
    if variant.resets:
        resets = make_resets(shape, device)
        if h0 is not None:  # the kernels' contract at t = 0, which the layer keeps
            h0, c0 = (torch.where(resets[0].view(1, -1, 1), 0.0, state) for state in (h0, c0))
    gates_ref = gates.clone()
    y, c_seq = lstm_forward_recurrence(
        gates, w, h0, c0, lengths, keep_cell_states=True, cell=cell, resets=resets
    )
    y_ref, c_seq_ref = lstm_forward_recurrence_reference(
        gates_ref, w, h0, c0, lengths, keep_cell_states=True, cell=cell, resets=resets
    )
    close(y, y_ref, dtype, "y")
    close(c_seq, c_seq_ref, dtype, "c_seq")
    close(gates, gates_ref, dtype, "activated gates")

    g = torch.Generator().manual_seed(1)
    _, B, H, D = shape
    dy = torch.randn(y.shape, generator=g).to(y)
    dh_n = torch.randn(D, B, H, generator=g).to(y)
    dc_n = torch.randn(D, B, H, generator=g).to(y)
    got = lstm_backward_recurrence(
        dy, dh_n, dc_n, gates, c_seq, w, c0, lengths, cell=cell, resets=resets
    )
    want = lstm_backward_recurrence_reference(
        dy, dh_n, dc_n, gates_ref, c_seq_ref, w, c0, lengths, cell=cell, resets=resets
    )
    for name, value, expected in zip(("dgates", "dc0", "dh0 kept"), got, want, strict=True):
        close(value, expected, dtype, name)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_forward_and_backward_match_twins(
    shape, dtype, variant, kernel_device, close, poison_empty
):
    if kernel_device.type == "cpu" and dtype == torch.bfloat16:
        pytest.skip("Triton's interpreter multiplies bf16 blocks wrongly (tl.dot); GPU only")
    check_against_twins(shape, dtype, VARIANTS[variant], kernel_device, close)


RESET_SHAPES = [(6, 5, 19, 1), (1, 2, 16, 1)]
RESET_VARIANTS = {
    "h0c0-resets": Variant(state=True, resets=True),
    "h0c0-lengths-resets": Variant(state=True, lengths=True, resets=True),
    "h0c0-lengths-zoneout-masks-resets": Variant(True, True, zoneout="masks", resets=True),
    "peephole-activations-resets": Variant(peephole=True, other_activations=True, resets=True),
}


@pytest.mark.parametrize("variant", RESET_VARIANTS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16], ids=str)
@pytest.mark.parametrize("shape", RESET_SHAPES, ids=shape_id)
def test_resets_match_twins(shape, dtype, variant, kernel_device, close, poison_empty):
    """A row that resets starts the step from zeros and passes no gradient back through it."""
    check_against_twins(shape, dtype, RESET_VARIANTS[variant], kernel_device, close)


@pytest.mark.parametrize("variant", ["h0c0-lengths-resets", "h0c0-lengths-zoneout-masks-resets"])
def test_persistent_schedules_match_twins_with_resets(
    variant, kernel_device, close, poison_empty, persistent
):
    name, before = persistent
    shape = fitting(RESET_SHAPES[0], name, kernel_device)
    dtype = torch.float16 if kernel_device.type == "cuda" else torch.float32
    check_against_twins(shape, dtype, RESET_VARIANTS[variant], kernel_device, close)
    assert schedule.launched[name] == before + 2


@pytest.mark.parametrize("lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_inference_keeps_two_cell_slots(shape, lengths, kernel_device, poison_empty):
    gates, w, h0, c0, lengths, cell = make(
        shape, torch.float32, kernel_device, Variant(state=True, lengths=lengths)
    )
    y_kept, c_kept = lstm_forward_recurrence(
        gates.clone(), w, h0, c0, lengths, keep_cell_states=True, cell=cell
    )
    y, c_slots = lstm_forward_recurrence(gates, w, h0, c0, lengths, keep_cell_states=False)
    T = shape[0]
    assert c_slots.shape[0] == 2
    torch.testing.assert_close(y, y_kept, rtol=0, atol=0)
    torch.testing.assert_close(c_slots[(T - 1) % 2], c_kept[T - 1], rtol=0, atol=0)


@pytest.fixture(params=["persistent", "resident"])
def persistent(request):
    """Every recurrence of the test on one persistent schedule: (its name, its count of
    launches before)."""
    before = schedule.launched[request.param]
    schedule.use(request.param)
    yield request.param, before
    schedule.use(None)


def fitting(shape: tuple, name: str, device: torch.device) -> tuple:
    """shape (T, B, H, D), with H rounded up to a multiple of 16 for resident on a GPU, which
    takes no other (schedule.misfit)."""
    T, B, H, D = shape
    if name == "resident" and device.type == "cuda":
        return T, B, -(-H // 16) * 16, D
    return shape


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", SHAPES[1:], ids=shape_id)
def test_persistent_schedules_match_twins(
    shape, dtype, variant, kernel_device, close, poison_empty, persistent
):
    """On a GPU with the grid barrier between programs; in the interpreter, one program per
    direction (the barrier passes at once), which checks the loop over steps in one launch, and
    for resident the W tiles loaded once before it."""
    name, before = persistent
    if kernel_device.type == "cpu" and dtype == torch.bfloat16:
        pytest.skip("Triton's interpreter multiplies bf16 blocks wrongly (tl.dot); GPU only")
    if name == "resident" and kernel_device.type == "cuda" and dtype not in RESIDENT_DTYPES:
        pytest.skip(f"resident runs {RESIDENT_DTYPES} on the GPU; the refusal has its own test")
    check_against_twins(
        fitting(shape, name, kernel_device), dtype, VARIANTS[variant], kernel_device, close
    )
    assert schedule.launched[name] == before + 2


@pytest.mark.parametrize("hidden", [48, 208], ids=["H48-tail-split-apart", "H208-split-alike"])
def test_resident_k_tail_matches_twins(hidden, kernel_device, close, poison_empty, monkeypatch):
    """resident's backward K in two tiles (schedule.resident_k_tiles: 32 + 16, 128 + 128), each
    split over the warps; where both tiles split alike their parts are summed together. The
    forward's in one tile of 64 and in two of 128, the second past H (resident_forward_k_tiles,
    with Triton 3.6's largest tile, which on 3.9 takes H 208 in one)."""
    monkeypatch.setattr(schedule, "FORWARD_K_TILE_MOST", 128)
    block_k, tail = schedule.resident_k_tiles(hidden)
    assert tail > 0 and block_k + tail >= hidden
    forward_k, forward_tiles = schedule.resident_forward_k_tiles(hidden)
    assert forward_k * forward_tiles >= hidden > forward_k * (forward_tiles - 1)
    dtype = torch.float16 if kernel_device.type == "cuda" else torch.float32
    with schedule.restored():
        schedule.use("resident")
        check_against_twins(
            (4, 3, hidden, 2), dtype, VARIANTS["h0c0-lengths"], kernel_device, close
        )


@pytest.mark.gpu
@pytest.mark.parametrize(
    "name, dtype",
    [("persistent", torch.float32), ("persistent", torch.bfloat16), ("resident", torch.bfloat16)],
)
def test_persistent_barrier_holds_over_many_programs_and_steps(name, dtype, close, poison_empty):
    """Where the interpreter cannot look: dozens of programs per barrier group, hundreds of
    steps, both directions; the results agree with stepwise's to rounding."""
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    device = torch.device("cuda")
    sms = torch.cuda.get_device_properties(device).multi_processor_count
    if name == "persistent":
        # 2 batch blocks of 64 rows x 2 directions x (sms // 4) blocks of 32 units: the GPU.
        shape = (256, 128, 32 * (sms // 4), 2)
    else:
        # 1 batch block of 16 rows x 2 directions x H / 16 blocks of 16 units, H up to 1024.
        shape = (256, 16, min(RESIDENT_MAX_HIDDEN, 16 * (sms // 2)), 2)
    T, B, H, D = shape
    gates, w, h0, c0, lengths, _ = make(shape, dtype, device, Variant(state=True, lengths=True))
    dy, dh_n, dc_n = (
        torch.randn(size, device=device, dtype=dtype)
        for size in ((T, B, D * H), (D, B, H), (D, B, H))
    )

    def forward_backward():
        activated = gates.clone()
        y, c_seq = lstm_forward_recurrence(activated, w, h0, c0, lengths, keep_cell_states=True)
        dgates, dc0, _ = lstm_backward_recurrence(dy, dh_n, dc_n, activated, c_seq, w, c0, lengths)
        return {"y": y, "c_seq": c_seq, "dgates": dgates, "dc0": dc0}

    want = forward_backward()
    schedule.use(name)
    try:
        for _ in range(3):
            for output, value in forward_backward().items():
                close(value, want[output], dtype, output)
    finally:
        schedule.use(None)


@pytest.mark.parametrize("shape", SHAPES[1:], ids=shape_id)
def test_persistent_inference_keeps_two_cell_slots(shape, kernel_device, poison_empty, persistent):
    name, _ = persistent
    dtype = torch.float32
    if name == "resident" and kernel_device.type == "cuda":
        dtype = torch.float16  # resident's GPU rule: 16-bit weights
    gates, w, h0, c0, lengths, cell = make(
        fitting(shape, name, kernel_device), dtype, kernel_device, Variant(state=True, lengths=True)
    )
    y_kept, c_kept = lstm_forward_recurrence(
        gates.clone(), w, h0, c0, lengths, keep_cell_states=True, cell=cell
    )
    y, c_slots = lstm_forward_recurrence(gates, w, h0, c0, lengths, keep_cell_states=False)
    T = shape[0]
    torch.testing.assert_close(y, y_kept, rtol=0, atol=0)
    torch.testing.assert_close(c_slots[(T - 1) % 2], c_kept[T - 1], rtol=0, atol=0)


def test_an_unknown_schedule_is_refused(monkeypatch):
    with pytest.raises(
        ValueError, match="use: expected one of stepwise, persistent, resident, auto, got 'x'"
    ):
        schedule.use("x")
    monkeypatch.setenv(schedule.ENVIRONMENT_VARIABLE, "fast")
    with pytest.raises(ValueError, match=f"{schedule.ENVIRONMENT_VARIABLE}: expected one of"):
        schedule.requested()


@pytest.mark.gpu
def test_a_grid_beyond_the_sms_is_refused_persistent_and_runs_stepwise_on_auto(monkeypatch):
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    device = torch.device("cuda")
    sms = torch.cuda.get_device_properties(device).multi_processor_count
    hidden = 32 * (sms + 1)  # one program per 32 units, one batch tile: more programs than SMs
    monkeypatch.setenv(schedule.ENVIRONMENT_VARIABLE, "persistent")
    with pytest.raises(ValueError, match="SMs"):
        schedule.pick(4, hidden, 1, torch.float16, device)
    monkeypatch.setenv(schedule.ENVIRONMENT_VARIABLE, "auto")
    assert schedule.pick(4, hidden, 1, torch.float16, device) == "stepwise"
    assert schedule.pick(4, 256, 1, torch.float16, device) == "resident"
    assert schedule.pick(4, 256, 1, torch.float32, device) == "persistent"


@pytest.fixture
def h100(monkeypatch):
    """The schedule's view of an H100 without one: compiled kernels, 132 SMs, 227 KiB of
    shared memory a program."""
    properties = SimpleNamespace(multi_processor_count=132, shared_memory_per_block_optin=232448)
    monkeypatch.setattr(schedule, "INTERPRETED", False)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device: properties)
    return properties


@pytest.mark.parametrize(
    "batch, hidden, dtype, picked",
    [
        (16, 768, torch.float16, "resident"),
        (16, 1024, torch.bfloat16, "resident"),
        (16, 768, torch.float32, "persistent"),  # fp32 operands spill
        (16, 1000, torch.float16, "persistent"),  # H off the multiples of 16 spills
        (16, 2048, torch.float16, "persistent"),  # beyond H = 1024
        (256, 1024, torch.float16, "persistent"),  # 16 x 64 programs of 16 x 16 > 132 SMs
        (256, 2048, torch.float16, "stepwise"),  # 4 x 64 programs of 64 x 32 > 132 SMs
    ],
)
def test_auto_falls_back_from_resident_to_persistent_to_stepwise(
    batch, hidden, dtype, picked, h100, monkeypatch
):
    monkeypatch.setenv(schedule.ENVIRONMENT_VARIABLE, "auto")
    assert schedule.pick(batch, hidden, 1, dtype, torch.device("cuda")) == picked


def test_resident_refuses_what_spills_or_overflows_shared_memory(h100, monkeypatch):
    cuda = torch.device("cuda")
    monkeypatch.setenv(schedule.ENVIRONMENT_VARIABLE, "resident")
    with pytest.raises(ValueError, match=r"resident recurrence .* fp16 and bf16 only.*float32"):
        schedule.pick(16, 768, 1, torch.float32, cuda)
    with pytest.raises(ValueError, match=r"multiples of 16 up to 1024 .*got 1000"):
        schedule.pick(16, 1000, 1, torch.float16, cuda)
    h100.shared_memory_per_block_optin = 101376  # an sm_86/sm_89 part
    with pytest.raises(ValueError, match="197632 bytes of shared memory, the GPU has 101376"):
        schedule.pick(16, 1024, 1, torch.float16, cuda)
    # The backward's K in two tiles on 8 warps past 512, the forward's in tiles of 128 (Triton
    # 3.6) or 256 on 4.
    tile = schedule.FORWARD_K_TILE_MOST
    assert tile in (128, 256)
    assert schedule.tiling("resident", 16, 768) == schedule.Tiling(
        16, 16, 512, 8, 256, 4, tile, 768 // tile
    )
    assert schedule.tiling("resident", 64, 512) == schedule.Tiling(
        16, 16, 512, 4, 0, 4, tile, 512 // tile
    )
    assert schedule.tiling("resident", 16, 80)[-2:] == (128, 1)


def test_restored_puts_back_the_choice_of_use():
    schedule.use("auto")
    try:
        with schedule.restored():
            schedule.use("persistent")
            assert schedule.requested() == "persistent"
        assert schedule.requested() == "auto"
    finally:
        schedule.use(None)
