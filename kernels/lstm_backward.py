"""Backward recurrence of one LSTM layer, all directions, one fused launch per step.

Steps run in reverse step order s = T-1..0 (time t = s for direction 0, T-1-s for direction 1;
"next" is the step s+1, processed by the previous launch). With the activated gates i, f, g, o
and cell states saved by the forward (see lstm_forward):

    dh    = dy_t + dz_next W_hh                 (dh_n instead of dz_next W_hh at s = T-1)
    tc    = tanh(c_t)
    do    = dh * tc * o (1 - o)
    dc    = dc_next + dh * o (1 - tc^2)         (dc_n at s = T-1)
    di    = dc * g * i (1 - i)
    df    = dc * c_prev * f (1 - f)
    dg    = dc * i (1 - g^2)
    dz_t  = [di | df | dg | do]                 gradient of the gate pre-activations
    dc_prev = dc * f

A program owns BLOCK_B batch rows x BLOCK_H hidden units of one direction; dz_next W_hh needs
the whole dz_next row written by the previous launch. Weight, input and initial-state
gradients are GEMMs over dz after the loop (lstm_layer).

Tensors, all contiguous (D directions, G = 4H):
    dy     (T, B, D*H)   gradient of the layer output
    dh_n   (D, B, H)     gradient of the last hidden state
    gates  (T, B, D*G)   activated gates from the forward
    c_seq  (T, B, D, H)  cell states in step order (accumulator dtype)
    c0     (D, B, H)
    w_hh   (D, G, H)
    dc     (D, B, H)     accumulator dtype: dc_n on entry, dc0 on return
    dgates (T, B, D*G)   dz, input dtype
"""

import torch
import triton
import triton.language as tl

from lstm_triton.kernels.activations import tanh
from lstm_triton.kernels.launch import block_sizes
from lstm_triton.kernels.precision import accumulator_dtype, dot_precision


@triton.jit(do_not_specialize=["s", "T", "B"])
def _lstm_backward_step_kernel(
    dy_ptr,  # (T, B, D*H)
    dh_n_ptr,  # (D, B, H)
    gates_ptr,  # (T, B, D*4H)
    c_seq_ptr,  # (T, B, D, H)
    c0_ptr,  # (D, B, H)
    w_hh_ptr,  # (D, 4H, H)
    dc_ptr,  # (D, B, H)
    dgates_ptr,  # (T, B, D*4H)
    s,
    T,
    B,
    H,
    D,
    FIRST: tl.constexpr,
    LAST: tl.constexpr,
    HAS_STATE: tl.constexpr,
    DOT_PRECISION: tl.constexpr,
    BLOCK_B: tl.constexpr,
    BLOCK_H: tl.constexpr,
    BLOCK_K: tl.constexpr,
):
    i_b = tl.program_id(0).to(tl.int64)
    i_h = tl.program_id(1).to(tl.int64)
    i_d = tl.program_id(2).to(tl.int64)
    acc_dtype = c_seq_ptr.dtype.element_ty
    G = 4 * H
    t = s + i_d * (T - 1 - 2 * s)
    t_next = t + 1 - 2 * i_d

    o_b = i_b * BLOCK_B + tl.arange(0, BLOCK_B)
    o_h = i_h * BLOCK_H + tl.arange(0, BLOCK_H)
    m_b = o_b < B
    m_h = o_h < H
    m_bh = m_b[:, None] & m_h[None, :]
    o_state = (i_d * B + o_b[:, None]) * H + o_h[None, :]

    p_dy = dy_ptr + t * B * D * H + o_b[:, None] * (D * H) + i_d * H + o_h[None, :]
    b_dh = tl.load(p_dy, mask=m_bh, other=0.0).to(acc_dtype)
    if LAST:
        b_dh += tl.load(dh_n_ptr + o_state, mask=m_bh, other=0.0).to(acc_dtype)
    else:
        p_dz = dgates_ptr + t_next * B * D * G + o_b[:, None] * (D * G) + i_d * G
        p_w = w_hh_ptr + i_d * G * H + o_h[None, :]
        for k in range(0, G, BLOCK_K):
            o_k = k + tl.arange(0, BLOCK_K)
            m_k = o_k < G
            b_dz = tl.load(p_dz + o_k[None, :], mask=m_b[:, None] & m_k[None, :], other=0.0)
            b_w = tl.load(p_w + o_k[:, None] * H, mask=m_k[:, None] & m_h[None, :], other=0.0)
            b_dh = tl.dot(b_dz, b_w, acc=b_dh, input_precision=DOT_PRECISION)

    p_g = gates_ptr + t * B * D * G + o_b[:, None] * (D * G) + i_d * G + o_h[None, :]
    b_i = tl.load(p_g, mask=m_bh, other=0.0).to(acc_dtype)
    b_f = tl.load(p_g + H, mask=m_bh, other=0.0).to(acc_dtype)
    b_g = tl.load(p_g + 2 * H, mask=m_bh, other=0.0).to(acc_dtype)
    b_o = tl.load(p_g + 3 * H, mask=m_bh, other=0.0).to(acc_dtype)
    p_c = c_seq_ptr + ((s * B + o_b[:, None]) * D + i_d) * H + o_h[None, :]
    b_c = tl.load(p_c, mask=m_bh, other=0.0)
    if FIRST:
        if HAS_STATE:
            b_c_prev = tl.load(c0_ptr + o_state, mask=m_bh, other=0.0).to(acc_dtype)
        else:
            b_c_prev = tl.zeros([BLOCK_B, BLOCK_H], dtype=acc_dtype)
    else:
        b_c_prev = tl.load(p_c - B * D * H, mask=m_bh, other=0.0)

    b_tc = tanh(b_c)
    b_do = b_dh * b_tc * b_o * (1.0 - b_o)
    b_dc = tl.load(dc_ptr + o_state, mask=m_bh, other=0.0) + b_dh * b_o * (1.0 - b_tc * b_tc)
    b_di = b_dc * b_g * b_i * (1.0 - b_i)
    b_df = b_dc * b_c_prev * b_f * (1.0 - b_f)
    b_dg = b_dc * b_i * (1.0 - b_g * b_g)

    dz_dtype = dgates_ptr.dtype.element_ty
    p_dz_t = dgates_ptr + t * B * D * G + o_b[:, None] * (D * G) + i_d * G + o_h[None, :]
    tl.store(p_dz_t, b_di.to(dz_dtype), mask=m_bh)
    tl.store(p_dz_t + H, b_df.to(dz_dtype), mask=m_bh)
    tl.store(p_dz_t + 2 * H, b_dg.to(dz_dtype), mask=m_bh)
    tl.store(p_dz_t + 3 * H, b_do.to(dz_dtype), mask=m_bh)
    tl.store(dc_ptr + o_state, b_dc * b_f, mask=m_bh)


def lstm_backward_recurrence(
    dy: torch.Tensor,
    dh_n: torch.Tensor,
    dc_n: torch.Tensor,
    gates: torch.Tensor,
    c_seq: torch.Tensor,
    w_hh: torch.Tensor,
    c0: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run the reverse-time recurrence; returns dgates (T, B, D*4H) and dc0 (D, B, H).

    dc0 is in the accumulator dtype; dh0 = dgates at each direction's first step @ W_hh.
    """
    T, B, DG = gates.shape
    D, G, H = w_hh.shape
    assert DG == D * G and G == 4 * H, f"gates {tuple(gates.shape)} vs w_hh {tuple(w_hh.shape)}"
    assert dy.shape == (T, B, D * H) and dh_n.shape == dc_n.shape == (D, B, H)
    assert c_seq.shape == (T, B, D, H), "backward needs every cell state (keep_cell_states)"
    for tensor in (dy, dh_n, gates, c_seq, w_hh):
        assert tensor.is_contiguous()
    assert dy.dtype == dh_n.dtype == gates.dtype == w_hh.dtype
    assert c_seq.dtype == accumulator_dtype(gates.dtype)
    if c0 is not None:
        assert c0.shape == (D, B, H) and c0.is_contiguous()

    dgates = torch.empty_like(gates)
    dc = dc_n.to(dtype=c_seq.dtype, memory_format=torch.contiguous_format, copy=True)
    block_b, block_h, block_k = block_sizes(B, H)
    grid = (triton.cdiv(B, block_b), triton.cdiv(H, block_h), D)
    for s in reversed(range(T)):
        _lstm_backward_step_kernel[grid](
            dy_ptr=dy,
            dh_n_ptr=dh_n,
            gates_ptr=gates,
            c_seq_ptr=c_seq,
            c0_ptr=dc if c0 is None else c0,
            w_hh_ptr=w_hh,
            dc_ptr=dc,
            dgates_ptr=dgates,
            s=s,
            T=T,
            B=B,
            H=H,
            D=D,
            FIRST=s == 0,
            LAST=s == T - 1,
            HAS_STATE=c0 is not None,
            DOT_PRECISION=dot_precision(gates.dtype),
            BLOCK_B=block_b,
            BLOCK_H=block_h,
            BLOCK_K=block_k,
        )
    return dgates, dc
