"""Elementwise arguments cut into pieces, so that a formula's temporaries stay small.

On the CPU a fresh full-size temporary costs more in page faults than the
arithmetic done on it.  Cut into pieces, a formula's temporaries are
cache-sized and reused, and its output is the only full-size array, as in a
fused kernel.  The backends that evaluate eagerly in host memory (torch on the
CPU, NumPy) plan pieces for their arrays (their ``plan``); every other library
evaluates whole and leaves fusion to its compiler.  This module imports nothing
of the package, so that the backend modules can use it.
"""

from __future__ import annotations

import math

CHUNK = 1 << 17  # elements per piece: 512 KiB of float32, within a CPU core's L2 cache
CHUNKED_FROM = 1 << 20  # outputs of fewer elements are evaluated whole


class Chunks:
    """The arguments of an elementwise function, cut into consecutive pieces along one axis.

    When every array has the output's shape and is contiguous (or has only zero strides, as an
    expanded scalar), along their flattened view; else along axis 0, the arrays that broadcast
    along it (a leading 1, fewer dimensions) passed whole to every piece.
    """

    def __init__(self, shape, parts, sliced, step, flat, host):
        self.shape, self.parts, self.sliced, self.step, self.host = shape, parts, sliced, step, host
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
    def plan(cls, arrays, host):
        """The pieces of ``arrays``, or None where they are better evaluated whole.

        ``host`` is the arrays' backend module: ``host.layout(arrays)`` gives
        each array's contiguity and whether its strides are all zero, or None
        where it cuts none of them; ``host.flat_constant`` and ``host.empty``
        make the views and buffers.
        """
        shape = result_shape(arrays)
        size = math.prod(shape)
        if size < CHUNKED_FROM or not shape:  # the cheap test that small calls fail
            return None
        layout = host.layout(arrays)
        if layout is None:
            return None
        contiguous, zero_strides = layout
        step = CHUNK
        full = [tuple(a.shape) == shape for a in arrays]
        constant = [f and not c and z for f, c, z in zip(full, contiguous, zero_strides)]
        if all(f and (c or k) for f, c, k in zip(full, contiguous, constant)):
            flat = [host.flat_constant(a, size) if k else a.reshape(-1) for a, k in zip(arrays, constant)]
            return cls(shape, flat, [True] * len(arrays), step, True, host)
        row = size // shape[0]
        if row > step:
            return None
        sliced = [a.ndim == len(shape) and a.shape[0] == shape[0] for a in arrays]
        return cls(shape, list(arrays), sliced, max(1, step // row), False, host)


def result_shape(arrays) -> tuple:
    """The shape ``arrays`` broadcast to (they do: the checks ran)."""
    first = arrays[0].shape
    for a in arrays:  # a loop, not all(): this runs several times in every call of a loss
        if a.shape != first:
            break
    else:
        return tuple(first)
    shape = ()
    for a in arrays:
        s = tuple(a.shape)
        n = max(len(shape), len(s))
        shape = tuple(m if k == 1 else k for m, k in zip((1,) * (n - len(shape)) + shape, (1,) * (n - len(s)) + s))
    return shape


def evaluate(value, chunks):
    """``value(*arrays)``, an elementwise function, piece by piece into one output array."""
    out = cut = None
    for piece, args in chunks:
        y = value(*args)
        if out is None:
            out = chunks.host.empty(y, chunks.shape)
            cut = out.reshape(chunks.piece_shape)  # a view of out: the array returned is no view
        cut[piece] = y
    return out


def evaluate_sum(value, chunks):
    """``sum(value(*arrays))``, piece by piece.

    The partial sums go into one array, summed at the end: as accurate as one
    sum of the whole (a running total in float32 is not), and no small array is
    kept between two pieces' temporaries (a list of them fragments the heap,
    and the allocator then returns the pieces' pages to the system).
    """
    partial = None
    for i, (_, args) in enumerate(chunks):
        s = value(*args).sum()
        if partial is None:
            partial = chunks.host.empty(s, (len(chunks),))
        partial[i] = s
    return partial.sum()
