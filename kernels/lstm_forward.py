"""Forward recurrence of one LSTM layer, all directions, one fused launch per step (or one
persistent launch for steps 1..T-1, see schedule.py).

For direction d (0: forward in time, 1: reverse) step s = 0..T-1 works on time t = s (d = 0)
or t = T-1-s (d = 1). With P_t = x_t W_ih^T + b_ih + b_hh precomputed for every t by one GEMM,
and torch.nn.LSTM's gate order:

    z    = P_t + r_prev W^T                                       (B, 4H)
    i    = act_i(z_i + p_i c_prev)    f = act_f(z_f + p_f c_prev)    g = act_g(z_g)
    c~   = f * c_prev + i * g
    o    = act_o(z_o + p_o c~)
    r~   = o * act_c(c~)
    c_t  = k_c c_prev + (1 - k_c) c~                              zoneout
    r_t  = k_h r_prev + (1 - k_h) r~

torch's activations are act_i = act_f = act_o = sigmoid, act_g = act_c = tanh; each is a
constexpr choice (activations.py). The peephole weights p_* (per hidden unit, only with
PEEPHOLE) see the previous cell in i and f but the new one, before zoneout's blend, in o.
Without zoneout k_h = k_c = 0, so c_t = c~ and r_t = r~. With it (Krueger et al.), k_h and
k_c are the 0/1 masks of training (1: the element keeps its previous value this step), or in
eval the probabilities p_h, p_c themselves, the masks' mean. A forget-gate bias is only an
initial value of b_ih, and recurrent dropout is applied to W_hh before the GEMMs that use it:
neither reaches the kernels as anything but P and W.

Without projection W = W_hh and r is h. With proj_size, h_t = r_t W_hr^T, so
h_prev W_hh^T = r_prev (W_hh W_hr)^T: the kernel runs on W = W_hh W_hr and r, and the caller
projects all r_t with one GEMM afterwards (zoneout, which blends h, is refused with
proj_size). At a row's first step r_prev is h0: the caller has added h0 W_hh^T to its gates
and the kernel adds no product there (none at s = 0, zeros from a padded step's r after); it
reads h0 itself only for zoneout's blend.

With lengths, time t of row b is valid while t < lengths[b]: a padded step writes r = 0,
carries c unchanged and leaves its P in gates, so each row's reverse direction starts from c0
at t = lengths[b] - 1 and reads zeros as its previous output, and c_seq's last step holds every
row's c_n.

With resets (one direction only), a row that resets at a valid time t starts it from zeros:
r_prev = 0 (no product), c_prev = 0, and zoneout keeps zeros. At t = 0 that is the caller's
part: it passes h0 and c0 zeroed in those rows (h0's product is in the gates).

A program owns BLOCK_B batch rows x BLOCK_H hidden units of one direction and all four gates
of those units, so the cell update is local; r_prev W^T needs every unit of the previous step,
which other programs wrote, hence one launch per step, or a grid barrier per step between the
programs of the same direction and batch rows in the persistent kernel.

Tensors, all contiguous (D directions, G = 4H, S = T or 2; "acc" the accumulator dtype, fp32,
or fp64 for fp64 input; every other float tensor in the input dtype):
    gates    (T, B, D*G)   in: P; out: the activated gates, the cache for backward; direction
                           d in columns d*G:(d+1)*G, each [i|f|g|o] of H columns
    w        (D, G, H)     W per direction, rows in gate order [i|f|g|o]
    peephole (D, 3, H)     rows p_i, p_f, p_o
    h0       (D, B, H)     only with zoneout (and c0)
    c0       (D, B, H)
    lengths  (B,)          int32 on the device, 1 <= lengths[b] <= T
    resets   (T, B)        bool, True where the row starts time t from a zero state
    zone_h,  (T, B, D, H)  bool masks k_h, k_c indexed by time t (not step) in training;
    zone_c   (1,)          or, in eval, p_h and p_c in acc
    y        (T, B, D*H)   r_t, direction d in columns d*H:(d+1)*H (torch's bidirectional layout)
    c_seq    (S, B, D, H)  acc, c_t in step order (step s is time T-1-s for d = 1); S = T keeps
                           every step for backward, S = 2 alternates two slots when nothing is kept
Sums and state are in acc; only stores to gates and y round to the input dtype. Training
memory beyond y: gates (reusing the projection buffer) and c_seq, i.e.
T*B*D*(4H * itemsize + H * 4) bytes.
"""

import torch
import triton
import triton.language as tl

from lstm_triton.kernels import schedule
from lstm_triton.kernels.activations import activate
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
    gate_columns,
    kept_fractions,
    peephole_tiles,
    resident_forward_weights,
    row_lengths,
    row_resets,
    split_gates,
    state_offsets,
    step_tile,
)


@triton.jit
def resident_product(
    p_h,
    m_b,
    H,
    b_w_tiles,
    BLOCK_K: tl.constexpr,
    K_TILES: tl.constexpr,
    SHARED_LOAD: tl.constexpr,
    DOT_PRECISION: tl.constexpr,
    acc_dtype: tl.constexpr,
):
    """(4 * BLOCK_H, BLOCK_B): W's resident rows (b_w_tiles, its K_TILES tiles of BLOCK_K)
    times h_prev^T (p_h: the starts of the program's rows). W is the left operand, so that its
    64 rows meet the M of a warpgroup's wgmma on sm_90: the tensor cores read W from shared
    memory as it stands, with no copy to registers a step, and no two warps compute the same
    tile. out_dtype is the accumulator's: Triton < 3.9 takes fp32 for it unless told, and
    rejects an fp64 acc."""
    b_wh = None
    for i in tl.static_range(K_TILES):
        o_k = i * BLOCK_K + tl.arange(0, BLOCK_K)[:, None]
        b_h = tl.load(
            p_h[None, :] + o_k,
            mask=m_b[None, :] & (o_k < H),
            other=0.0,
            cache_modifier=SHARED_LOAD,
        )
        b_wh = tl.dot(
            b_w_tiles[i], b_h, acc=b_wh, input_precision=DOT_PRECISION, out_dtype=acc_dtype
        )
    return b_wh


@triton.jit(do_not_specialize=["s", "T", "B", "slot", "slot_prev"])
def _lstm_forward_step_kernel(
    gates_ptr,  # (T, B, D*4H)
    w_ptr,  # (D, 4H, H), each direction contiguous, w_direction_stride apart
    peephole_ptr,  # (D, 3, H) for the gates i, f, o
    h0_ptr,  # (D, B, H), read only with ZONEOUT
    c0_ptr,  # (D, B, H)
    lengths_ptr,  # (B,) int32
    resets_ptr,  # (T, B) bool
    zone_h_ptr,  # (T, B, D, H) bool masks, or (1,) the probability, accumulator dtype
    zone_c_ptr,  # (T, B, D, H) bool masks, or (1,) the probability, accumulator dtype
    y_ptr,  # (T, B, D*H)
    c_seq_ptr,  # (S, B, D, H)
    s,
    T,
    B,
    H,
    D,
    w_direction_stride,
    slot,
    slot_prev,
    b_w_tiles,  # None, or (resident persistent kernel) the program's rows of W, K_TILES tiles
    exchange,  # None, or (persistent kernel) the group's counter, the arrivals h_prev needs
    FIRST: tl.constexpr,
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
    K_TILES: tl.constexpr,
    SHARED_LOAD: tl.constexpr,
):
    """Step s of one program's tile, launched once per step or called by the persistent kernel.
    SHARED_LOAD: the cache modifier of the loads of h_prev, which other programs wrote: "" across
    launches, ".cg" (L2) within the persistent launch; visibility there comes from the barrier's
    acquire, which also invalidates the SM's L1, the modifier only skips L1 on the way.
    With an exchange, the step's critical path is the wait, h_prev, the cell and the store of
    h_t, then the arrival: P_t is loaded before the wait, and the gate and cell caches are
    stored after the arrival."""
    acc_dtype: tl.constexpr = c_seq_ptr.dtype.element_ty
    G = 4 * H
    i_d, t, o_b, o_h, m_b, m_h = step_tile(s, T, B, H, BLOCK_B, BLOCK_H)
    t_prev = t - 1 + 2 * i_d
    slot, slot_prev = slot.to(tl.int64), slot_prev.to(tl.int64)
    m_bh = m_b[:, None] & m_h[None, :]
    o_state = state_offsets(i_d, B, H, o_b, o_h)
    if HAS_LENGTHS:
        b_length = row_lengths(lengths_ptr, o_b, m_b)
        b_valid = t < b_length
    else:
        b_valid = tl.full([BLOCK_B, 1], 1, tl.int1)
    if HAS_RESETS:
        # The rows that start valid step t from zeros (a padded step carries c on unchanged).
        b_fresh = row_resets(resets_ptr, t, B, o_b, m_b)[:, None] & b_valid

    p_row = gates_ptr + t * B * D * G + o_b[:, None] * (D * G) + i_d * G
    o_j, m_j = gate_columns(H, BLOCK_H)
    b_z = tl.load(p_row + o_j[None, :], mask=m_b[:, None] & m_j[None, :], other=0.0)
    b_z = b_z.to(acc_dtype)

    if FIRST:
        if HAS_STATE:
            b_c_prev = tl.load(c0_ptr + o_state, mask=m_bh, other=0.0).to(acc_dtype)
        else:
            b_c_prev = tl.zeros([BLOCK_B, BLOCK_H], dtype=acc_dtype)
    else:
        if exchange is not None:
            wait_for(exchange[0], exchange[1])
        # After the wait, whose CTA barrier orders it after the previous step's store of c by
        # other threads; issued with the h_prev loads, it adds no round trip. Kept in registers
        # from step to step instead, c made Triton 3.6 spill (8 to 16 bytes, every cell option,
        # H 1024).
        p_c_prev = c_seq_ptr + cell_offsets(slot_prev, B, D, H, i_d, o_b, o_h)
        b_c_prev = tl.load(p_c_prev, mask=m_bh, other=0.0)
        if HAS_RESETS:
            b_c_prev = tl.where(b_fresh, 0.0, b_c_prev)
        # Rows whose previous step was padding read zeros from y: their h0 part is already in
        # the gates of their first step.
        p_h = y_ptr + t_prev * B * D * H + o_b * (D * H) + i_d * H
        if b_w_tiles is None:
            # W^T tile of the four gates: rows k of h, the program's gate columns.
            p_w = w_ptr + i_d * w_direction_stride + o_j[None, :] * H
            b_hw = tl.zeros([BLOCK_B, 4 * BLOCK_H], dtype=acc_dtype)
            for k in range(0, H, BLOCK_K):
                o_k = k + tl.arange(0, BLOCK_K)
                m_k = o_k < H
                m_hk = m_b[:, None] & m_k[None, :]
                b_h = tl.load(
                    p_h[:, None] + o_k[None, :], mask=m_hk, other=0.0, cache_modifier=SHARED_LOAD
                )
                b_w = tl.load(p_w + o_k[:, None], mask=m_k[:, None] & m_j[None, :], other=0.0)
                b_hw = tl.dot(
                    b_h, b_w, acc=b_hw, input_precision=DOT_PRECISION, out_dtype=acc_dtype
                )
        else:
            b_wh = resident_product(
                p_h, m_b, H, b_w_tiles, BLOCK_K, K_TILES, SHARED_LOAD, DOT_PRECISION, acc_dtype
            )
            b_hw = tl.trans(b_wh)
        if HAS_RESETS:
            # No r_prev W^T for the rows that start from zeros. Applied to the product, not as
            # a mask of the h_prev loads: Triton 3.6 fails to compile an fp64 tl.dot whose
            # operand load is masked by loaded values.
            b_hw = tl.where(b_fresh, 0.0, b_hw)
        b_z += b_hw
    b_zi, b_zf, b_zg, b_zo = split_gates(b_z, BLOCK_B, BLOCK_H)

    # The cell options' tiles here, after the product: where the math needs them, with every
    # option on, Triton 3.6 spilled (8 bytes, fp16, H 1024).
    if PEEPHOLE:
        b_pi, b_pf, b_po = peephole_tiles(peephole_ptr, i_d, H, o_h, m_h, acc_dtype)
    if ZONEOUT > 0:
        b_keep_h, b_keep_c = kept_fractions(
            zone_h_ptr, zone_c_ptr, t, B, D, H, i_d, o_b, o_h, m_bh, acc_dtype, ZONEOUT
        )
        # h_prev by element: the previous output, or h0 at the row's first step.
        if FIRST:
            b_h_prev = tl.zeros([BLOCK_B, BLOCK_H], dtype=acc_dtype)
            b_first = tl.full([BLOCK_B, 1], 1, tl.int1)
        else:
            p_h_prev = y_ptr + t_prev * B * D * H + o_b[:, None] * (D * H) + i_d * H + o_h[None, :]
            b_h_prev = tl.load(p_h_prev, mask=m_bh, other=0.0).to(acc_dtype)
            if HAS_RESETS:
                b_h_prev = tl.where(b_fresh, 0.0, b_h_prev)
            if HAS_LENGTHS:
                b_first = t_prev >= b_length
            else:
                b_first = tl.full([BLOCK_B, 1], 0, tl.int1)
        if HAS_STATE:
            b_h0 = tl.load(h0_ptr + o_state, mask=m_bh & b_first, other=0.0).to(acc_dtype)
            b_h_prev = tl.where(b_first, b_h0, b_h_prev)

    if PEEPHOLE:
        b_zi += b_pi * b_c_prev
        b_zf += b_pf * b_c_prev
    b_i = activate(b_zi, ACT_I)
    b_f = activate(b_zf, ACT_F)
    b_g = activate(b_zg, ACT_G)
    b_c = b_f * b_c_prev + b_i * b_g
    if PEEPHOLE:
        b_zo += b_po * b_c
    b_o = activate(b_zo, ACT_O)
    b_h_new = b_o * activate(b_c, ACT_C)
    if ZONEOUT > 0:
        b_c = b_keep_c * b_c_prev + (1.0 - b_keep_c) * b_c
        b_h_new = b_keep_h * b_h_prev + (1.0 - b_keep_h) * b_h_new
    b_c = tl.where(b_valid, b_c, b_c_prev)
    b_h_new = tl.where(b_valid, b_h_new, 0.0)

    p_y = y_ptr + t * B * D * H + o_b[:, None] * (D * H) + i_d * H + o_h[None, :]
    tl.store(p_y, b_h_new.to(y_ptr.dtype.element_ty), mask=m_bh)
    if exchange is not None:
        arrive(exchange[0])
    gate_dtype = gates_ptr.dtype.element_ty
    m_store = m_bh & b_valid
    p_z = p_row + o_h[None, :]
    tl.store(p_z, b_i.to(gate_dtype), mask=m_store)
    tl.store(p_z + H, b_f.to(gate_dtype), mask=m_store)
    tl.store(p_z + 2 * H, b_g.to(gate_dtype), mask=m_store)
    tl.store(p_z + 3 * H, b_o.to(gate_dtype), mask=m_store)
    tl.store(c_seq_ptr + cell_offsets(slot, B, D, H, i_d, o_b, o_h), b_c, mask=m_bh)


@triton.jit(do_not_specialize=["T", "B", "slots"])
def _lstm_forward_persistent_kernel(
    gates_ptr,
    w_ptr,
    peephole_ptr,
    h0_ptr,
    c0_ptr,
    lengths_ptr,
    resets_ptr,
    zone_h_ptr,
    zone_c_ptr,
    y_ptr,
    c_seq_ptr,
    arrived_ptr,  # (D * batch blocks * COUNTER_STRIDE,) int32 zeros: programs that finished a step
    T,
    B,
    H,
    D,
    w_direction_stride,
    slots,
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
    K_TILES: tl.constexpr,
    RESIDENT_W: tl.constexpr,
    STRAGGLER_SPINS: tl.constexpr,
):
    """Steps 1..T-1 in one launch (step 0, which reads the initial state, is the step kernel's
    own launch before it): the step kernel's body around a barrier over the programs of the
    same direction and batch rows, whose h_t the next step reads: each arrives once its h_t is
    stored and waits just before it reads h_prev.
    Every program must be resident at once: the launcher keeps the grid within the SMs and
    launches it cooperatively.
    RESIDENT_W: the program's rows of W loaded once, before the loop (schedule.py, resident).
    STRAGGLER_SPINS: 0, or a test-only delay of each group's last program a step
    (barrier.straggle, schedule.straggling).
    """
    programs = tl.num_programs(1)
    arrived = group_counter(arrived_ptr)
    if RESIDENT_W:
        b_w_tiles = resident_forward_weights(
            w_ptr, w_direction_stride, H, BLOCK_H, BLOCK_K, K_TILES
        )
    else:
        b_w_tiles = None
    # One stage: a pipelined loop would load step s + 1's h_prev before the barrier.
    for s in tl.range(1, T, num_stages=1):
        if STRAGGLER_SPINS > 0:
            # The last program of each group, which the others wait for at the next barrier.
            if tl.program_id(1) == programs - 1:
                straggle(arrived, STRAGGLER_SPINS)
        _lstm_forward_step_kernel(
            gates_ptr,
            w_ptr,
            peephole_ptr,
            h0_ptr,
            c0_ptr,
            lengths_ptr,
            resets_ptr,
            zone_h_ptr,
            zone_c_ptr,
            y_ptr,
            c_seq_ptr,
            s,
            T,
            B,
            H,
            D,
            w_direction_stride,
            s % slots,
            (s - 1) % slots,
            b_w_tiles,
            # Step 1 reads the h of step 0's launch; step s that of the previous step.
            (arrived, (s - 1) * programs),
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
            K_TILES,
            ".cg",
        )


def lstm_forward_recurrence(
    gates: torch.Tensor,
    w: torch.Tensor,
    h0: torch.Tensor | None,
    c0: torch.Tensor | None,
    lengths: torch.Tensor | None,
    *,
    keep_cell_states: bool,
    cell: Cell = TORCH_CELL,
    resets: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run the recurrence over all steps; returns y (T, B, D*H) and c_seq (S, B, D, H).

    gates (T, B, D*4H) holds x W_ih^T + b (+ h0 W_hh^T at each row's first step) on entry and
    the activated gates on return. S is T with keep_cell_states (the backward's cache), else 2.
    h0 (D, B, H) is read only for zoneout, which blends it in element by element; it may be
    None otherwise.
    """
    T, B, DG = gates.shape
    D, G, H = w.shape
    assert DG == D * G and G == 4 * H, f"gates {tuple(gates.shape)} vs w {tuple(w.shape)}"
    assert gates.is_contiguous()
    if c0 is not None:
        assert c0.shape == (D, B, H) and c0.is_contiguous() and c0.dtype == gates.dtype
    check_step_inputs(gates, lengths, cell, H, resets)
    if cell.zoneout_mode:
        assert (h0 is None) == (c0 is None), "zoneout blends h0 and c0: both or neither"
    if cell.zoneout_mode and c0 is not None:
        assert h0 is not None and h0.shape == (D, B, H) and h0.is_contiguous()
        assert h0.dtype == gates.dtype

    y = torch.empty((T, B, D * H), dtype=gates.dtype, device=gates.device)
    slots = T if keep_cell_states else 2
    c_seq = torch.empty((slots, B, D, H), dtype=accumulator_dtype(gates.dtype), device=gates.device)
    zone_h, zone_c = zoneout_arguments(cell, c_seq)
    launch = schedule.plan(
        gates,
        H,
        persistent_steps=T - 1,
        has_state=c0 is not None,
        has_lengths=lengths is not None,
        has_resets=resets is not None,
        cell=cell,
        backward=False,
    )
    arguments = dict(
        gates_ptr=gates,
        w_ptr=w,
        w_direction_stride=direction_stride(w, gates),
        peephole_ptr=y if cell.peephole is None else cell.peephole,
        h0_ptr=y if h0 is None else h0,
        c0_ptr=y if c0 is None else c0,
        lengths_ptr=y if lengths is None else lengths,
        resets_ptr=y if resets is None else resets,
        zone_h_ptr=zone_h,
        zone_c_ptr=zone_c,
        y_ptr=y,
        c_seq_ptr=c_seq,
    )
    with on_device_of(gates):
        for s in range(1 if launch.persistent else T):
            _lstm_forward_step_kernel[launch.grid](
                **arguments,
                **launch.shared,
                **launch.step,
                s=s,
                slot=s % slots,
                slot_prev=(s - 1) % slots,
                b_w_tiles=None,
                exchange=None,
                FIRST=s == 0,
                SHARED_LOAD="",
            )
        if launch.persistent:
            # A cooperative launch: the driver refuses a grid that cannot be resident at once
            # (an error) instead of leaving programs spinning for ones that never start.
            _lstm_forward_persistent_kernel[launch.grid](
                **arguments,
                **launch.shared,
                arrived_ptr=schedule.barrier_counters(launch.grid, gates.device),
                slots=slots,
                **launch.loop,
                launch_cooperative_grid=True,
            )
    return y, c_seq
