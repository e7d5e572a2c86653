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
def state_offsets(i_d, B, H, o_b, o_h):
    """(BLOCK_B, BLOCK_H) offsets of the program's tile in a (D, B, H) state: h0, c0, dc."""
    return (i_d * B + o_b[:, None]) * H + o_h[None, :]


@triton.jit
def cell_offsets(slot, B, D, H, i_d, o_b, o_h):
    """(BLOCK_B, BLOCK_H) offsets of the program's tile in slot (step) `slot` of c_seq
    (S, B, D, H)."""
    return ((slot * B + o_b[:, None]) * D + i_d) * H + o_h[None, :]


@triton.jit
def row_lengths(lengths_ptr, o_b, m_b):
    """(BLOCK_B, 1) lengths of the program's rows."""
    return tl.load(lengths_ptr + o_b, mask=m_b, other=0)[:, None]


@triton.jit
def row_resets(resets_ptr, t, B, o_b, m_b):
    """(BLOCK_B,) which of the program's rows start time t from a zero state."""
    return tl.load(resets_ptr + t * B + o_b, mask=m_b, other=0) != 0


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
def gate_columns(H, BLOCK_H: tl.constexpr):
    """-> o_j, m_j (4 * BLOCK_H,): the program's four gates as one tile of columns, unit-major
    (column 4u + g is gate g of unit u, gates in order i, f, g, o), as offsets into a row of the
    4H gate values, with their bounds mask. One product over this tile spreads the warps over
    its 4 * BLOCK_H columns; four 16-column products would each run on every warp."""
    o_j = tl.arange(0, 4 * BLOCK_H)
    o_unit = tl.program_id(1).to(tl.int64) * BLOCK_H + o_j // 4
    return (o_j % 4) * H + o_unit, o_unit < H


@triton.jit
def split_gates(b_z, BLOCK_B: tl.constexpr, BLOCK_H: tl.constexpr):
    """(BLOCK_B, 4 * BLOCK_H) unit-major gate columns (gate_columns) -> the four gates' tiles
    (BLOCK_B, BLOCK_H): i, f, g, o."""
    b_ig, b_fo = tl.split(tl.reshape(b_z, (BLOCK_B, BLOCK_H, 2, 2)))
    b_i, b_g = tl.split(b_ig)
    b_f, b_o = tl.split(b_fo)
    return b_i, b_f, b_g, b_o


@triton.jit
def split_k(START: tl.constexpr, BLOCK_K: tl.constexpr, K_SPLIT: tl.constexpr):
    """(K_SPLIT, BLOCK_K // K_SPLIT) offsets along K from START, part p holding
    START + p * BLOCK_K // K_SPLIT on: the backward's resident product takes its K tile at once
    as K_SPLIT batched products, one per warp, summed after. Split, each warp's chain
    of dependent tensor-core instructions is K_SPLIT times shorter, and no two warps compute
    the same tile."""
    PART: tl.constexpr = BLOCK_K // K_SPLIT
    return START + tl.arange(0, K_SPLIT)[:, None] * PART + tl.arange(0, PART)[None, :]


@triton.jit
def sum_parts(b_parts, b_tail, ALIKE: tl.constexpr):
    """A resident product from its split_k parts (K_SPLIT, ...) and those of the K tail (None
    without one): one sum over the warps' parts for both tiles where they split ALIKE."""
    if b_tail is None:
        b_sum = tl.sum(b_parts, axis=0)
    elif ALIKE:
        b_sum = tl.sum(b_parts + b_tail, axis=0)
    else:
        b_sum = tl.sum(b_parts, axis=0) + tl.sum(b_tail, axis=0)
    return b_sum


@triton.jit
def resident_forward_weights(
    w_ptr,
    w_direction_stride,
    H,
    BLOCK_H: tl.constexpr,
    BLOCK_K: tl.constexpr,
    K_TILES: tl.constexpr,
):
    """K_TILES tiles (4 * BLOCK_H, BLOCK_K): the rows of W (D, 4H, H) of the program's
    gate_columns, K in tiles from 0, which the forward persistent kernel loads once, before its
    loop over steps (the resident schedule). The barrier after each tile keeps the next tile's
    loads behind its copy into shared memory: issued all at once, the tiles took 244 registers
    at H = 1024 and spilled with the cell options (158 with it)."""
    o_j, m_j = gate_columns(H, BLOCK_H)
    p_w = w_ptr + tl.program_id(2).to(tl.int64) * w_direction_stride + o_j[:, None] * H
    b_w_tiles = ()
    for i in tl.static_range(K_TILES):
        o_k = i * BLOCK_K + tl.arange(0, BLOCK_K)[None, :]
        b_w = tl.load(p_w + o_k, mask=m_j[:, None] & (o_k < H), other=0.0)
        b_w_tiles = b_w_tiles + (b_w,)  # noqa: RUF005 (Triton's frontend has no * in tuples)
        tl.debug_barrier()
    return b_w_tiles


@triton.jit
def resident_backward_weights(
    w_ptr,
    w_direction_stride,
    H,
    BLOCK_H: tl.constexpr,
    START: tl.constexpr,
    BLOCK_K: tl.constexpr,
    K_SPLIT: tl.constexpr,
):
    """The four gates' tiles (K_SPLIT, BLOCK_K // K_SPLIT, BLOCK_H) of W (D, 4H, H) over the K
    tile from START, in split_k's parts, for the program's units: element [p, k, j] of gate g
    is W[d, g H + k_p, unit j]. The backward persistent kernel loads them once, before its loop
    over steps (the resident schedule)."""
    o_h = tl.program_id(1).to(tl.int64) * BLOCK_H + tl.arange(0, BLOCK_H)
    o_k = split_k(START, BLOCK_K, K_SPLIT)[:, :, None]
    p_w = w_ptr + tl.program_id(2).to(tl.int64) * w_direction_stride + o_k * H + o_h[None, None, :]
    m_w = (o_k < H) & (o_h < H)[None, None, :]
    b_wi = tl.load(p_w, mask=m_w, other=0.0)
    b_wf = tl.load(p_w + H * H, mask=m_w, other=0.0)
    b_wg = tl.load(p_w + 2 * H * H, mask=m_w, other=0.0)
    b_wo = tl.load(p_w + 3 * H * H, mask=m_w, other=0.0)
    return b_wi, b_wf, b_wg, b_wo
