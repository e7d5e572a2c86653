"""The per-program bookkeeping both recurrence kernels share: which rows, units, direction and
time a program works on, which of its rows are real steps, and its cell options' tiles."""

import triton
import triton.language as tl


@triton.jit
def step_tile(s, T, B, H, BLOCK_B: tl.constexpr, BLOCK_H: tl.constexpr):
    """-> i_d, t, o_b, o_h, m_b, m_h: this program's direction, its time at step s (s going
    forward, T-1-s in reverse), its batch rows and hidden units with their bounds masks."""
    i_b = tl.program_id(0).to(tl.int64)
    i_h = tl.program_id(1).to(tl.int64)
    i_d = tl.program_id(2).to(tl.int64)
    t = s + i_d * (T - 1 - 2 * s)
    o_b = i_b * BLOCK_B + tl.arange(0, BLOCK_B)
    o_h = i_h * BLOCK_H + tl.arange(0, BLOCK_H)
    return i_d, t, o_b, o_h, o_b < B, o_h < H


@triton.jit
def row_lengths(lengths_ptr, o_b, m_b):
    """(BLOCK_B, 1) lengths of the program's rows."""
    return tl.load(lengths_ptr + o_b, mask=m_b, other=0)[:, None]


@triton.jit
def peephole_tiles(peephole_ptr, i_d, H, o_h, m_h, acc_dtype: tl.constexpr):
    """(1, BLOCK_H) cell-state weights of the gates i, f and o for the program's units."""
    p_peep = peephole_ptr + i_d * 3 * H + o_h[None, :]
    b_pi = tl.load(p_peep, mask=m_h[None, :], other=0.0).to(acc_dtype)
    b_pf = tl.load(p_peep + H, mask=m_h[None, :], other=0.0).to(acc_dtype)
    b_po = tl.load(p_peep + 2 * H, mask=m_h[None, :], other=0.0).to(acc_dtype)
    return b_pi, b_pf, b_po


@triton.jit
def kept_fractions(
    zone_h_ptr,
    zone_c_ptr,
    t,
    B,
    D,
    H,
    i_d,
    o_b,
    o_h,
    m_bh,
    acc_dtype: tl.constexpr,
    ZONEOUT: tl.constexpr,
):
    """Zoneout's fractions of the previous h and c that step t keeps: the 0/1 masks of
    training (ZONEOUT 1, (T, B, D, H)), or their means in eval (ZONEOUT 2, (1,) each)."""
    if ZONEOUT == 1:
        p_zone = ((t * B + o_b[:, None]) * D + i_d) * H + o_h[None, :]
        b_keep_h = tl.load(zone_h_ptr + p_zone, mask=m_bh, other=0).to(acc_dtype)
        b_keep_c = tl.load(zone_c_ptr + p_zone, mask=m_bh, other=0).to(acc_dtype)
    else:
        b_keep_h = tl.load(zone_h_ptr)
        b_keep_c = tl.load(zone_c_ptr)
    return b_keep_h, b_keep_c


@triton.jit
def gate_weight_tiles(w_ptr, i_d, H, o_k, m_k, o_h, m_h, stride_k, stride_h):
    """The four gates' tiles (K, BLOCK_H) of W (D, 4H, H), gate rows in order i, f, g, o:
    element [k, j] of a gate at offset o_k[k] * stride_k + o_h[j] * stride_h inside the gate's
    H x H block. The forward reads W^T (strides 1, H), the backward W (H, 1)."""
    p_w = w_ptr + i_d * 4 * H * H + o_k[:, None] * stride_k + o_h[None, :] * stride_h
    m_kh = m_k[:, None] & m_h[None, :]
    b_wi = tl.load(p_w, mask=m_kh, other=0.0)
    b_wf = tl.load(p_w + H * H, mask=m_kh, other=0.0)
    b_wg = tl.load(p_w + 2 * H * H, mask=m_kh, other=0.0)
    b_wo = tl.load(p_w + 3 * H * H, mask=m_kh, other=0.0)
    return b_wi, b_wf, b_wg, b_wo


@triton.jit
def resident_weight_tiles(
    w_ptr,
    T,
    B,
    H,
    stride_k,
    stride_h,
    BLOCK_B: tl.constexpr,
    BLOCK_H: tl.constexpr,
    BLOCK_K: tl.constexpr,
):
    """The program's gate_weight_tiles over all of K (BLOCK_K >= H), which the persistent
    kernels load once, before their loop over steps (the resident schedule, see schedule.py)."""
    i_d, _, _, o_h, _, m_h = step_tile(0, T, B, H, BLOCK_B, BLOCK_H)
    o_k = tl.arange(0, BLOCK_K)
    return gate_weight_tiles(w_ptr, i_d, H, o_k, o_k < H, o_h, m_h, stride_k, stride_h)
