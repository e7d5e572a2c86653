"""Gate nonlinearities shared by the LSTM kernels, safe for any finite input.

sigmoid(x) = 1 / (1 + exp(-x)) saturates to exactly 0 or 1 (exp overflows to inf, 1/inf = 0).
tanh(x) = 2 sigmoid(2x) - 1 inherits that; the textbook (1 - e^-2x) / (1 + e^-2x) gives
inf/inf = NaN for x below about -44 in fp32.

Each gate's activation is a constexpr code, contract.ACTIVATIONS[code] naming it; the backward
takes each derivative from the activation's output, which is what the forward saves.
"""

import triton
import triton.language as tl


@triton.jit
def sigmoid(x):
    return 1.0 / (1.0 + tl.exp(-x))


@triton.jit
def tanh(x):
    return 2.0 * sigmoid(2.0 * x) - 1.0


@triton.jit
def activate(x, KIND: tl.constexpr):
    if KIND == 0:
        y = sigmoid(x)
    elif KIND == 1:
        y = tl.minimum(tl.maximum(x / 6.0 + 0.5, 0.0), 1.0)
    elif KIND == 2:
        y = tanh(x)
    elif KIND == 3:
        y = tl.maximum(x, 0.0)
    else:
        y = x
    return y


@triton.jit
def activation_slope(y, KIND: tl.constexpr):
    """d activation / dx, from the output y."""
    if KIND == 0:
        slope = y * (1.0 - y)
    elif KIND == 1:
        slope = tl.where((y > 0.0) & (y < 1.0), 1.0, 0.0).to(y.dtype) / 6.0
    elif KIND == 2:
        slope = 1.0 - y * y
    elif KIND == 3:
        slope = tl.where(y > 0.0, 1.0, 0.0).to(y.dtype)
    else:
        slope = tl.full(y.shape, 1.0, y.dtype)
    return slope
