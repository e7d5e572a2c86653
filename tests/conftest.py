"""Session setup shared by every test.

Without a GPU the Triton kernels run in Triton's interpreter on CPU tensors; the interpreter
is chosen when a kernel is decorated, so TRITON_INTERPRET must be set before any kernel module
is imported. With a GPU the kernels compile for it and the interpreter stays off, unless the
caller set TRITON_INTERPRET explicitly.
"""

import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
