"""The classification losses of torch.nn: cross-entropy, NLL, binary cross-entropy (on probabilities and on
logits), soft margin and multi-label soft margin.  (Cross-entropy of a linear layer's output is in
``linear.py``.)

Class-index losses take the class axis as axis 1 (axis 0 for an unbatched
``(C,)`` input), or the keyword ``axis``, with targets of the input's shape
less that axis.
"""

from __future__ import annotations

import math

from . import _checks as checks
from . import _primitives as P
from ._reduction import reduce_elementwise, working_precision
from ._reduction import reduce as _reduce
from ._setup import setup, silent_nonfinite
from ._typing import Array

__all__ = [
    "cross_entropy",
    "nll_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "multilabel_soft_margin_loss",
    "soft_margin_loss",
]


def class_axis(loss, ndim, axis=1) -> int:
    """The class axis of an ``ndim``-d input: ``axis`` (torch's 1), non-negative; 0 for an unbatched ``(C,)``
    input, whose one axis any of 1, 0 and -1 names."""
    if ndim < 1:
        raise ValueError(f"{loss}: input must have a class axis, got a 0-d array")
    if ndim == 1 and axis in (1, 0, -1) and not isinstance(axis, bool):
        return 0
    return checks.axis(loss, axis, ndim, "input")


def _class_index_checks(loss, xp, shape, target, weight, ignore_index, of="input's shape", axis=1):
    """Index targets: an integer array of ``shape`` (the logits') less the class ``axis``, each in [0, C) or
    ignored.

    Returns them widened, and ``ignore_index``, or None where the data show that no target is ignored (the
    formulas then need no mask)."""
    axis = class_axis(loss, len(shape), axis)
    n_classes = shape[axis]
    checks.integral(loss, xp, "target", target, "class indices")
    if len(shape) == 1 and shape[0] != 1 and tuple(target.shape) == (1,):  # one sample's index, as torch takes it
        target = xp.reshape(target, ())
    expected = shape[:axis] + shape[axis + 1:]
    checks.shape_is(loss, "target", target, expected, f"{of} {tuple(shape)} less the class axis")
    if weight is not None:
        checks.shape_is(loss, "weight", weight, (n_classes,), "one weight per class")
    in_range = checks.indices(loss, "target", target, 0, n_classes,
                              f"class indices in [0, {n_classes}) or ignore_index={ignore_index}", also=ignore_index)
    return P.wide_indices(target), (None if in_range and not 0 <= ignore_index < n_classes else ignore_index)


def _target_checks(loss, xp, shape, target, weight, ignore_index, of="input's shape", axis=1):
    """cross_entropy's targets for logits of ``shape`` and the ignore_index to apply: class probabilities
    (floating, of ``shape``) as they are, or class indices (see ``_class_index_checks``), widened."""
    axis = class_axis(loss, len(shape), axis)
    if not xp.isdtype(target.dtype, "real floating"):
        return _class_index_checks(loss, xp, shape, target, weight, ignore_index, of, axis)
    if tuple(target.shape) != tuple(shape):
        checks.integral(loss, xp, "target", target, f"class indices; class probabilities have {of} {tuple(shape)}")
    if weight is not None:
        checks.shape_is(loss, "weight", weight, (shape[axis],), "one weight per class")
    if ignore_index >= 0:  # as torch: a negative one cannot name a class and is harmless
        raise ValueError(f"{loss}: ignore_index is not supported with probability targets, got {ignore_index}")
    return target, None


def probabilities_dtype(s, target):
    """The result's dtype: the input's, promoted with the target's where it holds probabilities (as torch)."""
    return s.xp.result_type(s.dtype, target.dtype) if s.xp.isdtype(target.dtype, "real floating") else s.dtype


def _on_class_axis(xp, weight, ndim, axis):
    """``weight`` of shape (C,) shaped to broadcast along ``axis`` of an ``ndim``-d array."""
    shape = [1] * ndim
    shape[axis] = weight.shape[0]
    return xp.reshape(weight, tuple(shape))


def _kept_weights(xp, target, weight, ignore_index, dtype):
    """``weight[target]`` (1 without ``weight``), 0 where ``target == ignore_index``: each position's share
    of the 'mean' denominator of class-index targets (needs no logits)."""
    keep = target != ignore_index
    if weight is None or weight.shape[0] == 0:  # no class: every target is ignored (checked), nothing to take
        return xp.astype(keep, dtype if weight is None else xp.result_type(weight.dtype, dtype))
    w_y = _picked_weights(xp, weight, xp.where(keep, target, xp.zeros_like(target)), dtype)
    return xp.where(keep, w_y, xp.zeros_like(w_y))


def _picked_weights(xp, weight, target, dtype):
    """``weight[target]``, of ``target``'s shape, in the promotion of its dtype with ``dtype``."""
    w_y = xp.reshape(xp.take(weight, xp.reshape(target, (-1,))), target.shape)
    to = xp.result_type(w_y.dtype, dtype)
    return w_y if w_y.dtype == to else xp.astype(w_y, to)


def _nll_terms(xp, logp, target, weight, ignore_index, label_smoothing=0.0, *, logits=None, axis=None):
    """torch's nll_loss on log-probabilities ``logp``, with cross_entropy's label smoothing, unreduced.

    Per element: ``-(1 - s) w[y] logp[y] - (s / C) sum_c w[c] logp[c]``, 0 where
    ``y == ignore_index``.  Returns that and ``w[y]`` (0 where ignored): 'mean'
    divides by the sum of the latter (NaN when none is kept), for both terms,
    as torch does.  ``ignore_index`` None: no target is ignored, no mask is
    applied, and without ``weight`` the second is None (the count).  Given
    ``logits`` instead of ``logp`` (no label smoothing), the picked
    log-probabilities come from them without the full log-softmax.  ``axis``:
    the class axis (None: torch's).
    """
    if axis is None:
        axis = 1 if (logp if logits is None else logits).ndim >= 2 else 0
    keep = None if ignore_index is None else target != ignore_index
    y = xp.expand_dims(target if keep is None else xp.where(keep, target, xp.zeros_like(target)), axis=axis)
    scores = logp if logits is None else logits
    if scores.shape[axis] == 0:  # no class: every target is ignored (checked)
        picked = xp.zeros(target.shape, dtype=scores.dtype, device=P.device(target))
    elif logits is None:
        picked = xp.squeeze(P.take_along_axis(logp, y, axis=axis), axis=axis)
    else:
        picked = xp.squeeze(P.log_softmax_at(logits, y, axis=axis), axis=axis)
    if keep is None:
        w_y = None if weight is None else _picked_weights(xp, weight, target, picked.dtype)
        loss = -picked if w_y is None else -w_y * picked
    else:
        w_y = _kept_weights(xp, target, weight, ignore_index, picked.dtype)
        loss = xp.where(keep, -w_y * picked, xp.zeros_like(picked))  # an ignored -inf log-probability: 0, not NaN
    if label_smoothing:  # each term masked, then combined, as torch (with no class: 0 * inf, NaN)
        smooth = -xp.sum(logp if weight is None else logp * _on_class_axis(xp, weight, logp.ndim, axis), axis=axis)
        n = logp.shape[axis]
        smooth = smooth if keep is None else xp.where(keep, smooth, xp.zeros_like(smooth))
        loss = (1 - label_smoothing) * loss + (label_smoothing / n if n else math.inf) * smooth
    return loss, w_y


def smoothed_mean(xp, mean, divisor):
    """A label-smoothed 'mean' of class indices, NaN where the kept targets' weights sum to 0: torch divides
    its two terms by that sum apart, and the nll term is then 0 / 0 (the combined sum over 0 would be inf)."""
    return xp.where(divisor == 0, xp.asarray(math.nan, dtype=mean.dtype, device=P.device(mean)), mean)


def _cross_entropy_terms(xp, logits, target, weight, ignore_index, label_smoothing, axis=None, where=None):
    """cross_entropy of ``logits`` unreduced, and the 'mean' denominator's weights (None: the count).

    ``target`` holds class indices (checked; ``ignore_index`` None: none is
    ignored) or class probabilities of the logits' shape (their 'mean' divides
    by the number of positions, NaN for empty logits).  float16/bfloat16 logits
    are taken in float32 (torch's working precision); the result is in that
    precision.  ``axis``: the class axis (None: torch's); ``where``: a boolean
    mask broadcasting to the logits, whose masked logits are out of the
    normaliser and of the class sums (their log-probabilities taken as 0).
    """
    if axis is None:
        axis = 1 if logits.ndim >= 2 else 0
    logits, weight = working_precision(xp, logits, weight)
    if not xp.isdtype(target.dtype, "real floating") and not label_smoothing and where is None:
        return _nll_terms(xp, None, target, weight, ignore_index, logits=logits, axis=axis)
    logp = P.log_softmax(logits, axis=axis, where=where)
    if where is not None:
        logp = xp.where(where, logp, 0.0)
    if not xp.isdtype(target.dtype, "real floating"):
        return _nll_terms(xp, logp, target, weight, ignore_index, label_smoothing, axis=axis)
    (target,) = working_precision(xp, target)
    if label_smoothing:
        n = logits.shape[axis]
        target = target * (1 - label_smoothing) + (label_smoothing / n if n else math.inf)  # no class: empty
    if weight is not None:
        logp = logp * _on_class_axis(xp, weight, logits.ndim, axis)
    out = -xp.sum(logp * target, axis=axis)
    # torch's 'mean' divides by numel / C, 0 / 0 for logits with no element (also of N positions of no class)
    return out, (xp.zeros_like(out) if math.prod(logits.shape) == 0 else None)


@silent_nonfinite
def nll_loss(input: Array, target: Array, weight: Array | None = None, size_average: bool | None = None,
             ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean", *, axis: int = 1) -> Array:
    """Negative log-likelihood of class indices, as ``torch.nn.functional.nll_loss``.

    Args:
        input: log-probabilities ``(C,)``, ``(N, C)`` or ``(N, C, d1, ..., dK)``.
        target: class indices, integer, of shape ``()``, ``(N,)`` or ``(N, d1, ..., dK)``.
        weight: optional per-class weights ``(C,)``.
        size_average: deprecated, as in torch; use ``reduction``.
        ignore_index: a target value that contributes nothing (nor to the mean's denominator).
        reduce: deprecated, as in torch; use ``reduction``.
        reduction: ``'none' | 'mean' | 'sum'``; ``'mean'`` divides by the sum of
            ``weight[target]`` over the targets kept.
        axis: the class axis (keyword only; torch's is 1), e.g. -1 for ``(N, d1, ..., C)``; the target is
            the input's shape less it.  An unbatched ``(C,)`` input's is 0.

    Examples:
        >>> import numpy as np
        >>> logp = np.log(np.array([[[0.5, 0.5], [0.9, 0.1]]]))  # (N=1, d1=2, C=2): classes last
        >>> round(float(nll_loss(logp, np.array([[0, 1]]), axis=-1)), 6)  # (log 2 + log 10) / 2
        1.497866
    """
    s = setup("nll_loss", reduction, {"input": input, "target": target, "weight": weight},
              legacy=(size_average, reduce), indices=("target",), result=("input", "weight"))
    input, target, weight = s.arrays
    axis = class_axis("nll_loss", input.ndim, axis)
    target, ignore_index = _class_index_checks("nll_loss", s.xp, tuple(input.shape), target, weight, ignore_index,
                                               axis=axis)
    out, mean_weights = _nll_terms(s.xp, input, target, weight, ignore_index, axis=axis)
    return s.finish(_reduce(out, s.reduction, mean_weights=mean_weights))


@silent_nonfinite
def cross_entropy(input: Array, target: Array, weight: Array | None = None, size_average: bool | None = None,
                  ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0, *, axis: int = 1, where: Array | None = None) -> Array:
    """Cross-entropy of logits, as ``torch.nn.functional.cross_entropy``.

    Per position ``-sum_c q_c log_softmax(x)_c``, with ``q`` the target's
    one-hot or probabilities mixed with the uniform distribution by
    ``label_smoothing``.  The log-softmax is taken with the max logit as a
    constant shift, so logits of magnitude 1e4 in float32 give finite values
    and gradients.

    Args:
        input: logits ``(C,)``, ``(N, C)`` or ``(N, C, d1, ..., dK)``; the class axis is 1 (0 when
            unbatched), or ``axis``.
        target: class indices (integer, ``input``'s shape less the class axis) or class probabilities
            (floating, ``input``'s shape).
        weight: optional per-class weights ``(C,)``; with class indices, ``'mean'`` divides by the sum of
            ``weight[target]`` over the targets kept (see :func:`nll_loss`).
        size_average: deprecated, as in torch; use ``reduction``.
        ignore_index: a class-index target value that contributes nothing, nor to the mean's denominator.
        reduce: deprecated, as in torch; use ``reduction``.
        reduction: ``'none' | 'mean' | 'sum'``; with probabilities ``'mean'`` divides by the number of
            positions ``N * d1 * ... * dK``.
        label_smoothing: at most 1 (none at 0 or below, as torch): the weight of the uniform distribution
            over the ``C`` classes mixed into the target.
        axis: keyword only, beyond torch: the class axis, e.g. -1 for optax's and Keras' ``(N, ..., C)``
            (no copy of the logits is made to move it).
        where: keyword only, beyond torch: a boolean mask of the logits' shape, or broadcasting to it, or
            with one axis fewer (one flag per position, as optax's: a ``(C,)`` mask of ``(N, C)`` logits is
            per row, not per class; give ``(1, C)`` for that).  Masked logits take no part in the
            log-softmax's normaliser nor in the class sum, so a masked class has probability 0 (a
            class-index target of a masked class, or a position with nothing kept, gives 0 with a zero
            gradient).  The losses are then reduced as without ``where``: ``'mean'`` still counts (or
            weighs) every position.  Per position this is ``optax.losses.softmax_cross_entropy(logits,
            labels, axis, where)`` (class indices as one-hot labels; optax's integer-label form instead
            takes a masked target class's logit).

    Examples:
        >>> import numpy as np
        >>> logits = np.array([[2.0, 0.0, 9.0], [0.0, 1.0, 0.0]])
        >>> keep = np.array([[True, True, False], [True, True, True]])  # class 2 masked in the first row
        >>> cross_entropy(logits, np.array([0, 1]), where=keep, reduction="none").round(4).tolist()
        [0.1269, 0.5514]
    """
    loss = "cross_entropy"
    s = setup(loss, reduction, {"input": input, "target": target, "weight": weight, "where": where},
              legacy=(size_average, reduce), indices=("target", "where"), result=("input", "weight"), working=False)
    where = s.arrays[3]
    label_smoothing = checks.label_smoothing(loss, label_smoothing)
    axis = class_axis(loss, input.ndim, axis)
    target, ignore_index = _target_checks(loss, s.xp, tuple(input.shape), target, weight, ignore_index, axis=axis)
    if where is not None:
        where = _mask(loss, s.xp, where, input, axis)
    s.dtype = probabilities_dtype(s, target)
    out, mean_weights = _cross_entropy_terms(s.xp, input, target, weight, ignore_index, label_smoothing, axis, where)
    out = _reduce(out, s.reduction, mean_weights=mean_weights)
    if label_smoothing and s.reduction == "mean" and mean_weights is not None:
        out = smoothed_mean(s.xp, out, s.xp.sum(mean_weights))
    return s.finish(out)


def _mask(loss, xp, where, logits, axis):
    """``where``, a boolean mask broadcasting to the logits, broadcast to their shape (a view); one of their
    shape less the class axis is first expanded along it (optax's rule)."""
    if where.dtype != xp.bool:
        raise TypeError(f"{loss}: where must be a boolean array, got {where.dtype}")
    given, per_position = tuple(where.shape), where.ndim == logits.ndim - 1
    if per_position:
        where = xp.expand_dims(where, axis=axis)
    shape = tuple(logits.shape)
    if where.ndim > len(shape) or any(m not in (1, n) for m, n in zip(reversed(where.shape), reversed(shape))):
        how = f" (one axis fewer than input: one flag per position, along the class axis {axis})" if per_position \
            else ""
        raise ValueError(f"{loss}: where of shape {given}{how} does not broadcast to input's shape {shape}")
    return xp.broadcast_to(where, shape)


def _clamped_logs(x):
    """``max(log(x), -100)`` and ``max(log(1 - x), -100)``, as torch's BCE kernel."""
    xp = P.array_namespace(x)
    return P.clip(xp.log(x), min=-100.0), P.clip(xp.log1p(-x), min=-100.0)


def _bce(x, t):
    """``(t - 1) max(log(1 - x), -100) - t max(log(x), -100)``, elementwise, in torch's order."""
    log_x, log_1mx = _clamped_logs(x)
    out = t - 1
    out *= log_1mx
    log_x *= t
    out -= log_x
    return out


def _bce_derivatives(wanted, x, t):
    """torch's closed form ``(x - t) / max(x (1 - x), eps)`` for ``x`` (an elementwise function whose own
    derivatives are torch's double backward), the clamped logs' ``log(1 - x) - log(x)`` for ``t``."""
    # t's first: its temporaries are freed before the slope's are made (the peak holds one full-size array fewer)
    dt = _clamped_log_odds(x) if wanted[1] else None
    dx = P.elementwise(_bce_slope, _bce_curvature, x, t) if wanted[0] else None
    return dx, dt


def _clamped_log_odds(x):
    """``max(log(1 - x), -100) - max(log(x), -100)``."""
    log_x, out = _clamped_logs(x)
    out -= log_x
    return out


def _bce_denominator(x, eps=P.LOSS_EPSILON):
    d = 1 - x
    d *= x
    return P.clip(d, min=eps)


def _bce_slope(x, t):
    d = _bce_denominator(x)  # first: its unclipped product is freed before ``x - t`` is made
    g = x - t
    g /= d
    return g


def _bce_curvature(wanted, x, t):
    """The slope's derivatives: ``(x^2 - 2 x t + t) / d^2`` and ``-1 / d``, torch's double backward.

    torch's ``d`` is ``(x + eps) (1 - x + eps)`` with ``eps = 1e-12`` in double; ours is ``max(x (1 - x), eps)``,
    within 1e-12 of it relatively at 0 and 1 (XLA may fold ``1 - x + eps`` into ``(1 + eps) - x``: 0 at 1 in
    float32) and within ``eps / x`` elsewhere.
    """
    d = _bce_denominator(x, 1e-12)
    return ((x * x - 2 * x * t + t) / (d * d) if wanted[0] else None), (-1 / d if wanted[1] else None)


@silent_nonfinite
def binary_cross_entropy(input: Array, target: Array, weight: Array | None = None, size_average: bool | None = None,
                         reduce: bool | None = None, reduction: str = "mean") -> Array:
    """Binary cross-entropy of probabilities, as ``torch.nn.functional.binary_cross_entropy``.

    ``-w (t log(x) + (1 - t) log(1 - x))`` with both logs clamped at -100, for
    ``input`` x and ``target`` t in [0, 1] of one shape; ``weight`` broadcasts.
    The gradient with respect to ``input`` is torch's closed form
    ``w (x - t) / max(x (1 - x), 1e-12)``, not the derivative of the clamped
    logs; with respect to ``target`` it is the derivative of the clamped
    forward, ``-(log x - log(1 - x))`` (torch's is unclamped: it differs where
    ``x`` is within 4e-44 of 0 or 1, where torch's is up to infinite).

    Args:
        input: probabilities ``x`` in [0, 1], any shape.
        target: targets ``t`` in [0, 1] of ``input``'s shape.
        weight: optional weights ``w`` broadcasting to ``input``'s shape.
        size_average: deprecated, as in torch; use ``reduction``.
        reduce: deprecated, as in torch; use ``reduction``.
        reduction: ``'none' | 'mean' | 'sum'``.
    """
    loss = "binary_cross_entropy"
    s = setup(loss, reduction, {"input": input, "target": target, "weight": weight}, legacy=(size_average, reduce),
              targets=("target",), result=("input", "target"))
    checks.shape_is(loss, "target", target, input.shape, "input's shape")
    if weight is not None:
        checks.broadcastable_to(loss, "weight", weight, "target", target)
    in01 = lambda v: (v >= 0) & (v <= 1)  # noqa: E731
    checks.values(loss, "input", input, in01, "probabilities in [0, 1]", within=(0, 1))
    checks.values(loss, "target", target, in01, "probabilities in [0, 1]", within=(0, 1))
    input, target, weight = s.arrays
    return s.finish(reduce_elementwise(_bce, _bce_derivatives, (input, target), s.reduction, weight=weight))


def _bce_logits(x, t, p=None):
    """``(1 - t) x - (1 + (p - 1) t) log_sigmoid(x)`` (``p = 1`` without ``pos_weight``), elementwise."""
    out = 1 - t
    out *= x
    if p is None:
        out -= P.log_sigmoid(x)
    else:
        log_weight = (p - 1) * t
        log_weight += 1
        log_weight *= P.log_sigmoid(x)
        out -= log_weight
    return out


def _bce_logits_derivatives(wanted, x, t, p=None):
    """The partial derivatives of ``_bce_logits``: ``(1 + (p - 1) t) sigmoid(x) - p t`` for ``x``,
    ``log_sigmoid(-x) - p log_sigmoid(x)`` for ``t`` and ``t softplus(-x)`` for ``p``."""
    dx = dt = dp = None
    if wanted[0]:
        dx = P.elementwise(_bce_logits_slope, _bce_logits_curvature, *((x, t) if p is None else (x, t, p)))
    if wanted[1]:  # torch's form: finite at x = -inf, where (p - 1) softplus(-x) - x is inf - inf
        dt = -x if p is None else P.log_sigmoid(-x) - p * P.log_sigmoid(x)
    if p is None:
        return dx, dt
    if wanted[2]:
        dp = t * P.softplus(-x)
    return dx, dt, dp


def _bce_logits_slope(x, t, p=None):
    """d/dx of ``_bce_logits`` as ``(1 - t) sigmoid(x) - p t sigmoid(-x)``: each sigmoid exact where the other
    rounds to 1, and no ``where`` (torch's CPU ``where`` is a scalar loop)."""
    s = P.sigmoid(-x)
    if p is None:
        s *= -1  # in place: one full-size temporary fewer at the backward pass's peak
    else:  # p may broadcast s to a larger shape
        s = -p * s
    return P.lerp(P.sigmoid(x), s, t)


def _bce_logits_curvature(wanted, x, t, p=None):
    """The slope's derivatives: ``(1 + (p - 1) t) sigmoid(x) sigmoid(-x)`` for ``x`` (the product of the two
    sigmoids, exact at either end, not the derivative of the one near 1), ``-(sigmoid(x) + p sigmoid(-x))``
    (-1 without ``p``) for ``t`` and ``-t sigmoid(-x)`` for ``p``."""
    xp = P.array_namespace(x)
    s, r = P.sigmoid(x), P.sigmoid(-x)
    dx = (s * r if p is None else (1 + (p - 1) * t) * s * r) if wanted[0] else None
    dt = None if not wanted[1] else -xp.ones_like(s) if p is None else -(s + p * r)
    return (dx, dt) if p is None else (dx, dt, -t * r if wanted[2] else None)


@silent_nonfinite
def binary_cross_entropy_with_logits(input: Array, target: Array, weight: Array | None = None,
                                     size_average: bool | None = None, reduce: bool | None = None,
                                     reduction: str = "mean", pos_weight: Array | None = None) -> Array:
    """Binary cross-entropy of logits, as ``torch.nn.functional.binary_cross_entropy_with_logits``.

    ``w ((1 - t) x - (1 + (p - 1) t) log_sigmoid(x))`` for logits x, targets t
    of x's shape, ``weight`` w broadcasting to it and ``pos_weight`` p
    broadcasting along the last axis (p = 1 without it).  Stable for logits of
    any magnitude (log_sigmoid never overflows).

    Args:
        input: logits ``x``, any shape.
        target: targets ``t`` of ``input``'s shape (probabilities, or any reals).
        weight: optional weights ``w`` broadcasting to ``input``'s shape.
        size_average: deprecated, as in torch; use ``reduction``.
        reduce: deprecated, as in torch; use ``reduction``.
        reduction: ``'none' | 'mean' | 'sum'``.
        pos_weight: optional weights ``p`` of the positive term, broadcasting along the last axis (typically
            ``(C,)``).
    """
    loss = "binary_cross_entropy_with_logits"
    s = setup(loss, reduction, {"input": input, "target": target, "weight": weight, "pos_weight": pos_weight},
              legacy=(size_average, reduce), targets=("target",), result=("input", "target"))
    checks.shape_is(loss, "target", target, input.shape, "input's shape")
    for name, w in (("weight", weight), ("pos_weight", pos_weight)):
        if w is not None:
            checks.broadcastable_to(loss, name, w, "input", input)
    input, target, weight, pos_weight = s.arrays
    arrays = (input, target) if pos_weight is None else (input, target, pos_weight)
    return s.finish(reduce_elementwise(_bce_logits, _bce_logits_derivatives, arrays, s.reduction, weight=weight))


def _multilabel_soft_margin(x, t):
    """``-(t log_sigmoid(x) + (1 - t) log_sigmoid(-x))``, elementwise, torch's formula: the same function as
    ``_bce_logits`` (whose derivatives it shares), but ``inf``, not NaN, at ``x = -inf, t = 1``."""
    out = P.log_sigmoid(-x)
    out *= t - 1
    log_p = P.log_sigmoid(x)
    log_p *= t
    out -= log_p
    return out


@silent_nonfinite
def multilabel_soft_margin_loss(input: Array, target: Array, weight: Array | None = None,
                                size_average: bool | None = None, reduce: bool | None = None,
                                reduction: str = "mean") -> Array:
    """Multi-label one-versus-all logistic loss, as ``torch.nn.functional.multilabel_soft_margin_loss``.

    ``-mean_c w_c (t_c log_sigmoid(x_c) + (1 - t_c) log_sigmoid(-x_c))`` over
    the class axis, which is the **last** axis; then reduced over the rest.
    ``target`` (0/1 labels, or any reals) has ``input``'s shape or one that
    broadcasts with it (the class axis stays ``input``'s, as torch's); so does
    ``weight`` (typically ``(C,)``).

    Args:
        input: logits ``(N, C)`` or ``(C,)``, the classes on the last axis.
        target: labels of ``input``'s shape, or of one broadcasting with it.
        weight: optional per-class weights ``w`` broadcasting with ``input`` (typically ``(C,)``).
        size_average: deprecated, as in torch; use ``reduction``.
        reduce: deprecated, as in torch; use ``reduction``.
        reduction: ``'none' | 'mean' | 'sum'``.
    """
    loss = "multilabel_soft_margin_loss"
    s = setup(loss, reduction, {"input": input, "target": target, "weight": weight}, legacy=(size_average, reduce),
              targets=("target",), result=("input", "target", "weight"))
    if input.ndim < 1:
        raise ValueError(f"{loss}: input must have a class axis (the last), got a 0-d array")
    given = {"input": input, "target": target, "weight": weight}  # torch broadcasts all three, without a warning
    shape = checks.broadcast_shape(loss, **{k: a for k, a in given.items() if a is not None})
    input, target, weight = s.arrays
    n_classes = input.shape[-1]
    if shape != tuple(input.shape):  # a target or weight with more or longer axes: torch's class axis is input's
        class_axis = input.ndim - 1  # counted from the front of the broadcast shape, as torch
        out = reduce_elementwise(_multilabel_soft_margin, _bce_logits_derivatives,
                                 (s.xp.broadcast_to(input, shape), target), "none", weight=weight)
        return s.finish(_reduce(P.divide(s.xp.sum(out, axis=class_axis), n_classes), s.reduction))
    if s.reduction == "none":  # the mean over the classes, per sample
        out = reduce_elementwise(_multilabel_soft_margin, _bce_logits_derivatives, (input, target), "none",
                                 weight=weight)
        return s.finish(P.divide(s.xp.sum(out, axis=-1), n_classes))
    # the sum (or mean) over the samples of the per-sample means: the total over n_classes (and the samples)
    out = reduce_elementwise(_multilabel_soft_margin, _bce_logits_derivatives, (input, target), "sum", weight=weight)
    samples = math.prod(input.shape[:-1])
    divisor = (n_classes if samples else 1) * (samples if s.reduction == "mean" else 1)  # no samples: a sum of 0
    return s.finish(P.divide(out, divisor))


@silent_nonfinite
def soft_margin_loss(input: Array, target: Array, size_average: bool | None = None, reduce: bool | None = None,
                     reduction: str = "mean") -> Array:
    """Two-class logistic loss ``log(1 + exp(-t x))``, as ``torch.nn.functional.soft_margin_loss``.

    ``target`` holds labels 1 or -1 (any reals, integers or booleans work) of ``input``'s shape (or one
    that broadcasts to it, as torch). Computed as ``softplus(-t x)``: finite where torch's ``log1p(exp(-t x))``
    overflows (``t x < -88`` in float32).

    Args:
        input: scores ``x``, any shape.
        target: labels ``t`` (1 or -1) of ``input``'s shape, or broadcasting to it.
        size_average: deprecated, as in torch; use ``reduction``.
        reduce: deprecated, as in torch; use ``reduction``.
        reduction: ``'none' | 'mean' | 'sum'``.
    """
    s = setup("soft_margin_loss", reduction, {"input": input, "target": target}, legacy=(size_average, reduce),
              targets=("target",), result=("input",))
    checks.broadcastable_to("soft_margin_loss", "target", target, "input", input)  # as torch, without a warning
    input, target = s.arrays
    return s.finish(_reduce(P.softplus(-target * input), s.reduction))
