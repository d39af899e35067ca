"""Indexing and sorting the standard lacks or has only in part: batched gathers, scatters, sorts and searches.

Each function runs its backend's fast path where one exists (``native``) and
otherwise its standard-only code, which works on any library (Dask included:
it needs no gather and keeps each block's rows whole).
"""

from __future__ import annotations

from .._typing import Array
from ._autodiff import stop_gradient
from ._dispatch import array_namespace, device, native, own
from ._settings import _GENERIC


def wide_indices(x):
    """Integer indices as int64 or int32 (others become the namespace's default integer dtype:
    int64, or int32 in JAX without x64): uint8 cannot hold -100, nor twice a length of 200."""
    xp = array_namespace(x)
    if x.dtype in (xp.int64, xp.int32):
        return x
    return xp.astype(x, xp.asarray(0, device=device(x)).dtype)


def take_along_axis(x: Array, indices: Array, /, *, axis: int, dense_gradient: bool = False) -> Array:
    """``x``'s elements at ``indices`` along ``axis`` (the standard's ``take_along_axis``).

    ``indices`` has ``x``'s number of dimensions, and values in
    ``[0, x.shape[axis])``.  Where the namespace lacks the function (Dask,
    older libraries) a one-hot selection stands in: the same values and
    gradients, at the cost of a temporary of size
    ``x.size * indices.shape[axis]``.  ``dense_gradient``: the caller's promise
    that ``x``'s gradient has a full-size term besides this selection's (a
    hinge's over every element), which lets a compiler fuse the selection's
    gradient into it (see the torch backend).

    >>> P.take_along_axis(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1], [0]]), axis=1).tolist()
    [[2.0], [3.0]]
    """
    fast = native(x, "take_along_axis")
    if fast is not None:
        return fast(x, indices, axis=axis, dense_gradient=dense_gradient)
    xp = array_namespace(x, indices)
    if not _one_hot_gather(xp):
        return xp.take_along_axis(x, indices, axis=axis)
    indices = wide_indices(indices)  # arange(n) in uint8 wraps past 255
    axis = axis % x.ndim
    n = x.shape[axis]
    shape = [1] * (x.ndim + 1)
    shape[axis + 1] = n
    classes = xp.reshape(xp.arange(n, dtype=indices.dtype, device=device(x)), tuple(shape))
    hit = xp.expand_dims(indices, axis=axis + 1) == classes  # (..., m, n, ...)
    x_wide = xp.expand_dims(x, axis=axis)  # (..., 1, n, ...)
    return xp.sum(xp.where(hit, x_wide, xp.zeros_like(x_wide)), axis=axis + 1)


def _one_hot_gather(xp) -> bool:
    """Whether the generic ``take_along_axis`` selects by a one-hot comparison in namespace ``xp``."""
    return _GENERIC[0] or not hasattr(xp, "take_along_axis")


def gathers_by_one_hot(x) -> bool:
    """Whether ``take_along_axis`` on ``x`` selects by a one-hot comparison, whose temporary is ``x.size``
    times the indices per row: Dask, and every library under the generic primitives."""
    return native(x, "take_along_axis") is None and _one_hot_gather(array_namespace(x))


def mark(indices, n: int):
    """A boolean ``(..., n)`` array, True at every index that ``indices`` ``(..., k)`` lists; negative entries
    and ``n`` mark nothing.  Generically a search of the sorted indices (natively a scatter)."""
    fast = native(indices, "mark")
    if fast is not None:
        return fast(wide_indices(indices), n)  # n (the slot of negative entries) and arange(n) fit
    xp = array_namespace(indices)
    indices = wide_indices(indices)
    if indices.shape[-1] == 0:
        return xp.zeros(tuple(indices.shape[:-1]) + (n,), dtype=xp.bool, device=device(indices))
    listed, _ = sort(xp.where(indices < 0, xp.full_like(indices, n), indices), axis=-1)
    # every row's classes, in the rows' own chunks on Dask (a broadcast arange would be one block of all rows)
    classes = xp.zeros_like(indices[..., :1]) + xp.arange(n, dtype=indices.dtype, device=device(indices))
    return searchsorted(listed, classes, side="right") > searchsorted(listed, classes, side="left")


def bin_sum(values, indices, n: int):
    """``out[..., c]``: the sum of ``values[..., s]`` over the ``s`` where ``indices[..., s] == c``, for c in
    ``[0, n)`` (the last axis; ``indices`` in ``[0, n)``, broadcast against ``values``, with no more
    dimensions).  Generically a one-hot selection, a temporary of ``values.size * n``; natively a
    scatter-add or one dot (see the backends for what each needs of the values)."""
    fast = native(values, "bin_sum")
    out = None if fast is None else fast(values, indices, n)
    if out is not None:
        return out
    xp = array_namespace(values, indices)
    indices = wide_indices(indices)  # arange(n) in uint8 wraps past 255
    hit = indices[..., None] == xp.arange(n, dtype=indices.dtype, device=device(indices))
    return xp.sum(xp.where(hit, values[..., None], xp.zeros_like(values[..., None])), axis=-2)


def sort(x, *, axis: int = -1, descending: bool = False):
    """``(values, indices)``: ``x`` sorted along ``axis``, stably (ties in input order, descending too), and
    the permutation that does it.

    The values carry ``x``'s gradient, each to the element it came from (a
    stable sort's permutation is unique, ties included).  Generically the
    standard's ``sort`` and ``argsort``, two sorts (no gather: Dask has none);
    descending as an ascending sort of ``-x`` (a reversed order would reverse
    the ties).  Where NaN goes is the library's (our callers sort none).
    """
    fast = native(x, "sort")
    out = None if fast is None else fast(x, axis=axis, descending=descending)
    if out is not None:
        return out
    if descending:
        values, order = sort(-x, axis=axis)
        return -values, order
    xp = array_namespace(x)
    x = _whole_along(x, axis)
    return xp.sort(x, axis=axis, stable=True), xp.argsort(stop_gradient(x), axis=axis, stable=True)


def searchsorted(sorted, values, *, side: str = "left"):
    """For each row of ``sorted`` ``(..., n)`` (ascending, no NaN) the insertion indices of that row's
    ``values`` ``(..., m)``: how many entries are ``<`` each value (side "left") or ``<=`` (side "right").

    The standard's ``searchsorted`` takes one 1-D sequence.  Generically by
    ranks in stable sorts (two argsorts of ``m + n`` elements a row and two of
    ``m``).  No gradient (an index).
    """
    fast = native(sorted, "searchsorted")
    if fast is not None:
        return fast(sorted, values, side=side)
    xp = array_namespace(sorted, values)
    m, n = values.shape[-1], sorted.shape[-1]
    # ties: the values before the entries ("left": entries < value) or after them ("right": <=); a value's place
    # in the stable order of both, less its place among the values alone, is the number of entries before it
    both = xp.concat((values, sorted) if side == "left" else (sorted, values), axis=-1)
    place = _ranks(xp, both)
    return (place[..., :m] if side == "left" else place[..., n:]) - _ranks(xp, values)


def _ranks(xp, x):
    """Each element's place in the stable ascending order along the last axis."""
    x = _whole_along(x, -1)
    return xp.argsort(xp.argsort(x, axis=-1, stable=True), axis=-1, stable=True)


def _whole_along(x, axis):
    """``x`` with each block whole along ``axis``, where the library stores arrays in blocks (Dask)."""
    hook = own(x, "whole_along")
    return x if hook is None else hook(x, axis)
