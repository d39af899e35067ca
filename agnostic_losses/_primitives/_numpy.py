"""The NumPy backend, which also serves array-api-strict (NumPy underneath): host memory, eager, no autodiff.

Large elementwise formulas are evaluated in pieces (``_pieces``), as torch's on
the CPU, for their temporaries' sake.
"""

from __future__ import annotations

import operator
import sys

import numpy as np

from . import _pieces
from ._settings import _GENERIC

abs = operator.abs  # no autodiff: the standard's abs serves


def abs_(x):
    if type(x) is np.ndarray and x.flags.writeable:
        return np.abs(x, out=x)
    return operator.abs(x)


def divide(a, b):
    """``a / b`` without NumPy's warning for ``0 / 0`` and ``x / 0`` (torch gives NaN and inf silently)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return a / b


def quiet():
    return np.errstate(all="ignore")


def eager_on_host(x) -> bool:
    return type(x) is np.ndarray


def as_array(x):
    """A NumPy scalar (what NumPy's reductions return) as a 0-d array."""
    return np.asarray(x) if isinstance(x, np.generic) else x


def plan(arrays):
    """The pieces of NumPy arrays (``_pieces.Chunks``)."""
    return None if _GENERIC[0] else _pieces.Chunks.plan(arrays, sys.modules[__name__])


def layout(arrays):
    if not all(type(a) is np.ndarray for a in arrays):
        return None
    return [a.flags.c_contiguous for a in arrays], [not any(a.strides) for a in arrays]


def flat_constant(a, size):
    return np.lib.stride_tricks.as_strided(a, (size,), (0,), writeable=False)


def empty(like, shape):
    return np.empty(shape, dtype=like.dtype)


def host_values(x, *, always):
    if isinstance(x, np.ndarray):
        return x
    if type(x).__module__.startswith("array_api_strict"):
        return np.from_dlpack(x)
    return None
