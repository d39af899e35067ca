"""What the array API standard lacks, and the only module that names a backend.

Every function here takes and returns arrays of the caller's library.  Each
has a *generic* version written against the standard alone, which is correct on
any array-API library, and some have a *native* fast path (torch, JAX) that a
backend provides.  ``generic_primitives()`` (or the environment variable
``AGNOSTIC_LOSSES_GENERIC=1``) forces the generic versions everywhere, which is
how the tests prove both paths give torch.nn's values and gradients.

Gradient conventions (DESIGN.md section 2): torch's subgradient at a kink is 0.
``abs`` below keeps that convention on every backend.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys

import array_api_compat as _compat
import numpy as _np

__all__ = [
    "array_namespace",
    "is_array",
    "library_name",
    "generic_primitives",
    "using_generic",
    "stop_gradient",
    "elementwise",
    "elementwise_sum",
    "abs",
    "abs_",
    "logsumexp",
    "log_softmax",
    "log_softmax_at",
    "softplus",
    "log_sigmoid",
    "sigmoid",
    "one_where_zero",
    "take_along_axis",
    "cumulative_sum",
    "mark",
    "bin_sum",
    "sort",
    "searchsorted",
    "finite_max",
    "wide_float",
    "clip",
    "vector_norm",
    "value_checks",
    "host_values",
    "scan",
    "compiles_loops",
    "chunked",
    "custom_vjp",
]

# A plain module-level flag, not a ContextVar: torch.compile cannot trace
# ContextVar.get.  generic_primitives() sets and restores it (not thread-local).
_GENERIC = [os.environ.get("AGNOSTIC_LOSSES_GENERIC", "") not in ("", "0")]


@contextlib.contextmanager
def generic_primitives(enabled: bool = True):
    """Within this block, use the generic array-API primitives on every backend."""
    saved, _GENERIC[0] = _GENERIC[0], bool(enabled)
    try:
        yield
    finally:
        _GENERIC[0] = saved


def using_generic() -> bool:
    """Whether the generic primitives are forced now."""
    return _GENERIC[0]


def _is_torch(x) -> bool:
    """A torch tensor.  A plain isinstance (torch already imported, else it cannot be one):
    torch.compile traces it without a graph break, and it costs less than a call into
    array-api-compat's cached helpers, whose ``lru_cache`` torch.compile warns about."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def _is_jax(x) -> bool:
    """A JAX array, concrete or traced."""
    jax = sys.modules.get("jax")
    return jax is not None and isinstance(x, jax.Array)


def _native(x) -> str | None:
    """'torch' or 'jax' when a native fast path may be used for ``x``."""
    if _GENERIC[0]:
        return None
    if _is_torch(x):
        return "torch"
    if _is_jax(x):
        return "jax"
    return None


def _torch_func_transform() -> bool:
    """Whether a ``torch.func`` transform (grad, vjp, vmap, ...) is running: its tensors cannot be read.

    torch has no public query; this is torch 2.13's private one (False where it is gone).
    """
    torch = sys.modules.get("torch")
    peek = getattr(getattr(getattr(torch, "_C", None), "_functorch", None), "peek_interpreter_stack", None)
    return peek is not None and peek() is not None


def compiling() -> bool:
    """Whether torch.compile is tracing the caller (Python side effects such as warnings are not allowed)."""
    torch = sys.modules.get("torch")
    return torch is not None and torch.compiler.is_compiling()


# --- namespaces --------------------------------------------------------------

def is_array(x) -> bool:
    """An array of some library (a NumPy scalar counts; a Python number does not)."""
    if type(x) in (bool, int, float, complex):
        return False
    return _is_torch(x) or _is_jax(x) or _compat.is_array_api_obj(x)


def array_namespace(*arrays):
    """The array-API namespace shared by ``arrays`` (None entries are skipped).

    All torch tensors: array-api-compat's torch namespace, found without a
    call into array-api-compat (see ``_is_torch``); else array-api-compat's
    ``array_namespace``, which refuses arrays of two libraries.
    """
    given = [a for a in arrays if a is not None]
    if given and all(_is_torch(a) for a in given):
        import array_api_compat.torch as xp

        return xp
    return _compat.array_namespace(*given)


def library_name(x) -> str:
    """A short name of the library that made ``x``, for error messages."""
    top = type(x).__module__.split(".")[0]
    return {"jaxlib": "jax"}.get(top, top)


def device(x):
    """The device ``x`` lives on."""
    return x.device if _is_torch(x) else _compat.device(x)


def placement(x):
    """Where ``x`` lives, for the one-device check: torch's and CuPy's device; None for JAX
    (it moves uncommitted arrays itself and names incompatible devices in its own error) and
    for single-device libraries."""
    if _is_torch(x):
        return x.device
    if type(x).__module__.startswith("cupy"):
        return x.device
    return None


def wide_indices(x):
    """Integer indices as int64 or int32 (others become the namespace's default integer dtype:
    int64, or int32 in JAX without x64): uint8 cannot hold -100, nor twice a length of 200."""
    xp = array_namespace(x)
    if x.dtype in (xp.int64, xp.int32):
        return x
    return xp.astype(x, xp.asarray(0, device=device(x)).dtype)


def as_array(x):
    """``x``, with a NumPy scalar (what NumPy's reductions return) made a 0-d array."""
    if isinstance(x, _np.generic):
        return _np.asarray(x)
    return x


# --- autodiff ----------------------------------------------------------------

def stop_gradient(x):
    """``x`` as a constant: its value, with no gradient flowing back through it."""
    if _is_torch(x):
        return x.detach()
    if _is_jax(x):
        import jax

        return jax.lax.stop_gradient(x)
    return x  # NumPy, CuPy, Dask, array-api-strict: no autodiff to stop


def elementwise(value, derivatives, *arrays):
    """``value(*arrays)``, an elementwise function, whose gradient comes from ``derivatives``.

    ``derivatives(wanted, *arrays)`` returns, for each array, its elementwise
    partial derivative (broadcasting against the value), or None where
    ``wanted[i]`` is False (no gradient asked for) or the array is not
    differentiated.  It runs only when a gradient is asked for, in the backward
    pass, from the saved inputs: the forward pass keeps none of ``value``'s
    temporaries, and ``value`` may update arrays *it created* in place
    (``t *= 2``; never its arguments).  Second derivatives are those of
    ``derivatives`` itself.

    torch: one ``autograd.Function`` (works under torch.func and
    torch.compile); JAX: ``jax.custom_jvp``; libraries without autodiff:
    ``value`` alone.  These are the autodiff systems' own hooks, not fast
    paths, so ``generic_primitives`` leaves them on: no construction from
    ``stop_gradient`` alone keeps the gradient at an infinite input
    (``x - sg(x)`` is NaN there).
    """
    if _is_torch(arrays[0]):
        if not _torch_records(arrays):
            return evaluate(value, arrays)  # no gradient to serve: skip the Function's overhead (about 20 us)
        return _torch_elementwise()(value, derivatives, *arrays)
    if _is_jax(arrays[0]):
        return _jax_elementwise(value, derivatives, *arrays)
    return evaluate(value, arrays)  # no autodiff to serve


def elementwise_sum(value, derivatives, *arrays):
    """``sum(elementwise(value, derivatives, *arrays))``, the 0-d sum over the arrays' broadcast shape.

    Where ``elementwise`` evaluates in chunks (CPU torch and NumPy, large
    arrays), each chunk is summed as it comes: no full-size array of the values
    is made, and the backward pass writes each gradient straight into its
    buffer.  Elsewhere (JAX, GPUs, transforms) it is the plain sum, which XLA
    and inductor fuse themselves.
    """
    if _is_torch(arrays[0]):
        if not _torch_records(arrays):
            return evaluate_sum(value, arrays)
        from ._primitives_torch import apply_sum

        return apply_sum(value, derivatives, *arrays)
    if _is_jax(arrays[0]):
        import jax.numpy as jnp

        return jnp.sum(_jax_elementwise(value, derivatives, *arrays))
    return as_array(evaluate_sum(value, arrays))


# On the CPU a fresh array of 1e7 float32 costs about 20 ms of page faults, against 3-5 ms of arithmetic
# for each operation on it: an elementwise formula of several temporaries spends its time there.  Evaluated
# in chunks of rows, its temporaries are small (the allocator reuses them, and they stay in cache), and the
# output is the only full-size array, as in a fused kernel.  (Tests make them small.)
# Chunks of 2**17 elements (512 KiB of float32, within this machine's L2 cache) against 2**16, forward+backward,
# 2 threads, 1e7 float32, in-process: huber_loss 1.17x -> 1.01x torch's time, binary_cross_entropy 0.71x -> 0.64x,
# kl_div 0.52x -> 0.46x, mse_loss and l1_loss unchanged (each operation on a chunk is one parallel region of
# torch's 2 threads: half as many of them).
_CHUNK = 1 << 17  # elements per chunk
_CHUNKED_FROM = 1 << 20  # outputs of fewer elements are evaluated whole
# A row-wise formula in chunks (row_chunk): each chunk is several operations and, in the backward pass, a
# recorded graph, so its Python overhead is per chunk; 16 MiB of float32 (multi_margin_loss on (4096, 32768),
# 2 CPU threads: forward+backward 0.9x torch's kernel at 2**22 elements, 1.0-1.1x at 2**20, 1.8x at 2**16; peak
# memory 1.07x, 1.02x, 1.0x).  linear_cross_entropy's default chunk has as many logits.
_ROW_CHUNK = 1 << 22


class Chunks:
    """The arguments of an elementwise function, cut into consecutive pieces along one axis.

    When every array has the output's shape and is contiguous (or has only zero strides, as an
    expanded scalar), along their flattened view; else along axis 0, the arrays that broadcast
    along it (a leading 1, fewer dimensions) passed whole to every piece.
    """

    def __init__(self, shape, parts, sliced, step, flat):
        self.shape, self.parts, self.sliced, self.step = shape, parts, sliced, step
        self.length = shape[0] if not flat else math.prod(shape)
        self.piece_shape = (self.length,) + (() if flat else shape[1:])  # the output, cut as the pieces

    def __len__(self):
        return -(-self.length // self.step)

    def __iter__(self):
        """(slice, the arrays' pieces) for each piece."""
        for start in range(0, self.length, self.step):
            piece = slice(start, start + self.step)
            yield piece, tuple(a[piece] if s else a for a, s in zip(self.parts, self.sliced))

    @classmethod
    def plan(cls, arrays):
        """The pieces of ``arrays`` (CPU torch tensors, outside any transform, or NumPy arrays), or None
        where they are better evaluated whole: small, on a GPU, traced, other libraries."""
        if _GENERIC[0] or compiling():  # compiling first: no guard on the size under torch.compile
            return None
        shape = result_shape(arrays)
        size = math.prod(shape)
        if size < _CHUNKED_FROM or not shape:  # the cheap test that small calls fail
            return None
        if _is_torch(arrays[0]):
            if not all(_is_torch(a) and a.device.type == "cpu" for a in arrays) or _torch_func_transform():
                return None
            contiguous = [a.is_contiguous() for a in arrays]
        elif all(type(a) is _np.ndarray for a in arrays):
            contiguous = [a.flags.c_contiguous for a in arrays]
        else:
            return None
        step = _CHUNK
        full = [tuple(a.shape) == shape for a in arrays]
        constant = [f and not c and not any(a.stride() if _is_torch(a) else a.strides) for a, f, c
                    in zip(arrays, full, contiguous)]
        if all(f and (c or k) for f, c, k in zip(full, contiguous, constant)):
            flat = [_flat_constant(a, size) if k else a.reshape(-1) for a, k in zip(arrays, constant)]
            return cls(shape, flat, [True] * len(arrays), step, True)
        row = size // shape[0]
        if row > step:
            return None
        sliced = [a.ndim == len(shape) and a.shape[0] == shape[0] for a in arrays]
        return cls(shape, list(arrays), sliced, max(1, step // row), False)


def row_chunk(x, row: int | None = None, elements: int | None = None, elsewhere: int | None = None) -> int:
    """Rows of ``x`` (n, ...) per chunk for ``chunked``, where a row-wise formula is chunked for its
    temporaries' sake alone: about ``elements`` (default ``_ROW_CHUNK``) elements of ``row`` each (default:
    ``x``'s row) for CPU torch tensors outside torch.compile, the torch.func transforms and forward mode, and
    for NumPy arrays; elsewhere (a GPU, traced code, other libraries) about ``elsewhere`` elements, or all n
    rows by default (the formula whole, fused where the compiler can)."""
    n = x.shape[0]
    row = max(1, math.prod(x.shape[1:]) if row is None else row)
    if _GENERIC[0] or compiling():
        cpu_eager = False
    elif _is_torch(x):
        import torch

        cpu_eager = not (x.device.type != "cpu" or _torch_func_transform() or _forward_ad_active(torch))
    else:
        cpu_eager = type(x) is _np.ndarray
    if cpu_eager:
        return max(1, (_ROW_CHUNK if elements is None else elements) // row)
    return n if elsewhere is None else max(1, elsewhere // row)


def _flat_constant(a, size):
    """An array of ``size`` elements, all ``a``'s one value (``a`` has only zero strides), without a copy."""
    if _is_torch(a):
        return a.as_strided((size,), (0,))
    return _np.lib.stride_tricks.as_strided(a, (size,), (0,), writeable=False)


def result_shape(arrays) -> tuple:
    """The shape ``arrays`` broadcast to (they do: the checks ran)."""
    first = tuple(arrays[0].shape)
    if all(a.shape == first for a in arrays[1:]):
        return first
    shape = ()
    for a in arrays:
        s = tuple(a.shape)
        n = max(len(shape), len(s))
        shape = tuple(m if k == 1 else k for m, k in zip((1,) * (n - len(shape)) + shape, (1,) * (n - len(s)) + s))
    return shape


def evaluate(value, arrays):
    """``value(*arrays)``, an elementwise function, evaluated in chunks where ``Chunks.plan`` has them."""
    chunks = Chunks.plan(arrays)
    if chunks is None:
        return value(*arrays)
    out = cut = None
    for piece, args in chunks:
        y = value(*args)
        if out is None:
            out = _empty_like(y, chunks.shape)
            cut = out.reshape(chunks.piece_shape)  # a view of out: the array returned is no view
        cut[piece] = y
    return out


def evaluate_sum(value, arrays):
    """``sum(value(*arrays))``, chunk by chunk where ``Chunks.plan`` has chunks.

    The partial sums go into one array, summed at the end: as accurate as one
    sum of the whole (a running total in float32 is not), and no small array is
    kept between two chunks' temporaries (a list of them fragments the heap, and
    the allocator then returns the chunks' pages to the system and faults them
    in again: 4x slower).
    """
    chunks = Chunks.plan(arrays)
    xp = array_namespace(*arrays)
    if chunks is None:
        return xp.sum(value(*arrays))
    partial = None
    for i, (_, args) in enumerate(chunks):
        s = xp.sum(value(*args))
        if partial is None:
            partial = _empty_like(s, (len(chunks),))
        partial[i] = s
    return xp.sum(partial)


def _empty_like(y, shape):
    """An uninitialised array of ``y``'s library, dtype and device."""
    if _is_torch(y):
        return y.new_empty(shape)
    return _np.empty(shape, dtype=y.dtype)


def _torch_records(arrays) -> bool:
    """Whether torch's autograd (or a torch.func transform) may differentiate a function of ``arrays``."""
    import torch

    if _forward_ad_active(torch):  # dual tensors do not require grad; their tangents need the Function's jvp
        return True
    if not torch.is_grad_enabled():
        return False
    return _torch_func_transform() or any(a.requires_grad for a in arrays)


def _forward_ad_active(torch) -> bool:
    """Whether a ``torch.autograd.forward_ad.dual_level`` is open (torch's own module-level record of it)."""
    return getattr(torch.autograd.forward_ad, "_current_level", -1) >= 0


def _torch_elementwise():
    """The ``torch.autograd.Function`` behind ``elementwise`` (its ``apply``), in a module of its own:
    imported when torch is in use (importing it under torch.compile works; defining a class there does not)."""
    from ._primitives_torch import apply  # a plain import: torch.compile traces it, cold or not

    return apply


def _jax_elementwise(value, derivatives, *arrays):
    """``elementwise`` on JAX: a ``jax.custom_jvp`` whose tangent is ``sum(g * dx)``."""
    import jax

    @jax.custom_jvp
    def f(*arrays):
        return value(*arrays)

    def f_jvp(primals, tangents):
        """Symbolic zeros: the derivatives of the arrays without a tangent (not differentiated) are not
        asked for, so that XLA does not compute them."""
        out = value(*primals)
        wanted = tuple(not isinstance(t, SymbolicZero) for t in tangents)
        tangent = jax.numpy.zeros_like(out)
        for g, t, w in zip(derivatives(wanted, *primals), tangents, wanted):
            if g is not None and w:
                tangent = tangent + g * t
        return out, tangent

    from jax.custom_derivatives import SymbolicZero

    f.defjvp(f_jvp, symbolic_zeros=True)

    return f(*arrays)


def sign(x):
    """-1, 0 or 1, and 0 for NaN as ``torch.sign`` (``jnp.sign(nan)`` is NaN)."""
    if _native(x) == "torch":
        import torch

        return torch.sign(x)
    xp = array_namespace(x)
    one = xp.ones_like(x)
    return xp.where(x > 0, one, xp.where(x < 0, -one, xp.zeros_like(x)))


def abs(x):
    """``|x|`` with torch's subgradient ``sign(x)``, 0 at 0 and at NaN, on every backend.

    ``jax.numpy.abs`` has derivative 1 at 0; ``x * sg(sign(x))`` has value
    ``|x|`` exactly and derivative ``sign(x)``.
    """
    if _GENERIC[0] or _is_jax(x):
        return x * stop_gradient(sign(x))
    return array_namespace(x).abs(x)  # torch's abs already has sign(x); the others have no autodiff


def vector_norm(x, /, *, ord, axis: int, keepdims: bool = False):
    """The ``ord``-norm (finite, > 0) along ``axis``, with torch's gradient at a zero vector: 0.

    torch: ``torch.linalg.vector_norm``, torch's own norm (one pass, no
    temporary).  Generic: for ``ord`` other than 1 and 2 the elements are
    divided by their largest magnitude (a constant, as in logsumexp) before the
    power: no under- or overflow of ``|x|^ord``, and float32 gradients as
    accurate as torch's; the root is not differentiated at 0 (on JAX by
    arithmetic, ``one_where_zero``, which XLA's CPU backend fuses with the
    sum: ``triplet_margin_loss``'s forward 2x faster).
    """
    if not _GENERIC[0] and _native(x) == "torch":
        import torch

        return torch.linalg.vector_norm(x, ord=ord, dim=axis, keepdim=keepdims)
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
    s = xp.sum(powers, axis=axis)  # without the kept axis of 1: XLA's CPU loops vectorize along the last axis
    root = xp.sqrt if ord == 2 else (lambda v: v ** (1 / ord))
    if _native(s) == "jax":  # arithmetic, no select: XLA's CPU backend fuses it with the sum (one_where_zero)
        import jax.numpy as jnp

        norm = root(one_where_zero(s)) * jnp.abs(jnp.sign(s))  # 0 at 0, its gradient 0 there
    else:
        nonzero = s != 0  # NaN and inf go through, as torch's
        norm = xp.where(nonzero, root(xp.where(nonzero, s, xp.ones_like(s))), xp.zeros_like(s))
    if scale is not None:
        norm = norm * xp.squeeze(scale, axis=axis)
    return xp.expand_dims(norm, axis=axis) if keepdims else norm


def abs_(x):
    """``|x|`` written over ``x`` where the library updates arrays in place (torch, NumPy), else a new
    array: for a temporary the caller made (``elementwise``'s ``value``), never an argument.  Not for
    differentiated code (``value`` is not differentiated)."""
    if _is_torch(x):
        return x.abs_()
    if type(x) is _np.ndarray and x.flags.writeable:
        return _np.abs(x, out=x)
    return array_namespace(x).abs(x)


# --- numerics ----------------------------------------------------------------

def finite_max(x, *, axis: int):
    """The largest finite value along ``axis`` (kept), as a constant; 0 where there is none."""
    xp = array_namespace(x)
    return _safe_max(xp.where(xp.isfinite(x), x, xp.full_like(x, -math.inf)), xp, axis)


def wide_float(x):
    """float64 where ``x``'s library and device have it (JAX: with x64 enabled; not torch's MPS), else
    ``x``'s own dtype: for sums that must not lose what float32 would."""
    if _is_jax(x):
        import jax

        if not jax.config.jax_enable_x64:
            return x.dtype
    if _is_torch(x) and x.device.type == "mps":
        return x.dtype
    return array_namespace(x).float64


def _safe_max(x, xp, axis):
    """The max along ``axis`` (kept), as a constant, with non-finite maxima set to 0."""
    if math.prod(x.shape) == 0:  # no max to take (Dask fails on an empty one); any shift will do
        shape = tuple(1 if i == axis % x.ndim else n for i, n in enumerate(x.shape))
        return xp.zeros(shape, dtype=x.dtype, device=device(x))
    m = stop_gradient(xp.max(x, axis=axis, keepdims=True))
    return xp.where(xp.isfinite(m), m, xp.zeros_like(m))


def logsumexp(x, /, *, axis, keepdims: bool = False):
    """``log(sum(exp(x), axis))`` without overflow (shift by the max, taken as a constant).

    No torch fast path: ``torch.logsumexp``'s backward, ``exp(x - result)``,
    loses the gradient's precision when ``|result|`` is large (0.49989 for
    0.5 at 1e4 in float32); differentiating the shifted sum does not.
    """
    if _native(x) == "jax":
        import jax

        return jax.nn.logsumexp(x, axis=axis, keepdims=keepdims)
    xp = array_namespace(x)
    m = _safe_max(x, xp, axis)
    out = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else xp.squeeze(out, axis=axis)


def log_softmax(x, /, *, axis: int):
    """``x - logsumexp(x, axis)``, computed from the shifted logits."""
    native = _native(x)
    if native == "torch":
        import torch

        return torch.log_softmax(x, dim=axis)
    if native == "jax":
        import jax

        return jax.nn.log_softmax(x, axis=axis)
    xp = array_namespace(x)
    shifted = x - _safe_max(x, xp, axis)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def log_softmax_at(x, indices, /, *, axis: int):
    """``take_along_axis(log_softmax(x, axis), indices, axis)``: the log-probabilities of the chosen classes.

    torch: its fused ``log_softmax``, then the pick.  Elsewhere (JAX, the
    generic version) ``(x[indices] - m) - log(sum(exp(x - m)))`` with ``m``
    the max, a constant: it never writes the full log-softmax (as optax's
    cross-entropy), and shifting before subtracting keeps the precision of
    large logits (``x[y] - logsumexp(x)`` loses it: 3e-4 at 1e4 in float32).
    """
    if _native(x) == "torch":
        return take_along_axis(log_softmax(x, axis=axis), indices, axis=axis)
    xp = array_namespace(x)
    m = _safe_max(x, xp, axis)
    log_sum = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True))
    return (take_along_axis(x, indices, axis=axis) - m) - log_sum


def softplus(x):
    """``log(1 + exp(x))`` for every finite ``x``; derivative ``sigmoid(x)`` (0.5 at 0).

    torch: ``F.softplus``, which returns ``x`` itself past its ``threshold``:
    20 in float32 (``log1p(exp(-20))`` is below half an ulp of 20) and 40 in
    float64 (torch's default of 20 would be 1e-10 off there).
    """
    native = _native(x)
    if native == "torch":
        import torch

        return torch.nn.functional.softplus(x, threshold=20.0 if x.dtype.itemsize <= 4 else 40.0)
    if native == "jax":
        import jax

        return jax.nn.softplus(x)
    xp = array_namespace(x)
    positive = x > 0
    minus_abs = xp.where(positive, -x, x)  # -|x|, derivative -1 / +1, +1 at 0
    return xp.where(positive, x, xp.zeros_like(x)) + xp.log1p(xp.exp(minus_abs))


def log_sigmoid(x):
    """``log(sigmoid(x)) == -softplus(-x)``."""
    native = _native(x)
    if native == "torch":
        import torch

        return torch.nn.functional.logsigmoid(x)
    if native == "jax":
        import jax

        return jax.nn.log_sigmoid(x)
    return -softplus(-x)


def sigmoid(x):
    """``1 / (1 + exp(-x))``; torch and JAX have it natively."""
    native = _native(x)
    if native == "torch":
        import torch

        return torch.sigmoid(x)
    if native == "jax":
        import jax

        return jax.nn.sigmoid(x)
    xp = array_namespace(x)
    e = xp.exp(-x)
    e += 1.0
    return 1.0 / e


def one_where_zero(x):
    """``where(x == 0, 1, x)``, and its gradient: 1, but 0 where ``x == 0``.

    JAX: ``x + 1 - |sign(x)|``, arithmetic alone (the same values; NaN stays
    NaN), a ``jax.custom_jvp`` for ``where``'s gradient (differentiated only
    where a caller's own gradient is not hand-written): XLA's CPU backend fuses a sum
    with arithmetic but not with a select, which makes a full-size temporary
    of its own before the sum (``kl_div``'s forward under ``jax.jit``: 2x
    faster, 1e7 elements).
    """
    if _native(x) == "jax":
        import jax
        import jax.numpy as jnp

        @jax.custom_jvp
        def f(x):
            return x + (1 - jnp.abs(jnp.sign(x)))

        f.defjvp(lambda primals, tangents: (f(*primals), jnp.where(primals[0] == 0, 0, tangents[0])))
        return f(x)
    xp = array_namespace(x)
    return xp.where(x == 0, xp.ones_like(x), x)


def clip(x, /, min=None, max=None):
    """``x`` clipped to [min, max] (Python numbers or None), the standard's ``clip``.

    Dask: ``dask.array.clip``, chunk by chunk (array-api-compat's version
    broadcasts each bound to a full-size array of one chunk).  A floating
    torch tensor between finite bounds: ``torch.clamp`` itself, which
    array-api-compat's wrapper calls after some 7 microseconds of checks
    (``ctc_loss`` clips three times a step).
    """
    if (_native(x) == "torch" and x.is_floating_point() and (min is not None or max is not None)
            and all(b is None or (type(b) in (int, float) and math.isfinite(b)) for b in (min, max))):
        import torch

        return torch.clamp(x, min, max)
    if type(x).__module__.startswith("dask."):
        import dask.array as da

        return da.clip(x, min, max)
    return array_namespace(x).clip(x, min=min, max=max)


def cumulative_sum(x, *, axis: int = 0):
    """The running sum along ``axis`` (the standard's ``cumulative_sum``).

    torch: ``torch.cumsum`` (array-api-compat's wrapper looks the namespace up
    again, which torch.compile warns about); where the namespace lacks the
    function, a triangular mask's sums, a temporary ``n`` times ``x``'s size.
    """
    if _native(x) == "torch":
        import torch

        return torch.cumsum(x, dim=axis)
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


def mark(indices, n: int):
    """A boolean ``(..., n)`` array, True at every index that ``indices`` ``(..., k)`` lists; negative entries
    and ``n`` mark nothing.  A scatter natively (torch, JAX); generically a search of the sorted indices."""
    native = _native(indices)
    indices = wide_indices(indices)  # n (the slot of negative entries) and arange(n) fit
    shape = tuple(indices.shape[:-1]) + (n + 1,)  # slot n catches the negative entries, then is dropped
    if native == "torch":
        import torch

        zeros = torch.zeros(shape, dtype=torch.bool, device=indices.device)
        return torch.scatter(zeros, -1, torch.where(indices < 0, n, indices), True)[..., :n]
    if native == "jax":
        import jax.numpy as jnp

        flat = jnp.reshape(jnp.where(indices < 0, n, indices), (math.prod(shape[:-1]), indices.shape[-1]))
        rows = jnp.arange(flat.shape[0])[:, None]
        out = jnp.zeros((flat.shape[0], n + 1), dtype=bool).at[rows, flat].set(True)
        return jnp.reshape(out[:, :n], shape[:-1] + (n,))
    xp = array_namespace(indices)
    if indices.shape[-1] == 0:
        return xp.zeros(shape[:-1] + (n,), dtype=xp.bool, device=device(indices))
    listed, _ = sort(xp.where(indices < 0, xp.full_like(indices, n), indices), axis=-1)
    # every row's classes, in the rows' own chunks on Dask (a broadcast arange would be one block of all rows)
    classes = xp.zeros_like(indices[..., :1]) + xp.arange(n, dtype=indices.dtype, device=device(indices))
    return searchsorted(listed, classes, side="right") > searchsorted(listed, classes, side="left")


def bin_sum(values, indices, n: int):
    """``out[..., c]``: the sum of ``values[..., s]`` over the ``s`` where ``indices[..., s] == c``, for c in
    ``[0, n)`` (the last axis; ``indices`` in ``[0, n)``, broadcast against ``values``).  A scatter-add on
    torch (on CUDA its atomic adds make the last bits vary from run to run, as ``F.ctc_loss``'s backward);
    on JAX, for floating values, a product with the one-hot indices (one dot, in full float32 precision on
    GPUs too), so the values must be finite there (an infinite one gives 0 x inf = NaN in the other classes
    of its row; ``ctc_loss``'s posteriors are); generically a one-hot selection, a temporary of
    ``values.size * n``.  ``indices`` has no more dimensions than ``values``."""
    if _native(values) == "torch":
        import torch

        out = values.new_zeros(tuple(values.shape[:-1]) + (n,))  # scatter_add_ would read a smaller index's block
        return out.scatter_add_(-1, torch.broadcast_to(indices.long(), values.shape), values)
    if _native(values) == "jax" and array_namespace(values).isdtype(values.dtype, "real floating"):
        import jax

        # a product with the one-hot indices, which XLA makes one dot: its scatter-add (``.at[].add``) takes
        # several times as long on the CPU, and the generic selection below a temporary of values.size * n
        one_hot = jax.nn.one_hot(wide_indices(indices), n, dtype=values.dtype)  # uint8's iota wraps past 255
        return jax.numpy.einsum("...s,...sc->...c", values, one_hot, precision=jax.lax.Precision.HIGHEST)
    xp = array_namespace(values, indices)
    indices = wide_indices(indices)  # arange(n) in uint8 wraps past 255
    hit = indices[..., None] == xp.arange(n, dtype=indices.dtype, device=device(indices))
    return xp.sum(xp.where(hit, values[..., None], xp.zeros_like(values[..., None])), axis=-2)


def sort(x, *, axis: int = -1, descending: bool = False):
    """``(values, indices)``: ``x`` sorted along ``axis``, stably (ties in input order, descending too), and
    the permutation that does it.

    The values carry ``x``'s gradient, each to the element it came from (a stable sort's permutation is
    unique, ties included).  torch: one ``torch.sort``; JAX: ``argsort`` and a gather; generically the
    standard's ``sort`` and ``argsort``, two sorts (no gather: Dask has none; on Dask each block holds
    whole lines along ``axis``, the other axes' chunks kept).  Where NaN goes is the library's (our callers
    sort none).
    """
    native = _native(x)
    if native == "torch":
        import torch

        return torch.sort(x, dim=axis, descending=descending, stable=True)
    if descending:  # an ascending sort of -x (jnp.sort's descending order reverses its ties)
        values, order = sort(-x, axis=axis)
        return -values, order
    xp = array_namespace(x)
    if native == "jax":
        order = xp.argsort(stop_gradient(x), axis=axis, stable=True)
        return take_along_axis(x, order, axis=axis), order
    if type(x).__module__.startswith("dask."):  # whole along the axis only (array-api-compat's sort would
        x = x.rechunk({axis % x.ndim: -1})  # also merge the other axes' chunks)
    return xp.sort(x, axis=axis, stable=True), xp.argsort(stop_gradient(x), axis=axis, stable=True)


def searchsorted(sorted, values, *, side: str = "left"):
    """For each row of ``sorted`` ``(..., n)`` (ascending, no NaN) the insertion indices of that row's
    ``values`` ``(..., m)``: how many entries are ``<`` each value (side "left") or ``<=`` (side "right").

    The standard's ``searchsorted`` takes one 1-D sequence.  torch: its batched ``searchsorted``; JAX:
    ``jnp.searchsorted`` under ``vmap``; generically by ranks in stable sorts (two argsorts of ``m + n``
    elements a row and two of ``m``).  No gradient (an index).
    """
    native = _native(sorted)
    if native == "torch":
        import torch

        return torch.searchsorted(sorted.contiguous(), values.contiguous(), right=side == "right")
    xp = array_namespace(sorted, values)
    if native == "jax":
        import jax

        lead = tuple(sorted.shape[:-1])
        rows = math.prod(lead)
        find = jax.vmap(lambda a, v: xp.searchsorted(a, v, side=side))
        found = find(xp.reshape(sorted, (rows, sorted.shape[-1])), xp.reshape(values, (rows, values.shape[-1])))
        return xp.reshape(found, lead + (values.shape[-1],))
    m, n = values.shape[-1], sorted.shape[-1]
    # ties: the values before the entries ("left": entries < value) or after them ("right": <=); a value's place
    # in the stable order of both, less its place among the values alone, is the number of entries before it
    both = xp.concat((values, sorted) if side == "left" else (sorted, values), axis=-1)
    place = _ranks(xp, both)
    return (place[..., :m] if side == "left" else place[..., n:]) - _ranks(xp, values)


def _ranks(xp, x):
    """Each element's place in the stable ascending order along the last axis."""
    if type(x).__module__.startswith("dask."):  # whole rows, the rows' chunks kept (as in sort)
        x = x.rechunk({x.ndim - 1: -1})
    return xp.argsort(xp.argsort(x, axis=-1, stable=True), axis=-1, stable=True)


def _one_hot_gather(xp) -> bool:
    """Whether ``take_along_axis`` selects by a one-hot comparison in namespace ``xp`` (off torch's gather)."""
    return _GENERIC[0] or not hasattr(xp, "take_along_axis")


def gathers_by_one_hot(x) -> bool:
    """Whether ``take_along_axis`` on ``x`` (indices of ``x``'s shape off the axis) selects by a one-hot
    comparison, whose temporary is ``x.size`` times the indices per row: Dask, and every library under the
    generic primitives (torch too: it is not native there)."""
    return _native(x) != "torch" and _one_hot_gather(array_namespace(x))


def take_along_axis(x, indices, /, *, axis: int, dense_gradient: bool = False):
    """``x``'s elements at ``indices`` along ``axis`` (the standard's ``take_along_axis``).

    ``indices`` has ``x``'s number of dimensions, and values in
    ``[0, x.shape[axis])``.  Where the namespace lacks the function (Dask,
    older libraries) a one-hot selection stands in: the same values and
    gradients, at the cost of a temporary of size
    ``x.size * indices.shape[axis]``.  torch: ``torch.gather`` where the
    shapes agree off ``axis`` (array-api-compat's wrapper first maps
    negative indices, and ``take_along_dim`` broadcasts: 40 us against 12 us
    on a small array, once per step of ``ctc_loss``'s loop).  ``dense_gradient``: the caller's promise that
    ``x``'s gradient has a full-size term besides this selection's (a hinge's over every element); then
    under torch.compile, for one index per row, the selection's gradient is written as a comparison with
    the indices, which inductor fuses into that term, not gather's scatter-add into zeros, a kernel and a
    buffer of its own (``multi_margin_loss`` on 2 CPU threads, N = 4096, C = 32768: 1.16x -> 0.95x
    torch.nn.functional eager; ``nll_loss``, whose gradient is the selection's alone, 0.98x -> 1.15x).
    """
    xp = array_namespace(x, indices)
    native = _native(x)
    if native == "torch" and indices.dtype != xp.int64:
        indices = xp.astype(indices, xp.int64)  # torch.gather and take_along_dim take int64 only
    if native == "torch" and indices.ndim == x.ndim and all(
            i == n for d, (i, n) in enumerate(zip(indices.shape, x.shape)) if d != axis % x.ndim):
        import torch

        if dense_gradient and compiling() and indices.shape[axis] == 1 and x.requires_grad:
            from ._primitives_torch import Pick

            return Pick.apply(x, axis % x.ndim, indices)
        return torch.gather(x, axis, indices)
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


# --- value checks --------------------------------------------------------------

_VALUE_CHECKS = ["host"]


@contextlib.contextmanager
def value_checks(mode: str = "always"):
    """Set when checks that read the data run: 'host' (default), 'always' or 'never'.

    'host': where the data is concrete in host memory (NumPy, array-api-strict,
    eager torch CPU tensors, concrete JAX CPU arrays); skipped under tracing,
    on lazy Dask arrays and on GPUs.  'always' also copies device arrays to the
    host (a synchronisation); traced arrays still cannot be read.
    """
    if mode not in ("host", "always", "never"):
        raise ValueError(f"value_checks: mode must be 'host', 'always' or 'never', got {mode!r}")
    saved, _VALUE_CHECKS[0] = _VALUE_CHECKS[0], mode
    try:
        yield
    finally:
        _VALUE_CHECKS[0] = saved


def host_values(x):
    """``x`` as a NumPy array when value checks may read it (see ``value_checks``), else None."""
    mode = _VALUE_CHECKS[0]
    if mode == "never" or compiling():
        return None
    if isinstance(x, _np.ndarray):
        return x
    if _is_torch(x):
        if _torch_func_transform():  # torch.func's wrapped tensors have no data to read, like traced ones
            return None
        if x.device.type == "cpu" or mode == "always":
            x = x.detach().cpu()
            return (x.float() if x.dtype.itemsize < 4 and x.is_floating_point() else x).numpy()  # NumPy has no bfloat16
        return None
    if _is_jax(x):
        import jax

        if isinstance(x, jax.core.Tracer):
            return None
        if mode == "always" or all(d.platform == "cpu" for d in x.devices()):
            return _np.asarray(x).astype(_np.float32) if x.dtype.name == "bfloat16" else _np.asarray(x)
        return None
    if _compat.is_array_api_strict_namespace(array_namespace(x)):
        return _np.from_dlpack(x)
    if mode == "always" and _compat.is_cupy_array(x):
        return x.get()
    return None  # Dask (lazy), CuPy on the GPU, unknown libraries


def scan(f, init, xs, *, rematerialise: bool = False, reverse: bool = False):
    """``jax.lax.scan`` semantics: ``carry, y = f(carry, x)`` for each ``x`` along axis 0.

    ``xs`` is an array or a tuple of arrays of one length (then each ``x`` is
    a tuple of their rows); ``y`` likewise an array, a tuple of arrays, or
    None (then ``ys`` is None).
    Returns ``(carry, ys)`` with ``ys`` stacked along a new axis 0.  On JAX
    this is ``jax.lax.scan``, so ``jax.jit`` compiles one loop body however
    long ``xs`` is; elsewhere a Python loop.  ``rematerialise``: on JAX the
    body is a ``jax.checkpoint``, so that differentiating keeps each step's
    inputs, not its intermediates (torch's ``elementwise`` keeps only inputs
    anyway).  ``reverse``: the steps go from the last ``x`` to the first, and
    ``ys[i]`` is still the ``y`` of ``xs[i]``.
    """
    many = isinstance(xs, tuple)
    first = xs[0] if many else xs
    if compiles_loops(first):
        import jax

        return jax.lax.scan(jax.checkpoint(f) if rematerialise else f, init, xs, reverse=reverse)
    xp = array_namespace(first)
    carry, ys = init, []
    order = range(first.shape[0] - 1, -1, -1) if reverse else range(first.shape[0])
    for i in order:
        carry, y = f(carry, tuple(x[i, ...] for x in xs) if many else xs[i, ...])
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys or ys[0] is None:
        return carry, None
    if isinstance(ys[0], tuple):
        return carry, tuple(xp.stack(column, axis=0) for column in zip(*ys))
    return carry, xp.stack(ys, axis=0)


def compiles_loops(x) -> bool:
    """Whether ``scan`` over arrays like ``x`` is one compiled loop (``jax.lax.scan``: its body is traced
    once, and XLA fuses the body's operations), not a Python loop of array operations."""
    return _native(x) == "jax"


def _rematerialised(f, like):
    """``f``, made to keep none of its intermediates for the backward pass but recompute them there.

    JAX: ``jax.checkpoint``.  torch, while autograd records:
    ``torch.utils.checkpoint.checkpoint`` (non-reentrant, so arrays ``f``
    closes over get their gradients).  Elsewhere, and with the generic
    primitives forced: ``f`` itself.
    """
    native = _native(like)
    if native == "jax":
        import jax

        return jax.checkpoint(f)
    if native == "torch" and _torch_can_checkpoint():
        from torch.utils.checkpoint import checkpoint

        return lambda *arrays: checkpoint(f, *arrays, use_reentrant=False)
    return f


def _torch_can_checkpoint() -> bool:
    """Whether autograd records and non-reentrant checkpointing works here.

    Not under the ``torch.func`` transforms (``grad``, ``vjp`` and ``jacrev``
    refuse the saved-tensor hooks that checkpointing is made of, torch 2.13),
    so there the chunks' intermediates are kept as without chunking.  Under
    ``torch.compile`` it works (Dynamo traces checkpoints).
    """
    import torch

    return torch.is_grad_enabled() and (compiling() or not _torch_func_transform())


def chunked(f, arrays, size: int, shared=(), *, arguments_only: bool = False, summed: bool = False,
            divisor=None):
    """``f`` applied to consecutive chunks of ``size`` rows of ``arrays``, its outputs concatenated on axis 0
    (``summed``: the sum of all their elements, a 0-d array, divided by ``divisor``, a 0-d array, where
    given: each chunk's values are divided before their gradients are taken, as a mean's are).

    ``arrays`` is a tuple of arrays with one leading length n; ``f`` maps a
    chunk of each (n_c rows), then the ``shared`` arrays whole, to one array
    of n_c rows, row by row.  Neither the forward nor the backward pass holds
    more than one chunk's intermediates: the full chunks go through ``scan``
    with a rematerialised body (``jax.lax.scan`` of ``jax.checkpoint`` on
    JAX, a loop of ``torch.utils.checkpoint`` on torch, a plain loop
    elsewhere), the last ``n % size`` rows through one more call.
    ``arguments_only``: the caller's promise that ``f`` differentiates only
    ``arrays`` and ``shared`` (it closes over no array that needs a
    gradient, in any way); then on torch under eager autograd one
    ``autograd.Function`` serves, whose backward pass recomputes chunk by
    chunk and writes the gradients into one buffer per array (a checkpoint's
    slices each scatter theirs into a zero array of the full shape), or,
    ``summed``, whose forward pass takes each chunk's gradients while it has
    the chunk (no recomputation; the backward pass scales them by the scalar
    upstream gradient); under torch.compile, ``summed`` takes them so too, by
    ``torch.func.grad_and_value`` in the traced graph (``summed_with_gradients``);
    on JAX, ``summed`` is a ``jax.custom_jvp`` that does the same
    (``_jax_chunked_sum``).  ``divisor`` then divides each chunk's
    values before their gradients are taken (a mean's 1/N first, as autodiff
    through the formula has it: float16 gradients of the undivided sum could
    overflow; a 0/0 mean gives autodiff's exact zeros where the formula
    selects nothing).  At most ``size`` rows: ``f`` itself, once (its
    intermediates are one chunk's).
    """
    first = arrays[0]
    xp = array_namespace(first)
    n = first.shape[0]

    def total(out):
        return out if not summed else xp.sum(out) if divisor is None else xp.sum(out) / divisor

    if n <= size:  # one chunk: nothing to gain by recomputing it
        return total(f(*arrays, *shared))
    native = _native(first)
    if arguments_only and summed and native in ("torch", "jax"):  # the divisor: one more shared array
        divided, given = (f, tuple(shared)) if divisor is None else (_divided(f), (*shared, divisor))
        if native == "jax":
            return _jax_chunked_sum(divided, arrays, size, given)
        if _torch_eager_autograd(arrays + given):
            from ._primitives_torch import RowChunksSum

            return RowChunksSum.apply(divided, size, len(arrays), *arrays, *given)
        if native == "torch" and compiling() and _torch_autograd(arrays + given):
            from ._primitives_torch import summed_with_gradients

            return summed_with_gradients(divided, arrays, size, given)
    if arguments_only and native == "torch" and _torch_eager_autograd(arrays + tuple(shared)):
        from ._primitives_torch import RowChunks

        return total(RowChunks.apply(f, size, len(arrays), *arrays, *shared))
    return total(_chunks_scanned(lambda *chunk: f(*chunk, *shared), arrays, size))


def _divided(f):
    """``f``'s values divided by one more argument, its last."""
    def divided(*given):
        return f(*given[:-1]) / given[-1]

    return divided


def _chunks_scanned(f, arrays, size: int):
    """``chunked``'s loop: the full chunks of ``arrays`` through ``scan``, each rematerialised, then the
    remainder; ``f``'s outputs concatenated."""
    first = arrays[0]
    xp = array_namespace(first)
    n = first.shape[0]
    full = n // size
    body = _rematerialised(f, first)
    stacked = tuple(xp.reshape(a[:full * size, ...], (full, size) + tuple(a.shape[1:])) for a in arrays)
    _, ys = scan(lambda carry, chunk: (carry, body(*chunk)), None, stacked)
    parts = [xp.reshape(ys, (full * size,) + tuple(ys.shape[2:]))]
    if n % size:  # the remainder
        parts.append(body(*(a[full * size:, ...] for a in arrays)))
    return parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)


def _jax_chunked_sum(f, arrays, size: int, shared):
    """``chunked(..., summed=True)`` on JAX: a ``jax.custom_jvp`` whose tangent rule takes each chunk's
    gradients (``jax.value_and_grad`` of its sum) in the same scan as its value, and whose tangent is their
    inner product with the tangents.  Reverse mode (the transpose of that product: the cotangent times the
    gradients) so evaluates each chunk once, where the scan of rematerialised chunks evaluates it again;
    forward mode and higher derivatives differentiate the rule (symbolic zeros: the gradients of arrays
    without a tangent are not taken).  Without differentiation it is the plain scan."""
    import jax
    from jax.custom_derivatives import SymbolicZero

    jnp, k = jax.numpy, len(arrays)
    n = arrays[0].shape[0]
    full = n // size

    @jax.custom_jvp
    def total(*given):
        return jnp.sum(_chunks_scanned(lambda *chunk: f(*chunk, *given[k:]), given[:k], size))

    def total_jvp(primals, tangents):
        wanted = [i for i, t in enumerate(tangents) if not isinstance(t, SymbolicZero)]
        rows, shared = primals[:k], primals[k:]

        def chunk(*chunk_rows):  # the chunk's value and its gradients in the wanted arrays
            given = list(chunk_rows) + list(shared)

            def value(*differentiated):
                for i, a in zip(wanted, differentiated):
                    given[i] = a
                return jnp.sum(f(*given))

            return jax.value_and_grad(value, argnums=tuple(range(len(wanted))))(*(given[i] for i in wanted))

        n_row_grads = sum(i < k for i in wanted)  # wanted is ascending: the rows' gradients first

        def step(carry, chunk_rows):  # carry: the sum of the values and the shared arrays' gradients
            value, grads = chunk(*chunk_rows)
            s, shared_grads = carry
            return (s + value, tuple(g + d for g, d in zip(shared_grads, grads[n_row_grads:]))), grads[:n_row_grads]

        stacked = tuple(jnp.reshape(a[:full * size], (full, size) + tuple(a.shape[1:])) for a in rows)
        value_type = jax.eval_shape(chunk, *(a[0] for a in stacked))[0]
        init = jnp.zeros((), value_type.dtype), tuple(jnp.zeros_like(primals[i]) for i in wanted[n_row_grads:])
        (s, shared_grads), row_grads = jax.lax.scan(step, init, stacked)
        row_grads = [jnp.reshape(g, (full * size,) + tuple(g.shape[2:])) for g in row_grads]
        if n % size:  # the remainder
            value, grads = chunk(*(a[full * size:] for a in rows))
            s = s + value
            row_grads = [jnp.concatenate([g, d]) for g, d in zip(row_grads, grads[:n_row_grads])]
            shared_grads = tuple(g + d for g, d in zip(shared_grads, grads[n_row_grads:]))
        tangent = jnp.zeros((), s.dtype)
        for g, i in zip(list(row_grads) + list(shared_grads), wanted):
            tangent = tangent + jnp.sum(g * tangents[i]).astype(s.dtype)
        return s, tangent

    total.defjvp(total_jvp, symbolic_zeros=True)
    return total(*arrays, *shared)


def custom_vjp(forward, backward, x, *constants):
    """``forward(x, *constants)[0]``, whose gradient with respect to ``x`` is ``backward``'s.

    ``forward(x, *constants, keep=False)`` returns ``(value, residuals)``
    (None unless ``keep``, else a tuple of arrays); ``backward(residuals, upstream, x, *constants)``
    returns the gradient of ``sum(upstream * value)`` with respect to ``x``,
    linear in ``upstream``.
    On torch under eager autograd (``x`` requires grad) this is one
    ``autograd.Function``: its forward pass records nothing but
    ``residuals``, its backward pass is ``backward``, and with
    ``create_graph`` it differentiates ``forward`` itself again (higher
    derivatives as autograd's).  On JAX it is a ``jax.custom_jvp`` whose
    tangent is ``backward``'s transpose (``jax.linear_transpose``), so
    ``jax.grad`` runs ``backward`` (transposed back), and forward mode and
    higher derivatives (``jvp``, ``hessian``) differentiate ``forward`` and
    ``backward`` as JAX code (a ``jax.custom_vjp`` would refuse forward
    mode).  There ``backward`` runs while JAX linearises, before the upstream
    gradient is known, and what it computes before its last, linear step in
    ``upstream`` is what the backward pass keeps: so ``backward`` should
    multiply ``upstream`` in last (else the transposes run its work twice).
    Forward mode then costs a forward and a backward pass.  Elsewhere
    (``torch.compile``, the ``torch.func`` transforms, forward mode on torch,
    no gradient, the generic primitives forced) it is
    ``forward(x, *constants)[0]``, differentiated by the library's own
    autodiff, so ``backward`` must give that same gradient.
    """
    native = _native(x)
    if native == "torch" and _torch_eager_autograd((x,)):
        from ._primitives_torch import CustomVjp

        return CustomVjp.apply(forward, backward, x, *constants)
    if native == "jax":
        return _jax_custom_gradient(forward, backward)(x, *constants)
    return forward(x, *constants)[0]


def _jax_custom_gradient(forward, backward):
    """``custom_vjp``'s function on JAX: ``forward``'s value, ``backward`` as its (transposed) tangent."""
    import jax

    @jax.custom_jvp
    def f(x, *constants):
        return forward(x, *constants)[0]

    @f.defjvp
    def tangent(primals, tangents):  # the constants' tangents are ignored: they are not differentiated
        x, *constants = primals
        value, residuals = forward(x, *constants, keep=True)
        (dvalue,) = jax.linear_transpose(lambda u: backward(residuals, u, x, *constants), value)(tangents[0])
        return value, dvalue

    return f


def _torch_eager_autograd(arrays) -> bool:
    """Whether torch's autograd records a function of ``arrays`` in eager mode: no torch.compile, no
    torch.func transform, no forward mode (which an ``autograd.Function`` without ``jvp`` refuses)."""
    return not compiling() and not _torch_func_transform() and _torch_autograd(arrays)


def _torch_autograd(arrays) -> bool:
    """Whether torch's autograd records a function of ``arrays`` (outside forward mode).  Under torch.compile
    ``_torch_func_transform`` is True (torch 2.13: Dynamo traces with an interpreter on functorch's stack)."""
    import torch

    return torch.is_grad_enabled() and not _forward_ad_active(torch) and any(a.requires_grad for a in arrays)
