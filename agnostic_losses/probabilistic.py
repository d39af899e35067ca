"""The probabilistic losses of torch.nn: KL divergence, Poisson and Gaussian negative log-likelihood; and
torchmetrics' Jensen-Shannon divergence."""

from __future__ import annotations

import math

from . import _checks as checks
from . import _primitives as P
from ._reduction import reduce as _reduce
from ._reduction import reduce_elementwise
from ._setup import setup, silent_nonfinite
from ._typing import Array

__all__ = ["kl_div", "poisson_nll_loss", "gaussian_nll_loss", "jensen_shannon_divergence"]


@silent_nonfinite
def kl_div(input: Array, target: Array, size_average: bool | None = None, reduce: bool | None = None,
           reduction: str = "mean", log_target: bool = False) -> Array:
    """Kullback-Leibler divergence, as ``torch.nn.functional.kl_div``; ``input`` holds log-probabilities.

    Pointwise ``xlogy(t, t) - t x`` (``t = 0`` gives 0; a negative ``t`` gives
    NaN), or ``exp(t) (t - x)`` with ``log_target=True``.  ``'batchmean'``
    divides the sum by ``input.shape[0]``, ``'mean'`` by the number of elements
    (torch warns about it, and so do we).  Where ``t == 0`` torch's gradient
    with respect to ``target`` is NaN (0/0 inside xlogy's backward); ours is the
    derivative of ``xlogy``'s convention there, ``-x``.

    Args:
        input: log-probabilities ``x``, any shape.
        target: probabilities ``t`` (log-probabilities with ``log_target``) of ``input``'s shape.
        size_average: deprecated, as in torch; use ``reduction``.
        reduce: deprecated, as in torch; use ``reduction``.
        reduction: ``'none' | 'batchmean' | 'mean' | 'sum'``.
        log_target: whether ``target`` holds log-probabilities.
    """
    if size_average is None and reduce is None and reduction == "mean":
        checks.warn_user(
            "kl_div: reduction='mean' divides the total loss by both the batch size and the support size; "
            "'batchmean' divides only by the batch size, and aligns with the KL divergence's definition "
            "(torch.nn.functional.kl_div gives the same warning)")
    s = setup("kl_div", reduction, {"input": input, "target": target}, legacy=(size_average, reduce),
              reductions=("none", "mean", "sum", "batchmean"), targets=("target",))
    checks.broadcastable("kl_div", input, target, warn=False)  # torch broadcasts these silently
    pointwise = (_kl_log_target, _kl_log_target_derivatives) if log_target else (_kl, _kl_derivatives)
    if reduction != "batchmean":
        return s.finish(reduce_elementwise(*pointwise, s.arrays, s.reduction))
    # 'batchmean' divides by the batch size whatever size_average and reduce made of it, as torch does
    total = reduce_elementwise(*pointwise, s.arrays, "sum" if s.reduction == "batchmean" else s.reduction)
    return s.finish(P.divide(total, input.shape[0]) if input.ndim else total)


def _kl(x, t):
    """``t log t - t x``, torch's ``xlogy(t, t) - t x`` in its order of operations (``t = inf`` gives NaN
    where ``x >= 0``, as torch's ``inf - inf``)."""
    out = t * x  # the broadcast shape (t may be smaller)
    out -= t * _log_t(t)
    out *= -1.0
    return out


def _kl_derivatives(wanted, x, t):
    """``-t`` for x; ``log(t) + 1 - x`` for t, and ``-x`` where ``t == 0`` (xlogy's convention; torch's 0/0 is
    NaN there; at ``t = inf`` torch's inf/inf is NaN, ours inf)."""
    dt = None
    if wanted[1]:
        d = _log_t(t) - x
        dt = P.array_namespace(t).where(t == 0, d, d + 1)
    return (-t if wanted[0] else None), dt


def _log_t(t):
    """``log(t)``, and 0 where ``t == 0`` (``0 log 0 = 0``).  The value and the gradient for ``t`` share it:
    XLA computes it once for both."""
    return P.array_namespace(t).log(P.one_where_zero(t))


def _kl_log_target(x, t):
    """``exp(t) (t - x)``."""
    out = t - x
    out *= P.array_namespace(t).exp(t)
    return out


def _kl_log_target_derivatives(wanted, x, t):
    """``-exp(t)`` for x, ``exp(t) (t - x + 1)`` for t."""
    e = P.array_namespace(t).exp(t)
    return (-e if wanted[0] else None), (e * (t - x + 1) if wanted[1] else None)


@silent_nonfinite
def poisson_nll_loss(input: Array, target: Array, log_input: bool = True, full: bool = False,
                     size_average: bool | None = None, eps: float = 1e-8, reduce: bool | None = None,
                     reduction: str = "mean") -> Array:
    """Poisson negative log-likelihood, as ``torch.nn.functional.poisson_nll_loss``.

    ``exp(x) - t x`` with ``log_input`` (x is the log-rate), else
    ``x - t log(x + eps)``.  ``full`` adds the Stirling approximation of
    ``log(t!)``, ``t log t - t + log(2 pi t) / 2``, where ``t > 1`` (0 elsewhere).
    Where ``full`` and ``t == 0`` torch's gradient with respect to ``target`` is
    NaN (0 * inf from the masked branch); ours is that of the formula without it.

    Args:
        input: log-rates ``x`` (with ``log_input``) or rates, any shape.
        target: counts ``t`` of ``input``'s shape.
        log_input: whether ``input`` is the log of the rate.
        full: add the Stirling term of ``log(t!)``.
        size_average: deprecated, as in torch; use ``reduction``.
        eps: added to the rate inside the log without ``log_input``.
        reduce: deprecated, as in torch; use ``reduction``.
        reduction: ``'none' | 'mean' | 'sum'``.
    """
    checks.positive("poisson_nll_loss", "eps", eps, allow_zero=True)
    s = setup("poisson_nll_loss", reduction, {"input": input, "target": target}, legacy=(size_average, reduce),
              targets=("target",))
    checks.broadcastable("poisson_nll_loss", input, target, warn=False)  # torch broadcasts these silently
    xp, (input, target) = s.xp, s.arrays
    out = xp.exp(input) - target * input if log_input else input - target * xp.log(input + eps)
    if full:
        big = target > 1
        t = xp.where(big, target, xp.ones_like(target))  # the branch left out reads a safe t = 1
        stirling = t * xp.log(t) - t + 0.5 * xp.log(2 * math.pi * t)
        out = out + xp.where(big, stirling, xp.zeros_like(stirling))
    return s.finish(_reduce(out, s.reduction))


def _var_shape(loss, xp, var, input):
    """var as torch accepts it: input's shape, input's less the last axis, or one mismatched axis of size 1."""
    if tuple(var.shape) == tuple(input.shape):
        return var
    if tuple(var.shape) == tuple(input.shape[:-1]):
        return xp.expand_dims(var, axis=-1)
    if var.ndim == input.ndim and [v for i, v in zip(input.shape, var.shape) if i != v] == [1]:
        return var
    raise ValueError(
        f"{loss}: var must have input's shape {tuple(input.shape)}, that shape less the last axis, "
        f"or one axis of size 1 in place of input's; got {tuple(var.shape)}"
    )


@silent_nonfinite
def gaussian_nll_loss(input: Array, target: Array, var: Array | float, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Array:
    """Gaussian negative log-likelihood, as ``torch.nn.functional.gaussian_nll_loss``.

    ``(log(v) + (x - t)^2 / v) / 2`` (plus ``log(2 pi) / 2`` with ``full``), with
    ``v = max(var, eps)`` in value but the gradient flowing to ``var`` as if
    unclamped (torch clamps in place without recording it).  ``var`` is an
    array of ``input``'s shape, of that shape less the last axis, with one axis
    of size 1, or a Python float; it must be >= 0.

    Args:
        input: the predicted means ``x``, any shape.
        target: the observations ``t``, of ``input``'s shape.
        var: the predicted variances, ``>= 0``: of ``input``'s shape, of that shape less the last axis, with one
            axis of size 1, or a Python float.
        full: add the constant ``log(2 pi) / 2``.
        eps: the floor of ``var`` in the value.
        reduction: ``'none' | 'mean' | 'sum'``.
    """
    loss = "gaussian_nll_loss"
    checks.positive(loss, "eps", eps, allow_zero=True)
    if not P.is_array(var):
        checks.positive(loss, "var", var, allow_zero=True)
        var = P.array_namespace(input).full_like(input, var) if P.is_array(input) else var
    s = setup(loss, reduction, {"input": input, "target": target, "var": var}, targets=("target", "var"))
    checks.broadcastable(loss, input, target, warn=False)
    input, target, var = s.arrays
    var = _var_shape(loss, s.xp, var, input)
    checks.values(loss, "var", var, lambda v: ~(v < 0), "non-negative variances", within=(0, math.inf))
    out = reduce_elementwise(_gaussian_nll(eps, full), _gaussian_nll_derivatives(eps), (input, target, var),
                             s.reduction)
    return s.finish(out)


def _gaussian_nll(eps, full):
    """``(log(v) + (x - t)^2 / v) / 2`` (+ ``log(2 pi) / 2``), ``v = max(var, eps)``, elementwise."""
    def value(x, t, var):
        v = P.clip(var, min=eps)
        out = x - t
        out *= out
        out /= v
        out += P.array_namespace(v).log(v)
        out *= 0.5
        if full:
            out += 0.5 * math.log(2 * math.pi)
        return out

    return value


def _gaussian_nll_derivatives(eps):
    """``(x - t) / v`` for x, its negative for t, ``(1 / v - ((x - t) / v)^2) / 2`` for var, with
    ``v = max(var, eps)`` whose own derivative is 1 (torch clamps in place, unrecorded)."""
    def passing_clip(var):
        return P.elementwise(lambda var: P.clip(var, min=eps), lambda wanted, var: (P.array_namespace(var).ones_like(var),), var)

    def derivatives(wanted, x, t, var):
        v = passing_clip(var)
        g = x - t
        g /= v
        dvar = (1 / v - g * g) * 0.5 if wanted[2] else None
        return (g if wanted[0] else None), (-g if wanted[1] else None), dvar

    return derivatives


@silent_nonfinite
def jensen_shannon_divergence(p: Array, q: Array, log_prob: bool = False, reduction: str | None = "mean") -> Array:
    """Jensen-Shannon divergence of two batches of distributions, as torchmetrics'
    ``torchmetrics.functional.regression.jensen_shannon_divergence``.

    ``JS(P, Q) = KL(P || M) / 2 + KL(Q || M) / 2`` with ``M = (P + Q) / 2``, per row.

    Args:
        p: ``(N, d)`` distributions: probabilities (each row normalised to sum 1 first, as torchmetrics
            does, and again inside each KL term) or, with ``log_prob``, log-probabilities (``M`` then
            ``logsumexp(p, q) - log 2``).
        q: ``(N, d)`` distributions, as ``p``.
        log_prob: whether ``p`` and ``q`` hold log-probabilities.
        reduction: ``'mean'`` (default: over the N rows) | ``'sum'`` | ``'none'`` or None (``(N,)``).

    Differences from torchmetrics, where it is not exact: its ``log 2`` is a float32 constant whatever the
    inputs' dtype (about 2e-9 off in float64), ours is the inputs' dtype's; where a probability is 0 its
    gradient is NaN (``0 log 0`` through an in-place mask), ours that of ``0 log 0 = 0``.

    Examples:
        >>> import numpy as np
        >>> round(float(jensen_shannon_divergence(np.array([[0.36, 0.48, 0.16]]), np.full((1, 3), 1 / 3))), 4)
        0.0225

    Reference: Lin, Divergence measures based on the Shannon entropy (1991);
    ``torchmetrics.functional.regression.jensen_shannon_divergence``.
    """
    loss = "jensen_shannon_divergence"
    s = setup(loss, "none" if reduction is None else reduction, {"p": p, "q": q})
    checks.same_shape(loss, "q", q, "p", p)
    if p.ndim != 2:
        raise ValueError(f"{loss}: p and q must hold distributions (N, d), 2-D, got shape {tuple(p.shape)}")
    xp, (p, q) = s.xp, s.arrays
    if log_prob:
        m = P.logsumexp(xp.stack([p, q]), axis=0) - math.log(2)
        out = 0.5 * xp.sum(xp.exp(p) * (p - m), axis=-1) + 0.5 * xp.sum(xp.exp(q) * (q - m), axis=-1)
    else:
        p, q = _normalised(xp, p), _normalised(xp, q)
        m = (p + q) / 2
        out = 0.5 * _kl_of_probabilities(xp, p, m) + 0.5 * _kl_of_probabilities(xp, q, m)
    return s.finish(_reduce(out, s.reduction))


def _normalised(xp, p):
    return p / xp.sum(p, axis=-1, keepdims=True)


def _kl_of_probabilities(xp, p, q):
    """torchmetrics' ``kl_divergence`` of probabilities: both normalised, then ``sum(p log(p / q))`` with
    ``0 log 0 = 0`` (the inner ``where`` keeps the gradient finite there)."""
    p, q = _normalised(xp, p), _normalised(xp, q)
    zero = p == 0
    return xp.sum(xp.where(zero, 0.0, p * xp.log(xp.where(zero, 1.0, p / q))), axis=-1)
