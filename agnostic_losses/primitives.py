"""The primitives a loss author needs: what the array API standard lacks, exact on every backend.

The functions this library's own losses are written with, public and stable.
Each takes and returns arrays of the caller's library (NumPy, PyTorch, JAX,
CuPy, Dask, array-api-strict), runs its library's fast path where one exists
and otherwise one implementation written against the standard alone.
``abs``, ``sign``, ``vector_norm`` and the log-space functions keep torch's
gradient conventions on every backend that differentiates (torch, JAX): at a
kink the subgradient is 0, ``|x|'(0) = 0``; ``clip`` has its library's own
gradient at a bound (torch 1, JAX 0.5): write a bound as an explicit
``xp.where`` where its gradient matters.  Write a loss
with them and :func:`agnostic_losses.loss`:

>>> import numpy as np
>>> import agnostic_losses as al
>>> from agnostic_losses import primitives as P
>>> @al.loss
... def soft_target_cross_entropy(input, target, *, xp):
...     return -xp.sum(target * P.log_softmax(input, axis=-1), axis=-1)
>>> round(float(soft_target_cross_entropy(np.zeros((2, 4)), np.full((2, 4), 0.25))), 6)  # log 4
1.386294

| | |
|---|---|
| autodiff | :func:`stop_gradient`, :func:`elementwise` (a value with its stated derivatives), :func:`custom_vjp` (a hand-written reverse mode) |
| numerics | :func:`logsumexp`, :func:`log_softmax`, :func:`softplus`, :func:`log_sigmoid`, :func:`sigmoid`, :func:`abs` (kink-safe), :func:`sign`, :func:`clip`, :func:`lerp`, :func:`vector_norm`, :func:`divide`, :func:`erf` |
| indexing | :func:`take_along_axis` |
| reductions | :func:`reduce` (``'none' / 'mean' / 'sum'``, weighted) |
| namespaces | :func:`array_namespace` |
| switches | :func:`generic_primitives` (the standard-only code everywhere), :func:`value_checks` |

On libraries without autodiff (NumPy, CuPy, Dask, array-api-strict) the
autodiff hooks compute the value alone.
"""

from ._primitives import (
    abs,
    array_namespace,
    clip,
    custom_vjp,
    divide,
    elementwise,
    erf,
    generic_primitives,
    lerp,
    log_sigmoid,
    log_softmax,
    logsumexp,
    sigmoid,
    sign,
    softplus,
    stop_gradient,
    take_along_axis,
    value_checks,
    vector_norm,
)
from ._reduction import reduce

__all__ = [
    "stop_gradient", "elementwise", "custom_vjp",
    "logsumexp", "log_softmax", "softplus", "log_sigmoid", "sigmoid", "abs", "sign", "clip", "lerp", "vector_norm", "erf",
    "divide", "take_along_axis", "reduce", "array_namespace", "generic_primitives", "value_checks",
]
