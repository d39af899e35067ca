"""Chunks and loops: elementwise functions evaluated in pieces, row-wise functions in chunks of rows
whose intermediates are recomputed in the backward pass, and ``scan``.

On JAX the loops are ``jax.lax.scan`` (one compiled loop body); torch under
eager autograd has ``autograd.Function``s that write each chunk's gradients
into one buffer; elsewhere they are Python loops.
"""

from __future__ import annotations

import math

from . import _pieces
from ._dispatch import array_namespace, compiling, divide, native, own
from ._settings import _GENERIC

# A row-wise formula in chunks (row_chunk): each chunk is several operations and, in the backward pass, a
# recorded graph, so its Python overhead is per chunk; 16 MiB of float32 makes that overhead small against the
# arithmetic while the temporaries stay a small part of memory (benchmarks/HISTORY.md).
ROW_CHUNK = 1 << 22


def plan(arrays):
    """The pieces ``arrays`` are evaluated in (``_pieces.Chunks``), or None: evaluated whole."""
    hook = own(arrays[0], "plan")
    return None if hook is None or compiling() else hook(arrays)  # compiling: no guard on the size


def evaluate(value, arrays):
    """``value(*arrays)``, an elementwise function, evaluated in pieces where ``plan`` has them."""
    chunks = plan(arrays)
    return value(*arrays) if chunks is None else _pieces.evaluate(value, chunks)


def evaluate_sum(value, arrays):
    """``sum(value(*arrays))``, piece by piece where ``plan`` has pieces."""
    chunks = plan(arrays)
    if chunks is None:
        return array_namespace(*arrays).sum(value(*arrays))
    return _pieces.evaluate_sum(value, chunks)


def row_chunk(x, row: int | None = None, elements: int | None = None, elsewhere: int | None = None) -> int:
    """Rows of ``x`` (n, ...) per chunk for ``chunked``, where a row-wise formula is chunked for its
    temporaries' sake alone.

    About ``elements`` (default ``ROW_CHUNK``) elements of ``row`` each
    (default: ``x``'s row) where the library evaluates eagerly in host memory
    (torch on the CPU outside torch.compile, the torch.func transforms and
    forward mode; NumPy); elsewhere (a GPU, traced code, other libraries) about
    ``elsewhere`` elements, or all n rows by default (the formula whole, fused
    where the compiler can).
    """
    n = x.shape[0]
    row = max(1, math.prod(x.shape[1:]) if row is None else row)
    eager = own(x, "eager_on_host")
    if not _GENERIC[0] and not compiling() and eager is not None and eager(x):
        return max(1, (ROW_CHUNK if elements is None else elements) // row)
    return n if elsewhere is None else max(1, elsewhere // row)


def scan(f, init, xs, *, rematerialise: bool = False, reverse: bool = False):
    """``jax.lax.scan`` semantics: ``carry, y = f(carry, x)`` for each ``x`` along axis 0.

    ``xs`` is an array or a tuple of arrays of one length (then each ``x`` is
    a tuple of their rows); ``y`` likewise an array, a tuple of arrays, or
    None (then ``ys`` is None).  Returns ``(carry, ys)`` with ``ys`` stacked
    along a new axis 0.  Where the backend compiles loops (``compiles_loops``)
    the body is traced once however long ``xs`` is; elsewhere a Python loop.
    ``rematerialise``: differentiating keeps each step's inputs, not its
    intermediates.  ``reverse``: the steps go from the last ``x`` to the
    first, and ``ys[i]`` is still the ``y`` of ``xs[i]``.
    """
    many = isinstance(xs, tuple)
    first = xs[0] if many else xs
    fast = native(first, "scan")
    if fast is not None:
        return fast(f, init, xs, rematerialise=rematerialise, reverse=reverse)
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
    """Whether ``scan`` over arrays like ``x`` is one compiled loop (its body traced once, its operations
    fused), not a Python loop of array operations."""
    return native(x, "scan") is not None


def rematerialised(f, like):
    """``f``, made to keep none of its intermediates for the backward pass but recompute them there, where
    the backend of ``like`` can (else ``f`` itself)."""
    fast = native(like, "rematerialised")
    return f if fast is None else fast(f)


def chunked(f, arrays, size: int, shared=(), *, arguments_only: bool = False, summed: bool = False,
            divisor=None):
    """``f`` applied to consecutive chunks of ``size`` rows of ``arrays``, its outputs concatenated on axis 0;
    ``summed``: the sum of all their elements, a 0-d array, divided by ``divisor`` (a 0-d array) where given.

    ``arrays`` is a tuple of arrays with one leading length n; ``f`` maps a
    chunk of each (n_c rows), then the ``shared`` arrays whole, to one array
    of n_c rows, row by row.  Neither the forward nor the backward pass holds
    more than one chunk's intermediates: the chunks go through ``scan`` with a
    rematerialised body.  ``arguments_only`` is the caller's promise that
    ``f`` differentiates only ``arrays`` and ``shared`` (it closes over no
    array that needs a gradient); then the backend may take each chunk's
    gradients in one pass of its own (``chunked_rows``; with ``summed``,
    ``chunked_sum``, which takes them in the forward pass while it has the
    chunk, and the backward pass scales them).  ``divisor`` divides each
    chunk's values before their gradients are taken, as autodiff through a
    mean has it (float16 gradients of the undivided sum could overflow).  At
    most ``size`` rows: ``f`` itself, once.
    """
    first = arrays[0]
    xp = array_namespace(first)
    n = first.shape[0]

    def total(out):
        return out if not summed else xp.sum(out) if divisor is None else divide(xp.sum(out), divisor)

    if n <= size:  # one chunk: nothing to gain by recomputing it
        return total(f(*arrays, *shared))
    if arguments_only and summed:
        fast = native(first, "chunked_sum")
        if fast is not None:  # the divisor: one more shared array
            divided, given = (f, tuple(shared)) if divisor is None else (_divided(f), (*shared, divisor))
            out = fast(divided, arrays, size, given, scanned=_chunks_scanned)
            if out is not None:
                return out
    if arguments_only:
        fast = native(first, "chunked_rows")
        out = None if fast is None else fast(f, arrays, size, tuple(shared))
        if out is not None:
            return total(out)
    return total(_chunks_scanned(lambda *chunk: f(*chunk, *shared), arrays, size))


def _divided(f):
    """``f``'s values divided by one more argument, its last."""
    def divided(*given):
        return divide(f(*given[:-1]), given[-1])

    return divided


def _chunks_scanned(f, arrays, size: int):
    """``chunked``'s loop: the full chunks of ``arrays`` through ``scan``, each rematerialised, then the
    remainder; ``f``'s outputs concatenated."""
    first = arrays[0]
    xp = array_namespace(first)
    n = first.shape[0]
    full = n // size
    body = rematerialised(f, first)
    stacked = tuple(xp.reshape(a[:full * size, ...], (full, size) + tuple(a.shape[1:])) for a in arrays)
    _, ys = scan(lambda carry, chunk: (carry, body(*chunk)), None, stacked)
    parts = [xp.reshape(ys, (full * size,) + tuple(ys.shape[2:]))]
    if n % size:  # the remainder
        parts.append(body(*(a[full * size:, ...] for a in arrays)))
    return parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)
