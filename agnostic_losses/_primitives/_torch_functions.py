"""torch's autograd for the primitives: when it records, how CPU tensors are cut into pieces, and every
``torch.autograd.Function`` of the package.

A module of its own, imported by the torch backend (``_torch``): torch.compile
can import a module while it traces, but not trace a class definition.
"""

from __future__ import annotations

import sys

import torch
import torch.utils.checkpoint

from . import _pieces
from ._settings import _GENERIC


def compiling() -> bool:
    """Whether torch.compile is tracing the caller."""
    return torch.compiler.is_compiling()


def divide(a, b):
    """``a / b``, where a Python int ``b`` (a mean's count) that divides a plain 0-d float32 or float64 tensor is
    a 0-d CPU tensor of that dtype, made once per count and dtype: torch wraps a number in a fresh tensor at every
    call, which costs more than the division of one element.  The quotient is the same: the count is rounded to
    the tensor's dtype either way, and a CPU scalar divides a tensor of any device as the number does."""
    if type(b) is int and -_EXACT <= b <= _EXACT and type(a) is torch.Tensor and a.ndim == 0 \
            and a.dtype in _DIVIDED and not compiling():
        d = _DIVISORS.get((b, a.dtype))
        if d is None and _plain_context():
            if len(_DIVISORS) >= 256:  # counts that vary from call to call
                _DIVISORS.clear()
            d = _DIVISORS[b, a.dtype] = torch.tensor(b, dtype=a.dtype, device="cpu")
        if d is not None:
            return a / d
    return a / b


def _plain_context() -> bool:
    """Whether a tensor made now is a plain one that any later call may use: not an inference tensor (autograd
    refuses to save it), not made by a dispatch mode (``FakeTensorMode``; torch 2.13's private count of them,
    none made where it is gone) or inside a torch.func transform."""
    modes = getattr(torch._C, "_len_torch_dispatch_stack", None)
    return modes is not None and not modes() and not torch.is_inference_mode_enabled() and not func_transform()


_DIVIDED = (torch.float32, torch.float64)  # float16's quotient by a number is computed in float32
_EXACT = 2**53  # the counts a float64 holds exactly (torch refuses a number past int64)
_DIVISORS = {}  # (count, dtype) -> that count as a 0-d CPU tensor of that dtype


def func_transform() -> bool:
    """Whether a ``torch.func`` transform (grad, vjp, vmap, ...) is running: its tensors cannot be read.
    torch has no public query; this is torch 2.13's private one (False where it is gone)."""
    peek = getattr(getattr(torch._C, "_functorch", None), "peek_interpreter_stack", None)
    return peek is not None and peek() is not None


def forward_ad_active() -> bool:
    """Whether a ``torch.autograd.forward_ad.dual_level`` is open (torch's own module-level record of it)."""
    return getattr(torch.autograd.forward_ad, "_current_level", -1) >= 0


def records(arrays) -> bool:
    """Whether torch's autograd (or a torch.func transform) may differentiate a function of ``arrays``."""
    if forward_ad_active():  # dual tensors do not require grad; their tangents need the Function's jvp
        return True
    if not torch.is_grad_enabled():
        return False
    for a in arrays:  # a loop, not any(): this runs in every call of a loss
        if a.requires_grad:
            return True
    return not compiling() and func_transform()  # Dynamo's own interpreter is on functorch's stack


def autograd(arrays) -> bool:
    """Whether torch's autograd records a function of ``arrays`` (outside forward mode).  Under torch.compile
    ``func_transform`` is True (torch 2.13: Dynamo traces with an interpreter on functorch's stack)."""
    return torch.is_grad_enabled() and not forward_ad_active() and any(a.requires_grad for a in arrays)


def eager_autograd(arrays) -> bool:
    """Whether torch's autograd records a function of ``arrays`` in eager mode: no torch.compile, no
    torch.func transform, no forward mode (which an ``autograd.Function`` without ``jvp`` refuses)."""
    return not compiling() and not func_transform() and autograd(arrays)


def plan(arrays):
    """The pieces of CPU tensors outside torch.compile and the torch.func transforms (``_pieces.Chunks``)."""
    if _GENERIC[0] or compiling():  # compiling first: no guard on the size under torch.compile
        return None
    return _pieces.Chunks.plan(arrays, sys.modules[__name__])


def layout(arrays):
    """Each tensor's contiguity and whether its strides are all zero, or None where none is cut."""
    if not all(isinstance(a, torch.Tensor) and a.device.type == "cpu" for a in arrays) or func_transform():
        return None
    return [a.is_contiguous() for a in arrays], [not any(a.stride()) for a in arrays]


def flat_constant(a, size):
    """A tensor of ``size`` elements, all ``a``'s one value (``a`` has only zero strides), without a copy."""
    return a.as_strided((size,), (0,))


def empty(like, shape):
    """An uninitialised tensor of ``like``'s dtype and device."""
    return like.new_empty(shape)


def evaluate(value, arrays):
    """``value(*arrays)``, in pieces where ``plan`` has them."""
    chunks = plan(arrays)
    return value(*arrays) if chunks is None else _pieces.evaluate(value, chunks)


def evaluate_sum(value, arrays):
    """``sum(value(*arrays))``, piece by piece where ``plan`` has pieces."""
    chunks = plan(arrays)
    return value(*arrays).sum() if chunks is None else _pieces.evaluate_sum(value, chunks)


class Elementwise(torch.autograd.Function):
    generate_vmap_rule = True  # torch.func.vmap runs forward and backward batched

    @staticmethod
    def forward(value, derivatives, *arrays):
        return evaluate(value, arrays)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.derivatives = inputs[1]
        ctx.save_for_backward(*inputs[2:])

    @staticmethod
    def backward(ctx, upstream):
        return (None, None) + _gradients(ctx, upstream, ctx.needs_input_grad[2:])


class ElementwiseSum(Elementwise):
    """``Elementwise``'s values summed, and divided by ``divisor`` where it is not None (``elementwise_sum``):
    the forward pass sums them chunk by chunk, the backward pass is ``Elementwise``'s with the upstream gradient
    (divided) spread over the arrays' shape."""

    @staticmethod
    def forward(value, derivatives, divisor, *arrays):
        s = evaluate_sum(value, arrays)
        return s if divisor is None else divide(s, divisor)

    @staticmethod
    def setup_context(ctx, inputs, output):
        value, derivatives, ctx.divisor, *arrays = inputs
        Elementwise.setup_context(ctx, (value, derivatives, *arrays), output)
        ctx.out_shape = _pieces.result_shape(arrays)

    @staticmethod
    def backward(ctx, upstream):
        if ctx.divisor is not None:
            upstream = divide(upstream, ctx.divisor)
        return (None, None, None) + _gradients(ctx, upstream.expand(ctx.out_shape), ctx.needs_input_grad[3:])


def _gradients(ctx, upstream, wanted):
    """The gradients of ``Elementwise``'s arrays, ``wanted`` (a flag for each), for its ``upstream`` gradient."""
    arrays = ctx.saved_tensors
    # The derivatives are fresh arrays that can take the upstream gradient in place, unless
    # a graph of this backward is recorded (double backward) or a transform wraps them.
    in_place = not torch.is_grad_enabled() and not compiling() and not func_transform()
    chunks = plan(arrays + (upstream,)) if in_place else None
    if chunks is not None:
        return _chunked_gradients(ctx.derivatives, wanted, arrays, chunks)
    grads = []
    derivatives = [g if w else None for g, w in zip(ctx.derivatives(wanted, *arrays), wanted)]
    for x, g in zip(arrays, derivatives):
        if g is None:
            grads.append(None)
            continue
        fresh = (in_place and g._base is None and g.dtype == upstream.dtype and g.shape == upstream.shape
                 and _once(g, derivatives) and not _among(g, arrays))
        g = g.mul_(upstream) if fresh else g * upstream
        grads.append(g if g.shape == x.shape else g.sum_to_size(x.shape))
    return tuple(grads)


def _once(x, arrays) -> bool:
    """Whether ``x`` is exactly one of ``arrays`` (by identity)."""
    n = 0
    for a in arrays:
        n += a is x
    return n == 1


def _among(x, arrays) -> bool:
    for a in arrays:
        if a is x:
            return True
    return False


def _chunked_gradients(derivatives, wanted, arrays, chunks):
    """The gradients of ``_gradients``, piece by piece (``chunks`` cuts ``arrays`` and, last, the
    upstream gradient): each array's gradient is written into one buffer of its size, or, for an array that
    broadcasts along the cut, summed over the pieces (in float64: thousands of pieces lose no precision)."""
    grads, cuts = [None] * len(arrays), [None] * len(arrays)
    for piece, args in chunks:
        *args, upstream = args
        for i, (g, w) in enumerate(zip(derivatives(wanted, *args), wanted)):
            if g is None or not w:
                continue
            x = args[i]
            if not chunks.sliced[i]:
                g = (g * upstream).sum_to_size(x.shape).double()
                grads[i] = g if grads[i] is None else grads[i] + g
                continue
            if grads[i] is None:
                grads[i] = g.new_empty(arrays[i].shape, dtype=torch.promote_types(g.dtype, upstream.dtype))
                cuts[i] = grads[i].view(chunks.parts[i].shape)
            if x.shape == upstream.shape:
                torch.mul(g, upstream, out=cuts[i][piece])  # the product written in place: no temporary
            else:
                cuts[i][piece] = (g * upstream).sum_to_size(x.shape)
    return tuple(g if g is None or s else g.to(torch.promote_types(a.dtype, upstream.dtype))
                 for g, s, a in zip(grads, chunks.sliced, arrays))


class ElementwiseWithJvp(Elementwise):
    """``Elementwise`` with forward mode too (torch.func.jvp, jacfwd, hessian, forward_ad): outside
    torch.compile only, which refuses an ``autograd.Function`` that defines ``jvp``."""

    @staticmethod
    def setup_context(ctx, inputs, output):
        Elementwise.setup_context(ctx, inputs, output)
        ctx.save_for_forward(*inputs[2:])

    @staticmethod
    def jvp(ctx, _value, _derivatives, *tangents):
        """``sum(derivative * tangent)`` over the arrays that have a tangent."""
        arrays = ctx.saved_tensors
        wanted = tuple(t is not None for t in tangents)
        out = torch.zeros(torch.broadcast_shapes(*(a.shape for a in arrays)), dtype=arrays[0].dtype,
                          device=arrays[0].device)
        for g, t in zip(ctx.derivatives(wanted, *arrays), tangents):
            if g is not None and t is not None:
                out = out + g * t
        return out

_transforms_active = getattr(torch._C, "_are_functorch_transforms_active", None)
try:
    from torch._functorch.utils import unwrap_dead_wrappers as _unwrap_dead_wrappers
except ImportError:  # gone from a later torch: always the public path
    _unwrap_dead_wrappers = None


def apply(value, derivatives, *arrays):
    """``Elementwise.apply``, without its per-call ``inspect.signature`` where no torch.func
    transform and no torch.compile is running: what ``Function.apply`` then does itself (it binds default
    arguments, and ``forward`` has none; it unwraps tensors that escaped a finished torch.func transform)
    before this same C++ ``apply``."""
    if compiling():
        # In a checkpoint region the compiler's partitioner recomputes the derivatives in the backward pass from
        # the saved inputs, as torch's own kernels do, instead of writing them in the forward pass and reading
        # them back (benchmarks/HISTORY.md).
        return torch.utils.checkpoint.checkpoint(Elementwise.apply, value, derivatives, *arrays, use_reentrant=False)
    if _transforms_active is None or _unwrap_dead_wrappers is None or _transforms_active():
        return ElementwiseWithJvp.apply(value, derivatives, *arrays)
    arrays = _unwrap_dead_wrappers(arrays)
    return super(torch.autograd.Function, ElementwiseWithJvp).apply(value, derivatives, *arrays)


def apply_sum(value, derivatives, divisor, *arrays):
    """``ElementwiseSum.apply`` where ``apply`` takes its fast path; elsewhere (torch.compile, torch.func
    transforms, forward mode) the sum of ``apply``'s values, divided by ``divisor`` unless it is None."""
    if compiling() or forward_ad_active() or _transforms_active is None or _unwrap_dead_wrappers is None \
            or _transforms_active():
        s = apply(value, derivatives, *arrays).sum()
        return s if divisor is None else s / divisor
    arrays = _unwrap_dead_wrappers(arrays)
    return super(torch.autograd.Function, ElementwiseSum).apply(value, derivatives, divisor, *arrays)


class CustomVjp(torch.autograd.Function):
    """``custom_vjp`` under torch's eager autograd: the value and residuals of ``forward``, the
    gradient of ``backward``; with ``create_graph``, autograd's own of ``forward`` recomputed.  The residuals
    are saved tensors: freed after the backward pass, and seen by saved-tensor hooks (``save_on_cpu``)."""

    @staticmethod
    def forward(ctx, forward, backward, x, *constants):
        value, residuals = forward(x, *constants, keep=True)
        ctx.value_fn, ctx.gradient_fn, ctx.n_constants = forward, backward, len(constants)
        ctx.save_for_backward(x, *constants, *residuals)
        return value

    @staticmethod
    def backward(ctx, upstream):
        x, *rest = ctx.saved_tensors
        constants, residuals = rest[:ctx.n_constants], rest[ctx.n_constants:]
        if torch.is_grad_enabled():  # create_graph: a recorded gradient, differentiable in turn
            (grad,) = torch.autograd.grad(ctx.value_fn(x, *constants)[0], x, upstream, create_graph=True)
        else:
            grad = ctx.gradient_fn(tuple(residuals), upstream, x, *constants)
        return (None, None, grad) + (None,) * len(constants)


class Pick(torch.autograd.Function):
    """``torch.gather(x, axis, indices)`` of one index per row whose gradient is ``where(classes == indices,
    upstream, 0)``, not gather's scatter-add into zeros (``take_along_axis``'s ``dense_gradient``
    under torch.compile)."""
    generate_vmap_rule = True

    @staticmethod
    def forward(x, axis, indices):
        return torch.gather(x, axis, indices)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, ctx.axis, indices = inputs
        ctx.save_for_backward(indices)
        ctx.n = x.shape[ctx.axis]

    @staticmethod
    def backward(ctx, upstream):
        (indices,) = ctx.saved_tensors
        shape = [1] * upstream.ndim
        shape[ctx.axis] = ctx.n
        classes = torch.arange(ctx.n, device=upstream.device).reshape(shape)
        return torch.where(classes == indices, upstream, 0), None, None
