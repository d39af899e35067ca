"""Validation of shapes, dtypes, options and namespaces (docs/design.md, "Bad input").

Every error names the loss, the argument, what was expected and what came.
Shapes and dtypes are static, so these checks never touch the data and are
safe under ``jax.jit`` and ``torch.compile``.
"""

from __future__ import annotations

import numbers
import os
import sys
import warnings

from ._primitives import array_namespace, compiling, host_values, is_array, library_name, placement, value_range

REDUCTIONS = ("none", "mean", "sum")
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_user(message: str, category: type = UserWarning) -> None:
    """A warning (a UserWarning unless ``category`` names another) attributed to the first caller outside this
    package, as torch's point at the user's line; none under torch.compile, which cannot trace ``warnings.warn``."""
    if compiling():
        return
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        level, frame = level + 1, frame.f_back
    warnings.warn(message, category, stacklevel=level)


def namespace(loss: str, **arrays):
    """The one array namespace of the given arrays (``None`` entries are optional)."""
    given = {name: a for name, a in arrays.items() if a is not None}
    for name, a in given.items():
        if not is_array(a):
            raise TypeError(f"{loss}: {name} must be an array, got {type(a).__name__}")
    try:
        xp = array_namespace(*given.values())
    except TypeError:
        found = ", ".join(f"{name} from {library_name(a)}" for name, a in given.items())
        raise TypeError(
            f"{loss}: all arrays must come from one array library, got {found}"
        ) from None
    one_device(loss, given)
    return xp


def one_device(loss: str, given: dict) -> None:
    """The arrays ``given`` (name -> array) live on one device, where their library places them itself."""
    if len(given) < 2:
        return
    places = {name: d for name, d in ((name, placement(a)) for name, a in given.items()) if d is not None}
    if any(d != next(iter(places.values())) for d in places.values()):  # CuPy's devices do not hash
        found = ", ".join(f"{name} on {d}" for name, d in places.items())
        raise ValueError(f"{loss}: all arrays must be on one device, got {found}")


def floating(loss: str, xp, **arrays) -> None:
    """Each given array has a real floating dtype."""
    for name, a in arrays.items():
        if a is not None and not xp.isdtype(a.dtype, "real floating"):
            raise TypeError(f"{loss}: {name} must have a real floating dtype, got {a.dtype}")


def numeric_like(loss: str, xp, name: str, a, like):
    """``a`` as ``like``'s dtype when it holds integers or booleans (as torch accepts such a target); floats as
    they are."""
    if xp.isdtype(a.dtype, ("integral", "bool")):
        return xp.astype(a, like.dtype)
    floating(loss, xp, **{name: a})
    return a


def reduction(loss: str, reduction, allowed=REDUCTIONS) -> None:
    if reduction not in allowed:
        expected = ", ".join(repr(r) for r in allowed)
        raise ValueError(f"{loss}: reduction must be one of {expected}, got {reduction!r}")


def broadcast_shape(loss: str, **arrays) -> tuple:
    """The shape the named arrays (or shape tuples) broadcast to; a ValueError naming them where they do not."""
    shapes = {name: a if isinstance(a, tuple) else tuple(a.shape) for name, a in arrays.items()}
    out = ()
    for name, shape in shapes.items():
        n = max(len(out), len(shape))
        a, b = (1,) * (n - len(out)) + out, (1,) * (n - len(shape)) + shape
        if any(m != k and 1 not in (m, k) for m, k in zip(a, b)):
            given = ", ".join(f"{k} of shape {v}" for k, v in shapes.items())
            raise ValueError(f"{loss}: the shapes do not broadcast together: {given}")
        out = tuple(k if m == 1 else m for m, k in zip(a, b))  # 1 with 0 broadcasts to 0
    return out


def broadcastable(loss: str, input, target, *, warn: bool = True, names=("input", "target")) -> None:
    """``input`` and ``target`` broadcast together; ``warn``, as torch does, when their shapes differ."""
    a, b = tuple(input.shape), tuple(target.shape)
    if a == b:
        return
    for m, n in zip(reversed(a), reversed(b)):
        if m != n and 1 not in (m, n):
            raise ValueError(
                f"{loss}: {names[1]} of shape {b} does not broadcast with {names[0]} of shape {a}"
            )
    if warn:
        warn_user(f"{loss}: target shape {b} differs from input shape {a}; they are broadcast, "
              "which is likely not intended")


def broadcastable_to(loss: str, name: str, a, like_name: str, like) -> None:
    """``a`` broadcasts to ``like``'s shape (or to ``like``, a shape), without growing it."""
    a_shape, shape = tuple(a.shape), like if isinstance(like, tuple) else tuple(like.shape)
    ok = len(a_shape) <= len(shape) and all(m in (1, n) for m, n in zip(reversed(a_shape), reversed(shape)))
    if not ok:
        raise ValueError(f"{loss}: {name} of shape {a_shape} does not broadcast to {like_name}'s shape {shape}")


def same_shape(loss: str, name: str, a, like_name: str, like) -> None:
    if a is not None and tuple(a.shape) != tuple(like.shape):
        raise ValueError(
            f"{loss}: {name} must have the shape of {like_name}, {tuple(like.shape)}, "
            f"got {tuple(a.shape)}"
        )


def positive(loss: str, name: str, value, *, allow_zero: bool = False) -> None:
    """A real number option that must be > 0 (or >= 0); NaN is refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{loss}: {name} must be a float or int, got {type(value).__name__}")
    if not (value > 0 or (allow_zero and value == 0)):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{loss}: {name} must be {bound}, got {value}")


def values(loss: str, name: str, a, ok, expected: str, *, within=None) -> None:
    """Where ``a``'s data can be read (see ``value_checks``), every element satisfies ``ok``.

    ``within``: bounds ``(low, high)`` inside which every value satisfies ``ok``; the data's range (one reduction,
    on the backend) is read first, and the data themselves only where it leaves them."""
    if within is not None:
        bounds = value_range(a)
        if bounds is None or not bounds or within[0] <= bounds[0] and bounds[1] <= within[1]:
            return
    v = host_values(a)
    if v is not None:
        _every(loss, name, v, ok, expected)


def _every(loss, name, v, ok, expected):
    bad = ~ok(v)
    if bad.any():
        raise ValueError(f"{loss}: {name} must hold {expected}, got {v[bad].reshape(-1)[0].item()!r}")


def indices(loss: str, name: str, a, start: int, stop: int, expected: str, *, also=None) -> bool:
    """Where ``a``'s data can be read, every element is in ``[start, stop)`` or equals ``also``.  Returns whether
    the data were read and every element is in ``[start, stop)`` (one reduction to a range in that common case)."""
    bounds = value_range(a)
    if bounds is None:
        return False
    if not bounds or (bounds[0] >= start and bounds[1] < stop):
        return True
    v = host_values(a)  # an index out of range: the data, to name it
    _every(loss, name, v, (lambda t: (t >= start) & (t < stop)) if also is None else
           (lambda t: ((t >= start) & (t < stop)) | (t == also)), expected)
    return False


def boolean(loss: str, name: str, value) -> None:
    """``value`` is True or False (a Python or NumPy bool)."""
    if not (isinstance(value, bool) or getattr(value, "dtype", None) is not None and value.dtype.kind == "b"
            and value.ndim == 0):
        raise TypeError(f"{loss}: {name} must be True or False, got {value!r}")


def option_in(loss: str, name: str, value, lo: float, hi: float, nan: bool = False) -> None:
    """A real number option in the closed interval [lo, hi] (or NaN, where ``nan``: torch's check lets it by)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{loss}: {name} must be a float, got {type(value).__name__}")
    if (value < lo or value > hi) if nan else not lo <= value <= hi:
        raise ValueError(f"{loss}: {name} must be in [{lo}, {hi}], got {value}")


def label_smoothing(loss: str, value) -> float:
    """torch's ``label_smoothing``: at most 1; smoothing only where it is above 0 (a negative or NaN one is 0)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{loss}: label_smoothing must be a float, got {type(value).__name__}")
    if value > 1.0:
        raise ValueError(f"{loss}: label_smoothing must be at most 1.0, got {value}")
    return float(value) if value > 0.0 else 0.0


def integral(loss: str, xp, name: str, a, what: str) -> None:
    if not xp.isdtype(a.dtype, "integral"):
        raise TypeError(f"{loss}: {name} must have an integer dtype ({what}), got {a.dtype}")


def shape_is(loss: str, name: str, a, expected: tuple, why: str) -> None:
    if tuple(a.shape) != tuple(expected):
        raise ValueError(f"{loss}: {name} must have shape {tuple(expected)} ({why}), got {tuple(a.shape)}")


def axis(loss: str, value, ndim: int, name: str, *, exclude=()) -> int:
    """An axis of an ``ndim``-dimensional argument ``name``, in ``[-ndim, ndim)``, as a non-negative int; the
    axes in ``exclude`` (non-negative: a batch axis) are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{loss}: axis must be an int, got {type(value).__name__}")
    if not -ndim <= value < ndim or value % ndim in exclude:
        others = "".join(f", not {e}" for e in exclude)
        raise ValueError(f"{loss}: axis must be an axis of {name}, in [{-ndim}, {ndim}){others}, got {value}")
    return int(value) % ndim
