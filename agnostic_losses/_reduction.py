"""Reductions: 'none' | 'mean' | 'sum', plain or weighted; the precision policy.

float16 and bfloat16 losses are computed and summed in float32 and the result
cast back, as torch does (docs/design.md, "Dtypes and precision").
"""

from __future__ import annotations

import functools
import math

from ._checks import warn_user
from ._primitives import array_namespace, divide, elementwise, elementwise_of, elementwise_sum_of, result_shape
from ._typing import Array


def legacy_reduction(size_average, reduce, reduction: str) -> str:
    """torch's deprecated ``size_average``/``reduce`` pair, mapped to a reduction string, with torch's warning."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    new = "mean" if (size_average and reduce) else "sum" if reduce else "none"
    warn_user(f"size_average and reduce args will be deprecated, please use reduction='{new}' instead.")
    return new


def working_precision(xp, *arrays):
    """``arrays`` in float32 where they are float16/bfloat16 (None stays None), as torch computes them."""
    return tuple(a if a is None or xp.finfo(a.dtype).bits >= 32 else xp.astype(a, xp.float32)
                 for a in arrays)


def as_dtype(xp, out, dtype):
    """``out`` cast to ``dtype`` (the caller's, after working in float32), unless it has it already."""
    return out if out.dtype == dtype else xp.astype(out, dtype)


def _accumulate(x, xp):
    """The sum of all elements, in at least float32."""
    if xp.finfo(x.dtype).bits < 32:
        return xp.sum(x, dtype=xp.float32)
    return xp.sum(x)


def reduce(loss: Array, reduction: str, *, mean_weights: Array | None = None) -> Array:
    """Apply ``reduction`` to the elementwise ``loss``.

    'mean' divides the sum by the sum of ``mean_weights`` when given, else by the number of
    elements (an empty ``loss`` gives NaN, as in torch, and no warning: ``divide``).  float16 and
    bfloat16 losses are summed in float32.  On NumPy the sum is a NumPy scalar: ``Setup.finish``
    (and :func:`agnostic_losses.loss`) make the result an array.

    >>> loss, w = np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 2.0])
    >>> float(P.reduce(loss, "mean")), float(P.reduce(loss * w, "mean", mean_weights=w))
    (2.0, 2.25)
    """
    if reduction == "none":
        return loss
    xp = array_namespace(loss)
    s = _accumulate(loss, xp)
    if reduction == "mean":
        s = divide(s, _accumulate(mean_weights, xp) if mean_weights is not None else math.prod(loss.shape))
    elif reduction != "sum":
        raise ValueError(f"unknown reduction {reduction!r}")  # checks.reduction ran first
    return xp.astype(s, loss.dtype) if s.dtype != loss.dtype else s


def reduce_elementwise(value, derivatives, arrays, reduction: str, *, weight=None):
    """``reduce(elementwise(value, derivatives, *arrays) * weight, reduction)``, the sum fused with the values,
    for arrays already in working precision (``working_precision``: the sum is taken in their dtype).

    ``weight`` (optional) broadcasts against the values; ``'mean'`` divides by the number of values (a mean
    over the weights is the caller's: ``'sum'``, then its own division).  ``'sum'`` and ``'mean'`` go through
    ``elementwise_sum``: on the CPU no full-size array of the values is made.
    """
    if weight is not None:
        value, derivatives, arrays = _weighted(value), _weighted_derivatives(value, derivatives), (*arrays, weight)
    return elementwise_reduction(value, derivatives, arrays, reduction)(*arrays)


def elementwise_reduction(value, derivatives, arrays, reduction: str):
    """``reduce_elementwise`` without a weight, as a function of arrays of ``arrays``' library, dtypes and shapes:
    its backend and the mean's count found once, for a caller that keeps it per such signature."""
    if reduction == "none":
        return functools.partial(elementwise_of(arrays[0]), value, derivatives)
    count = math.prod(result_shape(arrays)) if reduction == "mean" else None
    return functools.partial(elementwise_sum_of(arrays[0]), value, derivatives, divisor=count)


def _weighted(value):
    """``value(*arrays) * w``, an elementwise function of ``(*arrays, w)``."""
    def weighted(*arrays):
        return value(*arrays[:-1]) * arrays[-1]

    return weighted


def _weighted_derivatives(value, derivatives):
    """The derivatives of ``_weighted(value)``: ``w`` times ``value``'s, and ``value`` itself for
    ``w`` (as an ``elementwise``, whose own derivatives are ``derivatives``)."""
    def weighted(wanted, *arrays):
        *arrays, w = arrays
        grads = tuple(None if g is None else g * w for g in derivatives(wanted[:-1], *arrays))
        return grads + ((elementwise(value, derivatives, *arrays) if wanted[-1] else None),)

    return weighted
