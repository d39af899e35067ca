"""The classification losses of torch.nn: cross-entropy (of logits, and of a linear layer's output,
chunked), NLL, binary cross-entropy (on probabilities and on logits), soft margin and multi-label
soft margin.

Class-index losses take the class axis as axis 1 (axis 0 for an unbatched
``(C,)`` input), with targets of the input's shape less that axis.
"""

from __future__ import annotations

import math
import numbers

from . import _checks as checks
from . import _primitives as P
from ._reduction import as_dtype, legacy_reduction, one_dtype, reduce_elementwise, working_precision
from ._reduction import reduce as _reduce

__all__ = [
    "cross_entropy",
    "linear_cross_entropy",
    "nll_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "multilabel_soft_margin_loss",
    "soft_margin_loss",
]


def _class_axis(input) -> int:
    return 1 if input.ndim >= 2 else 0


def _class_index_checks(loss, xp, shape, target, weight, ignore_index, of="input's shape"):
    """Index targets: an integer array of ``shape`` (the logits') less the class axis, each in [0, C) or ignored."""
    if len(shape) < 1:
        raise ValueError(f"{loss}: input must have a class axis, got a 0-d array")
    axis = 1 if len(shape) >= 2 else 0
    n_classes = shape[axis]
    checks.integral(loss, xp, "target", target, "class indices")
    expected = shape[:axis] + shape[axis + 1:]
    checks.shape_is(loss, "target", target, expected, f"{of} {tuple(shape)} less the class axis")
    if weight is not None:
        checks.shape_is(loss, "weight", weight, (n_classes,), "one weight per class")
    checks.values(loss, "target", target, lambda t: ((t >= 0) & (t < n_classes)) | (t == ignore_index),
                  f"class indices in [0, {n_classes}) or ignore_index={ignore_index}")
    return P.wide_indices(target)


def _target_checks(loss, xp, shape, target, weight, ignore_index, of="input's shape"):
    """cross_entropy's targets for logits of ``shape``: class probabilities (floating, of ``shape``) as they
    are, or class indices (see ``_class_index_checks``), widened."""
    if len(shape) < 1:
        raise ValueError(f"{loss}: input must have a class axis, got a 0-d array")
    if not xp.isdtype(target.dtype, "real floating"):
        return _class_index_checks(loss, xp, shape, target, weight, ignore_index, of)
    if tuple(target.shape) != tuple(shape):
        checks.integral(loss, xp, "target", target, f"class indices; class probabilities have {of} {tuple(shape)}")
    if weight is not None:
        checks.shape_is(loss, "weight", weight, (shape[1 if len(shape) >= 2 else 0],), "one weight per class")
    if ignore_index >= 0:  # as torch: a negative one cannot name a class and is harmless
        raise ValueError(f"{loss}: ignore_index is not supported with probability targets, got {ignore_index}")
    return target


def _on_class_axis(xp, weight, ndim, axis):
    """``weight`` of shape (C,) shaped to broadcast along ``axis`` of an ``ndim``-d array."""
    shape = [1] * ndim
    shape[axis] = weight.shape[0]
    return xp.reshape(weight, tuple(shape))


def _kept_weights(xp, target, weight, ignore_index, dtype):
    """``weight[target]`` (1 without ``weight``), 0 where ``target == ignore_index``: each position's share
    of the 'mean' denominator of class-index targets (needs no logits)."""
    keep = target != ignore_index
    if weight is None:
        return xp.astype(keep, dtype)
    y = xp.where(keep, target, xp.zeros_like(target))
    w_y = xp.reshape(xp.take(weight, xp.reshape(y, (-1,))), y.shape)
    return xp.where(keep, w_y, xp.zeros(y.shape, dtype=xp.result_type(w_y, dtype), device=P.device(w_y)))


def _nll_terms(xp, logp, target, weight, ignore_index, label_smoothing=0.0, *, logits=None):
    """torch's nll_loss on log-probabilities ``logp``, with cross_entropy's label smoothing, unreduced.

    Per element: ``-(1 - s) w[y] logp[y] - (s / C) sum_c w[c] logp[c]``, 0 where
    ``y == ignore_index``.  Returns that and ``w[y]`` (0 where ignored): 'mean'
    divides by the sum of the latter (NaN when none is kept), for both terms,
    as torch does.  Given ``logits`` instead of ``logp`` (no label smoothing),
    the picked log-probabilities come from them without the full log-softmax.
    """
    axis = _class_axis(logp if logits is None else logits)
    keep = target != ignore_index
    y = xp.expand_dims(xp.where(keep, target, xp.zeros_like(target)), axis=axis)
    if logits is None:
        picked = xp.squeeze(P.take_along_axis(logp, y, axis=axis), axis=axis)
    else:
        picked = xp.squeeze(P.log_softmax_at(logits, y, axis=axis), axis=axis)
    w_y = _kept_weights(xp, target, weight, ignore_index, picked.dtype)
    loss = -w_y * picked
    if label_smoothing:
        smooth = -xp.sum(logp if weight is None else logp * _on_class_axis(xp, weight, logp.ndim, axis), axis=axis)
        loss = (1 - label_smoothing) * loss + (label_smoothing / logp.shape[axis]) * smooth
    loss = xp.where(keep, loss, xp.zeros_like(loss))  # an ignored -inf log-probability gives 0, not NaN
    return loss, w_y


def _cross_entropy_terms(xp, logits, target, weight, ignore_index, label_smoothing):
    """cross_entropy of ``logits`` unreduced, and the 'mean' denominator's weights (None: the count).

    ``target`` holds class indices (checked) or class probabilities of the
    logits' shape.  float16/bfloat16 logits are taken in float32 (torch's
    working precision); the result is in that precision.
    """
    axis = _class_axis(logits)
    logits, weight = working_precision(xp, logits, weight)
    if not xp.isdtype(target.dtype, "real floating") and not label_smoothing:
        return _nll_terms(xp, None, target, weight, ignore_index, logits=logits)
    logp = P.log_softmax(logits, axis=axis)
    if not xp.isdtype(target.dtype, "real floating"):
        return _nll_terms(xp, logp, target, weight, ignore_index, label_smoothing)
    (target,) = working_precision(xp, target)
    if label_smoothing:
        target = target * (1 - label_smoothing) + label_smoothing / logits.shape[axis]
    if weight is not None:
        logp = logp * _on_class_axis(xp, weight, logits.ndim, axis)
    return -xp.sum(logp * target, axis=axis), None


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of class indices, as ``torch.nn.functional.nll_loss``.

    Args:
        input: log-probabilities ``(C,)``, ``(N, C)`` or ``(N, C, d1, ..., dK)``.
        target: class indices, integer, of shape ``()``, ``(N,)`` or ``(N, d1, ..., dK)``.
        weight: optional per-class weights ``(C,)``.
        ignore_index: a target value that contributes nothing (nor to the mean's denominator).
        reduction: ``'none' | 'mean' | 'sum'``; ``'mean'`` divides by the sum of
            ``weight[target]`` over the targets kept.
    """
    loss = "nll_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    xp = checks.namespace(loss, input=input, target=target, weight=weight)
    checks.floating(loss, xp, input=input, weight=weight)
    checks.reduction(loss, reduction)
    target = _class_index_checks(loss, xp, tuple(input.shape), target, weight, ignore_index)
    dtype = input.dtype
    input, weight = working_precision(xp, input, weight)
    out, mean_weights = _nll_terms(xp, input, target, weight, ignore_index)
    return as_dtype(xp, _reduce(out, reduction, mean_weights=mean_weights), dtype)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross-entropy of logits, as ``torch.nn.functional.cross_entropy``.

    ``input`` holds logits ``(C,)``, ``(N, C)`` or ``(N, C, d1, ..., dK)``; the
    class axis is 1 (0 when unbatched).  ``target`` is either class indices
    (integer, input's shape less the class axis; see :func:`nll_loss` for
    ``weight``, ``ignore_index`` and the weighted mean) or class probabilities
    (floating, input's shape; ``'mean'`` divides by the number of positions
    ``N * d1 * ... * dK``).  ``label_smoothing`` in [0, 1] mixes the target
    with the uniform distribution over the C classes.

    The log-softmax is taken with the max logit as a constant shift, so logits
    of magnitude 1e4 in float32 give finite values and gradients.
    """
    loss = "cross_entropy"
    reduction = legacy_reduction(size_average, reduce, reduction)
    xp = checks.namespace(loss, input=input, target=target, weight=weight)
    checks.floating(loss, xp, input=input, weight=weight)
    checks.reduction(loss, reduction)
    checks.option_in(loss, "label_smoothing", label_smoothing, 0.0, 1.0)
    target = _target_checks(loss, xp, tuple(input.shape), target, weight, ignore_index)
    out, mean_weights = _cross_entropy_terms(xp, input, target, weight, ignore_index, label_smoothing)
    return as_dtype(xp, _reduce(out, reduction, mean_weights=mean_weights), input.dtype)


LOGITS_PER_CHUNK = 2 ** 22  # linear_cross_entropy's default chunk: at least 16 MiB of float32 logits


def default_chunk_rows(n_logits_per_row: int, in_features: int) -> int:
    """linear_cross_entropy's rows per chunk: logits of 2**22 elements or of linear_weight's, the larger."""
    return max(1, LOGITS_PER_CHUNK // max(n_logits_per_row, 1), in_features)


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None, reduction="mean",
                         ignore_index=None, label_smoothing=0.0, chunk_size=None):
    """Cross-entropy of ``input @ linear_weight.T + linear_bias``, as ``torch.nn.functional.linear_cross_entropy``,
    computed chunk by chunk so that no more than ``chunk_size`` rows of logits are ever held.

    Equals torch's reference path ``cross_entropy(linear(input, W, b).reshape(N, C, d1, ..., dK), target,
    weight=weight, reduction=reduction, ignore_index=ignore_index, label_smoothing=label_smoothing)`` in
    value and in gradient with respect to ``input``, ``linear_weight``, ``linear_bias`` (and probability
    targets); see :func:`cross_entropy` for the targets, ``weight``, ``label_smoothing`` and the means.

    Args:
        input: ``(H,)`` or ``(N, H)`` (H: in_features).
        linear_weight: ``(C, H)``, or ``(C, d1, ..., dK, H)`` for a K-dimensional loss (batched input only).
        target: class indices of shape ``()``, ``(N,)`` or ``(N, d1, ..., dK)``, or class probabilities of
            the logits' shape ``(C,)``, ``(N, C)`` or ``(N, C, d1, ..., dK)``.
        linear_bias: optional, ``linear_weight``'s shape less its last axis.
        weight: optional per-class weights ``(C,)`` (not differentiated, as in torch).
        ignore_index: None means -100 for class indices; giving one with probability targets is an error.
        chunk_size: rows of ``input`` per chunk (ours, in place of torch's ``options=`` object).  None:
            ``max(2**22 // (C * d1 * ... * dK), H)`` rows, so that a chunk's logits have 2**22 elements
            (16 MiB in float32) or as many as ``linear_weight``, whichever is more.  Smaller chunks save
            little (the gradient of ``linear_weight``, that size, is held anyway) and cost time: each
            chunk adds a whole gradient of ``linear_weight`` to the sum and packs ``linear_weight`` for
            its products again (on 2 CPU cores, N = 4096, H = 1024, V = 32768, 'mean': 1.11x the time of
            torch's unchunked reference path with the default 1024 rows, 1.03x with 2048).

    Memory: the forward and the backward pass hold one chunk's logits at a time (never the whole
    ``(N, C, d1, ..., dK)``).  'mean' and 'sum' on torch under autograd (eager or torch.compile) and on JAX
    under differentiation: each chunk's gradients (of its losses divided by the mean's denominator) are
    taken in the forward pass, with its values (``_primitives.chunked(..., summed=True)``), and the backward
    pass scales them; under autograd the forward pass so costs the gradients even when no backward pass
    follows.  'none', and in eager mode double backward, a batched backward pass and an upstream gradient
    that is not finite: each chunk's logits are recomputed in the backward pass (``jax.checkpoint`` inside
    ``jax.lax.scan`` on JAX, ``_primitives.chunked``'s ``autograd.Function`` on torch, or
    ``torch.utils.checkpoint`` under torch.compile; NumPy, CuPy, Dask and array-api-strict have no backward
    pass), at the cost of a second matrix product per chunk.  (Under torch.compile the upstream gradient is
    not read: where it is not finite, a gradient that is an exact zero through the formula is NaN; double
    backward of a compiled call is an error, as torch.compile's own.)
    float16/bfloat16: the linear map in the input's dtype, then the cross-entropy in float32, as torch's
    reference path does.
    """
    loss = "linear_cross_entropy"
    xp = checks.namespace(loss, input=input, linear_weight=linear_weight, target=target,
                          linear_bias=linear_bias, weight=weight)
    checks.floating(loss, xp, input=input, linear_weight=linear_weight, linear_bias=linear_bias, weight=weight)
    checks.reduction(loss, reduction)
    checks.option_in(loss, "label_smoothing", label_smoothing, 0.0, 1.0)
    if input.ndim not in (1, 2):
        raise ValueError(f"{loss}: input must have shape (in_features,) or (N, in_features), "
                         f"got {tuple(input.shape)}")
    h = input.shape[-1]
    if linear_weight.ndim < 2 or linear_weight.shape[-1] != h:
        raise ValueError(f"{loss}: linear_weight must have shape (C, {h}) or (C, d1, ..., dK, {h}) "
                         f"(in_features = input's last axis, {h}), got {tuple(linear_weight.shape)}")
    n_classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None:
        checks.shape_is(loss, "linear_bias", linear_bias, (n_classes,) + out_features,
                        "linear_weight's shape less its last axis")
    if out_features and input.ndim == 1:
        raise ValueError(f"{loss}: a K-dimensional linear_weight of shape {tuple(linear_weight.shape)} needs a "
                         f"batched input (N, {h}), got {tuple(input.shape)}")
    batch = tuple(input.shape[:-1])
    shape = batch + (n_classes,) + out_features  # the logits'
    if ignore_index is not None and tuple(target.shape) == shape:
        raise ValueError(f"{loss}: ignore_index cannot be given with probability targets (target has the logits' "
                         f"shape {shape}), got ignore_index={ignore_index}")
    ignore_index = -100 if ignore_index is None else ignore_index
    target = _target_checks(loss, xp, shape, target, weight, ignore_index, "the logits' shape")
    width = n_classes * math.prod(out_features)
    if chunk_size is None:
        chunk_size = default_chunk_rows(width, h)
    elif isinstance(chunk_size, bool) or not isinstance(chunk_size, numbers.Integral):
        raise TypeError(f"{loss}: chunk_size must be an int or None, got {type(chunk_size).__name__}")
    elif chunk_size < 1:
        raise ValueError(f"{loss}: chunk_size must be >= 1 (rows per chunk), got {chunk_size}")

    w = xp.reshape(linear_weight, (width, h))
    b = None if linear_bias is None else xp.reshape(linear_bias, (width,))

    biased, weighted = b is not None, weight is not None

    def rows(x, t, w, *given):  # given: the bias and the class weights, those that are not None
        b, weight = (given[0] if biased else None), (given[-1] if weighted else None)
        logits = x @ w.T if b is None else x @ w.T + b
        logits = xp.reshape(logits, (x.shape[0], n_classes) + out_features)
        return _cross_entropy_terms(xp, logits, t, weight, ignore_index, label_smoothing)[0]

    x, t = (input, target) if batch else (xp.expand_dims(input, axis=0), xp.expand_dims(target, axis=0))
    shared = tuple(a for a in (w, b, weight) if a is not None)
    dtype = xp.result_type(input, linear_weight)
    if reduction == "none":
        out = P.chunked(rows, (x, t), int(chunk_size), shared=shared, arguments_only=True)
        return as_dtype(xp, out if batch else out[0, ...], dtype)
    # 'mean' and 'sum': the sum of the rows' losses (divided by the mean's denominator) taken in the chunks; on
    # torch under autograd and on JAX each chunk's gradients then come with its values, as in fused kernels
    divisor = None
    if reduction == "mean":
        work = dtype if xp.finfo(dtype).bits >= 32 else xp.float32  # working_precision's
        if xp.isdtype(target.dtype, "real floating"):  # the number of positions
            divisor = xp.asarray(math.prod(batch + out_features), dtype=work, device=P.device(input))
        else:
            (w_classes,) = working_precision(xp, weight)
            divisor = xp.sum(_kept_weights(xp, t, w_classes, ignore_index, work))
    total = P.chunked(rows, (x, t), int(chunk_size), shared=shared, arguments_only=True, summed=True,
                      divisor=divisor)
    return as_dtype(xp, P.as_array(total), dtype)


def _same_shape_target(loss, xp, input, target):
    checks.floating(loss, xp, input=input, target=target)
    checks.shape_is(loss, "target", target, input.shape, "input's shape")


_BCE_EPS = 9.999999960041972e-13  # torch's EPSILON in the BCE backward: 1e-12 as a float32


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
    dx = dt = None
    if wanted[0]:
        dx = P.elementwise(_bce_slope, _bce_curvature, x, t)
    if wanted[1]:
        log_x, dt = _clamped_logs(x)
        dt -= log_x
    return dx, dt


def _bce_denominator(x, eps=_BCE_EPS):
    d = 1 - x
    d *= x
    return P.clip(d, min=eps)


def _bce_slope(x, t):
    g = x - t
    g /= _bce_denominator(x)
    return g


def _bce_curvature(wanted, x, t):
    """The slope's derivatives: ``(x^2 - 2 x t + t) / d^2`` and ``-1 / d``, torch's double backward.

    torch's ``d`` is ``(x + eps) (1 - x + eps)`` with ``eps = 1e-12`` in double; ours is ``max(x (1 - x), eps)``,
    within 1e-12 of it relatively at 0 and 1 (XLA may fold ``1 - x + eps`` into ``(1 + eps) - x``: 0 at 1 in
    float32) and within ``eps / x`` elsewhere.
    """
    d = _bce_denominator(x, 1e-12)
    return ((x * x - 2 * x * t + t) / (d * d) if wanted[0] else None), (-1 / d if wanted[1] else None)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Binary cross-entropy of probabilities, as ``torch.nn.functional.binary_cross_entropy``.

    ``-w (t log(x) + (1 - t) log(1 - x))`` with both logs clamped at -100, for
    ``input`` x and ``target`` t in [0, 1] of one shape; ``weight`` broadcasts.
    The gradient with respect to ``input`` is torch's closed form
    ``w (x - t) / max(x (1 - x), 1e-12)``, not the derivative of the clamped
    logs; with respect to ``target`` it is the derivative of the clamped
    forward, ``-(log x - log(1 - x))`` (torch's is unclamped: it differs where
    ``x`` is within 4e-44 of 0 or 1, where torch's is up to infinite).
    """
    loss = "binary_cross_entropy"
    reduction = legacy_reduction(size_average, reduce, reduction)
    xp = checks.namespace(loss, input=input, target=target, weight=weight)
    _same_shape_target(loss, xp, input, target)
    checks.floating(loss, xp, weight=weight)
    checks.reduction(loss, reduction)
    if weight is not None:
        checks.broadcastable_to(loss, "weight", weight, "target", target)
    in01 = lambda v: (v >= 0) & (v <= 1)
    checks.values(loss, "input", input, in01, "probabilities in [0, 1]")
    checks.values(loss, "target", target, in01, "probabilities in [0, 1]")
    dtype = xp.result_type(input, target)
    input, target, weight = working_precision(xp, input, target, weight)
    input, target = one_dtype(xp, input, target)
    return as_dtype(xp, reduce_elementwise(_bce, _bce_derivatives, (input, target), reduction, weight=weight), dtype)


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
    ``(p - 1) softplus(-x) - x`` for ``t`` and ``t softplus(-x)`` for ``p``."""
    dx = dt = dp = None
    if wanted[0]:
        dx = P.sigmoid(x) - t if p is None else P.sigmoid(x) * (1 + (p - 1) * t) - p * t
    if wanted[1]:
        dt = -x if p is None else (p - 1) * P.softplus(-x) - x
    if p is None:
        return dx, dt
    if wanted[2]:
        dp = t * P.softplus(-x)
    return dx, dt, dp


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Binary cross-entropy of logits, as ``torch.nn.functional.binary_cross_entropy_with_logits``.

    ``w ((1 - t) x - (1 + (p - 1) t) log_sigmoid(x))`` for logits x, targets t
    of x's shape, ``weight`` w broadcasting to it and ``pos_weight`` p
    broadcasting along the last axis (p = 1 without it).  Stable for logits of
    any magnitude (log_sigmoid never overflows).
    """
    loss = "binary_cross_entropy_with_logits"
    reduction = legacy_reduction(size_average, reduce, reduction)
    xp = checks.namespace(loss, input=input, target=target, weight=weight, pos_weight=pos_weight)
    _same_shape_target(loss, xp, input, target)
    checks.floating(loss, xp, weight=weight, pos_weight=pos_weight)
    checks.reduction(loss, reduction)
    for name, w in (("weight", weight), ("pos_weight", pos_weight)):
        if w is not None:
            checks.broadcastable_to(loss, name, w, "input", input)
    dtype = xp.result_type(input, target)
    input, target, weight, pos_weight = working_precision(xp, input, target, weight, pos_weight)
    input, target = one_dtype(xp, input, target)
    arrays = (input, target) if pos_weight is None else (input, target, pos_weight)
    return as_dtype(xp, reduce_elementwise(_bce_logits, _bce_logits_derivatives, arrays, reduction, weight=weight),
                    dtype)


def _multilabel_soft_margin(x, t):
    """``-(t log_sigmoid(x) + (1 - t) log_sigmoid(-x))``, elementwise, torch's formula: the same function as
    ``_bce_logits`` (whose derivatives it shares), but ``inf``, not NaN, at ``x = -inf, t = 1``."""
    out = P.log_sigmoid(-x)
    out *= t - 1
    log_p = P.log_sigmoid(x)
    log_p *= t
    out -= log_p
    return out


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Multi-label one-versus-all logistic loss, as ``torch.nn.functional.multilabel_soft_margin_loss``.

    ``-mean_c w_c (t_c log_sigmoid(x_c) + (1 - t_c) log_sigmoid(-x_c))`` over
    the class axis, which is the **last** axis; then reduced over the rest.
    ``target`` (0/1 labels, or any reals) has ``input``'s shape; ``weight``
    broadcasts (typically ``(C,)``).
    """
    loss = "multilabel_soft_margin_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    xp = checks.namespace(loss, input=input, target=target, weight=weight)
    checks.floating(loss, xp, input=input, weight=weight)
    target = checks.numeric_like(loss, xp, "target", target, input)
    checks.shape_is(loss, "target", target, input.shape, "input's shape")
    checks.reduction(loss, reduction)
    if input.ndim < 1:
        raise ValueError(f"{loss}: input must have a class axis (the last), got a 0-d array")
    if weight is not None:
        checks.broadcastable_to(loss, "weight", weight, "input", input)
    dtype = xp.result_type(input, target)
    input, target, weight = working_precision(xp, input, target, weight)
    arrays, n_classes = one_dtype(xp, input, target), input.shape[-1]
    if reduction == "none":  # the mean over the classes, per sample
        out = reduce_elementwise(_multilabel_soft_margin, _bce_logits_derivatives, arrays, "none", weight=weight)
        return as_dtype(xp, xp.sum(out, axis=-1) / n_classes, dtype)
    # the sum (or mean) over the samples of the per-sample means: the total over n_classes (and the samples)
    out = reduce_elementwise(_multilabel_soft_margin, _bce_logits_derivatives, arrays, "sum", weight=weight)
    samples = math.prod(input.shape[:-1])
    divisor = (n_classes if samples else 1) * (samples if reduction == "mean" else 1)  # no samples: a sum of 0
    return as_dtype(xp, P.as_array(out / divisor), dtype)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Two-class logistic loss ``log(1 + exp(-t x))``, as ``torch.nn.functional.soft_margin_loss``.

    ``target`` holds labels 1 or -1 (any reals work) of ``input``'s shape.
    Computed as ``softplus(-t x)``: finite where torch's ``log1p(exp(-t x))``
    overflows (``t x < -88`` in float32).
    """
    loss = "soft_margin_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    xp = checks.namespace(loss, input=input, target=target)
    checks.floating(loss, xp, input=input)
    target = checks.numeric_like(loss, xp, "target", target, input)
    checks.shape_is(loss, "target", target, input.shape, "input's shape")
    checks.reduction(loss, reduction)
    dtype = xp.result_type(input, target)
    input, target = working_precision(xp, input, target)
    return as_dtype(xp, _reduce(P.softplus(-target * input), reduction), dtype)
