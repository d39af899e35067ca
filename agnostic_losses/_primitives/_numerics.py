"""Numerics the standard lacks: stable log-sum-exp and softmax, softplus, sigmoid, norms, clipping.

Each function runs its backend's fast path where one exists (``native``) and
otherwise its standard-only code.  Gradient conventions (docs/design.md,
"Gradients at kinks"): torch's subgradient at a kink is 0, on every backend.
"""

from __future__ import annotations

import math

from .._typing import Array
from ._autodiff import stop_gradient
from ._dispatch import array_namespace, device, native, own
from ._indexing import take_along_axis
from ._settings import _GENERIC

# torch's EPSILON in aten's Loss.cpp (the BCE backward's clamp, cosine_embedding_loss's norms): 1e-12 as a float32,
# which float64 arithmetic keeps
LOSS_EPSILON = 9.999999960041972e-13


def sign(x: Array) -> Array:
    """-1, 0 or 1, and 0 for NaN as ``torch.sign`` (``jnp.sign(nan)`` is NaN).

    >>> P.sign(np.array([-2.0, 0.0, np.nan, 3.0])).tolist()
    [-1.0, 0.0, 0.0, 1.0]
    """
    fast = native(x, "sign")
    if fast is not None:
        return fast(x)
    xp = array_namespace(x)
    one = xp.ones_like(x)
    return xp.where(x > 0, one, xp.where(x < 0, -one, xp.zeros_like(x)))


def abs(x: Array) -> Array:
    """``|x|`` with torch's subgradient ``sign(x)``, 0 at 0 and at NaN, on every backend.

    Generic: ``x * sg(sign(x))``, of value ``|x|`` exactly and derivative
    ``sign(x)`` (``jax.numpy.abs`` has derivative 1 at 0).

    >>> import torch
    >>> x = torch.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    >>> P.abs(x).sum().backward()
    >>> x.grad.tolist()  # 0 at the kink, as torch's; on JAX too
    [-1.0, 0.0, 1.0]
    """
    fast = native(x, "abs")
    if fast is not None:
        return fast(x)
    return x * stop_gradient(sign(x))


def abs_(x):
    """``|x|`` written over ``x`` where the library updates arrays in place (torch, NumPy), else a new array:
    for a temporary the caller made (``elementwise``'s ``value``), never an argument, and not differentiated."""
    hook = own(x, "abs_")
    return array_namespace(x).abs(x) if hook is None else hook(x)


def vector_norm(x: Array, /, *, ord: float, axis: int, keepdims: bool = False) -> Array:
    """The ``ord``-norm (finite, > 0) along ``axis``, with torch's gradient at a zero vector: 0.

    Generic: for ``ord`` other than 1 and 2 the elements are divided by their
    largest magnitude (a constant, as in logsumexp) before the power: no
    under- or overflow of ``|x|^ord``, and float32 gradients as accurate as
    torch's.  The root is not differentiated at 0 (``nonzero_root``).

    >>> P.vector_norm(np.array([[3.0, 4.0], [0.0, 0.0]]), ord=2, axis=-1).tolist()
    [5.0, 0.0]
    """
    fast = native(x, "vector_norm")
    if fast is not None:
        return fast(x, ord=ord, axis=axis, keepdims=keepdims)
    xp = array_namespace(x)
    if ord == 1:
        return xp.sum(abs(x), axis=axis, keepdims=keepdims)
    a = x if ord == 2 else abs(x)  # a * a has the derivative 2 a, 0 at 0: no abs needed
    scale = stop_gradient(xp.max(a, axis=axis, keepdims=True)) if ord != 2 and math.prod(x.shape) else None
    if scale is not None:
        scale = xp.where((scale > 0) & xp.isfinite(scale), scale, xp.ones_like(scale))
        a = a / scale
    if ord == 2:
        powers = a * a
    else:  # |a|^ord has an infinite derivative at 0 for ord < 1: read it only where a > 0
        positive = a != 0  # NaN included: it must reach the sum
        powers = xp.where(positive, xp.where(positive, a, xp.ones_like(a)) ** ord, xp.zeros_like(a))
    s = xp.sum(powers, axis=axis)  # without the kept axis: XLA's CPU loops vectorise along the last axis
    norm = nonzero_root(s, xp.sqrt if ord == 2 else (lambda v: v ** (1 / ord)))
    if scale is not None:
        norm = norm * xp.squeeze(scale, axis=axis)
    return xp.expand_dims(norm, axis=axis) if keepdims else norm


def nonzero_root(s, root):
    """``root(s)``, and 0 with a zero gradient where ``s == 0`` (NaN and inf go through)."""
    fast = native(s, "nonzero_root")
    if fast is not None:
        return fast(s, root)
    xp = array_namespace(s)
    nonzero = s != 0
    return xp.where(nonzero, root(xp.where(nonzero, s, xp.ones_like(s))), xp.zeros_like(s))


def finite_max(x, *, axis: int):
    """The largest finite value along ``axis`` (kept), as a constant; 0 where there is none."""
    xp = array_namespace(x)
    return _safe_max(xp.where(xp.isfinite(x), x, xp.full_like(x, -math.inf)), xp, axis)


def shift_max(x, *, axis: int):
    """The max along ``axis`` (kept), as a constant, and 0 where it is not finite: a shift for log-space sums
    that never makes ``inf - inf`` nor spreads a NaN over the axis (``x`` holds elements along it)."""
    fast = native(x, "shift_max")
    if fast is not None:
        return fast(x, axis=axis)
    return _safe_max(x, array_namespace(x), axis)


def wide_float(x):
    """float64 where ``x``'s library and device have it (JAX: with x64 enabled; not torch's MPS), else
    ``x``'s own dtype: for sums that must not lose what float32 would."""
    hook = own(x, "wide_float")
    return array_namespace(x).float64 if hook is None else hook(x)


def _safe_max(x, xp, axis, keep_inf=False):
    """The max along ``axis`` (kept), as a constant, with non-finite maxima set to 0 (``keep_inf``: but +inf,
    which makes the shifted row NaN, as torch's log-softmax of a row holding +inf)."""
    if math.prod(x.shape) == 0:  # no max to take (Dask fails on an empty one); any shift will do
        shape = tuple(1 if i == axis % x.ndim else n for i, n in enumerate(x.shape))
        return xp.zeros(shape, dtype=x.dtype, device=device(x))
    m = stop_gradient(xp.max(x, axis=axis, keepdims=True))
    finite = (xp.isfinite(m) | (m > 0)) if keep_inf else xp.isfinite(m)
    return xp.where(finite, m, xp.zeros_like(m))


def logsumexp(x: Array, /, *, axis: int | tuple[int, ...], keepdims: bool = False) -> Array:
    """``log(sum(exp(x), axis))`` without overflow (shift by the max, taken as a constant).

    No torch fast path: ``torch.logsumexp``'s backward, ``exp(x - result)``,
    loses the gradient's precision when ``|result|`` is large (0.49989 for
    0.5 at 1e4 in float32); differentiating the shifted sum does not.

    >>> float(P.logsumexp(np.array([1000.0, 1000.0]), axis=0))  # 1000 + log 2, no overflow
    1000.6931471805599
    """
    fast = native(x, "logsumexp")
    if fast is not None:
        return fast(x, axis=axis, keepdims=keepdims)
    xp = array_namespace(x)
    m = _safe_max(x, xp, axis)
    out = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else xp.squeeze(out, axis=axis)


def log_softmax(x: Array, /, *, axis: int | tuple[int, ...], where: Array | None = None) -> Array:
    """``x - logsumexp(x, axis)``, computed from the shifted logits; ``axis`` an int or a tuple of them.

    ``where``, a boolean array broadcasting to ``x``, leaves the logits it
    masks out of the normaliser (their own log-probabilities are then
    meaningless: the caller masks them).  A vector with nothing kept is
    finite, with a zero gradient: its maximum and sum are replaced before
    they are used.

    >>> P.log_softmax(np.array([[0.0, 0.0]]), axis=-1).tolist()
    [[-0.6931471805599453, -0.6931471805599453]]
    >>> P.log_softmax(np.array([[0.0, 0.0, 5.0]]), axis=-1, where=np.array([True, True, False]))[:, :2].tolist()
    [[-0.6931471805599453, -0.6931471805599453]]
    """
    xp = array_namespace(x)
    if isinstance(axis, tuple) and len(axis) == 1:
        axis = axis[0]
    if where is None and isinstance(axis, int):
        fast = native(x, "log_softmax")
        if fast is not None:
            return fast(x, axis=axis)
        shifted = x - _safe_max(x, xp, axis, keep_inf=True)
        return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))
    if where is None:
        shifted = x - stop_gradient(xp.max(x, axis=axis, keepdims=True))
        return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))
    if math.prod(x.shape) == 0:  # nothing to normalise (and no max to take)
        return x * 0
    any_kept = xp.any(where, axis=axis, keepdims=True)
    top = xp.max(xp.where(where, x, -xp.inf), axis=axis, keepdims=True)
    shifted = xp.where(where, x - stop_gradient(xp.where(any_kept, top, 0.0)), 0.0)
    total = xp.sum(xp.where(where, xp.exp(shifted), 0.0), axis=axis, keepdims=True)
    return shifted - xp.log(xp.where(any_kept, total, 1.0))


def log_softmax_at(x, indices, /, *, axis: int):
    """``take_along_axis(log_softmax(x, axis), indices, axis)``: the log-probabilities of the chosen classes.

    Generic: ``(x[indices] - m) - log(sum(exp(x - m)))`` with ``m`` the max, a
    constant: it never writes the full log-softmax (as optax's cross-entropy),
    and shifting before subtracting keeps the precision of large logits
    (``x[y] - logsumexp(x)`` loses it: 3e-4 at 1e4 in float32).
    """
    fast = native(x, "log_softmax_at")
    if fast is not None:
        return fast(x, indices, axis=axis)
    xp = array_namespace(x)
    m = _safe_max(x, xp, axis, keep_inf=True)
    log_sum = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True))
    return (take_along_axis(x, indices, axis=axis) - m) - log_sum


def softplus(x: Array) -> Array:
    """``log(1 + exp(x))`` for every finite ``x``; derivative ``sigmoid(x)`` (0.5 at 0).

    >>> P.softplus(np.array([-1000.0, 0.0, 1000.0])).tolist()
    [0.0, 0.6931471805599453, 1000.0]
    """
    fast = native(x, "softplus")
    if fast is not None:
        return fast(x)
    xp = array_namespace(x)
    positive = x > 0
    minus_abs = xp.where(positive, -x, x)  # -|x|, derivative -1 / +1, +1 at 0
    return xp.where(positive, x, xp.zeros_like(x)) + xp.log1p(xp.exp(minus_abs))


# Cephes' rational approximations (Moshier, ndtr.c; the ones SciPy's erf compiled for years): erf on |x| <= 1,
# erfc on 1 < |x| < 8 and on |x| >= 8, each with a relative error near float64's eps
_ERF_T = (9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3, 7.00332514112805075473e3,
          5.55923013010394962768e4)
_ERF_U = (1.0, 3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3,
          2.26290000613890934246e4, 4.92673942608635921086e4)
_ERFC_P = (2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0, 4.86371970985681366614e1,
           1.96520832956077098242e2, 5.26445194995477358631e2, 9.34528527171957607540e2, 1.02755188689515710272e3,
           5.57535335369399327526e2)
_ERFC_Q = (1.0, 1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2,
           9.75708501743205489753e2, 1.82390916687909736289e3, 2.24633760818710981792e3, 1.65666309194161350182e3,
           5.57535340817727675546e2)
_ERFC_R = (5.64189583547755073984e-1, 1.27536670759978104416e0, 5.01905042251180477414e0, 6.16021097993053585195e0,
           7.40974269950448939160e0, 2.97886665372100240670e0)
_ERFC_S = (1.0, 2.26052863220117276590e0, 9.39603524938001434673e0, 1.20489539808096656605e1,
           1.70814450747565897222e1, 9.60896809063285878198e0, 3.36907645100081516050e0)


def _polynomial(x, coefficients):
    """Horner's rule, the coefficients from the highest power."""
    out = x * 0 + coefficients[0]
    for c in coefficients[1:]:
        out = out * x + c
    return out


def erf(x: Array) -> Array:
    """The error function ``2 / sqrt(pi) int_0^x exp(-t^2) dt``, to float64's precision; derivative
    ``2 / sqrt(pi) exp(-x^2)``.

    The standard has none: torch's and JAX's own, else Cephes' rational
    approximations (those SciPy's ``erf`` long used), differentiable by autodiff.

    >>> [round(v, 15) for v in P.erf(np.array([-1.0, 0.0, 0.5, 3.0])).tolist()]
    [-0.842700792949715, 0.0, 0.520499877813047, 0.999977909503001]
    """
    fast = native(x, "erf")
    return _cephes_erf(x) if fast is None else fast(x)


def _cephes_erf(x):
    xp = array_namespace(x)
    if xp.finfo(x.dtype).bits < 32:  # the polynomials overflow float16: computed in float32
        return xp.astype(_cephes_erf(xp.astype(x, xp.float32)), x.dtype)
    a = xp.abs(x)
    small = a <= 1
    near = xp.where(small, x, xp.zeros_like(x))  # each branch evaluated where it is finite and used
    far = xp.where(small, xp.ones_like(x) * 2, xp.minimum(a, xp.ones_like(x) * 30))  # erfc(30) underflows to 0
    inside = near * _polynomial(near * near, _ERF_T) / _polynomial(near * near, _ERF_U)
    tail = xp.exp(-far * far) * xp.where(far < 8, _polynomial(far, _ERFC_P) / _polynomial(far, _ERFC_Q),
                                         _polynomial(far, _ERFC_R) / _polynomial(far, _ERFC_S))
    outside = xp.where(x < 0, tail - 1, 1 - tail)
    return xp.where(small, inside, outside)


def log_sigmoid(x: Array) -> Array:
    """``log(sigmoid(x)) == -softplus(-x)``.

    >>> P.log_sigmoid(np.array([-1000.0, 0.0])).tolist()
    [-1000.0, -0.6931471805599453]
    """
    fast = native(x, "log_sigmoid")
    return -softplus(-x) if fast is None else fast(x)


def sigmoid(x: Array) -> Array:
    """``1 / (1 + exp(-x))``.

    >>> P.sigmoid(np.array([-30.0, 0.0, 30.0])).round(6).tolist()
    [0.0, 0.5, 1.0]
    """
    fast = native(x, "sigmoid")
    if fast is not None:
        return fast(x)
    e = array_namespace(x).exp(-x)
    return 1.0 / (1.0 + e)  # not e += 1: exp's backward reads its output


def lerp(a: Array, b: Array, w: Array | float) -> Array:
    """``(1 - w) a + w b``, exactly ``a`` at ``w = 0`` and ``b`` at ``w = 1`` where ``a`` and ``b`` are finite
    (``torch.lerp``'s two-sided form: no ``a - a`` or ``b - b`` left over at either end; an infinite end gives
    NaN, ``inf + 0 * inf``, as torch's), all three arrays broadcasting together.  No ``where`` on torch, whose CPU
    ``where`` is an unvectorised loop: ``torch.lerp`` is one vectorised pass.

    >>> P.lerp(np.array([1.0, 1.0]), np.array([3.0, 3.0]), np.array([0.0, 0.25])).tolist()
    [1.0, 1.5]
    """
    fast = native(a, "lerp")
    if fast is not None:
        return fast(a, b, w)
    xp = array_namespace(a, b, w)
    near_a = xp.abs(w) < 0.5  # a + w (b - a), else b + (w - 1) (b - a): no where over a product with an inf
    return xp.where(near_a, a, b) + xp.where(near_a, w, w - 1) * (b - a)


def one_where_zero(x):
    """``where(x == 0, 1, x)``, and its gradient: 1, but 0 where ``x == 0``."""
    fast = native(x, "one_where_zero")
    if fast is not None:
        return fast(x)
    xp = array_namespace(x)
    return xp.where(x == 0, xp.ones_like(x), x)


def clip(x: Array, /, min: float | Array | None = None, max: float | Array | None = None) -> Array:
    """``x`` clipped to [min, max] (Python numbers or None), the standard's ``clip``.

    >>> P.clip(np.array([-2.0, 0.5, 3.0]), min=0.0, max=1.0).tolist()
    [0.0, 0.5, 1.0]
    """
    fast = native(x, "clip")
    out = None if fast is None else fast(x, min, max)
    return array_namespace(x).clip(x, min=min, max=max) if out is None else out


def cumulative_sum(x, *, axis: int = 0):
    """The running sum along ``axis`` (the standard's ``cumulative_sum``).

    Where the namespace lacks the function, a triangular mask's sums, a
    temporary ``n`` times ``x``'s size.
    """
    fast = native(x, "cumulative_sum")
    if fast is not None:
        return fast(x, axis=axis)
    xp = array_namespace(x)
    if not _GENERIC[0] and hasattr(xp, "cumulative_sum"):
        return xp.cumulative_sum(x, axis=axis)
    axis = axis % x.ndim
    last = tuple(i for i in range(x.ndim) if i != axis) + (axis,)
    x = xp.permute_dims(x, last)  # the summed axis last
    n = x.shape[-1]
    index = xp.arange(n, device=device(x))
    upto = index[None, :] <= index[:, None]  # [i, m]: m <= i
    out = xp.sum(xp.where(upto, x[..., None, :], xp.zeros_like(x)[..., None, :]), axis=-1)
    return xp.permute_dims(out, tuple(last.index(i) for i in range(x.ndim)))
