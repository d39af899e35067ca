"""torch's autograd Functions for ``chunked``: chunks of rows whose gradients are written into one buffer
per array (``RowChunks``) or taken in the forward pass (``RowChunksSum``; ``summed_with_gradients`` and
``Taken`` under torch.compile).  Imported by the torch backend (``_torch``)."""

from __future__ import annotations

import contextlib

import torch

from ._torch_functions import func_transform


class RowChunks(torch.autograd.Function):
    """``chunked`` under torch's eager autograd: the forward pass keeps no intermediates, the
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
    in_place = not record and not func_transform() and not _legacy_batched(upstream)
    return _gradients_by_chunk(ctx.f, arrays, ctx.n_rows, ctx.size, ctx.needs_input_grad[3:], upstream,
                               summed, record, in_place, ctx.autocast)[1]


class RowChunksSum(torch.autograd.Function):
    """``chunked(..., summed=True)`` under torch's eager autograd: the sum of all the rows' values,
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
