"""The ``torch.autograd.Function`` behind ``_primitives.elementwise``: part of the primitives layer,
in a module of its own because torch.compile can import a module but not trace a class definition.
Imported only when torch is in use."""

from __future__ import annotations

import contextlib

import torch
import torch.utils.checkpoint

from ._primitives import Chunks, result_shape, _forward_ad_active, _torch_func_transform, compiling, evaluate, evaluate_sum


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
        arrays = ctx.saved_tensors
        # The derivatives are fresh arrays that can take the upstream gradient in place, unless
        # a graph of this backward is recorded (double backward) or a transform wraps them.
        in_place = not torch.is_grad_enabled() and not compiling() and not _torch_func_transform()
        wanted = ctx.needs_input_grad[2:]
        chunks = Chunks.plan(arrays + (upstream,)) if in_place else None
        if chunks is not None:
            return (None, None) + _chunked_gradients(ctx.derivatives, wanted, arrays, chunks)
        grads = [None, None]
        derivatives = [g if w else None for g, w in zip(ctx.derivatives(wanted, *arrays), wanted)]
        for x, g in zip(arrays, derivatives):
            if g is None:
                grads.append(None)
                continue
            fresh = (in_place and g._base is None and sum(g is d for d in derivatives) == 1
                     and g.dtype == upstream.dtype and g.shape == upstream.shape and all(g is not a for a in arrays))
            g = g.mul_(upstream) if fresh else g * upstream
            grads.append(g if g.shape == x.shape else g.sum_to_size(x.shape))
        return tuple(grads)


class ElementwiseSum(Elementwise):
    """``Elementwise``'s values summed (``_primitives.elementwise_sum``): the forward pass sums them chunk by
    chunk, the backward pass is ``Elementwise``'s with the upstream gradient spread over the arrays' shape."""

    @staticmethod
    def forward(value, derivatives, *arrays):
        return evaluate_sum(value, arrays)

    @staticmethod
    def setup_context(ctx, inputs, output):
        Elementwise.setup_context(ctx, inputs, output)
        ctx.out_shape = result_shape(inputs[2:])

    @staticmethod
    def backward(ctx, upstream):
        return Elementwise.backward(ctx, upstream.expand(ctx.out_shape))


def _chunked_gradients(derivatives, wanted, arrays, chunks):
    """The gradients of ``Elementwise.backward``, piece by piece (``chunks`` cuts ``arrays`` and, last, the
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
    """``Elementwise.apply``, without its per-call ``inspect.signature`` (about 40 us) where no torch.func
    transform and no torch.compile is running: what ``Function.apply`` then does itself (it binds default
    arguments, and ``forward`` has none; it unwraps tensors that escaped a finished torch.func transform)
    before this same C++ ``apply``."""
    if compiling():
        # Inside a checkpoint region the compiler's partitioner recomputes the derivatives in the backward pass
        # from the saved inputs, as torch's own backward kernels do; outside one it computes them in the
        # forward pass and saves them (it counts the inputs as memory to save too, though they are alive
        # anyway): a full-size array written and read again (mse_loss forward+backward at 1e7 elements,
        # 2 CPU threads: 49 -> 34 ms, torch's compiled 35 ms).
        return torch.utils.checkpoint.checkpoint(Elementwise.apply, value, derivatives, *arrays, use_reentrant=False)
    if _transforms_active is None or _unwrap_dead_wrappers is None or _transforms_active():
        return ElementwiseWithJvp.apply(value, derivatives, *arrays)
    arrays = _unwrap_dead_wrappers(arrays)
    return super(torch.autograd.Function, ElementwiseWithJvp).apply(value, derivatives, *arrays)


def apply_sum(value, derivatives, *arrays):
    """``ElementwiseSum.apply`` where ``apply`` takes its fast path; elsewhere (torch.compile, torch.func
    transforms, forward mode) the sum of ``apply``'s values."""
    if compiling() or _forward_ad_active(torch) or _transforms_active is None or _unwrap_dead_wrappers is None \
            or _transforms_active():
        return apply(value, derivatives, *arrays).sum()
    arrays = _unwrap_dead_wrappers(arrays)
    return super(torch.autograd.Function, ElementwiseSum).apply(value, derivatives, *arrays)


class RowChunks(torch.autograd.Function):
    """``_primitives.chunked`` under torch's eager autograd: the forward pass keeps no intermediates, the
    backward pass recomputes one chunk at a time (under the forward's autocast state, as checkpointing does)
    and writes each chunk's gradients into one buffer per array (a row array's into its rows, a shared
    array's summed).  Checkpointing each chunk instead scatters each chunk's gradient into a zero array of
    the full shape that autograd then adds in: two full-size gradients at once.  With ``create_graph`` the
    gradients are recorded in turn (double backward), and under a transform of the backward pass (batched
    gradients: ``is_grads_batched``, ``jacobian(vectorize=True)``) they are concatenated, not written in place."""

    @staticmethod
    def forward(ctx, f, size, n_rows, *arrays):  # arrays: the row arrays, then the shared ones
        ctx.f, ctx.size, ctx.n_rows = f, size, n_rows
        ctx.autocast = _autocast_state(arrays[0].device.type)
        ctx.save_for_backward(*arrays)
        rows, shared = arrays[:n_rows], arrays[n_rows:]
        return torch.cat([f(*(a[s:s + size] for a in rows), *shared) for s in range(0, rows[0].shape[0], size)])

    @staticmethod
    def backward(ctx, upstream):
        return (None, None, None) + _recomputed(ctx, ctx.saved_tensors, upstream, False)


def _recomputed(ctx, arrays, upstream, summed):
    """The backward pass of ``RowChunks`` (``summed``: of ``RowChunksSum``): the gradients, the chunks
    recomputed under the forward pass's autocast state."""
    record = torch.is_grad_enabled()  # create_graph: differentiate the saved arrays themselves
    in_place = not record and not _torch_func_transform() and not _legacy_batched(upstream)
    return _gradients_by_chunk(ctx.f, arrays, ctx.n_rows, ctx.size, ctx.needs_input_grad[3:], upstream,
                               summed, record, in_place, ctx.autocast)[1]


class RowChunksSum(torch.autograd.Function):
    """``_primitives.chunked(..., summed=True)`` under torch's eager autograd: the sum of all the rows' values,
    whose gradients the forward pass takes chunk by chunk while each chunk is at hand, as fused
    linear-cross-entropy kernels do (one evaluation of each chunk, where ``RowChunks`` evaluates it again in
    the backward pass); the backward pass scales them by the upstream gradient, a scalar.  So under
    autograd the forward pass costs the gradients even when no backward pass follows.  With
    ``create_graph`` the backward pass is ``RowChunks``'s recomputation, recorded (double backward), and so
    under a transform of the backward pass and for an upstream gradient that is not finite (where autograd
    through the formula has exact zeros, at selections, and a saved zero times infinity would be NaN; the
    test reads the upstream gradient's one value: on a GPU, a synchronisation).  A mean's division comes
    inside ``f`` (``chunked``'s ``divisor``), before the gradients are taken: float16 gradients of the
    undivided sum could overflow."""

    @staticmethod
    def forward(ctx, f, size, n_rows, *arrays):
        ctx.f, ctx.size, ctx.n_rows = f, size, n_rows
        ctx.autocast = _autocast_state(arrays[0].device.type)
        total, grads = _gradients_by_chunk(f, arrays, n_rows, size, ctx.needs_input_grad[3:], None, True,
                                           False, True, None)
        ctx.taken = tuple(g is not None for g in grads)
        ctx.save_for_backward(*arrays, *(g for g in grads if g is not None))
        return total

    @staticmethod
    def backward(ctx, upstream):
        saved = ctx.saved_tensors
        arrays, taken = saved[:len(ctx.taken)], iter(saved[len(ctx.taken):])
        # create_graph: a recorded gradient, recomputed.  So too where the upstream gradient is not finite:
        # autograd's own gradient then has exact zeros where the formula selects nothing, and a saved zero
        # times inf would be NaN.
        if torch.is_grad_enabled() or _legacy_batched(upstream) or not bool(torch.isfinite(upstream)):
            return (None, None, None) + _recomputed(ctx, arrays, upstream, True)
        return (None, None, None) + tuple(next(taken) * upstream if t else None for t in ctx.taken)


def summed_with_gradients(f, arrays, size, shared):
    """``chunked(..., summed=True)`` under torch.compile with a gradient wanted: ``RowChunksSum``'s forward
    pass, each chunk's gradients taken with its value, by ``torch.func.grad_and_value`` (which Dynamo
    traces, where it cannot trace the ``torch.autograd.grad`` of the eager path), then ``Taken``; the
    checkpointed chunks of ``_chunks_scanned`` would evaluate every chunk again in the backward pass.
    Every floating array's gradient is taken: inside a ``torch.func`` transform that Dynamo traces,
    ``requires_grad`` reads False for arrays that the transform differentiates (their gradients would be
    zeros); the compiler drops the products of the gradients that nothing uses."""
    inputs, k = tuple(arrays) + tuple(shared), len(arrays)
    wanted = tuple(i for i, a in enumerate(inputs) if a.is_floating_point())
    take = torch.func.grad_and_value(lambda *chunk: f(*chunk).sum(), argnums=wanted)
    total, grads = None, [[] for _ in wanted]  # a row array's gradients by chunk, a shared one's summed
    for s in range(0, inputs[0].shape[0], size):
        chunk, value = take(*(a[s:s + size].detach() if i < k else a.detach() for i, a in enumerate(inputs)))
        total = value if total is None else total + value
        for i, g, part in zip(wanted, chunk, grads):
            if i < k or not part:
                part.append(g)
            else:
                part[0] = part[0] + g
    grads = [torch.cat(g) if len(g) > 1 else g[0] for g in grads]
    return Taken.apply(total, len(wanted), *(inputs[i] for i in wanted), *grads)


class Taken(torch.autograd.Function):
    """``value``, a scalar, whose gradients with respect to the ``n`` arrays after it were taken with it (the
    ``n`` arrays after those): the backward pass scales them by the upstream gradient.  Under torch.compile
    (``summed_with_gradients``) that upstream gradient is not read: where it is not finite, a gradient that
    autograd through the formula has as an exact zero is NaN here (``RowChunksSum`` recomputes then)."""

    @staticmethod
    def forward(value, n, *arrays_and_grads):
        return value.clone()

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.n = inputs[1]
        ctx.save_for_backward(*inputs[2 + ctx.n:])

    @staticmethod
    def backward(ctx, upstream):
        return (None, None) + tuple(g * upstream for g in ctx.saved_tensors) + (None,) * ctx.n


def _autocast_state(device_type):
    """The autocast state of ``device_type`` and the CPU, for ``_gradients_by_chunk`` to enter again."""
    return [(d, torch.is_autocast_enabled(d), torch.get_autocast_dtype(d))
            for d in dict.fromkeys((device_type, "cpu"))], torch.is_autocast_cache_enabled()


def _gradients_by_chunk(f, arrays, k, size, wanted, upstream, summed, record, in_place, autocast):
    """The gradients (None where not wanted) of ``sum(upstream * f(rows))`` (``summed``: of ``upstream *
    sum(f(rows))``, upstream a scalar or None for 1), and that sum when ``summed``, one chunk of rows at a
    time: the first ``k`` arrays cut, the others whole.  A row array's gradient goes into one buffer of its
    shape (``in_place``) or is concatenated; a shared array's is summed, in place where ``in_place``.
    ``autocast``: the state to enter for each chunk (RowChunks.forward's), or None for the current one."""
    total, grads, parts = None, [None] * len(arrays), [[] for _ in arrays]
    for s in range(0, arrays[0].shape[0], size):  # the chunk's graph goes with _chunk_gradients' frame
        with contextlib.ExitStack() as entered:
            if autocast is not None:
                devices, cache = autocast
                for device, enabled, dtype in devices:
                    entered.enter_context(torch.autocast(device, dtype=dtype, enabled=enabled, cache_enabled=cache))
            value, chunk = _chunk_gradients(f, arrays, k, s, size, wanted, upstream, summed, record)
        if summed:
            total = value if total is None else total + value
        for i, g in enumerate(chunk):
            if g is None:
                continue
            if i >= k:  # summed in place where it may be (the first chunk's is a fresh array of autograd's)
                grads[i] = g if grads[i] is None else grads[i].add_(g) if in_place else grads[i] + g
            elif not in_place:
                parts[i].append(g)
            else:
                if grads[i] is None:
                    grads[i] = torch.empty_like(arrays[i])
                grads[i][s:s + size] = g
        del chunk, g  # before the next chunk's: else a shared array's gradient is held twice
    for i in range(k):
        if parts[i]:
            grads[i] = torch.cat(parts[i])
    return total, tuple(grads)


class CustomVjp(torch.autograd.Function):
    """``_primitives.custom_vjp`` under torch's eager autograd: the value and residuals of ``forward``, the
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
    upstream, 0)``, not gather's scatter-add into zeros (``_primitives.take_along_axis``'s ``dense_gradient``
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


def _legacy_batched(t) -> bool:
    """Whether ``t`` is batched by autograd's vmap of the backward pass (``is_grads_batched``,
    ``jacobian(vectorize=True)``), which no query outside ``torch._C`` tells (torch 2.13; False where gone)."""
    query = getattr(torch._C._functorch, "is_legacy_batchedtensor", None)
    return query is not None and query(t)


def _chunk_gradients(f, arrays, k, s, size, wanted, upstream, summed, record):
    """The chunk of rows from ``s``'s value's sum (``summed``; else None) and its gradients (None where not
    wanted): those of ``upstream``'s rows times its values, or (``summed``) of ``upstream`` (a scalar, None
    for 1) times their sum."""
    inputs = [a[s:s + size] if i < k else a for i, a in enumerate(arrays)]
    if not record:
        inputs = [a.detach().requires_grad_(w) for a, w in zip(inputs, wanted)]
    with torch.enable_grad():
        out = f(*inputs)
        out, upstream = (out.sum(), upstream) if summed else (out, upstream[s:s + size])
        got = list(torch.autograd.grad(out, [a for a, w in zip(inputs, wanted) if w], upstream,
                                       allow_unused=True, create_graph=record))
    value = out.detach() if summed else None
    del out
    got.reverse()
    return value, [None if not w else _or_zeros(got.pop(), a) for a, w in zip(inputs, wanted)]


def _or_zeros(g, a):
    """``g``, or zeros of ``a``'s shape where ``a`` did not enter the chunk's value."""
    return torch.zeros_like(a) if g is None else g
