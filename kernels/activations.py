"""Gate nonlinearities shared by the LSTM kernels, safe for any finite input.

sigmoid(x) = 1 / (1 + exp(-x)) saturates to exactly 0 or 1 (exp overflows to inf, 1/inf = 0).
tanh(x) = 2 sigmoid(2x) - 1 inherits that; the textbook (1 - e^-2x) / (1 + e^-2x) gives
inf/inf = NaN for x below about -44 in fp32.
"""

import triton
import triton.language as tl


@triton.jit
def sigmoid(x):
    return 1.0 / (1.0 + tl.exp(-x))


@triton.jit
def tanh(x):
    return 2.0 * sigmoid(2.0 * x) - 1.0
