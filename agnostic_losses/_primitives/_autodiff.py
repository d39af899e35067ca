"""Autodiff the standard has no word for: constants, elementwise functions with hand-written
derivatives, and functions with a hand-written reverse mode.

Each is its library's own autodiff hook (a ``torch.autograd.Function``, a
``jax.custom_jvp``), from the backend modules; a library without autodiff
evaluates the value alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .._typing import Array
from ._chunks import evaluate, evaluate_sum
from ._dispatch import as_array, divide, native, own


def stop_gradient(x: Array) -> Array:
    """``x`` as a constant: its value, with no gradient flowing back through it.

    On torch ``detach()``, on JAX ``lax.stop_gradient``; the other libraries
    have no autodiff, and get ``x``.

    >>> import torch
    >>> x = torch.tensor([2.0], requires_grad=True)
    >>> (x * P.stop_gradient(x)).backward()
    >>> x.grad.tolist()  # d/dx of x * c with c = x held constant
    [2.0]
    """
    hook = own(x, "stop_gradient")
    return x if hook is None else hook(x)  # NumPy, CuPy, Dask, array-api-strict: no autodiff to stop


def elementwise(value: Callable[..., Array], derivatives: Callable[..., Sequence[Array | None]],
                *arrays: Array) -> Array:
    """``value(*arrays)``, an elementwise function, whose gradient comes from ``derivatives``.

    ``derivatives(wanted, *arrays)`` returns, for each array, its elementwise
    partial derivative (broadcasting against the value), or None where
    ``wanted[i]`` is False (no gradient asked for) or the array is not
    differentiated.  It runs only when a gradient is asked for, in the backward
    pass, from the saved inputs: the forward pass keeps none of ``value``'s
    temporaries, and ``value`` may update arrays *it created* in place
    (``t *= 2``; never its arguments).  Second derivatives are those of
    ``derivatives`` itself.

    These are the autodiff systems' own hooks, not fast paths, so
    ``generic_primitives`` leaves them on: no construction from
    ``stop_gradient`` alone keeps the gradient at an infinite input
    (``x - sg(x)`` is NaN there).

    >>> square = P.elementwise(lambda x: x * x, lambda wanted, x: (2 * x,), np.array([3.0]))
    >>> square.tolist()
    [9.0]
    """
    return elementwise_of(arrays[0])(value, derivatives, *arrays)


def elementwise_of(x) -> Callable[..., Array]:
    """``elementwise`` for arrays of ``x``'s library, its backend looked up once (a caller that keeps it for
    many calls of one signature skips the lookup)."""
    hook = own(x, "elementwise")
    return _evaluated if hook is None else hook


def _evaluated(value, derivatives, *arrays):
    return evaluate(value, arrays)  # no autodiff to serve


def elementwise_sum(value, derivatives, *arrays, divisor=None):
    """``sum(elementwise(value, derivatives, *arrays))``, the 0-d sum over the arrays' broadcast shape, divided
    by the number ``divisor`` where given (a mean: ``0 / 0`` is NaN, without a warning).

    Where ``elementwise`` evaluates in pieces (torch on the CPU, NumPy; large
    arrays), each piece is summed as it comes: no full-size array of the values
    is made, and the backward pass writes each gradient straight into its
    buffer.  Elsewhere it is the plain sum, which compilers fuse themselves.
    On torch the division is part of the one autograd node.
    """
    return elementwise_sum_of(arrays[0])(value, derivatives, *arrays, divisor=divisor)


def elementwise_sum_of(x) -> Callable[..., Array]:
    """``elementwise_sum`` for arrays of ``x``'s library, its backend looked up once (as ``elementwise_of``)."""
    hook = own(x, "elementwise_sum")
    return _evaluated_sum if hook is None else hook


def _evaluated_sum(value, derivatives, *arrays, divisor=None):
    s = as_array(evaluate_sum(value, arrays))
    return s if divisor is None else divide(s, divisor)


def custom_vjp(forward: Callable[..., tuple[Array, Any]], backward: Callable[..., Array], x: Array,
               *constants: Any) -> Array:
    """``forward(x, *constants)[0]``, whose gradient with respect to ``x`` is ``backward``'s.

    ``forward(x, *constants, keep=False)`` returns ``(value, residuals)``
    (None unless ``keep``, else a tuple of arrays); ``backward(residuals,
    upstream, x, *constants)`` returns the gradient of ``sum(upstream *
    value)`` with respect to ``x``, linear in ``upstream``.  ``backward``
    should multiply ``upstream`` in last: on JAX what it computes before that
    is what the backward pass keeps (see the JAX backend).

    Where the backend has no hook for the call (``torch.compile``, the
    ``torch.func`` transforms, forward mode on torch, no gradient, the generic
    primitives forced, libraries without autodiff) it is
    ``forward(x, *constants)[0]``, differentiated by the library's own
    autodiff, so ``backward`` must give that same gradient.

    >>> import torch
    >>> def forward(x, keep=False):
    ...     return x * x, ((2 * x,) if keep else None)
    >>> def backward(residuals, upstream, x):
    ...     (slope,) = residuals
    ...     return slope * upstream
    >>> x = torch.tensor([3.0], requires_grad=True)
    >>> P.custom_vjp(forward, backward, x).sum().backward()
    >>> x.grad.tolist()
    [6.0]
    """
    fast = native(x, "custom_vjp")
    out = None if fast is None else fast(forward, backward, x, *constants)
    return forward(x, *constants)[0] if out is None else out
