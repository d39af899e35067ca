"""The torch backend: torch's own implementation of every primitive that has one, and its autodiff hooks.

Imported once a torch tensor is seen (``_dispatch.backend``).  Its autograd
Functions live in ``_torch_functions`` and ``_torch_chunks``.
"""

from __future__ import annotations

import math

import array_api_compat.torch as xp  # noqa: F401  (the namespace of torch tensors, for _dispatch)
import torch
import torch.utils.checkpoint

from ._torch_chunks import RowChunks, RowChunksSum, summed_with_gradients
from ._torch_functions import (  # noqa: F401  (plan: the pieces of CPU tensors, a hook of this backend)
    CustomVjp,
    Pick,
    apply,
    apply_sum,
    autograd,
    compiling,
    divide,
    eager_autograd,
    evaluate,
    evaluate_sum,
    forward_ad_active,
    func_transform,
    plan,
    records,
)


def placement(x):
    return x.device


def eager_on_host(x) -> bool:
    """Whether ``x`` is computed eagerly in host memory: a CPU tensor outside the torch.func transforms and
    forward mode."""
    return x.device.type == "cpu" and not func_transform() and not forward_ad_active()


# --- autodiff hooks ---------------------------------------------------------------------------------------

def stop_gradient(x):
    return x.detach()


def elementwise(value, derivatives, *arrays):
    if not records(arrays):
        return evaluate(value, arrays)  # no gradient to serve: skip the Function's overhead
    return apply(value, derivatives, *arrays)


def elementwise_sum(value, derivatives, *arrays, divisor=None):
    if not records(arrays):
        s = evaluate_sum(value, arrays)
        return s if divisor is None else divide(s, divisor)
    return apply_sum(value, derivatives, divisor, *arrays)


def custom_vjp(forward, backward, x, *constants):
    """One ``autograd.Function`` under eager autograd: its forward pass records only the residuals, its
    backward pass is ``backward``; with ``create_graph`` it differentiates ``forward`` again."""
    return CustomVjp.apply(forward, backward, x, *constants) if eager_autograd((x,)) else None


def chunked_sum(f, arrays, size, shared, scanned):
    """Each chunk's gradients taken with its value: ``RowChunksSum`` in eager mode, and under torch.compile
    ``torch.func.grad_and_value`` in the traced graph (``summed_with_gradients``)."""
    if eager_autograd(arrays + shared):
        return RowChunksSum.apply(f, size, len(arrays), *arrays, *shared)
    if compiling() and autograd(arrays + shared):
        return summed_with_gradients(f, arrays, size, shared)
    return None


def chunked_rows(f, arrays, size, shared):
    """Under eager autograd one ``RowChunks``, whose backward pass recomputes chunk by chunk and writes the
    gradients into one buffer per array (a checkpoint's slices each scatter theirs into a full-size zero
    array)."""
    return RowChunks.apply(f, size, len(arrays), *arrays, *shared) if eager_autograd(arrays + shared) else None


def rematerialised(f):
    """A non-reentrant checkpoint (arrays ``f`` closes over get their gradients) while autograd records;
    not under the ``torch.func`` transforms, which refuse the saved-tensor hooks it is made of."""
    if torch.is_grad_enabled() and (compiling() or not func_transform()):
        return lambda *arrays: torch.utils.checkpoint.checkpoint(f, *arrays, use_reentrant=False)
    return f


# --- numerics ---------------------------------------------------------------------------------------------

def sign(x):
    return torch.sign(x)


def abs(x):
    return torch.abs(x)  # its gradient is sign(x), 0 at 0, as the primitive's


def abs_(x):
    return x.abs_()


def vector_norm(x, *, ord, axis, keepdims):
    return torch.linalg.vector_norm(x, ord=ord, dim=axis, keepdim=keepdims)  # one pass, no temporary


def shift_max(x, *, axis):
    return torch.nan_to_num(torch.amax(x.detach(), dim=axis, keepdim=True), nan=0.0, posinf=0.0, neginf=0.0)


def wide_float(x):
    return x.dtype if x.device.type == "mps" else torch.float64


def log_softmax(x, *, axis):
    return torch.log_softmax(x, dim=axis)


def log_softmax_at(x, indices, *, axis):
    return take_along_axis(torch.log_softmax(x, dim=axis), indices, axis=axis)  # the fused kernel, then the pick


def erf(x):
    return torch.special.erf(x)


def softplus(x):
    """``F.softplus``, which returns ``x`` itself past its ``threshold``: 20 in float32 (``log1p(exp(-20))``
    is below half an ulp of 20) and 40 in float64 (torch's default of 20 would be 1e-10 off there)."""
    return torch.nn.functional.softplus(x, threshold=20.0 if x.dtype.itemsize <= 4 else 40.0)


def log_sigmoid(x):
    return torch.nn.functional.logsigmoid(x)


def sigmoid(x):
    return torch.sigmoid(x)


def lerp(a, b, w):
    return torch.lerp(a, b, w)


def clip(x, min, max):
    """``torch.clamp`` for floating tensors between finite bounds (array-api-compat's ``clip`` checks its
    arguments first, a cost in loops such as ``ctc_loss``'s); None for the rest."""
    if x.is_floating_point() and (min is not None or max is not None) and all(
            b is None or (type(b) in (int, float) and math.isfinite(b)) for b in (min, max)):
        return torch.clamp(x, min, max)
    return None


def cumulative_sum(x, *, axis):
    return torch.cumsum(x, dim=axis)


# --- indexing ---------------------------------------------------------------------------------------------

def take_along_axis(x, indices, *, axis, dense_gradient=False):
    """``torch.gather`` where the shapes agree off ``axis`` (``take_along_dim`` broadcasts, and costs more
    per call); under torch.compile with ``dense_gradient`` and one index per row, ``Pick``, whose gradient
    inductor fuses into the caller's full-size one (gather's is a scatter-add into zeros)."""
    if indices.dtype != torch.int64:
        indices = indices.to(torch.int64)  # torch.gather and take_along_dim take int64 only
    if indices.ndim == x.ndim and all(
            i == n for d, (i, n) in enumerate(zip(indices.shape, x.shape)) if d != axis % x.ndim):
        if dense_gradient and compiling() and indices.shape[axis] == 1 and x.requires_grad:
            return Pick.apply(x, axis % x.ndim, indices)
        return torch.gather(x, axis, indices)
    return xp.take_along_axis(x, indices, axis=axis)


def mark(indices, n):
    shape = tuple(indices.shape[:-1]) + (n + 1,)  # slot n catches the negative entries, then is dropped
    zeros = torch.zeros(shape, dtype=torch.bool, device=indices.device)
    return torch.scatter(zeros, -1, torch.where(indices < 0, n, indices), True)[..., :n]


def bin_sum(values, indices, n):
    """A scatter-add (on CUDA its atomic adds make the last bits vary from run to run, as
    ``F.ctc_loss``'s backward)."""
    out = values.new_zeros(tuple(values.shape[:-1]) + (n,))  # scatter_add_ would read a smaller index's block
    return out.scatter_add_(-1, torch.broadcast_to(indices.long(), values.shape), values)


def sort(x, *, axis, descending):
    return torch.sort(x, dim=axis, descending=descending, stable=True)


def searchsorted(sorted, values, *, side):
    return torch.searchsorted(sorted.contiguous(), values.contiguous(), right=side == "right")


# --- value checks -----------------------------------------------------------------------------------------

def host_values(x, *, always):
    if func_transform():  # torch.func's wrapped tensors have no data to read, like traced ones
        return None
    if x.device.type == "cpu" or always:
        x = x.detach().cpu()
        return (x.float() if x.dtype.itemsize < 4 and x.is_floating_point() else x).numpy()  # NumPy has no bfloat16
    return None


def value_range(x, *, always):
    if func_transform() or not (x.device.type == "cpu" or always):
        return None
    if not x.numel():
        return ()
    x = x.detach()
    if x.dtype.is_floating_point and x.dtype.itemsize == 1:
        x = x.float()  # no aminmax of the float8 dtypes
    elif not x.dtype.is_floating_point and not x.dtype.is_signed and x.dtype.itemsize > 1:
        x = x.to(torch.int64)  # no aminmax of uint16-64 (uint64 above 2**63 wraps below 0: "out of range", then read)
    low, high = torch.aminmax(x)
    return low.item(), high.item()
