"""Fused Triton kernels of the LSTM recurrence, installed as ``lstm_triton.kernels``.

Entry points: lstm_layer.lstm_layer_forward / lstm_layer_backward (one layer, both directions).
To run the kernels on CPU tensors, set TRITON_INTERPRET=1 before this package's kernel modules
are imported: Triton fixes the mode when it decorates a kernel.
"""
