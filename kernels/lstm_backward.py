"""Backward recurrence of one LSTM layer, all directions, one fused launch per step (or one
persistent launch for the inner steps, see schedule.py).

Steps run in reverse step order s = T-1..0 (time t = s for direction 0, T-1-s for direction 1;
"next" is the step s+1, processed by the previous launch). With the activated gates i, f, g, o
and cell states saved by the forward (see lstm_forward, whose r, c~, W, p_* and zoneout
fractions k_h, k_c this mirrors; k = 0 without zoneout):

    dr    = dy_t + dz_next W + k_h,next dr_next   (+ dh_n at the row's last valid step)
    dr~   = (1 - k_h) dr                          gradient of the candidate r~
    tc    = tanh(c~)
    do    = dr~ * tc * o (1 - o)
    dc~   = (1 - k_c) dc_t + dr~ * o (1 - tc^2) + do p_o   (dc_t = dc_n on entry)
    di    = dc~ * g * i (1 - i)
    df    = dc~ * c_prev * f (1 - f)
    dg    = dc~ * i (1 - g^2)
    dz_t  = [di | df | dg | do]                   gradient of the gate pre-activations
    dc_prev = k_c dc_t + dc~ * f + di p_i + df p_f

The peephole terms p_* are there only with PEEPHOLE; with other activations each derivative
above (y (1 - y), 1 - y^2) is that activation's, taken from its output. Without zoneout c~ is
c_seq's c_t; with it the kernel recomputes c~ = f c_prev + i g, as c_seq holds the blended
cell. The kept part k_h dr flows to r_prev: dh_keep carries it to the next launch, and past a
row's first step it is the part of dh0 that zoneout keeps (the rest, dz_first W_hh, is the
caller's GEMM).

With lengths, padded steps (t >= lengths[b]) write dz = 0 and pass dc and dh_keep through
unchanged, their dy is ignored, and dh_n enters at the row's last valid step
(t = lengths[b] - 1 forward, t = 0 reverse). With resets (one direction only), a row that
resets at a valid time t started it from zeros: c_prev = 0 there, and nothing flows on to the
step before (dc_prev = 0, dh_keep = 0, and that step's dz_next W skips the row).

A program owns BLOCK_B batch rows x BLOCK_H hidden units of one direction; dz_next W needs the
whole dz_next row written by the previous launch. Weight, input and initial-state gradients are
GEMMs over dz after the loop (lstm_layer).

Tensors, all contiguous (D directions, G = 4H; "acc" the accumulator dtype of c_seq; layouts
as in lstm_forward):
    dy       (T, B, D*H)   gradient of the recurrence output r
    dh_n     (D, B, H)     gradient of each row's last r
    gates    (T, B, D*G)   activated gates from the forward (read at valid steps only)
    c_seq    (T, B, D, H)  acc, cell states in step order
    c0       (D, B, H)
    w        (D, G, H)
    peephole (D, 3, H)     rows p_i, p_f, p_o
    lengths  (B,)          int32
    resets   (T, B)        bool, True where the row started time t from a zero state
    zone_h,  (T, B, D, H)  the forward's masks, or (1,) p_h and p_c in acc
    zone_c
    dc       (D, B, H)     acc: dc_n on entry, dc0 on return
    dh_keep  (D, B, H)     acc: zeros on entry, the kept part of dh0 on return
    dgates   (T, B, D*G)   dz, input dtype
"""

import torch
import triton
import triton.language as tl

from lstm_triton.kernels import schedule
from lstm_triton.kernels.activations import activate, activation_slope
from lstm_triton.kernels.barrier import arrive, group_counter, straggle, wait_for
from lstm_triton.kernels.contract import TORCH_CELL, Cell, accumulator_dtype
from lstm_triton.kernels.launch import (
    check_step_inputs,
    direction_stride,
    on_device_of,
    zoneout_arguments,
)
from lstm_triton.kernels.tiles import (
    cell_offsets,
    kept_fractions,
    peephole_tiles,
    resident_backward_weights,
    row_lengths,
    row_resets,
    split_k,
    state_offsets,
    step_tile,
    sum_parts,
)


@triton.jit
def resident_gradient(
    p_dz,
    m_b,
    H,
    b_w,
    START: tl.constexpr,
    BLOCK_K: tl.constexpr,
    K_SPLIT: tl.constexpr,
    SHARED_LOAD: tl.constexpr,
    DOT_PRECISION: tl.constexpr,
    acc_dtype: tl.constexpr,
):
    """(K_SPLIT, BLOCK_B, BLOCK_H): dz_next (p_dz: its rows' gate i) times the W tiles b_w of
    the K tile from START, one product a split_k part, to be summed over the parts; gate by
    gate (one dz tile over all 4H would take twice the shared memory), each gate into its own
    sum: four independent chains of tensor-core instructions, not one four times as long.
    out_dtype is the accumulator's: Triton < 3.9 takes fp32 for it unless told, and rejects an
    fp64 acc."""
    o_k = split_k(START, BLOCK_K, K_SPLIT)[:, None, :]
    p_dzk = p_dz[None, :, :] + o_k
    m_bk = m_b[None, :, None] & (o_k < H)
    b_wi, b_wf, b_wg, b_wo = b_w
    b_dz = tl.load(p_dzk, mask=m_bk, other=0.0, cache_modifier=SHARED_LOAD)
    b_di = tl.dot(b_dz, b_wi, input_precision=DOT_PRECISION, out_dtype=acc_dtype)
    b_dz = tl.load(p_dzk + H, mask=m_bk, other=0.0, cache_modifier=SHARED_LOAD)
    b_df = tl.dot(b_dz, b_wf, input_precision=DOT_PRECISION, out_dtype=acc_dtype)
    b_dz = tl.load(p_dzk + 2 * H, mask=m_bk, other=0.0, cache_modifier=SHARED_LOAD)
    b_dg = tl.dot(b_dz, b_wg, input_precision=DOT_PRECISION, out_dtype=acc_dtype)
    b_dz = tl.load(p_dzk + 3 * H, mask=m_bk, other=0.0, cache_modifier=SHARED_LOAD)
    b_do = tl.dot(b_dz, b_wo, input_precision=DOT_PRECISION, out_dtype=acc_dtype)
    return (b_di + b_df) + (b_dg + b_do)


@triton.jit(do_not_specialize=["s", "T", "B"])
def _lstm_backward_step_kernel(
    dy_ptr,  # (T, B, D*H)
    dh_n_ptr,  # (D, B, H)
    gates_ptr,  # (T, B, D*4H)
    c_seq_ptr,  # (T, B, D, H)
    c0_ptr,  # (D, B, H)
    w_ptr,  # (D, 4H, H), each direction contiguous, w_direction_stride apart
    peephole_ptr,  # (D, 3, H) for the gates i, f, o
    lengths_ptr,  # (B,) int32
    resets_ptr,  # (T, B) bool
    zone_h_ptr,  # (T, B, D, H) bool masks, or (1,) the probability, accumulator dtype
    zone_c_ptr,  # (T, B, D, H) bool masks, or (1,) the probability, accumulator dtype
    dc_ptr,  # (D, B, H)
    dh_keep_ptr,  # (D, B, H)
    dgates_ptr,  # (T, B, D*4H)
    s,
    T,
    B,
    H,
    D,
    w_direction_stride,
    b_w_resident,  # None, or (resident persistent kernel) the program's W tiles, K tile 1
    b_w_tail,  # None, or (resident, BLOCK_K_TAIL > 0) those of the K tile past BLOCK_K
    b_dc_carried,  # None, or (persistent kernel) dc_t, kept in registers: then returns dc_prev
    exchange,  # None, or (persistent kernel) the group's counter, the arrivals dz_next needs
    FIRST: tl.constexpr,
    LAST: tl.constexpr,
    HAS_STATE: tl.constexpr,
    HAS_LENGTHS: tl.constexpr,
    HAS_RESETS: tl.constexpr,
    PEEPHOLE: tl.constexpr,
    ZONEOUT: tl.constexpr,
    ACT_I: tl.constexpr,
    ACT_F: tl.constexpr,
    ACT_G: tl.constexpr,
    ACT_O: tl.constexpr,
    ACT_C: tl.constexpr,
    DOT_PRECISION: tl.constexpr,
    BLOCK_B: tl.constexpr,
    BLOCK_H: tl.constexpr,
    BLOCK_K: tl.constexpr,
    K_SPLIT: tl.constexpr,
    BLOCK_K_TAIL: tl.constexpr,
    TAIL_SPLIT: tl.constexpr,
    SHARED_LOAD: tl.constexpr,
):
    """Step s of one program's tile, launched once per step or called by the persistent kernel.
    SHARED_LOAD: the cache modifier of the loads of dz_next, which other programs wrote: ""
    across launches, ".cg" (L2) within the persistent launch; visibility there comes from the
    barrier's acquire, which also invalidates the SM's L1, the modifier only skips L1 on the way.
    With an exchange, the program waits for dz_next at the start of the step and arrives once
    its dz_t is stored, before it stores dc and dh_keep, which only it reads."""
    acc_dtype: tl.constexpr = c_seq_ptr.dtype.element_ty
    G = 4 * H
    if exchange is not None:
        wait_for(exchange[0], exchange[1])
    i_d, t, o_b, o_h, m_b, m_h = step_tile(s, T, B, H, BLOCK_B, BLOCK_H)
    t_next = t + 1 - 2 * i_d
    s = s.to(tl.int64)
    m_bh = m_b[:, None] & m_h[None, :]
    o_state = state_offsets(i_d, B, H, o_b, o_h)
    if HAS_LENGTHS:
        b_length = row_lengths(lengths_ptr, o_b, m_b)
        b_valid = t < b_length
        # The last valid time is lengths - 1 going forward, 0 in reverse.
        b_last = t == (b_length - 1) * (1 - i_d)
    else:
        b_valid = tl.full([BLOCK_B, 1], 1, tl.int1)
        b_last = tl.full([BLOCK_B, 1], LAST, tl.int1)
    m_valid = m_bh & b_valid
    if HAS_RESETS:
        # b_fresh: the rows that started this valid step from zeros.
        b_fresh = row_resets(resets_ptr, t, B, o_b, m_b)[:, None] & b_valid

    p_dy = dy_ptr + t * B * D * H + o_b[:, None] * (D * H) + i_d * H + o_h[None, :]
    b_dr = tl.load(p_dy, mask=m_valid, other=0.0).to(acc_dtype)
    b_dr += tl.load(dh_n_ptr + o_state, mask=m_valid & b_last, other=0.0).to(acc_dtype)
    b_dr_here = b_dr  # what reaches r_t from step t itself
    if not LAST:
        p_dz = dgates_ptr + t_next * B * D * G + o_b[:, None] * (D * G) + i_d * G
        if b_w_resident is None:
            p_w = w_ptr + i_d * w_direction_stride + o_h[None, :]
            for k in range(0, G, BLOCK_K):
                o_k = k + tl.arange(0, BLOCK_K)
                m_k = o_k < G
                m_bk = m_b[:, None] & m_k[None, :]
                b_dz = tl.load(
                    p_dz + o_k[None, :], mask=m_bk, other=0.0, cache_modifier=SHARED_LOAD
                )
                b_w = tl.load(p_w + o_k[:, None] * H, mask=m_k[:, None] & m_h[None, :], other=0.0)
                b_dr = tl.dot(
                    b_dz, b_w, acc=b_dr, input_precision=DOT_PRECISION, out_dtype=b_dr.dtype
                )
        else:
            b_parts = resident_gradient(
                p_dz,
                m_b,
                H,
                b_w_resident,
                0,
                BLOCK_K,
                K_SPLIT,
                SHARED_LOAD,
                DOT_PRECISION,
                acc_dtype,
            )
            b_tail = None
            if BLOCK_K_TAIL > 0:
                b_tail = resident_gradient(
                    p_dz,
                    m_b,
                    H,
                    b_w_tail,
                    BLOCK_K,
                    BLOCK_K_TAIL,
                    TAIL_SPLIT,
                    SHARED_LOAD,
                    DOT_PRECISION,
                    acc_dtype,
                )
            b_dr += sum_parts(b_parts, b_tail, TAIL_SPLIT == K_SPLIT)
        if HAS_RESETS:
            # Rows that started step t_next from zeros take nothing back from it. Applied to
            # the product, not as a mask of the dz_next loads: Triton 3.6 fails to compile an
            # fp64 tl.dot whose operand load is masked by loaded values.
            b_reset_next = row_resets(resets_ptr, t_next, B, o_b, m_b)[:, None]
            b_dr = tl.where(b_reset_next, b_dr_here, b_dr)

    p_g = gates_ptr + t * B * D * G + o_b[:, None] * (D * G) + i_d * G + o_h[None, :]
    b_i = tl.load(p_g, mask=m_valid, other=0.0).to(acc_dtype)
    b_f = tl.load(p_g + H, mask=m_valid, other=0.0).to(acc_dtype)
    b_g = tl.load(p_g + 2 * H, mask=m_valid, other=0.0).to(acc_dtype)
    b_o = tl.load(p_g + 3 * H, mask=m_valid, other=0.0).to(acc_dtype)
    p_c = c_seq_ptr + cell_offsets(s, B, D, H, i_d, o_b, o_h)
    if FIRST:
        if HAS_STATE:
            b_c_prev = tl.load(c0_ptr + o_state, mask=m_valid, other=0.0).to(acc_dtype)
        else:
            b_c_prev = tl.zeros([BLOCK_B, BLOCK_H], dtype=acc_dtype)
    else:
        b_c_prev = tl.load(p_c - B * D * H, mask=m_valid, other=0.0)
    if HAS_RESETS:
        b_c_prev = tl.where(b_fresh, 0.0, b_c_prev)
    if b_dc_carried is None:
        b_dc = tl.load(dc_ptr + o_state, mask=m_bh, other=0.0)
    else:
        b_dc = b_dc_carried

    if ZONEOUT > 0:
        b_keep_h, b_keep_c = kept_fractions(
            zone_h_ptr, zone_c_ptr, t, B, D, H, i_d, o_b, o_h, m_bh, acc_dtype, ZONEOUT
        )
        # The kept part of h goes straight to h_prev, next launch (padding passes it on);
        # the rest flows through this step's cell. The cell's own new state is recomputed.
        b_dh_keep = tl.load(dh_keep_ptr + o_state, mask=m_bh, other=0.0)
        b_dr += tl.where(b_valid, b_dh_keep, 0.0)
        b_dr_kept = b_keep_h * b_dr
        if HAS_RESETS:
            b_dr_kept = tl.where(b_fresh, 0.0, b_dr_kept)
        b_dr = (1.0 - b_keep_h) * b_dr
        b_c = b_f * b_c_prev + b_i * b_g
        b_dc_new = (1.0 - b_keep_c) * b_dc
    else:
        b_c = tl.load(p_c, mask=m_valid, other=0.0)
        b_dc_new = b_dc

    b_tc = activate(b_c, ACT_C)
    b_do = b_dr * b_tc * activation_slope(b_o, ACT_O)
    b_dc_new += b_dr * b_o * activation_slope(b_tc, ACT_C)
    if PEEPHOLE:
        b_pi, b_pf, b_po = peephole_tiles(peephole_ptr, i_d, H, o_h, m_h, acc_dtype)
        b_dc_new += b_do * b_po
    b_di = b_dc_new * b_g * activation_slope(b_i, ACT_I)
    b_df = b_dc_new * b_c_prev * activation_slope(b_f, ACT_F)
    b_dg = b_dc_new * b_i * activation_slope(b_g, ACT_G)
    b_dc_prev = b_dc_new * b_f
    if ZONEOUT > 0:
        b_dc_prev += b_keep_c * b_dc
    if PEEPHOLE:
        b_dc_prev += b_di * b_pi + b_df * b_pf
    if HAS_RESETS:
        b_dc_prev = tl.where(b_fresh, 0.0, b_dc_prev)

    dz_dtype = dgates_ptr.dtype.element_ty
    p_dz_t = dgates_ptr + t * B * D * G + o_b[:, None] * (D * G) + i_d * G + o_h[None, :]
    tl.store(p_dz_t, tl.where(b_valid, b_di, 0.0).to(dz_dtype), mask=m_bh)
    tl.store(p_dz_t + H, tl.where(b_valid, b_df, 0.0).to(dz_dtype), mask=m_bh)
    tl.store(p_dz_t + 2 * H, tl.where(b_valid, b_dg, 0.0).to(dz_dtype), mask=m_bh)
    tl.store(p_dz_t + 3 * H, tl.where(b_valid, b_do, 0.0).to(dz_dtype), mask=m_bh)
    if exchange is not None:
        arrive(exchange[0])
    if ZONEOUT > 0:
        tl.store(dh_keep_ptr + o_state, tl.where(b_valid, b_dr_kept, b_dh_keep), mask=m_bh)
    # A padded step passes dc through unchanged.
    b_dc_prev = tl.where(b_valid, b_dc_prev, b_dc)
    tl.store(dc_ptr + o_state, b_dc_prev, mask=m_bh)
    if b_dc_carried is not None:
        return b_dc_prev


@triton.jit(do_not_specialize=["T", "B"])
def _lstm_backward_persistent_kernel(
    dy_ptr,
    dh_n_ptr,
    gates_ptr,
    c_seq_ptr,
    c0_ptr,
    w_ptr,
    peephole_ptr,
    lengths_ptr,
    resets_ptr,
    zone_h_ptr,
    zone_c_ptr,
    dc_ptr,
    dh_keep_ptr,
    dgates_ptr,
    arrived_ptr,  # (D * batch blocks * COUNTER_STRIDE,) int32 zeros: programs that finished a step
    T,
    B,
    H,
    D,
    w_direction_stride,
    HAS_STATE: tl.constexpr,
    HAS_LENGTHS: tl.constexpr,
    HAS_RESETS: tl.constexpr,
    PEEPHOLE: tl.constexpr,
    ZONEOUT: tl.constexpr,
    ACT_I: tl.constexpr,
    ACT_F: tl.constexpr,
    ACT_G: tl.constexpr,
    ACT_O: tl.constexpr,
    ACT_C: tl.constexpr,
    DOT_PRECISION: tl.constexpr,
    BLOCK_B: tl.constexpr,
    BLOCK_H: tl.constexpr,
    BLOCK_K: tl.constexpr,
    K_SPLIT: tl.constexpr,
    BLOCK_K_TAIL: tl.constexpr,
    TAIL_SPLIT: tl.constexpr,
    RESIDENT_W: tl.constexpr,
    STRAGGLER_SPINS: tl.constexpr,
):
    """Steps T-2..1 in one launch (T-1, with no dz_next, and 0, which reads c0, are the step
    kernel's own launches around it): the step kernel's body, its dc kept in registers from step
    to step, around a barrier over the programs of the same direction and batch rows, whose dz_t
    the next step reads: each waits at the start of a step and arrives once its dz_t is stored.
    Every program must be resident at once: the launcher keeps the grid within the SMs and
    launches it cooperatively.
    RESIDENT_W: the program's W tiles loaded once, before the loop (schedule.py, resident).
    STRAGGLER_SPINS: 0, or a test-only delay of each group's last program a step
    (barrier.straggle, schedule.straggling).
    """
    programs = tl.num_programs(1)
    arrived = group_counter(arrived_ptr)
    if RESIDENT_W:
        b_w_resident = resident_backward_weights(
            w_ptr, w_direction_stride, H, BLOCK_H, 0, BLOCK_K, K_SPLIT
        )
        if BLOCK_K_TAIL > 0:
            b_w_tail = resident_backward_weights(
                w_ptr, w_direction_stride, H, BLOCK_H, BLOCK_K, BLOCK_K_TAIL, TAIL_SPLIT
            )
        else:
            b_w_tail = None
    else:
        b_w_resident = None
        b_w_tail = None
    # dc of step T-1, the launch before this one; from here on it stays in registers.
    i_d, _, o_b, o_h, m_b, m_h = step_tile(0, T, B, H, BLOCK_B, BLOCK_H)
    p_dc = dc_ptr + state_offsets(i_d, B, H, o_b, o_h)
    b_dc = tl.load(p_dc, mask=m_b[:, None] & m_h[None, :], other=0.0)
    # One stage: a pipelined loop would load step j + 1's dz_next before the barrier.
    for j in tl.range(1, T - 1, num_stages=1):
        if STRAGGLER_SPINS > 0:
            # The last program of each group, which the others wait for at the next barrier.
            if tl.program_id(1) == programs - 1:
                straggle(arrived, STRAGGLER_SPINS)
        b_dc = _lstm_backward_step_kernel(
            dy_ptr,
            dh_n_ptr,
            gates_ptr,
            c_seq_ptr,
            c0_ptr,
            w_ptr,
            peephole_ptr,
            lengths_ptr,
            resets_ptr,
            zone_h_ptr,
            zone_c_ptr,
            dc_ptr,
            dh_keep_ptr,
            dgates_ptr,
            T - 1 - j,
            T,
            B,
            H,
            D,
            w_direction_stride,
            b_w_resident,
            b_w_tail,
            b_dc,
            # Step T-2 reads the dz of step T-1's launch; step s that of step s + 1.
            (arrived, (j - 1) * programs),
            False,
            False,
            HAS_STATE,
            HAS_LENGTHS,
            HAS_RESETS,
            PEEPHOLE,
            ZONEOUT,
            ACT_I,
            ACT_F,
            ACT_G,
            ACT_O,
            ACT_C,
            DOT_PRECISION,
            BLOCK_B,
            BLOCK_H,
            BLOCK_K,
            K_SPLIT,
            BLOCK_K_TAIL,
            TAIL_SPLIT,
            ".cg",
        )


def lstm_backward_recurrence(
    dy: torch.Tensor,
    dh_n: torch.Tensor,
    dc_n: torch.Tensor,
    gates: torch.Tensor,
    c_seq: torch.Tensor,
    w: torch.Tensor,
    c0: torch.Tensor | None,
    lengths: torch.Tensor | None,
    *,
    cell: Cell = TORCH_CELL,
    resets: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Run the reverse-time recurrence; returns dgates (T, B, D*4H), dc0 and dh0_kept (D, B, H).

    dc0 and dh0_kept (the part of dh0 that zoneout keeps; zeros without it) are in the
    accumulator dtype. The rest of dh0 and the weights' gradients are the caller's GEMMs.
    """
    T, B, DG = gates.shape
    D, G, H = w.shape
    assert DG == D * G and G == 4 * H, f"gates {tuple(gates.shape)} vs w {tuple(w.shape)}"
    assert dy.shape == (T, B, D * H) and dh_n.shape == dc_n.shape == (D, B, H)
    assert c_seq.shape == (T, B, D, H), "backward needs every cell state (keep_cell_states)"
    for tensor in (dy, dh_n, gates, c_seq):
        assert tensor.is_contiguous()
    assert dy.dtype == dh_n.dtype == gates.dtype == w.dtype
    assert c_seq.dtype == accumulator_dtype(gates.dtype)
    if c0 is not None:
        assert c0.shape == (D, B, H) and c0.is_contiguous()
    check_step_inputs(gates, lengths, cell, H, resets)

    dgates = torch.empty_like(gates)
    dc = dc_n.to(dtype=c_seq.dtype, memory_format=torch.contiguous_format, copy=True)
    dh_kept = torch.zeros_like(dc)
    zone_h, zone_c = zoneout_arguments(cell, dc)
    launch = schedule.plan(
        gates,
        H,
        persistent_steps=T - 2,
        has_state=c0 is not None,
        has_lengths=lengths is not None,
        has_resets=resets is not None,
        cell=cell,
        backward=True,
    )
    arguments = dict(
        dy_ptr=dy,
        dh_n_ptr=dh_n,
        gates_ptr=gates,
        c_seq_ptr=c_seq,
        c0_ptr=dc if c0 is None else c0,
        w_ptr=w,
        w_direction_stride=direction_stride(w, gates),
        peephole_ptr=dc if cell.peephole is None else cell.peephole,
        lengths_ptr=dc if lengths is None else lengths,
        resets_ptr=dc if resets is None else resets,
        zone_h_ptr=zone_h,
        zone_c_ptr=zone_c,
        dc_ptr=dc,
        dh_keep_ptr=dh_kept,
        dgates_ptr=dgates,
    )

    def launch_step(s: int) -> None:
        _lstm_backward_step_kernel[launch.grid](
            **arguments,
            **launch.shared,
            **launch.step,
            s=s,
            b_w_resident=None,
            b_w_tail=None,
            b_dc_carried=None,
            exchange=None,
            FIRST=s == 0,
            LAST=s == T - 1,
            SHARED_LOAD="",
        )

    with on_device_of(gates):
        if launch.persistent:
            launch_step(T - 1)
            # Cooperative, as in lstm_forward: a grid that does not fit fails, never hangs.
            _lstm_backward_persistent_kernel[launch.grid](
                **arguments,
                **launch.shared,
                arrived_ptr=schedule.barrier_counters(launch.grid, gates.device),
                **launch.loop,
                launch_cooperative_grid=True,
            )
            launch_step(0)
        else:
            for s in reversed(range(T)):
                launch_step(s)
    return dgates, dc, dh_kept
