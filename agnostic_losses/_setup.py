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

from . import _checks as checks
from ._primitives import as_array, is_array, quiet
from ._checks import REDUCTIONS
from ._reduction import as_dtype, legacy_reduction, one_dtype, working_precision


class Setup:
    """What ``setup`` found: ``xp``, ``reduction``, ``dtype`` (the result's) and ``arrays``."""

    __slots__ = ("xp", "reduction", "dtype", "arrays")

    def __init__(self, xp, reduction, dtype, arrays):
        self.xp, self.reduction, self.dtype, self.arrays = xp, reduction, dtype, arrays

    def finish(self, out):
        """``out``, computed in working precision, as the loss's result: an array of the result dtype."""
        return as_dtype(self.xp, as_array(out), self.dtype)


def setup(loss: str, reduction, arrays: dict, *, legacy=(None, None), reductions=REDUCTIONS, targets=(),
          indices=(), result=None, common=(), working: bool = True) -> Setup:
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
        common: names of arrays cast to their common dtype (a formula's
            in-place updates then keep it).
        working: float16 and bfloat16 arrays are taken in float32, as torch
            computes them.

    Returns a ``Setup`` whose ``arrays`` are the given ones in their order.
    """
    if legacy[0] is not None or legacy[1] is not None:
        reduction = legacy_reduction(*legacy, reduction)
    xp = checks.namespace(loss, **arrays)
    checks.floating(loss, xp, **{k: a for k, a in arrays.items() if k not in targets and k not in indices})
    like = next(a for k, a in arrays.items() if a is not None and k not in indices and k not in targets)
    prepared = {k: checks.numeric_like(loss, xp, k, a, like) if k in targets and a is not None else a
                for k, a in arrays.items()}
    checks.reduction(loss, reduction, reductions)
    named = [k for k in arrays if k not in indices] if result is None else result
    dtype = xp.result_type(*(prepared[k].dtype for k in named if prepared[k] is not None))  # dtypes: no 0-d rule
    floats = [k for k in arrays if k not in indices]
    if working:
        prepared.update(zip(floats, working_precision(xp, *(prepared[k] for k in floats))))
    if common:
        prepared.update(zip(common, one_dtype(xp, *(prepared[k] for k in common))))
    return Setup(xp, reduction, dtype, tuple(prepared.values()))


def silent_nonfinite(loss):
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

    return wrapped
