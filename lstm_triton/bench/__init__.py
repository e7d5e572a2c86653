"""The LSTM benchmark harness behind experiments/bench.py (experiment code, not the product).

grids      named sets of problem sizes (Config)
case       the inputs and weights every provider of one config shares; cells, dtype names, TF32
loop       the plain PyTorch step loop (eager and torch.compile providers)
providers  implementations matched by exact name; Triton kernel variants register by name
gate       the correctness gate: each provider's forward against float64 torch.nn.LSTM (or
           the GRU, RNN it computes), its gradients finite
measure    the timed closure of each mode; do_bench on CUDA, a perf_counter timer on CPU
run        the sweep: config x dtype x provider x mode -> CSV rows
report     CSV columns and I/O; the markdown tables (speed-up, cost by cell) and the speed-up
           plot, from the CSV only
tolerance  the test suite's tolerance table, shared with the GPU check
acceptance the GPU check's correctness items (experiments/gpu_check.py)
watchdog   runs named items in child processes under a budget: a hang costs one item
launches   the recurrence kernels' launches recorded on meta tensors, compiled for a named GPU
sass       what a warp issues in one step, counted in the compiled kernel's SASS
cost       the static cost model: one step's counts priced, per schedule (kernel_cost.py)
"""
