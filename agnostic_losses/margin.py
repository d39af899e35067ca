"""The margin, ranking and embedding losses of torch.nn, and ``pairwise_distance``.

Two hinge conventions, each torch's: the losses built on ``clamp_min(z, 0)``
(margin ranking, hinge embedding, cosine embedding, the triplet losses) pass
the gradient at ``z == 0``; the ones with a strict ``z > 0`` test in torch's
kernels (multi-margin, multi-label margin) give 0 there.  Both are written as
explicit selections, so JAX agrees with torch at every tie.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from . import _checks as checks
from . import _primitives as P
from ._reduction import reduce as _reduce
from ._setup import setup, silent_nonfinite
from ._typing import Array

__all__ = [
    "margin_ranking_loss",
    "hinge_embedding_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "cosine_embedding_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
    "pairwise_distance",
]


def _hinge_from_zero(z):
    """``max(z, 0)`` as torch's ``clamp_min``: gradient 1 where ``z >= 0``; NaN stays NaN (gradient 0)."""
    return P.elementwise(lambda z: P.clip(z, min=0.0), _step_from_zero, z)


def _step_from_zero(wanted, z):
    return (P.array_namespace(z).astype(z >= 0, z.dtype),)


@silent_nonfinite
def margin_ranking_loss(input1: Array, input2: Array, target: Array, margin: float = 0,
                        size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean") -> Array:
    """``max(0, -y (x1 - x2) + margin)``, as ``torch.nn.functional.margin_ranking_loss``.

    ``input1``, ``input2`` and ``target`` (labels 1 or -1) have one number of
    dimensions and broadcast together.

    Args:
        input1: the first scores ``x1``, any shape.
        input2: the second scores ``x2``, broadcasting with ``input1`` (same number of dimensions).
        target: labels ``y``, 1 (``x1`` should rank higher) or -1, broadcasting with both.
        margin: the margin by which the pair should be ranked.
        size_average: deprecated, as in torch; use ``reduction``.
        reduce: deprecated, as in torch; use ``reduction``.
        reduction: ``'none' | 'mean' | 'sum'``.
    """
    loss = "margin_ranking_loss"
    s = setup(loss, reduction, {"input1": input1, "input2": input2, "target": target}, legacy=(size_average, reduce),
              targets=("target",))
    if not input1.ndim == input2.ndim == target.ndim:
        raise ValueError(f"{loss}: input1, input2 and target must have the same number of dimensions, got "
                         f"{tuple(input1.shape)}, {tuple(input2.shape)} and {tuple(target.shape)}")
    checks.broadcast_shape(loss, input1=input1, input2=input2, target=target)
    x1, x2, y = s.arrays
    return s.finish(_reduce(_hinge_from_zero(-y * (x1 - x2) + margin), s.reduction))


@silent_nonfinite
def hinge_embedding_loss(input: Array, target: Array, margin: float = 1.0, size_average: bool | None = None,
                         reduce: bool | None = None, reduction: str = "mean") -> Array:
    """Hinge embedding loss, as ``torch.nn.functional.hinge_embedding_loss``.

    ``x`` where ``y == 1``, ``max(0, margin - x)`` where ``y == -1``; a label
    that is neither gets both terms, as in torch.

    Args:
        input: distances ``x``, any shape.
        target: labels ``y``, 1 or -1, of ``input``'s shape.
        margin: the margin of the ``y == -1`` term.
        size_average: deprecated, as in torch; use ``reduction``.
        reduce: deprecated, as in torch; use ``reduction``.
        reduction: ``'none' | 'mean' | 'sum'``.
    """
    s = setup("hinge_embedding_loss", reduction, {"input": input, "target": target},
              legacy=(size_average, reduce), targets=("target",), result=("input",))  # labels are only compared
    checks.broadcastable("hinge_embedding_loss", input, target, warn=False)
    xp, (x, y) = s.xp, s.arrays
    zero = xp.zeros_like(x)
    out = xp.where(y != 1, _hinge_from_zero(margin - x), zero) + xp.where(y != -1, x, zero)
    return s.finish(_reduce(out, s.reduction))


def _frames(loss, input):
    """torch's samples and classes ``(nframe, dim)`` of ``input`` ``()``, ``(C,)`` or ``(N, C)`` with C > 0: a 0-d
    input is one sample of one class, as in aten's shape checks of the two losses."""
    if input.ndim > 2 or (input.ndim > 0 and input.shape[-1] == 0):
        raise ValueError(f"{loss}: input must have shape (), (C,) or (N, C) with C >= 1 (N may be 0), "
                         f"got {tuple(input.shape)}")
    return (input.shape[0] if input.ndim == 2 else 1), (input.shape[-1] if input.ndim else 1)


def _indices(loss, xp, target, ok, expected, what):
    """``target``, integer, of a shape ``ok`` accepts (``expected`` says which), in the backend's wide index type."""
    checks.integral(loss, xp, "target", target, what)
    if not ok(tuple(target.shape)):
        raise ValueError(f"{loss}: target must have shape {expected} ({what}), got {tuple(target.shape)}")
    return P.wide_indices(target)


def _one_or_none(n):
    """The 1-d shape of ``n`` elements, and ``()`` where ``n == 1``, as a message says it."""
    return f"() or ({n},)" if n == 1 else f"({n},)"


@silent_nonfinite
def multi_margin_loss(input: Array, target: Array, p: int = 1, margin: float = 1.0, weight: Array | None = None,
                      size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean") -> Array:
    """Multi-class hinge loss, as ``torch.nn.functional.multi_margin_loss``.

    Per sample, ``sum_{j != y} w[y] max(0, margin - x[y] + x[j])^p / C`` for
    ``input`` ``(N, C)`` with class-index ``target`` ``(N,)``, or one sample:
    ``input`` ``(C,)`` or ``()`` (one class: the loss is 0) with ``target``
    ``()`` or ``(1,)``; ``p`` 1 or 2 and optional per-class ``weight``
    ``(C,)`` (applied after the power).  ``'none'`` gives ``target``'s shape.

    Args:
        input: scores ``(N, C)``, ``(C,)`` or ``()``.
        target: class indices ``(N,)``, or ``()`` or ``(1,)`` for one sample.
        p: the power of the hinge, 1 or 2.
        margin: the margin of the hinge.
        weight: optional per-class weights ``(C,)``.
        size_average: deprecated, as in torch; use ``reduction``.
        reduce: deprecated, as in torch; use ``reduction``.
        reduction: ``'none' | 'mean' | 'sum'``.
    """
    loss = "multi_margin_loss"
    if p not in (1, 2):
        raise ValueError(f"{loss}: p must be 1 or 2, got {p!r}")
    s = setup(loss, reduction, {"input": input, "weight": weight, "target": target}, legacy=(size_average, reduce),
              indices=("target",))
    xp, (x, w, target) = s.xp, s.arrays
    n_samples, n_classes = _frames(loss, input)
    shape = tuple(target.shape)  # torch's: any shape of n_samples elements, 1-d or 0-d, is the output's
    target = _indices(loss, xp, target, lambda t: len(t) <= 1 and math.prod(t) == n_samples,
                      _one_or_none(n_samples), "class indices, one per sample")
    if weight is not None:  # torch.nn.functional's: 1-d only
        checks.shape_is(loss, "weight", weight, (n_classes,), "one weight per class")
    checks.indices(loss, "target", target, 0, n_classes, f"class indices in [0, {n_classes})")
    classes = xp.arange(n_classes, dtype=target.dtype, device=P.device(x))

    def rows(x, target):
        y = xp.expand_dims(target, axis=-1)
        z = margin - P.take_along_axis(x, y, axis=-1, dense_gradient=True) + x
        h = xp.where((z > 0) & (classes != y), z, 0.0)  # torch's strict z > 0: gradient 0 at z == 0
        return xp.sum(h * h if p == 2 else h, axis=-1)

    target = xp.reshape(target, (n_samples,))
    if x.ndim == 2:  # rows in chunks where the temporaries would be large arrays in memory (P.row_chunk)
        out = P.chunked(rows, (x, target), P.row_chunk(x), arguments_only=True)
    else:
        out = rows(xp.reshape(x, (1, n_classes)), target)
    if w is not None:  # weighs only active hinges, as torch's kernel: no hinge and an infinite weight is 0
        out = xp.where(out == 0, out, out * xp.take(w, target))
    return s.finish(_reduce(xp.reshape(out / n_classes, shape), s.reduction))


@silent_nonfinite
def multilabel_margin_loss(input: Array, target: Array, size_average: bool | None = None, reduce: bool | None = None,
                           reduction: str = "mean") -> Array:
    """Multi-label hinge loss, as ``torch.nn.functional.multilabel_margin_loss``.

    ``target`` (integer, ``input``'s shape ``(C,)`` or ``(N, C)``; for ``input``
    ``()`` or ``(1,)``, ``()`` or ``(1,)``) lists the positive classes and ends
    at its first negative entry; duplicates count twice.  Per sample,
    ``sum_{j listed} sum_{k not positive} max(0, 1 - (x[j] - x[k])) / C``; a
    0-d input is one class, whose loss is 0.  ``'none'`` gives ``(N,)`` for a
    batch, else ``()``.

    By sorting, in O((C + K) log(C + K)) per sample where torch's kernel takes O(C K)
    (Dask: O(C K), its gather a one-hot selection),
    K the number of target slots (C under tracing; in eager mode where the
    targets can be read, the longest list).  Slot j's hinge with class k is
    active where ``(1 - x_j) + x_k > 0``, which in floating point is exactly
    ``x_k > x_j - 1``: so with each row's non-positive ``x_k`` sorted, largest
    first, a slot's hinges sum to ``m (1 - x_j)`` plus the sum of the ``m``
    largest ``x_k``, ``m`` the number above its key ``x_j - 1`` (a binary
    search) and the sum a running one (in float64 where the library has it).  Positive classes, NaN inputs and
    unlisted slots are set where they count nowhere, as torch's ``z > 0`` test
    leaves them (0, with a zero gradient).  Chunks of rows, recomputed in the
    backward pass (for 'mean' and 'sum' on torch under autograd and on JAX: differentiated in the forward pass),
    keep the temporaries at about ``HINGES_PER_CHUNK`` elements for CPU torch eager (outside torch.func and
    forward mode), NumPy, and wherever the slots' gather is a one-hot selection (Dask, generic primitives);
    elsewhere (a GPU, traced code, JAX, other libraries: ``P.row_chunk``) ``HINGES_PER_CHUNK_ELSEWHERE``.

    Args:
        input: scores ``(N, C)``, ``(C,)``, ``(1,)`` or ``()``.
        target: integer class lists of ``input``'s shape, each ended by its first negative entry.
        size_average: deprecated, as in torch; use ``reduction``.
        reduce: deprecated, as in torch; use ``reduction``.
        reduction: ``'none' | 'mean' | 'sum'``.
    """
    loss = "multilabel_margin_loss"
    s = setup(loss, reduction, {"input": input, "target": target}, legacy=(size_average, reduce), indices=("target",))
    xp, reduction, (x, target) = s.xp, s.reduction, s.arrays
    n_samples, n = _frames(loss, input)
    batched = x.ndim == 2
    if batched:  # torch's: a batch's target has input's shape, one sample's any shape of C elements, 0-d or 1-d
        ok, expected = (lambda t: t == tuple(input.shape)), str(tuple(input.shape))
    else:
        ok, expected = (lambda t: len(t) <= 1 and math.prod(t) == n), _one_or_none(n)
    target = _indices(loss, xp, target, ok, expected, "class indices, ended by -1")
    checks.indices(loss, "target", target, -1, n, f"class indices in [0, {n}) or -1 (the end)")
    x, target = xp.reshape(x, (n_samples, n)), xp.reshape(target, (n_samples, n))
    slots = _listed_slots(target)

    def rows(x, t):  # each row on its own: chunks of rows bound the temporaries and what the backward keeps
        return _slot_hinge_sums(xp, *_classes_and_keys(xp, x, t))

    elsewhere = HINGES_PER_CHUNK if P.gathers_by_one_hot(x) else HINGES_PER_CHUNK_ELSEWHERE  # x K temporaries
    chunk = P.row_chunk(x, n + slots, HINGES_PER_CHUNK, elsewhere)
    if reduction == "none":
        total = P.chunked(rows, (x, target[:, :slots]), chunk, arguments_only=True)
        return s.finish(total / n if batched else total[0] / n)
    # 'mean' and 'sum': the rows' sums divided and summed in the chunks (see linear_cross_entropy)
    divisor = xp.asarray(n * x.shape[0] if reduction == "mean" else n, dtype=x.dtype, device=P.device(x))
    total = P.chunked(rows, (x, target[:, :slots]), chunk, arguments_only=True, summed=True, divisor=divisor)
    return s.finish(total)


# multilabel_margin_loss: rows of C + K sorted values per chunk, about this many: where the temporaries stay
# in cache and their peak under torch's, for CPU eager evaluation (benchmarks/HISTORY.md).
HINGES_PER_CHUNK = 2 ** 14
# Elsewhere (a GPU, traced code: P.row_chunk) a chunk is many kernel launches or one scan step, so small chunks
# are launch-bound; 2**22 takes typical rows whole and still bounds the temporaries of large inputs.  Not where
# the slots' gather is a one-hot selection (Dask, generic primitives), whose temporary is K times larger.
HINGES_PER_CHUNK_ELSEWHERE = 2 ** 22


def _classes_and_keys(xp, x, t):
    """``x`` with the positive classes (and NaN) at -inf, and each slot's key ``x_j - 1`` (+inf where the slot
    is not listed or ``x_j`` is NaN): the hinge of slot j and class k is active exactly where ``x_k > key_j``."""
    n = x.shape[-1]
    listed = P.cumulative_sum(xp.astype(t < 0, x.dtype), axis=-1) == 0  # before the first negative entry
    slot = xp.where(listed, t, xp.full_like(t, n))  # an unlisted slot reads the column of +inf after x
    x_k = xp.where(P.mark(slot, n) | xp.isnan(x), -math.inf, x)
    x_j = P.take_along_axis(xp.concat((x, xp.full_like(x[:, :1], math.inf)), axis=-1), slot, axis=-1)
    return x_k, xp.where(xp.isnan(x_j), math.inf, x_j - 1)


def _slot_hinge_sums(xp, x_k, key):
    """Per row, ``sum_j sum_{k: x_k > key_j} (x_k - key_j)``: with the ``x_k`` sorted, largest first, slot j's
    hinges are the sum of the ``m`` largest minus ``m key_j``, ``m`` the number above its key.  Which hinges
    are active is decided on the values as given; the sums are in float64 where there is one, of the values
    less the row's largest finite ``x_k`` (no gradient; float32 sums then survive a common offset)."""
    ranked, _ = P.sort(x_k, axis=-1, descending=True)
    above = P.searchsorted(-P.stop_gradient(ranked), -P.stop_gradient(key), side="left")
    wide = P.wide_float(ranked)
    top = xp.astype(P.finite_max(ranked, axis=-1), wide)
    shifted = xp.where(ranked == -math.inf, 0.0, xp.astype(ranked, wide) - top)  # -inf is never in the m largest
    tops = xp.concat((xp.zeros_like(shifted[:, :1]), P.cumulative_sum(shifted, axis=-1)), axis=-1)
    offset = xp.where(above > 0, xp.astype(key, wide) - top, 0.0)  # 0 where no hinge is active: no 0 * inf
    hinges = P.take_along_axis(tops, above, axis=-1) - xp.astype(above, wide) * offset
    return xp.astype(xp.sum(hinges, axis=-1), key.dtype)


def _listed_slots(target) -> int:
    """How many target slots any sample lists: the longest list where the targets can be read, else C."""
    t = P.host_values(target)
    if t is None:
        return target.shape[-1]
    xp = P.array_namespace(t)
    ended = t < 0
    lengths = xp.where(xp.any(ended, axis=-1), xp.argmax(xp.astype(ended, xp.int8), axis=-1), t.shape[-1])
    return int(xp.max(lengths)) if lengths.size else 0


@silent_nonfinite
def cosine_embedding_loss(input1: Array, input2: Array, target: Array, margin: float = 0,
                          size_average: bool | None = None, reduce: bool | None = None,
                          reduction: str = "mean") -> Array:
    """Cosine embedding loss, as ``torch.nn.functional.cosine_embedding_loss``.

    ``1 - cos(x1, x2)`` where ``y == 1``, ``max(0, cos(x1, x2) - margin)`` where
    ``y == -1``, 0 for any other label; ``cos = x1.x2 / sqrt((|x1|^2 + eps)
    (|x2|^2 + eps))`` (torch's eps, 1e-12 as a float32, inside the norm
    product: zero vectors give 0).  Inputs ``(D,)`` with target ``()``, or ``(N, D)`` with ``(N,)``.

    Args:
        input1: vectors ``x1``, ``(N, D)`` or ``(D,)``.
        input2: vectors ``x2`` of ``input1``'s shape.
        target: labels ``y``, 1 or -1, ``(N,)`` or ``()``.
        margin: the margin of the ``y == -1`` term (torch suggests a number in [-1, 1]).
        size_average: deprecated, as in torch; use ``reduction``.
        reduce: deprecated, as in torch; use ``reduction``.
        reduction: ``'none' | 'mean' | 'sum'``.
    """
    loss = "cosine_embedding_loss"
    s = setup(loss, reduction, {"input1": input1, "input2": input2, "target": target}, legacy=(size_average, reduce),
              targets=("target",), result=("input1", "input2"))  # labels are only compared
    xp, (x1, x2, y) = s.xp, s.arrays
    if input1.ndim not in (1, 2) or input1.ndim != input2.ndim or target.ndim != input1.ndim - 1:
        raise ValueError(f"{loss}: input1 and input2 must be (D,) with a 0-d target, or (N, D) with a (N,) target; "
                         f"got {tuple(input1.shape)}, {tuple(input2.shape)} and {tuple(target.shape)}")
    pairs = checks.broadcast_shape(loss, input1=input1, input2=input2)
    checks.broadcast_shape(loss, pairs=pairs[:-1], target=target)
    dot = xp.sum(x1 * x2, axis=-1)
    eps = P.LOSS_EPSILON
    norms = xp.sqrt((xp.sum(x1 * x1, axis=-1) + eps) * (xp.sum(x2 * x2, axis=-1) + eps))
    cos = dot / norms
    zero = xp.zeros_like(cos)
    out = xp.where(y == 1, 1 - cos, zero) + xp.where(y == -1, _hinge_from_zero(cos - margin), zero)
    return s.finish(_reduce(out, s.reduction))


def _check_p(loss, p):
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not (0 < p < math.inf):
        raise ValueError(f"{loss}: p must be a finite number > 0 (inf, 0 and negative p are not supported), "
                         f"got {p!r}")


@silent_nonfinite
def pairwise_distance(x1: Array, x2: Array, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Array:
    """``||x1 - x2 + eps||_p`` along the last axis, as ``torch.nn.functional.pairwise_distance``.

    ``x1`` and ``x2`` broadcast (two 0-d arrays are one-element vectors); ``p > 0``
    (finite); the gradient at a zero difference is 0, as torch's.

    Args:
        x1: vectors along the last axis, any shape.
        x2: vectors broadcasting with ``x1``.
        p: the norm's degree, ``> 0`` and finite.
        eps: added to the difference before the norm.
        keepdim: keep the last axis, of size 1.
    """
    loss = "pairwise_distance"
    s = setup(loss, "none", {"x1": x1, "x2": x2})
    checks.broadcast_shape(loss, x1=x1, x2=x2)
    _check_p(loss, p)
    x1, x2 = s.arrays
    d = x1 - x2 + eps
    if d.ndim == 0:  # two numbers: a vector of one element, and a 0-d result whatever keepdim, as torch
        return s.finish(P.vector_norm(s.xp.reshape(d, (1,)), ord=p, axis=-1))
    return s.finish(P.vector_norm(d, ord=p, axis=-1, keepdims=keepdim))


def _triplet(loss, xp, anchor, positive, negative, distance, margin, swap, reduction, check_shape=False):
    """``max(0, margin + d(a, p) - d(a, n))``, with ``d(a, n)`` replaced by ``min(d(a, n), d(p, n))`` on ``swap``."""
    checks.positive(loss, "margin", margin)
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ValueError(f"{loss}: anchor, positive and negative must have the same number of dimensions, got "
                         f"{tuple(anchor.shape)}, {tuple(positive.shape)} and {tuple(negative.shape)}")
    names = [("anchor", "positive"), ("anchor", "negative")] + ([("positive", "negative")] if swap else [])
    arrays = {"anchor": anchor, "positive": positive, "negative": negative}
    expected = [checks.broadcast_shape(loss, **{m: arrays[m], n: arrays[n]})[:-1] for m, n in names]
    d = [distance(arrays[m], arrays[n]) for m, n in names]
    if check_shape:
        for dist, expected in zip(d, expected):
            if not P.is_array(dist) or tuple(dist.shape) != tuple(expected):
                got = tuple(dist.shape) if P.is_array(dist) else type(dist).__name__
                raise ValueError(f"{loss}: distance_function must return one distance per triplet, an array of "
                                 f"shape {tuple(expected)}, got {got}")
    d_neg = xp.minimum(d[1], d[2]) if swap else d[1]  # a tie splits the gradient, as torch.minimum
    return _reduce(_hinge_from_zero(margin + d[0] - d_neg), reduction)


@silent_nonfinite
def triplet_margin_loss(anchor: Array, positive: Array, negative: Array, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average: bool | None = None,
                        reduce: bool | None = None, reduction: str = "mean") -> Array:
    """Triplet margin loss, as ``torch.nn.functional.triplet_margin_loss``.

    ``max(0, margin + d(a, p) - d(a, n))`` with ``d = pairwise_distance(., ., p,
    eps)`` (``eps`` added to the difference before the norm); ``swap`` uses
    ``min(d(a, n), d(p, n))``.  ``margin`` must be > 0.  Inputs ``(D,)`` or ``(N, D)``.

    Args:
        anchor: the anchors ``a``, ``(N, D)`` or ``(D,)``.
        positive: the positive examples ``p``, of ``anchor``'s shape.
        negative: the negative examples ``n``, of ``anchor``'s shape.
        margin: the margin, ``> 0``.
        p: the norm's degree of the distance.
        eps: added to the differences before the norm.
        swap: use the distance of the positive to the negative where it is smaller.
        size_average: deprecated, as in torch; use ``reduction``.
        reduce: deprecated, as in torch; use ``reduction``.
        reduction: ``'none' | 'mean' | 'sum'``.
    """
    loss = "triplet_margin_loss"
    _check_p(loss, p)
    s = setup(loss, reduction, {"anchor": anchor, "positive": positive, "negative": negative},
              legacy=(size_average, reduce))
    distance = lambda u, v: pairwise_distance(u, v, p, eps)  # noqa: E731
    return s.finish(_triplet(loss, s.xp, *s.arrays, distance, margin, swap, s.reduction))


@silent_nonfinite
def triplet_margin_with_distance_loss(anchor: Array, positive: Array, negative: Array, *,
                                      distance_function: Callable[[Array, Array], Array] | None = None,
                                      margin: float = 1.0, swap: bool = False, reduction: str = "mean") -> Array:
    """Triplet loss with any distance, as ``torch.nn.functional.triplet_margin_with_distance_loss``.

    ``distance_function(x, y)`` receives the caller's arrays (not converted)
    and must return one distance per triplet; it defaults to
    :func:`pairwise_distance`.

    Args:
        anchor: the anchors, ``(N, D)`` or ``(D,)`` (any arrays ``distance_function`` takes).
        positive: the positive examples, of ``anchor``'s shape.
        negative: the negative examples, of ``anchor``'s shape.
        distance_function: a function of two arrays giving one distance per triplet (default:
            :func:`pairwise_distance`).
        margin: the margin, ``> 0``.
        swap: use the distance of the positive to the negative where it is smaller.
        reduction: ``'none' | 'mean' | 'sum'``.
    """
    loss = "triplet_margin_with_distance_loss"
    s = setup(loss, reduction, {"anchor": anchor, "positive": positive, "negative": negative}, working=False)
    distance = pairwise_distance if distance_function is None else distance_function
    return s.finish(_triplet(loss, s.xp, anchor, positive, negative, distance, margin, swap, s.reduction,
                             check_shape=True))
