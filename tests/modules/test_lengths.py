"""Variable length: padded input with lengths, and PackedSequence in and out, on every backend."""

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

import lstm_triton

LENGTHS = (5, 2, 7, 1)


def models(backend: str, device, **kwargs):
    torch.manual_seed(0)
    ours = lstm_triton.LSTM(3, 6, backend=backend, **kwargs).to(device)
    theirs = torch.nn.LSTM(3, 6, **kwargs).to(device)
    theirs.load_state_dict(ours.state_dict())
    return ours, theirs


@pytest.mark.parametrize("backend", ["reference", "triton", "native"])
def test_padded_steps_are_exactly_zero_in_output_and_input_gradient(backend, backend_device):
    ours, _ = models(backend, backend_device, num_layers=2, bidirectional=True)
    x = torch.randn(7, 4, 3, device=backend_device, requires_grad=True)
    y, _ = ours(x, lengths=torch.tensor(LENGTHS))
    y.pow(2).sum().backward()
    for b, length in enumerate(LENGTHS):
        assert (y[length:, b] == 0).all()
        assert (x.grad[length:, b] == 0).all()
        assert (x.grad[:length, b] != 0).any()


@pytest.mark.parametrize("enforce_sorted", [True, False], ids=["sorted", "unsorted"])
@pytest.mark.parametrize("backend", ["reference", "triton", "native"])
def test_packed_sequence_in_and_out_as_torch(backend, enforce_sorted, backend_device):
    ours, theirs = models(backend, backend_device, bidirectional=True, batch_first=True)
    lengths = torch.tensor(sorted(LENGTHS, reverse=True) if enforce_sorted else LENGTHS)
    x = torch.randn(4, 7, 3, device=backend_device)
    state = tuple(torch.randn(2, 4, 6, device=backend_device) for _ in range(2))
    results = []
    for model in (ours, theirs):
        data = x.clone().requires_grad_()
        packed = pack_padded_sequence(
            data, lengths, batch_first=True, enforce_sorted=enforce_sorted
        )
        out, (h_n, c_n) = model(packed, state)
        (out.data.sum() + h_n.sum()).backward()
        results.append((out, h_n, c_n, data.grad))
    (out, h_n, c_n, grad), (want, h_want, c_want, grad_want) = results
    assert torch.equal(out.batch_sizes, want.batch_sizes)
    for index in ("sorted_indices", "unsorted_indices"):
        got_index, want_index = getattr(out, index), getattr(want, index)
        assert (got_index is None and want_index is None) or torch.equal(got_index, want_index)
    for got, expected in ((out.data, want.data), (h_n, h_want), (c_n, c_want), (grad, grad_want)):
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_lengths_on_the_input_device_are_accepted(device):
    ours, _ = models("reference", device)
    x = torch.randn(7, 4, 3, device=device)
    on_cpu, _ = ours(x, lengths=list(LENGTHS))
    on_device, _ = ours(x, lengths=torch.tensor(LENGTHS, device=device))
    torch.testing.assert_close(on_cpu, on_device, rtol=0, atol=0)


@pytest.mark.parametrize(
    ("lengths", "error", "message"),
    [
        ((5, 2, 8, 1), ValueError, r"lengths must be <= T=7, the input's steps, got 8"),
        ((5, 0, 7, 1), ValueError, r"lengths must be >= 1 .*got 0"),
        ((5, -2, 7, 1), ValueError, r"lengths must be >= 1 .*got -2"),
        ((5, 2, 7), ValueError, r"lengths must have shape \(4,\).*got \(3,\)"),
        (torch.tensor([5.0, 2, 7, 1]), TypeError, r"lengths must be integers, got torch.float32"),
        (torch.tensor(LENGTHS, device="meta"), ValueError, r"lengths must be on the cpu or on"),
        ("5,2,7,1", TypeError, r"lengths must be a tensor or a list of ints, got str"),
    ],
    ids=["too-long", "zero", "negative", "count", "float", "device", "string"],
)
def test_bad_lengths(lengths, error, message):
    ours, _ = models("reference", "cpu")
    with pytest.raises(error, match=message):
        ours(torch.randn(7, 4, 3), lengths=lengths)


def test_lengths_need_batched_input_and_not_a_packed_sequence():
    ours, _ = models("reference", "cpu")
    with pytest.raises(ValueError, match=r"lengths needs a batched input"):
        ours(torch.randn(7, 3), lengths=[7])
    packed = pack_padded_sequence(torch.randn(7, 4, 3), torch.tensor(LENGTHS), enforce_sorted=False)
    with pytest.raises(ValueError, match=r"lengths are given by the PackedSequence"):
        ours(packed, lengths=LENGTHS)


@pytest.mark.parametrize("backend", ["reference", "native"])
def test_packed_sequence_with_wrong_feature_size_or_state(backend):
    ours, _ = models(backend, "cpu")
    packed = pack_padded_sequence(torch.randn(7, 4, 5), torch.tensor(LENGTHS), enforce_sorted=False)
    with pytest.raises(
        ValueError, match=r"PackedSequence.data must have shape \(N, input_size=3\)"
    ):
        ours(packed)
    packed = pack_padded_sequence(torch.randn(7, 4, 3), torch.tensor(LENGTHS), enforce_sorted=False)
    with pytest.raises(ValueError, match=r"h0 must have shape \(1, 4, 6\)"):
        ours(packed, (torch.zeros(1, 3, 6), torch.zeros(1, 3, 6)))


@pytest.mark.parametrize("backend", ["reference", "triton"])
def test_strided_lengths_read_as_their_values(backend, backend_device):
    ours, _ = models(backend, backend_device)
    x = torch.randn(7, 4, 3, device=backend_device)
    every_other = torch.tensor([5, 0, 2, 0, 7, 0, 1, 0], dtype=torch.int32, device=backend_device)[
        ::2
    ]
    assert not every_other.is_contiguous()
    strided, _ = ours(x, lengths=every_other)
    dense, _ = ours(x, lengths=every_other.contiguous())
    torch.testing.assert_close(strided, dense, rtol=0, atol=0)


@pytest.mark.gpu
def test_lengths_on_the_gpu_cost_no_synchronisation():
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    ours, _ = models("triton", "cuda")
    x = torch.randn(7, 4, 3, device="cuda")
    lengths = torch.tensor(LENGTHS, device="cuda")
    ours(x, lengths=lengths)  # compiles the kernels first
    torch.cuda.set_sync_debug_mode("error")
    try:
        ours(x, lengths=lengths)
    finally:
        torch.cuda.set_sync_debug_mode("default")
