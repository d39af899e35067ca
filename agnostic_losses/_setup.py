"""One setup path for every loss: its arrays and options checked, its namespace, result dtype and
working precision found, so that the loss body is its formula.

>>> import numpy as np
>>> s = setup("my_loss", "mean", {"input": np.ones(3, np.float32), "target": np.zeros(3, np.int64)},
...           targets=("target",))
>>> s.reduction, s.dtype, [a.dtype.name for a in s.arrays]
('mean', dtype('float32'), ['float32', 'float32'])
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from . import _checks as checks
from ._primitives import as_array, compiling, is_array, placement_function, quiet
from ._checks import REDUCTIONS
from ._reduction import as_dtype, legacy_reduction

_Function = TypeVar("_Function", bound=Callable[..., Any])


class Setup:
    """What ``setup`` found: ``xp``, ``reduction``, ``dtype`` (the result's) and ``arrays``."""

    __slots__ = ("xp", "reduction", "dtype", "arrays")

    def __init__(self, xp, reduction, dtype, arrays):
        self.xp, self.reduction, self.dtype, self.arrays = xp, reduction, dtype, arrays

    def finish(self, out):
        """``out``, computed in working precision, as the loss's result: an array of the result dtype."""
        return as_dtype(self.xp, as_array(out), self.dtype)


def setup(loss: str, reduction, arrays: dict, *, legacy=(None, None), reductions=REDUCTIONS, targets=(),
          indices=(), result=None, working: bool = True) -> Setup:
    """Check a loss's arguments and prepare its arrays.

    Args:
        loss: the loss's name, for error messages.
        reduction: the ``reduction`` argument; ``legacy`` is torch's deprecated
            ``(size_average, reduce)`` pair, which replaces it (with torch's
            warning) when either is given.  It must be one of ``reductions``.
        arrays: name -> array (or None, absent), in the order error messages
            name them; all of one library and device.  Each must have a real
            floating dtype, except ``targets`` (an integer array is taken in
            the first floating array's dtype, as torch takes an integer target) and
            ``indices`` (integer arrays, checked by the loss, passed as given).
        result: the names whose result type is the loss's dtype (default: all
            but ``indices``).
        working: float16 and bfloat16 arrays are taken in float32, as torch
            computes them.

    Returns a ``Setup`` whose ``arrays`` are the given ones in their order.
    """
    if legacy[0] is not None or legacy[1] is not None:
        reduction = legacy_reduction(*legacy, reduction)
    given = arrays.values()
    traced = compiling()  # torch.compile: no guards on the cache
    try:
        key = (loss, reduction, reductions, targets, indices, result, working,
               *[None if a is None else (type(a), a.dtype) for a in given])
        plan = None if traced else _PLANS.get(key)
    except (TypeError, AttributeError):  # an unhashable option, something that is no array: the checks name it
        key = plan = None
    if plan is None:
        plan = _plan(loss, reduction, arrays, reductions, targets, indices, result, working)
        if key is not None and not traced:
            _PLANS[key] = plan
    xp, dtype, casts, placement = plan
    if not one_place(placement, given):  # devices are not in the key (a first call checked them already; cheap)
        checks.one_device(loss, {k: a for k, a in arrays.items() if a is not None})  # the error
    if not any(casts):
        return Setup(xp, reduction, dtype, tuple(given))
    prepared = []
    for a, chain in zip(given, casts):
        for to in chain:
            a = xp.astype(a, to)
        prepared.append(a)
    return Setup(xp, reduction, dtype, tuple(prepared))


def one_place(placement, arrays) -> bool:
    """Whether ``arrays`` (None entries skipped) are in one place by ``placement``, their library's placement
    function (None: the library places its arrays itself)."""
    if placement is None:
        return True
    first = None
    for a in arrays:
        if a is not None:
            where = placement(a)
            if first is None:
                first = where
            elif where != first:
                return False
    return True


# (loss, reduction and setup's options, each array's type and dtype) -> (xp, the result's dtype, per array the
# dtypes it is cast through, the library's placement function or None): everything ``setup`` checks and
# derives from them, found once per signature (a call of a small array would spend half its time there)
_PLANS: dict = {}


def _plan(loss, reduction, arrays, reductions, targets, indices, result, working) -> tuple:
    """The checks of ``setup`` and what they find, from the arrays' types and dtypes (and, once, devices)."""
    xp = checks.namespace(loss, **arrays)
    checks.floating(loss, xp, **{k: a for k, a in arrays.items() if k not in targets and k not in indices})
    like = next(a for k, a in arrays.items() if a is not None and k not in indices and k not in targets)
    dtypes = {k: None if a is None else a.dtype for k, a in arrays.items()}
    casts = {k: [] for k in arrays}
    for k in targets:  # an integer or boolean target in the first floating array's dtype, as torch takes it
        if arrays[k] is not None and checks.numeric_like(loss, xp, k, arrays[k], like) is not arrays[k]:
            casts[k].append(like.dtype)
            dtypes[k] = like.dtype
    checks.reduction(loss, reduction, reductions)
    named = [k for k in arrays if k not in indices] if result is None else result
    dtype = xp.result_type(*(dtypes[k] for k in named if dtypes[k] is not None))  # dtypes: no 0-d rule
    floats = [k for k in arrays if k not in indices and dtypes[k] is not None]
    if working:  # float16 and bfloat16 computed in float32, as torch does
        for k in floats:
            if xp.finfo(dtypes[k]).bits < 32:
                casts[k].append(xp.float32)
                dtypes[k] = xp.float32
    # floating arrays of several dtypes are all computed in their promotion: a formula's in-place updates keep
    # one dtype, and torch would compute a float32 tensor with a float64 0-d one in float32 (its rule for 0-d
    # tensors) where the array API computes in float64
    to = xp.result_type(*(dtypes[k] for k in floats))
    for k in floats:
        if dtypes[k] != to:
            casts[k].append(to)
            dtypes[k] = to
    return xp, dtype, tuple(tuple(c) for c in casts.values()), placement_function(like)


def silent_nonfinite(loss: _Function) -> _Function:
    """``loss`` (a function of arrays) run where its arrays' library computes inf and NaN without a warning, as
    torch does: NumPy's floating-point error handling (``np.errstate``, even ``'raise'``) is off inside it (its
    first array argument names the library)."""
    @functools.wraps(loss)
    def wrapped(*args, **kwargs):
        first = args[0] if args and is_array(args[0]) else next(
            (a for a in (*args, *kwargs.values()) if is_array(a)), None)
        context = quiet(first)
        if context is None:
            return loss(*args, **kwargs)
        with context:
            return loss(*args, **kwargs)

    return cast(_Function, wrapped)  # functools.wraps keeps the signature
